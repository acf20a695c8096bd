// `hsu package`: the command as a function of argv (outputs, --json, exit codes, one-line coded
// errors without stacks, the TTY progress bar), and once as a built file run by the project's Node.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { packageCommand } from '../../src/packages/cli.js';
import { buildPackage, packageDir, rawTgz, startServer, suiteScratch, VALID_MANIFEST } from './helpers.js';

const work = suiteScratch('cli');
const repo = path.join(work.dir, 'repo');
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..');

interface Run {
  code: number;
  out: string;
  err: string;
}

async function hsu(argv: string[], options: { stateDir?: string; tty?: boolean } = {}): Promise<Run> {
  let out = '';
  let err = '';
  const io = { out: (text: string) => void (out += text), err: (text: string) => void (err += text), isTTY: options.tty === true };
  const code = await packageCommand(argv, io, { stateDir: options.stateDir ?? path.join(work.dir, 'state'), cwd: work.dir });
  return { code, out, err };
}

/** A known error: exit 1, one line naming the code, never a stack trace. */
function assertCodedError(run: Run, code: string): void {
  assert.equal(run.code, 1, run.err);
  const [first] = run.err.split('\n');
  assert.match(first ?? '', new RegExp(`^hsu package: .+ \\[HSU_ERR_${code}\\]$`));
  assert.doesNotMatch(run.err, /\n\s+at /);
}

