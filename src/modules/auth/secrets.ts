import { hash, randomBytes } from 'node:crypto';
import argon2 from 'argon2';

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 1024;

// argon2id at OWASP's recommended floor (19 MiB, 2 passes): memory-hard, ~30 ms on one core.
const ARGON2 = { type: argon2.argon2id as 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** The reason a password is refused, or null. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) {
    return `must be at least ${MIN_PASSWORD_LENGTH} characters`;
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    return `must be at most ${MAX_PASSWORD_LENGTH} characters`;
  }
  return null;
}

export const hashPassword = (password: string): Promise<string> => argon2.hash(password, ARGON2);

let dummyHash: Promise<string> | undefined;

/** Checks a password; without a stored hash it still spends the same time (no user probing). */
export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  if (hash === null) {
    dummyHash ??= hashPassword(randomToken(16));
    await argon2.verify(await dummyHash, password);
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/** Tokens, keys and backup codes are long random strings: a fast hash is enough to store them. */
export const sha256 = (s: string): string => hash('sha256', s, 'hex');

export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

const BACKUP_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** A one-time backup code such as "k3mq8-x7pwa" (50 bits). */
export function backupCode(): string {
  const bytes = randomBytes(10);
  let s = '';
  for (let i = 0; i < 10; i++) {
    if (i === 5) s += '-';
    s += BACKUP_ALPHABET[bytes[i]! % BACKUP_ALPHABET.length];
  }
  return s;
}

/** Backup codes are compared without case, spaces or dashes, as people type them. */
export const normalizeBackupCode = (code: string): string =>
  code.toLowerCase().replace(/[\s-]/g, '');
