// The master.api settings: the schema, the rules no schema can see (non-loopback needs a token and
// TLS, socket path length, HSU_TOKEN), the block read with the rest of a config file with every
// issue at its line, and the token file.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { apiSettingsSchema, isLoopbackHost, parseListen, resolveApiSettings } from '../../src/api/config.js';
import { validateConfigText } from '../../src/config/index.js';
import { obtainToken, tokenMatches } from '../../src/api/token.js';
import { tempDir, throwsWithCode } from '../helpers/master-helpers.js';

const scratch = tempDir('api-config');
after(() => scratch.remove());

/** The core validator, with the parsed api block beside the config. */
function validateRunConfigText(text: string, file: string, env: NodeJS.ProcessEnv) {
  const result = validateConfigText(text, file, { env });
  return result.ok ? { ...result, api: result.config.master.api } : result;
}

const WORKER = `workers:
  - id: a
    type: process
    execution: { executable_path: node }
`;

void describe('master.api settings', () => {
  it('defaults to the socket in the state directory, no TCP', () => {
    const resolved = resolveApiSettings(apiSettingsSchema.parse({}), '/srv/app/.hsu', '/srv/app', {});
    assert.equal(resolved.socketPath, '/srv/app/.hsu/hsu.sock');
    assert.equal(resolved.tcp, undefined);
    assert.equal(resolved.enabled, true);
    assert.equal(resolved.maxBodyBytes, 1024 * 1024);
  });

  it('parses listen addresses and knows loopback from the rest', () => {
    assert.deepEqual(parseListen('127.0.0.1:9900'), { host: '127.0.0.1', port: 9900 });
    assert.deepEqual(parseListen('[::1]:80'), { host: '::1', port: 80 });
    for (const host of ['127.0.0.1', '127.8.9.10', '::1', 'localhost']) assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com']) assert.equal(isLoopbackHost(host), false, host);
  });

  it('refuses a non-loopback listen without TLS and a configured token, naming what is missing', () => {
    const settings = (input: object): ReturnType<typeof apiSettingsSchema.parse> => apiSettingsSchema.parse(input);
    const bare = throwsWithCode(() => resolveApiSettings(settings({ listen: '0.0.0.0:9900' }), '/s', '/b', {}), 'HSU_ERR_API_INSECURE_LISTEN');
    assert.equal((bare.context.missing as string[]).length, 2);
    const noTls = throwsWithCode(() => resolveApiSettings(settings({ listen: '0.0.0.0:9900', token: 'x'.repeat(32) }), '/s', '/b', {}), 'HSU_ERR_API_INSECURE_LISTEN');
    assert.deepEqual(noTls.context.missing, ['tls (cert and key)']);
    const noToken = throwsWithCode(() => resolveApiSettings(settings({ listen: '10.1.2.3:9900', tls: { cert: 'c.pem', key: 'k.pem' } }), '/s', '/b', {}), 'HSU_ERR_API_INSECURE_LISTEN');
    assert.deepEqual(noToken.context.missing, ['a token (token, token_file or HSU_TOKEN)']);
    const ok = resolveApiSettings(settings({ listen: '0.0.0.0:9900', tls: { cert: 'c.pem', key: 'k.pem' } }), '/s', '/b', { HSU_TOKEN: 'y'.repeat(20) });
    assert.deepEqual([ok.tls?.cert, ok.token, ok.tokenFromEnv], ['/b/c.pem', 'y'.repeat(20), true]);
    assert.doesNotThrow(() => resolveApiSettings(settings({ listen: '127.0.0.1:0' }), '/s', '/b', {}));
  });

  it('refuses a socket path longer than a unix socket can have', () => {
    const deep = `/${'d'.repeat(120)}`;
    throwsWithCode(() => resolveApiSettings(apiSettingsSchema.parse({}), deep, '/', {}), 'HSU_ERR_API_CONFIG_INVALID');
    assert.doesNotThrow(() => resolveApiSettings(apiSettingsSchema.parse({ socket: '/tmp/short.sock' }), deep, '/', {}));
  });

  it('the schema catches contradictions and bad values', () => {
    const issues = (input: object): string[] => {
      const result = apiSettingsSchema.safeParse(input);
      return result.success ? [] : result.error.issues.map((i) => i.path.join('.'));
    };
    assert.deepEqual(issues({ token: 'x'.repeat(16), token_file: '/t' }), ['token_file']);
    assert.deepEqual(issues({ socket: false }), ['socket']);
    assert.deepEqual(issues({ listen: '9900' }), ['listen']);
    assert.deepEqual(issues({ token: 'short' }), ['token']);
    assert.deepEqual(issues({ colour: 'blue' }), ['']);
    assert.deepEqual(issues({ enabled: false, socket: false }), []);
  });
});

