import { hash, verify } from '@node-rs/argon2';

// OWASP's argon2id baseline: 19 MiB memory, 2 iterations, 1 lane.
const options = { algorithm: 2 /* Algorithm.Argon2id */ as const, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export const hashPassword = (password: string) => hash(password, options);

/** A hash of nothing anyone knows, verified when the account does not exist so both paths cost the same. */
const decoy = hash('decoy password that matches no account', options);

export async function verifyPassword(passwordHash: string | null, password: string): Promise<boolean> {
  try {
    const ok = await verify(passwordHash ?? (await decoy), password);
    return ok && passwordHash !== null;
  } catch {
    return false;
  }
}