describe('hsu package (in process)', () => {
  it('prints help, and refuses no command or an unknown option', async () => {
    const help = await hsu(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /install <ref>/);
    assert.equal((await hsu([])).code, 1);
    const unknown = await hsu(['ls', '--colour']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /Unknown option '--colour'/);
    assert.equal((await hsu(['fly'])).code, 1);
  });

  it('packs, installs, lists, verifies and removes, in text and JSON', async () => {
    const dir = packageDir(repo, { name: 'tool', version: '1.0.0' });
    const packed = await hsu(['pack', dir, '--out', path.join(repo, 'tool-1.0.0.tgz'), '--json']);
    assert.equal(packed.code, 0, packed.err);
    const facts = JSON.parse(packed.out) as { file: string; sha256: string; name: string };
    assert.equal(facts.name, 'tool');
    const installed = await hsu(['install', facts.file, '--target', 'both', '--json']);
    assert.equal(installed.code, 0, installed.err);
    const result = JSON.parse(installed.out) as { already_installed: boolean; package: { name: string; version: string; sha256: string; supported_types: string[] } };
    assert.deepEqual([result.already_installed, result.package.version, result.package.sha256], [false, '1.0.0', facts.sha256]);
    assert.match((await hsu(['install', facts.file])).out, /tool@1\.0\.0 is already installed/);
    const ls = await hsu(['ls']);
    assert.match(ls.out, /^NAME +VERSION +TYPES/);
    assert.match(ls.out, /\ntool +1\.0\.0 +process,module +- +- +\d{4}-/);
    const json = JSON.parse((await hsu(['ls', '--json'])).out) as { packages: { name: string; current_in: string[] }[] };
    assert.deepEqual(
      json.packages.map((p) => [p.name, p.current_in]),
      [['tool', []]],
    );
    const verified = await hsu(['verify', 'tool:1.0.0']);
    assert.equal(verified.code, 0);
    assert.match(verified.out, /^ok +tool@1\.0\.0\n$/);
    const removed = await hsu(['rm', 'tool:1.0.0', '--json']);
    assert.deepEqual(JSON.parse(removed.out), { ok: true, removed: ['tool@1.0.0'] });
    assert.equal((await hsu(['ls'])).out, 'no packages installed\n');
  });

  it('installs from a repository given first, or with --repo', async () => {
    const stateDir = path.join(work.dir, 'state-repo');
    for (const version of ['2.0.0', '2.1.0', '3.0.0']) await buildPackage(path.join(work.dir, 'versions'), { name: 'multi', version });
    const two = await hsu(['install', 'versions', 'multi:^2'], { stateDir });
    assert.equal(two.code, 0, two.err);
    assert.match(two.out, /installed multi@2\.1\.0/);
    const three = await hsu(['install', 'multi', '--repo', path.join(work.dir, 'versions')], { stateDir });
    assert.match(three.out, /installed multi@3\.0\.0/);
    assertCodedError(await hsu(['install', 'multi:^9', '--repo', 'versions'], { stateDir }), 'PACKAGE_NOT_FOUND');
    assertCodedError(await hsu(['install', 'versions', './x.tgz'], { stateDir }), 'PACKAGE_REF_INVALID');
  });

  it('draws a progress bar on a TTY, and none otherwise', async () => {
    const packed = await buildPackage(path.join(work.dir, 'served'), { name: 'fetched', version: '1.0.0', files: { 'blob.bin': { content: randomBytes(2 * 2 ** 20) } } });
    const body = readFileSync(packed.file);
    const server = await startServer((req, res) => {
      if (req.url === '/fetched-1.0.0.tgz') res.writeHead(200, { 'content-length': body.length }).end(body);
      else res.writeHead(404).end();
    });
    work.onClose(() => server.close());
    const tty = await hsu(['install', `${server.url}/fetched-1.0.0.tgz`], { stateDir: path.join(work.dir, 'state-tty'), tty: true });
    assert.equal(tty.code, 0, tty.err);
    assert.match(tty.err, /\rfetching fetched-1\.0\.0\.tgz \[#+\] 100% 2\.0\/2\.0 MB/);
    assert.match(tty.err, /\runpacking fetched-1\.0\.0\.tgz \[#+\] 100%/);
    assert.ok(tty.err.endsWith('\n'));
    const plain = await hsu(['install', `${server.url}/fetched-1.0.0.tgz`], { stateDir: path.join(work.dir, 'state-plain') });
    assert.equal(plain.err, '');
  });

  it('reports known errors in one line with the code, and located manifest issues under it', async () => {
    const evil = path.join(work.dir, 'evil-1.0.0.tgz');
    writeFileSync(evil, rawTgz([{ name: 'package.yaml', body: VALID_MANIFEST }, { name: '../../escape', body: 'x' }]));
    assertCodedError(await hsu(['install', evil]), 'PACKAGE_ARCHIVE_UNSAFE');
    const odd = path.join(work.dir, 'odd-1.0.0.tgz');
    writeFileSync(odd, rawTgz([{ name: 'package.yaml', body: `${VALID_MANIFEST}licence: MIT\n` }, { name: 'lib/m.mjs', body: '' }]));
    const invalid = await hsu(['install', odd]);
    assertCodedError(invalid, 'PACKAGE_MANIFEST_INVALID');
    assert.match(invalid.err.split('\n')[1] ?? '', /^ {2}.*odd-1\.0\.0\.tgz!package\.yaml:6:1 {2}licence {2}unknown key "licence"/);
    assertCodedError(await hsu(['rm', 'nothing']), 'PACKAGE_NOT_FOUND');
    assertCodedError(await hsu(['install', 'x', '--target', 'banana']), 'PACKAGE_REF_INVALID');
    assertCodedError(await hsu(['install', 'Not A Name']), 'PACKAGE_REF_INVALID');
    const json = await hsu(['install', evil, '--json']);
    assert.equal(json.code, 1);
    assert.equal((JSON.parse(json.out) as { ok: boolean; error: { code: string } }).error.code, 'HSU_ERR_PACKAGE_ARCHIVE_UNSAFE');
  });

  it('keygen, pack --sign and install --trusted-key: signed installs, unsigned is refused', async () => {
    const stateDir = path.join(work.dir, 'state-signed');
    const prefix = path.join(work.dir, 'release');
    const keygen = await hsu(['keygen', prefix, '--json']);
    assert.equal(keygen.code, 0, keygen.err);
    const key = JSON.parse(keygen.out) as { key_id: string; public_key_file: string; private_key_file: string };
    assertCodedError(await hsu(['keygen', prefix]), 'PACKAGE_STORE_FAILED');
    const signedOut = path.join(work.dir, 'signed-1.0.0.tgz');
    assert.equal((await hsu(['pack', packageDir(repo, { name: 'signed', version: '1.0.0' }), '--sign', key.private_key_file, '--out', signedOut])).code, 0);
    const unsignedOut = path.join(work.dir, 'plain-1.0.0.tgz');
    assert.equal((await hsu(['pack', packageDir(repo, { name: 'plain', version: '1.0.0' }), '--out', unsignedOut])).code, 0);
    const ok = await hsu(['install', signedOut, '--trusted-key', key.public_key_file], { stateDir });
    assert.match(ok.out, new RegExp(`signed by ${key.key_id}`));
    assertCodedError(await hsu(['install', unsignedOut, '--trusted-key', key.public_key_file], { stateDir }), 'PACKAGE_SIGNATURE_MISSING');
    assert.match((await hsu(['verify', '--trusted-key', key.public_key_file], { stateDir })).out, new RegExp(`ok +signed@1\\.0\\.0 \\(signed by ${key.key_id}\\)`));
  });

  it('verify exits 1 naming what changed', async () => {
    const stateDir = path.join(work.dir, 'state-verify');
    const packed = await buildPackage(repo, { name: 'changed', version: '1.0.0' });
    await hsu(['install', packed.file], { stateDir });
    writeFileSync(path.join(stateDir, 'packages', 'changed', '1.0.0', 'lib', 'module.mjs'), 'tampered');
    const run = await hsu(['verify'], { stateDir });
    assertCodedError(run, 'PACKAGE_VERIFY_FAILED');
    assert.match(run.out, /FAILED +changed@1\.0\.0\n +lib\/module\.mjs has changed/);
  });
});

describe('hsu package (the built file, under ./node_modules/.bin/node)', () => {
  it('installs, lists and removes through a real process', async () => {
    const node = path.join(repoRoot, 'node_modules', '.bin', 'node');
    const script = path.join(here, 'fixtures', 'hsu-package.js');
    const env = { ...process.env, HSU_STATE_DIR: path.join(work.dir, 'state-bin') };
    const run = (args: string[]): Promise<{ stdout: string; stderr: string }> => promisify(execFile)(node, [script, ...args], { env });
    const packed = await buildPackage(repo, { name: 'binary', version: '4.5.6' });
    assert.match((await run(['install', packed.file])).stdout, /installed binary@4\.5\.6/);
    const listed = JSON.parse((await run(['ls', '--json'])).stdout) as { packages: { name: string; version: string }[] };
    assert.deepEqual(
      listed.packages.map((p) => `${p.name}@${p.version}`),
      ['binary@4.5.6'],
    );
    await assert.rejects(run(['rm', 'binary:9.9.9']), (error: Error & { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /^hsu package: binary@9\.9\.9 is not installed \[HSU_ERR_PACKAGE_NOT_FOUND\]\n$/);
      return true;
    });
    assert.equal((await run(['rm', 'binary'])).stdout, 'removed binary@4.5.6\n');
  });
});
