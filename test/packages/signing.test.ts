// Ed25519 signatures: keys in PEM and raw base64, signatures made by hsu and by openssl over the
// documented message, and a store with trusted keys that refuses unsigned or badly signed packages.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findSigner, generateSigningKeys, loadTrustedKeys, PackageStore, parsePrivateKey, parsePublicKey, signatureMessage, signChecksum } from '../../src/packages/index.js';
import { buildPackage, rejectsWith, scratch, suiteScratch } from './helpers.js';

const work = suiteScratch('signing');
const release = generateSigningKeys();
const stranger = generateSigningKeys();

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('keys and signatures', () => {
  it('reads a public key as PEM or raw base64, with one key id', () => {
    const fromPem = parsePublicKey(release.public_key_pem);
    const fromBase64 = parsePublicKey(release.public_key_base64);
    assert.equal(fromPem.id, release.key_id);
    assert.equal(fromBase64.id, release.key_id);
    assert.match(release.key_id, /^[0-9a-f]{16}$/);
    const file = path.join(work.dir, 'release.pub');
    writeFileSync(file, release.public_key_pem);
    assert.deepEqual(
      loadTrustedKeys([file, stranger.public_key_base64]).map((key) => key.id),
      [release.key_id, stranger.key_id],
    );
  });

  it('refuses what is not an ed25519 key, with PACKAGE_KEY_INVALID', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    for (const text of ['not a key', 'AAAA', rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString()]) {
      assert.throws(() => parsePublicKey(text), { code: 'HSU_ERR_PACKAGE_KEY_INVALID' });
    }
    assert.throws(() => parsePrivateKey(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), { code: 'HSU_ERR_PACKAGE_KEY_INVALID' });
    assert.throws(() => loadTrustedKeys([path.join(work.dir, 'missing.pub')]), { code: 'HSU_ERR_PACKAGE_KEY_INVALID' });
  });

  it('verifies only the signer, only over the same checksum, only a well-formed signature', () => {
    const keys = loadTrustedKeys([release.public_key_pem]);
    const sha = 'a'.repeat(64);
    const signature = signChecksum(sha, parsePrivateKey(release.private_key_pem));
    assert.equal(findSigner(sha, signature, keys)?.id, release.key_id);
    assert.equal(findSigner('b'.repeat(64), signature, keys), undefined);
    assert.equal(findSigner(sha, signChecksum(sha, parsePrivateKey(stranger.private_key_pem)), keys), undefined);
    assert.equal(findSigner(sha, 'not base64 at all!', keys), undefined);
    assert.equal(findSigner(sha, Buffer.alloc(64).toString('base64'), keys), undefined);
  });

  it('accepts a signature made by openssl over the documented message', (t) => {
    if (!hasOpenssl()) {
      t.skip('openssl is not installed');
      return;
    }
    const dir = scratch('openssl');
    try {
      const keyFile = path.join(dir.dir, 'key.pem');
      execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', keyFile]);
      const publicPem = execFileSync('openssl', ['pkey', '-in', keyFile, '-pubout'], { encoding: 'utf8' });
      const sha = 'c'.repeat(64);
      const message = path.join(dir.dir, 'message');
      writeFileSync(message, signatureMessage(sha));
      assert.equal(readFileSync(message, 'utf8'), `hsu-package:sha256:${sha}`);
      const signature = execFileSync('openssl', ['pkeyutl', '-sign', '-inkey', keyFile, '-rawin', '-in', message]).toString('base64');
      assert.equal(findSigner(sha, signature, loadTrustedKeys([publicPem]))?.id, parsePublicKey(publicPem).id);
    } finally {
      dir.remove();
    }
  });
});

describe('a store with trusted keys', () => {
  const repo = path.join(work.dir, 'repo');
  const trusted = (): PackageStore => new PackageStore({ stateDir: path.join(work.dir, `state-${Math.random()}`), trustedKeys: [release.public_key_pem] });

  it('installs a package signed by a trusted key and records the signer', async () => {
    const packed = await buildPackage(repo, { name: 'signed', version: '1.0.0' }, parsePrivateKey(release.private_key_pem));
    const store = trusted();
    const { package: pkg } = await store.install(packed.file);
    assert.equal(pkg.receipt.key_id, release.key_id);
    assert.equal(pkg.receipt.signature, packed.signature);
    const [report] = await store.verify();
    assert.equal(report?.ok, true);
    assert.equal(report?.key_id, release.key_id);
  });

  it('refuses an unsigned package', async () => {
    const packed = await buildPackage(repo, { name: 'unsigned', version: '1.0.0' });
    const store = trusted();
    await rejectsWith(store.install(packed.file), 'PACKAGE_SIGNATURE_MISSING');
    assert.deepEqual(await store.list(), []);
  });

  it('refuses a package signed by an untrusted key, or with a damaged signature', async () => {
    const packed = await buildPackage(repo, { name: 'stranger', version: '1.0.0' }, parsePrivateKey(stranger.private_key_pem));
    const store = trusted();
    await rejectsWith(store.install(packed.file), 'PACKAGE_SIGNATURE_INVALID');
    writeFileSync(`${packed.file}.sig`, 'garbage\n');
    await rejectsWith(store.install(packed.file), 'PACKAGE_SIGNATURE_INVALID');
    // A valid signature, by the trusted key, of some other archive.
    writeFileSync(`${packed.file}.sig`, signChecksum('0'.repeat(64), parsePrivateKey(release.private_key_pem)));
    await rejectsWith(store.install(packed.file), 'PACKAGE_SIGNATURE_INVALID');
    assert.deepEqual(await store.list(), []);
  });

  it('verify flags a package installed unsigned once keys are trusted', async () => {
    const stateDir = path.join(work.dir, 'state-late');
    const packed = await buildPackage(repo, { name: 'early', version: '1.0.0' });
    await new PackageStore({ stateDir }).install(packed.file);
    const [report] = await new PackageStore({ stateDir, trustedKeys: [release.public_key_base64] }).verify('early');
    assert.equal(report?.ok, false);
    assert.match(report?.problems.join('\n') ?? '', /not signed/);
  });
});
