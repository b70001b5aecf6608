import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';

// RFC 6238 as authenticator apps expect it: SHA-1, 6 digits, 30 s steps; one step either side.
const TOLERANCE_SECONDS = 30;

export function newTotpSecret(): string {
  return generateSecret();
}

export async function totpProvisioning(secret: string, account: string) {
  const uri = generateURI({ issuer: 'Learntwin', label: account, secret });
  const qr = await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 240 });
  return { secret, otpauth_uri: uri, qr_code: qr };
}

/**
 * Checks a 6-digit code. Returns the time step it belongs to, or null. A step at or before
 * `lastStep` is refused: a code is good once only.
 */
export async function checkTotp(
  secret: string,
  code: string,
  lastStep: number | null,
  epochSeconds?: number,
): Promise<number | null> {
  // Apps show codes as "123 456"; people type them that way.
  code = code.replace(/[\s-]/g, '');
  if (!/^\d{6}$/.test(code)) return null;
  try {
    const result = await verify({
      secret,
      token: code,
      epochTolerance: TOLERANCE_SECONDS,
      ...(lastStep !== null ? { afterTimeStep: lastStep } : {}),
      ...(epochSeconds !== undefined ? { epoch: epochSeconds } : {}),
    });
    return result.valid && 'timeStep' in result ? result.timeStep : null;
  } catch {
    return null;
  }
}
