/**
 * Mutual authentication with a shared secret: each side sends a fresh 32-byte nonce in its
 * Hello; the target proves it holds the secret with HMAC-SHA256(secret, "target" | source
 * nonce | target nonce), the source with HMAC-SHA256(secret, "source" | ...). Neither proof
 * can be replayed (fresh nonces) or reflected (the role is in the MAC). Comparison is
 * constant-time. The crypto is injected so this file stays free of `node:` imports.
 */
export interface MigrationCrypto {
  hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Uint8Array>;
  randomBytes(n: number): Uint8Array;
}

/** WebCrypto (browsers, Node 19+). */
export function webCrypto(): MigrationCrypto {
  const c = globalThis.crypto;
  if (!c?.subtle) throw new Error('no WebCrypto on this host: pass a MigrationCrypto');
  return {
    async hmacSha256(key, data) {
      const k = await c.subtle.importKey('raw', key as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      return new Uint8Array(await c.subtle.sign('HMAC', k, data as Uint8Array<ArrayBuffer>));
    },
    randomBytes(n) {
      return c.getRandomValues(new Uint8Array(n));
    },
  };
}

const utf8 = new TextEncoder();

export function proofInput(role: 'source' | 'target', sourceNonce: string, targetNonce: string): Uint8Array {
  return utf8.encode(`mvvm-migrate/1 ${role} ${sourceNonce} ${targetNonce}`);
}

export async function proof(crypto: MigrationCrypto, secret: Uint8Array, role: 'source' | 'target', sourceNonce: string, targetNonce: string): Promise<string> {
  return toHex(await crypto.hmacSha256(secret, proofInput(role, sourceNonce, targetNonce)));
}

/** Constant-time comparison of two hex strings of the same length. */
export function sameProof(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return d === 0;
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += bytes[i].toString(16).padStart(2, '0');
  return s;
}

export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
