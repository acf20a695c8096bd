// A master's membership of a cluster, as events: `master.on('cluster')`, `hsu.cluster` on the
// modules' bus, and the `cluster` events of GET /events that `hsu events` prints. The real
// nats-server goes away under a real `hsu run` and comes back: the operator sees both.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Master, type MasterClusterEvent } from '../../src/index.js';
import { HsuRun } from '../helpers/hsu-run.js';
import { fixture, repoRoot } from '../helpers/paths.js';
import { natsForFile, until, writeClusterYaml } from './helpers.js';

const BIN = path.join(repoRoot, 'dist', 'src', 'cli', 'bin.js');
const file = natsForFile('cluster-events');

function writeConfig(node: string): string {
  return writeClusterYaml({
    dir: path.join(file.dir, node),
    cluster: 'events-test',
    node,
    servers: file.server().url,
    clusterLines: ['    reconnect: { initial: 50ms, max: 200ms }'],
    workers: ['  - id: local', '    type: module', `    module: { module_type: plugin, module_path: ${JSON.stringify(fixture('plugins/ok.mjs'))} }`],
  });
}

/** `hsu events` of the master in `dir`: its stdout lines as they come, and whether its stream is open. */
function followEvents(dir: string, json: boolean): { lines: string[]; opened: () => boolean; stop: () => Promise<void> } {
  const child = spawn(process.execPath, [BIN, 'events', ...(json ? ['--json'] : []), '--state-dir', path.join(dir, '.hsu')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const lines: string[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l !== ''));
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    lines,
    // Said on stderr once the stream is open (the hub has subscribed).
    opened: () => stderr.includes('watching the events of master pid'),
    stop: async () => {
      child.kill('SIGINT');
      await exited;
    },
  };
}

void describe('cluster events', { skip: file.skip, timeout: 120_000 }, () => {
  it('NATS going away and coming back is a cluster event on master.on, the bus, GET /events and hsu events', async () => {
    const b = new HsuRun(writeConfig('node-b'), path.join(file.dir, 'node-b'));
    let a: Master | undefined;
    let json: ReturnType<typeof followEvents> | undefined;
    let words: ReturnType<typeof followEvents> | undefined;
    try {
      await b.waitFor('node-b running', (l) => l.msg === 'master running');
      a = await Master.fromConfigFile(writeConfig('node-a'));
      const seen: MasterClusterEvent[] = [];
      const onBus: unknown[] = [];
      a.on('cluster', (event) => seen.push(event));
      a.bus.subscribe('hsu.cluster', (payload) => void onBus.push(payload));
      await a.start();
      json = followEvents(path.join(file.dir, 'node-b'), true);
      words = followEvents(path.join(file.dir, 'node-b'), false);
      await until('both hsu events to be following node-b', () => json!.opened() && words!.opened());

      await file.server().stop();
      await until('node-a to see the main connection go', () => seen.some((e) => e.type === 'disconnected' && e.connection === 'main'));
      await file.server().launch();
      await until('node-a to see it come back', () => seen.some((e) => e.type === 'reconnected' && e.connection === 'main'));
      const disconnected = seen.find((e) => e.type === 'disconnected')!;
      assert.ok(typeof disconnected.at === 'number' && 'server' in disconnected && typeof disconnected.server === 'string');
      await until('the same on the bus', () => onBus.some((p) => (p as MasterClusterEvent).type === 'reconnected'));

      // The operator's view of node-b: its event stream says the same, in JSON and in words.
      await until('hsu events --json to print both', () => {
        const events = json!.lines.map((l) => JSON.parse(l) as { event: string; data: MasterClusterEvent });
        const cluster = events.filter((e) => e.event === 'cluster' && 'connection' in e.data && e.data.connection === 'main').map((e) => e.data.type);
        return cluster.includes('disconnected') && cluster.includes('reconnected');
      });
      await until('hsu events to print them in words', () => words!.lines.some((l) => /cluster {2}main connection disconnected/.test(l)) && words!.lines.some((l) => /cluster {2}main connection reconnected 127\.0\.0\.1:\d+$/.test(l))).catch((error: Error) =>
        assert.fail(`${error.message}: ${words!.lines.join(' | ')}`),
      );
    } finally {
      await json?.stop();
      await words?.stop();
      await a?.shutdown();
      b.signal('SIGTERM');
      await b.exited;
    }
  });
});

