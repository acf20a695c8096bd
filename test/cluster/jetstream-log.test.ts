// The JetStream MessageLog on a real nats-server: the MessageLog contract (ids, reads, head,
// batches, follow woken by another connection's append, refusals), and the unchanged CommandWorker
// on it: every message handled, retries and dead letters, a re-drive asked from another
// connection, the checkpoint kept across runs, and one worker per consumer name at a time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CommandWorker } from '../../src/messaging/index.js';
import { JetStreamMessageLog } from '../../src/messaging/jetstream/index.js';
import { isHsuError } from '../../src/errors.js';
import { Entry, ledgerCommands } from './fixtures/ledger-commands.js';
import { until } from './helpers.js';
import { NatsServer } from './nats-server.js';
import { forceGc } from '../helpers/gc.js';

const MAX_PAYLOAD = 32 * 1024;

void describe('JetStream message log', () => {
  let server: NatsServer;
  const logs: JetStreamMessageLog[] = [];
  const open = async (name: string, extra: { leaseWaitMs?: number } = {}): Promise<JetStreamMessageLog<typeof Entry>> => {
    const log = await JetStreamMessageLog.connect({ servers: server.url, node: 'test' }, { name, commands: ledgerCommands, leaseTtlMs: 500, ...extra });
    logs.push(log as unknown as JetStreamMessageLog);
    return log;
  };

  before(async () => {
    server = await NatsServer.start({ max_payload: MAX_PAYLOAD });
  });
  after(async () => {
    for (const log of logs) await log.close();
    await server.dispose();
  });

  void it('keeps the MessageLog contract', async () => {
    const log = await open('contract');
    assert.equal(await log.head(), 0);
    assert.deepEqual(await log.read(0), []);
    const first = await log.append(Entry({ n: 1 }));
    const batch = await log.appendBatch([Entry({ n: 2 }), Entry({ n: 3 }), Entry({ n: 4 })]);
    assert.deepEqual([first, ...batch], [1, 2, 3, 4]);
    assert.equal(await log.head(), 4);
    const records = await log.read(1, 2);
    assert.deepEqual(records.map((r) => [r.id, r.name, JSON.parse(r.data)]), [[2, 'ledger/entry', { n: 2 }], [3, 'ledger/entry', { n: 3 }]]);
    assert.ok(records.every((r) => r.appended_at > 0));
    assert.deepEqual((await log.read(0)).map((r) => r.id), [1, 2, 3, 4], 'a read from another position');
    await assert.rejects(log.append({ name: 'ledger/entry', payload: { n: 'x' } } as never), (err: unknown) => isHsuError(err, 'COMMAND_INVALID'));
    await assert.rejects(log.appendBatch([Entry({ n: 5 }), { name: 'nope', payload: {} } as never]), (err: unknown) => isHsuError(err, 'COMMAND_UNKNOWN'));
    assert.equal(await log.head(), 4, 'an invalid batch stores nothing');
    await assert.rejects(log.append(Entry({ n: 1, fail: false, ...{ pad: 'x'.repeat(MAX_PAYLOAD) } } as never)), (err: unknown) => isHsuError(err, 'CLUSTER_PAYLOAD_TOO_LARGE'));
    // Follow: woken by an append through another connection, no polling.
    const other = await open('contract');
    const controller = new AbortController();
    const seen: number[] = [];
    const following = (async () => {
      for await (const record of log.records(4, { follow: true, signal: controller.signal })) {
        seen.push(record.id);
        if (seen.length === 2) controller.abort();
      }
    })();
    await other.append(Entry({ n: 5 }));
    await other.append(Entry({ n: 6 }));
    await following;
    assert.deepEqual(seen, [5, 6]);
    await other.close();
    await assert.rejects(other.read(0), (err: unknown) => isHsuError(err, 'MESSAGE_LOG_CLOSED'));
  });

  void it('runs the unchanged CommandWorker: all handled, dead letters, re-drive, checkpoint across runs', async () => {
    const log = await open('worker');
    const handled: number[] = [];
    const build = (target: JetStreamMessageLog<typeof Entry>): CommandWorker<typeof Entry, null> =>
      new CommandWorker({ name: 'ledger', state: null, log: target, retry: { maxAttempts: 2, backoffMs: 1 } }).onCommand('ledger/entry', (command, message, ctx) => {
        if (command.payload.fail === true && ctx.delivery <= 2) throw new Error('told to fail');
        handled.push(message.id);
      });
    const worker = build(log);
    await worker.start();
    const ids = await log.appendBatch(Array.from({ length: 200 }, (_, n) => Entry({ n, fail: n === 50 })));
    await until('199 handled', () => handled.length === 199);
    const [letter] = await worker.deadLetters();
    assert.equal(letter?.message_id, ids[50]);
    assert.equal(letter?.attempts, 2);
    assert.equal(letter?.error_code, 'HSU_ERR_HANDLER_FAILED');
    // A re-drive asked through another connection wakes this worker.
    const other = await open('worker');
    assert.equal(await other.consumers.requestRedrive('ledger'), 1);
    await until('the re-driven message to be handled', () => handled.includes(ids[50] as number));
    await until('the letter to be settled', async () => (await worker.deadLetters())[0]?.state === 'redriven');
    await worker.stop();
    await log.close(); // the consumer's lease goes with the log
    await other.append(Entry({ n: 1000 }));
    const again = build(await open('worker'));
    await again.start();
    await until('the next run to handle only the new message', () => handled.length === 201);
    assert.equal(new Set(handled).size, 201, 'nothing handled twice across runs');
    await again.stop();
  });

  void it('soak: 20,000 messages appended and handled stay within a heap bound', async () => {
    const log = await open('soak');
    let handled = 0;
    const worker = new CommandWorker({ name: 'soak', state: null, log }).onCommand('ledger/entry', () => {
      handled++;
    });
    await worker.start();
    const round = async (): Promise<void> => {
      const target = handled + 10_000;
      for (let i = 0; i < 10; i++) await log.appendBatch(Array.from({ length: 1_000 }, (_, n) => Entry({ n })));
      await until('the round to be handled', () => handled >= target);
    };
    await round();
    forceGc();
    const before = process.memoryUsage().heapUsed;
    await round();
    await round();
    forceGc();
    const grown = process.memoryUsage().heapUsed - before;
    assert.ok(grown < 48 * 1024 * 1024, `heap grew ${Math.round(grown / 1024)} KiB over 20,000 messages`);
    assert.equal(handled, 30_000);
    await worker.stop();
  });

  void it('one worker per consumer at a time: a standby waits, then takes over at the checkpoint', async () => {
    const first = await open('lease');
    const handled: string[] = [];
    const worker = (log: JetStreamMessageLog<typeof Entry>, who: string): CommandWorker<typeof Entry, null> =>
      new CommandWorker({ name: 'ledger', state: null, log }).onCommand('ledger/entry', (_command, message) => {
        handled.push(`${who}:${message.id}`);
      });
    const active = worker(first, 'first');
    await active.start();
    await first.append(Entry({ n: 1 }));
    await until('first to handle', () => handled.length === 1);
    const second = await open('lease', { leaseWaitMs: 300 });
    await assert.rejects(worker(second, 'second').start(), (err: unknown) => isHsuError(err, 'CONSUMER_LEASED'));
    const patient = await open('lease', { leaseWaitMs: 20_000 });
    const standby = worker(patient, 'standby');
    const starting = standby.start();
    await active.stop();
    await first.close(); // gives the lease back
    await starting;
    await patient.append(Entry({ n: 2 }));
    await until('the standby to handle the next one', () => handled.length === 2);
    assert.deepEqual(handled, ['first:1', 'standby:2']);
    await standby.stop();
  });
});