void describe('reading master.api from a config file', () => {
  const file = path.join(scratch.dir, 'hsu.yaml');

  it('takes the block out and keeps every other issue on its own line', () => {
    const text = `master:
  log_dir: logs
  api:
    listen: 127.0.0.1:9900
    max_body_bytes: 4096
  shutdown_timeout: soon
workers:
  - id: a
    type: process
    execution: { executable_path: node }
`;
    const result = validateRunConfigText(text, file, {});
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(
      result.issues.map((i) => [i.path, i.line]),
      [['master.shutdown_timeout', 6]],
    );
    const fixed = validateRunConfigText(text.replace('soon', '5s'), file, {});
    assert.ok(fixed.ok);
    if (!fixed.ok) return;
    assert.deepEqual([fixed.api.listen, fixed.api.max_body_bytes, fixed.config.master.shutdown_timeout], ['127.0.0.1:9900', 4096, 5000]);
  });

  it('locates problems inside the block, with ${VAR} interpolated first', () => {
    const text = `master:
  api:
    listen: nonsense
    token: \${API_TOKEN}
${WORKER}`;
    const result = validateRunConfigText(text, file, {});
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(
      result.issues.map((i) => [i.path, i.line]),
      [
        ['master.api.listen', 3],
        ['master.api.token', 4],
      ],
    );
    const set = validateRunConfigText(text.replace('nonsense', '127.0.0.1:1'), file, { API_TOKEN: 't'.repeat(20) });
    assert.ok(set.ok && set.api.token === 't'.repeat(20));
  });

  it('a master section holding only the api block, flow style, and no block at all', () => {
    const only = validateRunConfigText(`master:\n  api:\n    socket: false\n    listen: 127.0.0.1:0\n${WORKER}`, file, {});
    assert.ok(only.ok, JSON.stringify(only));
    const flow = validateRunConfigText(`master: { api: { socket: false, listen: "127.0.0.1:0" }, log_dir: x }\n${WORKER}`, file, {});
    assert.ok(flow.ok && flow.api.socket === false && flow.config.master.log_dir === path.join(scratch.dir, 'x'), JSON.stringify(flow));
    const none = validateRunConfigText(WORKER, file, {});
    assert.ok(none.ok && none.api.socket === true);
    const broken = validateRunConfigText(`master:\n  api: [\n${WORKER}`, file, {});
    assert.equal(broken.ok, false);
  });
});

void describe('the API token', () => {
  it('is generated once into the state dir with mode 0600 and kept across restarts', () => {
    const stateDir = path.join(scratch.dir, 'state-a');
    const settings = resolveApiSettings(apiSettingsSchema.parse({}), stateDir, scratch.dir, {});
    mkdirSync(stateDir);
    const first = obtainToken(settings);
    assert.equal(first.source, 'generated');
    assert.ok(first.value.length >= 40);
    assert.equal(statSync(first.file!).mode & 0o777, 0o600);
    chmodSync(first.file!, 0o644); // someone loosened it
    const second = obtainToken(settings);
    assert.deepEqual([second.source, second.value], ['state_dir', first.value]);
    assert.equal(statSync(first.file!).mode & 0o777, 0o600, 'tightened again');
  });

  it('from HSU_TOKEN it is written nowhere; from the config it is written for the local CLI; token_file is read', () => {
    const stateDir = path.join(scratch.dir, 'state-b');
    mkdirSync(stateDir);
    const fromEnv = obtainToken(resolveApiSettings(apiSettingsSchema.parse({}), stateDir, scratch.dir, { HSU_TOKEN: 'e'.repeat(20) }));
    assert.deepEqual([fromEnv.source, fromEnv.file, fromEnv.value], ['env', undefined, 'e'.repeat(20)]);
    assert.throws(() => statSync(path.join(stateDir, 'api.token')));
    const fromConfig = obtainToken(resolveApiSettings(apiSettingsSchema.parse({ token: 'c'.repeat(20) }), stateDir, scratch.dir, {}));
    assert.equal(readFileSync(fromConfig.file!, 'utf8').trim(), 'c'.repeat(20));
    const tokenFile = path.join(scratch.dir, 'token.txt');
    writeFileSync(tokenFile, `${'f'.repeat(24)}\n`);
    const fromFile = obtainToken(resolveApiSettings(apiSettingsSchema.parse({ token_file: 'token.txt' }), stateDir, scratch.dir, {}));
    assert.deepEqual([fromFile.source, fromFile.value, fromFile.file], ['token_file', 'f'.repeat(24), tokenFile]);
    writeFileSync(tokenFile, 'short\n');
    throwsWithCode(() => obtainToken(resolveApiSettings(apiSettingsSchema.parse({ token_file: tokenFile }), stateDir, scratch.dir, {})), 'HSU_ERR_API_TOKEN_UNUSABLE');
  });

  it('compares in constant time over equal-length digests, whatever the lengths given', () => {
    const token = 'abcdefghijklmnopqrstuvwxyz';
    assert.equal(tokenMatches(token, token), true);
    for (const given of [undefined, '', 'a', token.slice(0, -1), `${token}z`, token.toUpperCase()]) assert.equal(tokenMatches(token, given), false, String(given));
  });
});
