// Command workers on two masters (separate processes) sharing one JetStream log: the ledger worker
// runs on one master, the other's waits as a standby; `kill -9` of the active master mid-stream and
// the standby takes over at the checkpoint: every appended message is handled, none lost.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JetStreamMessageLog } from '../../src/messaging/jetstream/index.js';
import { Entry, ledgerCommands } from './fixtures/ledger-commands.js';
import { clusterBlock, NodeProcess, sleep, until } from './helpers.js';
import { NatsServer } from './nats-server.js';

const TOTAL = 600;

function handled(file: string): { ids: Set<number>; lines: number } {
  if (!existsSync(file)) return { ids: new Set(), lines: 0 };
  const lines = readFileSync(file, 'utf8').split('\n').filter((line) => line !== '');
  return { ids: new Set(lines.map((line) => Number(line.split(' ')[0]))), lines: lines.length };
}

void describe('command workers on two masters sharing a JetStream log', () => {
  let server: NatsServer;
  let dir: string;
  const nodes: NodeProcess[] = [];

  before(async () => {
    server = await NatsServer.start();
    dir = mkdtempSync(path.join(os.tmpdir(), 'hsu-shared-log-'));
  });
  after(async () => {
    for (const n of nodes) await n.kill();
    await server.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  void it('loses no message across a kill -9 of the master running the worker', async () => {
    const effects = { a: path.join(dir, 'a.txt'), b: path.join(dir, 'b.txt') };
    const ledger = (effectsFile: string) => ({ log: 'shared', effects: effectsFile, lease_ttl_ms: 1_000 });
    const a = await NodeProcess.start({ cluster: clusterBlock(server.url, 'a'), replicas: 1, ledger: ledger(effects.a) });
    nodes.push(a);
    const appender = await JetStreamMessageLog.connect({ servers: server.url, node: 'appender' }, { name: 'shared', commands: ledgerCommands });
    try {
      await appender.appendBatch(Array.from({ length: 50 }, (_, n) => Entry({ n })));
      await until('a to run the worker', () => handled(effects.a).ids.size > 0);
      const b = await NodeProcess.start({ cluster: clusterBlock(server.url, 'b'), replicas: 1, ledger: ledger(effects.b) });
      nodes.push(b);
      let appended = 50;
      const appending = (async () => {
        while (appended < TOTAL) {
          await appender.appendBatch(Array.from({ length: 10 }, (_, i) => Entry({ n: appended + i })));
          appended += 10;
          await sleep(5);
        }
      })();
      await until('a to be mid-stream', () => handled(effects.a).ids.size > 150);
      assert.equal(handled(effects.b).lines, 0, 'the standby handles nothing while a holds the consumer');
      await a.kill();
      await appending;
      await until(`all ${TOTAL} messages handled`, () => {
        const union = new Set([...handled(effects.a).ids, ...handled(effects.b).ids]);
        return union.size === TOTAL;
      });
      const union = new Set([...handled(effects.a).ids, ...handled(effects.b).ids]);
      assert.deepEqual([...union].sort((x, y) => x - y), Array.from({ length: TOTAL }, (_, i) => i + 1), 'every id from 1 to the head, none lost');
      assert.ok(handled(effects.b).ids.size > 0, 'the standby took over');
      const redone = handled(effects.a).lines + handled(effects.b).lines - TOTAL;
      process.stderr.write(`# handled ${handled(effects.a).ids.size} on a (killed), ${handled(effects.b).ids.size} on b; ${redone} redelivered after the kill (at-least-once)\n`);
    } finally {
      await appender.close();
    }
  });
});
