import { errors, jwtVerify, SignJWT } from 'jose';

export const ACCESS_TOKEN_SECONDS = 15 * 60;
const MFA_TOKEN_SECONDS = 5 * 60;
const ISSUER = 'learntwin';

type Purpose = 'access' | 'mfa';

export class TokenError extends Error {
  constructor(
    readonly code: 'token_expired' | 'invalid_token',
    message: string,
  ) {
    super(message);
  }
}

/** Short-lived signed tokens (JWT, HS256): access tokens and the between-steps MFA token. */
export class TokenSigner {
  constructor(
    private readonly key: Uint8Array,
    private readonly now: () => number = Date.now,
  ) {}

  private async sign(userId: string, purpose: Purpose, seconds: number): Promise<string> {
    const iat = Math.floor(this.now() / 1000);
    return new SignJWT({ typ: purpose })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setIssuedAt(iat)
      .setExpirationTime(iat + seconds)
      .sign(this.key);
  }

  access(userId: string): Promise<string> {
    return this.sign(userId, 'access', ACCESS_TOKEN_SECONDS);
  }

  mfa(userId: string): Promise<string> {
    return this.sign(userId, 'mfa', MFA_TOKEN_SECONDS);
  }

  /** The user id of a valid token of this purpose; a TokenError otherwise. */
  async verify(token: string, purpose: Purpose): Promise<string> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        algorithms: ['HS256'],
        currentDate: new Date(this.now()),
      });
      if (payload.typ !== purpose || typeof payload.sub !== 'string') {
        throw new TokenError('invalid_token', `Not an ${purpose} token`);
      }
      return payload.sub;
    } catch (e) {
      if (e instanceof TokenError) throw e;
      if (e instanceof errors.JWTExpired) {
        throw new TokenError('token_expired', 'The token has expired; refresh it or sign in again');
      }
      throw new TokenError('invalid_token', 'The token is not valid');
    }
  }
}

/** A JWT has three dot-separated parts; API keys have none. */
export const looksLikeJwt = (s: string): boolean => s.split('.').length === 3;
