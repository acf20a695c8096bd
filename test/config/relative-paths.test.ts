// Relative paths in a config file resolve against the file's directory, never the current one:
// `unmanaged.pid_file` and the `master.cluster` files (`credentials`, `tls.ca/cert/key`) like every
// other path. The test process runs from another directory (asserted), so a path resolved against
// the cwd names nothing. The loader's result, then the real thing: an unmanaged worker attached
// through a relative pid file, and two masters joining a TLS-only nats-server through a relative CA.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Master } from '../../src/index.js';
import { parseWorkerConfig, validateConfigFile } from '../../src/config/index.js';
import { findNatsServer, NatsServer } from '../cluster/nats-server.js';
import { diagnostics, tempDir } from '../helpers/master-helpers.js';
import { killOutside, startOutside, until } from '../process/support.js';

const scratch = tempDir('relative-paths');
after(() => scratch.remove());

/** A directory holding `hsu.yaml` with `lines`; never the current directory. */
function configDir(name: string, lines: string[]): { dir: string; file: string } {
  const dir = path.join(scratch.dir, name);
  mkdirSync(dir, { recursive: true });
  assert.notEqual(path.resolve(process.cwd()), dir, 'the test must run from another directory than the config file');
  const file = path.join(dir, 'hsu.yaml');
  writeFileSync(file, [...lines, ''].join('\n'));
  return { dir, file };
}

const hasOpenssl = ((): boolean => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const tlsSkip = findNatsServer() === undefined ? 'nats-server is not installed' : hasOpenssl ? false : 'openssl is not installed';

/** A CA and a server certificate for 127.0.0.1 signed by it, made by openssl in `dir`. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  mkdirSync(dir, { recursive: true });
  const f = (name: string): string => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  execFileSync('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=hsu test CA'], { stdio: 'ignore' });
  execFileSync('openssl', ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  execFileSync('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '1', '-extfile', f('san.ext')], { stdio: 'ignore' });
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

void describe('relative paths resolve against the config file', () => {
  it('the loader resolves unmanaged.pid_file, cluster.credentials and cluster.tls files against the file’s directory', () => {
    const { dir, file } = configDir('loader', [
      'master:',
      '  cluster:',
      '    credentials: secrets/nats.creds',
      '    tls: { ca: certs/ca.pem, cert: certs/client.pem, key: certs/client.key }',
      'workers:',
      '  - id: legacy',
      '    type: process',
      '    management: unmanaged',
      '    unmanaged: { pid_file: run/legacy.pid }',
      '  - id: absolute',
      '    type: process',
      '    management: unmanaged',
      '    unmanaged: { pid_file: /run/absolute.pid }',
    ]);
    const result = validateConfigFile(file);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.issues));
    const cluster = result.config.master.cluster;
    assert.equal(cluster?.credentials, path.join(dir, 'secrets/nats.creds'));
    assert.deepEqual(cluster?.tls, { ca: path.join(dir, 'certs/ca.pem'), cert: path.join(dir, 'certs/client.pem'), key: path.join(dir, 'certs/client.key') });
    const [legacy, absolute] = result.config.workers;
    assert.equal(legacy?.type === 'process' ? legacy.unmanaged?.pid_file : undefined, path.join(dir, 'run/legacy.pid'));
    assert.equal(absolute?.type === 'process' ? absolute.unmanaged?.pid_file : undefined, '/run/absolute.pid');
  });

  it('master.addWorker resolves unmanaged.pid_file against MasterOptions.baseDir', () => {
    const worker = parseWorkerConfig({ id: 'legacy', type: 'process', management: 'unmanaged', unmanaged: { pid_file: 'run/legacy.pid' } }, '/srv/app');
    assert.equal(worker.type === 'process' ? worker.unmanaged?.pid_file : undefined, '/srv/app/run/legacy.pid');
  });

  it('an unmanaged worker attaches to the process named by a relative pid_file', { timeout: 60_000 }, async () => {
    const marker = `relative-pid-${process.pid}`;
    const { dir, file } = configDir('unmanaged', [
      'master: { state_dir: .hsu, log_dir: logs, shutdown_timeout: 5s }',
      'workers:',
      '  - id: svc',
      '    type: process',
      '    management: unmanaged',
      '    start_timeout: 10s',
      '    unmanaged: { pid_file: run/svc.pid, attach_interval: 100ms }',
    ]);
    mkdirSync(path.join(dir, 'run'));
    const svc = startOutside(marker, 'service.mjs', ['--pid-file', path.join(dir, 'run', 'svc.pid')]);
    const master = await Master.fromConfigFile(file);
    try {
      await svc.ready;
      await master.startWorker('svc');
      assert.equal(diagnostics(master, 'svc').pid, svc.pid);
    } finally {
      await master.shutdown();
      await killOutside(marker);
    }
  });

  it('two masters join a TLS-only nats-server through a relative cluster.tls.ca and see each other', { skip: tlsSkip, timeout: 60_000 }, async () => {
    const certs = makeCertificates(path.join(scratch.dir, 'server-certs'));
    const nats = await NatsServer.start({ tls: { cert: certs.cert, key: certs.key } });
    const masters: Master[] = [];
    try {
      for (const node of ['tls-a', 'tls-b']) {
        const { dir, file } = configDir(node, [
          'master:',
          '  state_dir: .hsu',
          `  cluster: { name: tls-paths, node: ${node}, servers: [${nats.url}], tls: { ca: certs/ca.pem }, heartbeat_interval: 200ms, ttl: 1s }`,
          'workers: []',
        ]);
        mkdirSync(path.join(dir, 'certs'));
        copyFileSync(certs.ca, path.join(dir, 'certs', 'ca.pem'));
        masters.push(await Master.fromConfigFile(file));
      }
      // A master that cannot connect still starts (serving locally, retrying): only a connected one sees the other's heartbeat.
      for (const [master, other] of [[masters[0], 'tls-b'], [masters[1], 'tls-a']] as const) {
        await until(`${other} in the cluster view`, () => master?.clusterView()?.nodes.some((n) => n.node === other && !n.self) === true);
      }
    } finally {
      for (const master of masters) await master.shutdown();
      await nats.dispose();
    }
  });
});
