// Discovery of unmanaged processes by each method, against real processes started here, and a
// coded error for each way of finding nothing.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { discover, discoverByCommandLine, discoverByName, discoverByPidFile, discoverByPort, identityOf, parseTcpTable } from '../../src/os/index.js';
import { isHsuError } from '../../src/errors.js';
import { Children, NODE, osFixture } from './helpers.js';

const children = new Children();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'hsu-disc-'));
after(async () => {
  await children.killAll();
  rmSync(tmp, { recursive: true, force: true });
});

const code = (key: Parameters<typeof isHsuError>[1]) => (e: unknown) => isHsuError(e, key);

void describe('discovery', () => {
  void it('by pid file: the running process with its identity', async () => {
    const { child } = await children.ready(NODE, [osFixture('idle.mjs')]);
    const file = path.join(tmp, 'ok.pid');
    writeFileSync(file, `${child.pid}\n`);
    const found = discoverByPidFile(file);
    assert.deepEqual({ pid: found.pid, start: found.startTimeTicks }, { pid: child.pid, start: identityOf(child.pid!)!.startTimeTicks });
    assert.ok(found.comm.length > 0); // "MainThread" for Node 24: it names its main thread
    assert.equal(discoverByPidFile(file, 'node').pid, child.pid);
    assert.throws(() => discoverByPidFile(file, 'nginx'), code('DISCOVERY_NOT_RUNNING'));
  });

  void it('by pid file: missing, garbage, not running, and a pid reused after the file was written', async () => {
    assert.throws(() => discoverByPidFile(path.join(tmp, 'absent.pid')), code('DISCOVERY_PID_FILE_MISSING'));
    for (const [name, text] of <[string, string][]>[['empty', ''], ['words', 'hello\n'], ['negative', '-5'], ['zero', '0'], ['huge', '99999999999']]) {
      const file = path.join(tmp, `${name}.pid`);
      writeFileSync(file, text);
      assert.throws(() => discoverByPidFile(file), code('DISCOVERY_PID_FILE_INVALID'), name);
    }
    const { child } = await children.ready(NODE, [osFixture('idle.mjs')]);
    const gone = path.join(tmp, 'gone.pid');
    writeFileSync(gone, String(child.pid));
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.throws(() => discoverByPidFile(gone), code('DISCOVERY_NOT_RUNNING'));
    // A file written an hour before this process started: its pid now names someone else.
    const { child: other } = await children.ready(NODE, [osFixture('idle.mjs')]);
    const stale = path.join(tmp, 'stale.pid');
    writeFileSync(stale, String(other.pid));
    const anHourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(stale, anHourAgo, anHourAgo);
    assert.throws(() => discoverByPidFile(stale), (e) => isHsuError(e, 'DISCOVERY_NOT_RUNNING') && e.context.reason === 'pid_reused');
    // A pid file with more lines after the pid (postgres does this).
    const multi = path.join(tmp, 'multi.pid');
    writeFileSync(multi, `${other.pid}\n/var/lib/data\n5432\n`);
    assert.equal(discoverByPidFile(multi).pid, other.pid);
  });

  void it('by process name (comm)', async () => {
    const exe = path.join(tmp, 'hsudisc-sleep');
    copyFileSync('/bin/sleep', exe);
    const first = children.spawn(exe, ['1000']);
    const second = children.spawn(exe, ['1001']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const found = discoverByName('hsudisc-sleep');
    assert.deepEqual(found.map((p) => p.pid).sort(), [first.pid, second.pid].sort());
    assert.ok(found.every((p) => p.startTimeTicks > 0));
    assert.throws(() => discoverByName('hsu-no-such-proc'), code('DISCOVERY_NO_MATCH'));
  });

  void it('by command-line pattern', async () => {
    const token = `hsu-token-${process.pid}`;
    const { child } = await children.ready(NODE, [osFixture('idle.mjs'), token]);
    const found = discoverByCommandLine(`idle\\.mjs ${token}$`);
    assert.deepEqual(found.map((p) => p.pid), [child.pid]);
    assert.ok(found[0]!.cmdline.includes(token));
    assert.throws(() => discoverByCommandLine('hsu-nothing-matches-[0-9]{40}'), code('DISCOVERY_NO_MATCH'));
    assert.throws(() => discoverByCommandLine('(unclosed'), code('DISCOVERY_PATTERN_INVALID'));
  });

  for (const host of ['127.0.0.1', '::1']) {
    void it(`by listening port (${host})`, async () => {
      const { child, words } = await children.ready(NODE, [osFixture('listen.mjs'), host]);
      const port = Number(words[1]);
      const found = discoverByPort(port);
      assert.deepEqual(found.map((p) => p.pid), [child.pid]);
    });
  }

  void it('by port: nobody listening is a coded error; a connected (not listening) port does not count', async () => {
    // A port that was just free: bind, read it, close.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    assert.throws(() => discoverByPort(port), code('DISCOVERY_PORT_NOT_LISTENING'));
    const result = discover({ port });
    assert.equal(result.ok, false);
    assert.equal(result.ok ? '' : result.error.code, 'HSU_ERR_DISCOVERY_PORT_NOT_LISTENING');
  });

  void it('parses the kernel’s tcp tables', () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:1F91 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    assert.deepEqual(parseTcpTable(text, 4), [{ inode: 12345, port: 8080, address: '127.0.0.1', family: 4 }]);
  });

  void it('discover() reports each failure as a coded result, never a throw', () => {
    const missing = discover({ pid_file: path.join(tmp, 'nope.pid') });
    assert.equal(missing.ok ? '' : missing.error.code, 'HSU_ERR_DISCOVERY_PID_FILE_MISSING');
    const none = discover({ process_name: 'hsu-no-such' });
    assert.equal(none.ok ? '' : none.error.code, 'HSU_ERR_DISCOVERY_NO_MATCH');
    const bad = discover({ command_pattern: '[' });
    assert.equal(bad.ok ? '' : bad.error.code, 'HSU_ERR_DISCOVERY_PATTERN_INVALID');
  });
});
