/**
 * The JetStream message log against bare JetStream on the same server: appends (100 in flight,
 * one command each; and appendBatch of 1000) against bare `js.publish` of the same bytes and
 * concurrency, and messages handled per second by a CommandWorker (trivial synchronous handler)
 * against a bare ordered consumer reading the same stream.
 */
import { performance } from 'node:perf_hooks';
import * as z from 'zod';
import { CommandRegistry, CommandWorker, defineCommand } from '../src/messaging/index.js';
import { JetStreamMessageLog } from '../src/messaging/jetstream/index.js';
import { NatsServer } from '../test/cluster/nats-server.js';
import { note, verdict, type Row } from './common.js';
import { fmtRate, fmtRatio } from './stats.js';

const Placed = defineCommand('order/placed', z.object({ order_id: z.number().int(), qty: z.number().int() }));
const commands = CommandRegistry.of(Placed);
const COUNT = 20_000;
const IN_FLIGHT = 100;

function row(name: string, value: number, floorName: string, floor: number, minRatio?: number): Row {
  const ratio = value / floor;
  const base = { name, value: fmtRate(value), spread: '', floor: `${fmtRate(floor)} ${floorName}`, ratio: fmtRatio(ratio) };
  if (minRatio === undefined) return { ...base, target: 'report', status: 'info' };
  return { ...base, target: `≥ ${minRatio}x floor`, status: verdict(ratio >= minRatio) };
}

async function lanes(count: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await op(next++);
    }),
  );
  return count / ((performance.now() - start) / 1000);
}

export async function benchClusterLog(): Promise<Row[]> {
  note('cluster: JetStream message log (bare JetStream floor)...');
  const server = await NatsServer.start();
  const { connect } = await import('@nats-io/transport-node');
  const { jetstream, jetstreamManager, DeliverPolicy } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'BARE', subjects: ['bare.log'] });
  const js = jetstream(nc);
  const log = await JetStreamMessageLog.connect({ servers: server.url, node: 'bench' }, { name: 'bench', commands });
  const rows: Row[] = [];
  try {
    const data = JSON.stringify({ order_id: 1, qty: 2 });
    let n = 0;
    const bareAppend = await lanes(COUNT, IN_FLIGHT, () => js.publish('bare.log', data, { msgID: `m${n++}` }));
    const logAppend = await lanes(COUNT, IN_FLIGHT, (i) => log.append(Placed({ order_id: i, qty: 2 })));
    const batchStart = performance.now();
    for (let i = 0; i < COUNT; i += 1000) await log.appendBatch(Array.from({ length: 1000 }, (_, k) => Placed({ order_id: i + k, qty: 1 })));
    const logBatch = COUNT / ((performance.now() - batchStart) / 1000);
    note(`  append, ${IN_FLIGHT} in flight: bare js.publish ${fmtRate(bareAppend)}; log.append ${fmtRate(logAppend)}; appendBatch(1000) ${fmtRate(logBatch)}`);
    rows.push(row(`cluster log: append, ${IN_FLIGHT} in flight`, logAppend, 'bare js.publish', bareAppend));
    rows.push(row('cluster log: appendBatch (1000, pipelined)', logBatch, 'bare js.publish', bareAppend));
    // Reading: a bare ordered consumer over the bare stream's COUNT messages.
    const readStart = performance.now();
    const consumer = await js.consumers.get('BARE', { deliver_policy: DeliverPolicy.All });
    const messages = await consumer.consume({ max_messages: 1000 });
    let read = 0;
    for await (const m of messages) {
      JSON.parse(m.string());
      if (++read === COUNT) break;
    }
    const bareRead = COUNT / ((performance.now() - readStart) / 1000);
    await messages.close();
    // A command worker over the log's 2 x COUNT messages.
    const total = 2 * COUNT;
    let handled = 0;
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const worker = new CommandWorker({ name: 'bench', state: null, log }).onCommand('order/placed', () => {
      if (++handled === total) done();
    });
    const handleStart = performance.now();
    await worker.start();
    await finished;
    const handleRate = total / ((performance.now() - handleStart) / 1000);
    await worker.stop();
    note(`  read: bare ordered consumer ${fmtRate(bareRead)}; CommandWorker handled ${fmtRate(handleRate)}`);
    rows.push(row('cluster log: handled/s, one CommandWorker, sync handler', handleRate, 'bare ordered consumer', bareRead));
  } finally {
    await log.close();
    await nc.close();
    await server.dispose();
  }
  return rows;
}
