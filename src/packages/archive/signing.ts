/**
 * Ed25519 signatures through node:crypto. A signature is detached: it signs the ASCII message
 * `hsu-package:sha256:<hex digest of the .tgz>`, so it covers every byte of the archive (and the
 * manifest inside it) and can be made with any ed25519 tool (see docs/packages.md).
 *
 * Public keys are accepted as PEM (SPKI, `-----BEGIN PUBLIC KEY-----`) or as the raw 32-byte key in
 * base64; private keys as PEM (PKCS#8, what `openssl genpkey -algorithm ed25519` writes).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hsuError } from '../../errors.js';

export interface TrustedKey {
  readonly key: KeyObject;
  /** First 16 hex digits of the sha256 of the raw public key: short, stable, safe to print. */
  readonly id: string;
}

const RAW_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function signatureMessage(sha256: string): Buffer {
  return Buffer.from(`hsu-package:sha256:${sha256}`, 'ascii');
}

/** A public key from PEM or raw base64 text. */
export function parsePublicKey(text: string, label = 'public key'): TrustedKey {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    if (trimmed.startsWith('-----BEGIN')) {
      key = createPublicKey(trimmed);
    } else {
      const raw = BASE64.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
      if (raw.length !== RAW_KEY_BYTES) throw new Error(`expected ${RAW_KEY_BYTES} bytes in base64, got ${raw.length}`);
      key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
    }
  } catch (error) {
    throw hsuError('PACKAGE_KEY_INVALID', `${label} is not an ed25519 public key in PEM or base64: ${(error as Error).message}`, { key: label }, error);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw hsuError('PACKAGE_KEY_INVALID', `${label} is a ${String(key.asymmetricKeyType)} key; only ed25519 keys are accepted`, { key: label });
  }
  return { key, id: keyId(key) };
}

/**
 * Trusted keys from their specs: each is key text (PEM or base64) or the path of a file holding one.
 */
export function loadTrustedKeys(specs: readonly string[]): TrustedKey[] {
  return specs.map((spec) => {
    const text = looksLikeKeyText(spec) ? spec : readKeyFile(spec);
    return parsePublicKey(text, looksLikeKeyText(spec) ? 'trusted key' : `trusted key file ${spec}`);
  });
}

export function parsePrivateKey(text: string, label = 'private key'): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(text.trim());
  } catch (error) {
    throw hsuError('PACKAGE_KEY_INVALID', `${label} is not a PEM private key: ${(error as Error).message}`, { key: label }, error);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw hsuError('PACKAGE_KEY_INVALID', `${label} is a ${String(key.asymmetricKeyType)} key; only ed25519 keys can sign packages`, { key: label });
  }
  return key;
}

/** The base64 signature of an archive with this sha256 digest. */
export function signChecksum(sha256: string, privateKey: KeyObject): string {
  return sign(null, signatureMessage(sha256), privateKey).toString('base64');
}

/** The trusted key that made `signature` over `sha256`, or undefined when none did. */
export function findSigner(sha256: string, signature: string, keys: readonly TrustedKey[]): TrustedKey | undefined {
  const trimmed = signature.trim();
  const bytes = BASE64.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (bytes.length !== SIGNATURE_BYTES) return undefined;
  const message = signatureMessage(sha256);
  return keys.find((trusted) => verify(null, message, trusted.key, bytes));
}

export interface SigningKeys {
  readonly private_key_pem: string;
  readonly public_key_pem: string;
  readonly public_key_base64: string;
  readonly key_id: string;
}

export function generateSigningKeys(): SigningKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    private_key_pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    public_key_pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    public_key_base64: rawPublicKey(publicKey).toString('base64'),
    key_id: keyId(publicKey),
  };
}

function rawPublicKey(key: KeyObject): Buffer {
  const x = key.export({ format: 'jwk' }).x;
  return Buffer.from(x ?? '', 'base64url');
}

function keyId(key: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(key)).digest('hex').slice(0, 16);
}

function looksLikeKeyText(spec: string): boolean {
  const trimmed = spec.trim();
  return trimmed.startsWith('-----BEGIN') || (trimmed.length === 44 && BASE64.test(trimmed));
}

function readKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw hsuError('PACKAGE_KEY_INVALID', `cannot read trusted key file ${file}: ${(error as Error).message}`, { file }, error);
  }
}
