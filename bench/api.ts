/**
 * The control API under load, each beside a bare node:http floor in the same run: GET /workers
 * with 100 workers (latency, keep-alive over the unix socket, the floor a bare handler building
 * the same list), and SSE fan-out of 1,000 events/s to 10 clients (the master's CPU; the floor a
 * bare node:http SSE server writing the same frames; the clients run in their own process).
 */
import { spawn } from 'node:child_process';
import { Agent, createServer, request, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { apiSettingsSchema, resolveApiSettings } from '../src/api/config.js';
import { ApiServer } from '../src/api/server.js';
import { Master } from '../src/index.js';
import { fixture, note, scratchDir, sleep, verdict, type Row } from './common.js';
import { fmtMs, fmtRatio, summarize } from './stats.js';

const WORKERS = 100;
const BLOCK = 100;
const ROUNDS = 10;
const EVENTS_PER_SECOND = 1_000;
const CLIENTS = 10;
const WINDOW_MS = 5_000;

function get(agent: Agent, socketPath: string, pathname: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ socketPath, path: pathname, agent }, (response) => {
      response.resume();
      response.once('end', () => resolve(performance.now() - t0));
    });
    req.once('error', reject);
    req.end();
  });
}

function listen(server: Server, socketPath: string): Promise<void> {
  return new Promise((resolve) => server.listen(socketPath, resolve));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function withMaster<T>(label: string, workers: number, body: (master: Master, stateDir: string, api: ApiServer) => Promise<T>): Promise<T> {
  const scratch = scratchDir(label);
  const master = new Master({ logDir: scratch.dir });
  for (let i = 0; i < workers; i++) master.addWorker({ id: `w${i}`, type: 'module', module: { module_type: 'plugin', module_path: fixture('echo-module.mjs') } });
  const stateDir = path.join(scratch.dir, 'state');
  await master.start();
  const api = await ApiServer.start({ host: { master, logDir: scratch.dir, stateDir }, settings: resolveApiSettings(apiSettingsSchema.parse({}), stateDir, scratch.dir, {}) });
  try {
    return await body(master, stateDir, api);
  } finally {
    await api.close();
    await master.shutdown();
    scratch.remove();
  }
}

export async function benchApiList(): Promise<Row[]> {
  note(`api: GET /workers with ${WORKERS} workers over the unix socket, against a bare node:http handler building the same list (ABBA blocks of ${BLOCK})...`);
  return withMaster('api-list', WORKERS, async (master, stateDir) => {
    const socket = path.join(stateDir, 'hsu.sock');
    const floorSocket = path.join(stateDir, 'floor.sock');
    const floor = createServer((_req, res) => {
      const body = JSON.stringify({ workers: master.listWorkers().map((id) => master.getWorkerStateWithDiagnostics(id)) });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await listen(floor, floorSocket);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const hsu: number[] = [];
    const bare: number[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        await get(agent, socket, '/workers');
        await get(agent, floorSocket, '/workers');
      }
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? [bare, hsu, hsu, bare] : [hsu, bare, bare, hsu];
        for (const side of order) {
          const target = side === hsu ? socket : floorSocket;
          for (let i = 0; i < BLOCK / 2; i++) side.push(await get(agent, target, '/workers'));
        }
      }
    } finally {
      agent.destroy();
      await close(floor);
    }
    const s = summarize(hsu);
    const f = summarize(bare);
    note(`  hsu p50 ${fmtMs(s.p50)} p99 ${fmtMs(s.p99)}; bare p50 ${fmtMs(f.p50)} p99 ${fmtMs(f.p99)}`);
    return [
      { name: `api GET /workers, ${WORKERS} workers (p50)`, value: fmtMs(s.p50), spread: `${fmtMs(s.p90)} / ${fmtMs(s.p99)}`, floor: `${fmtMs(f.p50)} bare node:http`, ratio: fmtRatio(s.p50 / f.p50), target: 'report', status: 'info' },
      { name: `api GET /workers, ${WORKERS} workers (p99)`, value: fmtMs(s.p99), spread: '', floor: `${fmtMs(f.p99)} bare node:http`, ratio: fmtRatio(s.p99 / f.p99), target: 'report', status: 'info' },
    ];
  });
}

interface FanOut {
  readonly cpuPercent: number;
  readonly delivered: number;
  readonly expected: number;
}

/** Emits EVENTS_PER_SECOND for the window (in 10 ms ticks) and measures this process's CPU meanwhile. */
async function fanOut(socketPath: string, pathname: string, emit: (n: number) => void): Promise<FanOut> {
  const clients = spawn(process.execPath, [fixture('api-sse-clients.mjs'), socketPath, pathname, String(CLIENTS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  clients.stdout.setEncoding('utf8');
  clients.stdout.on('data', (chunk: string) => (out += chunk));
  const waitLine = async (test: (text: string) => boolean): Promise<string> => {
    const deadline = Date.now() + 20_000;
    while (!test(out)) {
      if (Date.now() > deadline) throw new Error(`SSE clients did not answer: ${out}`);
      await sleep(10);
    }
    return out;
  };
  try {
    await waitLine((text) => text.includes('ready\n'));
    await sleep(200);
    const perTick = EVENTS_PER_SECOND / 100;
    let n = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        for (let i = 0; i < perTick; i++) emit(n++);
        if (performance.now() - t0 >= WINDOW_MS) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await sleep(500); // the last frames in flight
    out = '';
    clients.stdin.write('report\n');
    const counts = JSON.parse((await waitLine((text) => text.includes('\n'))).trim()) as number[];
    return { cpuPercent: ((cpu.user + cpu.system) / 1000 / wall) * 100, delivered: counts.reduce((a, b) => a + b, 0), expected: n * CLIENTS };
  } finally {
    clients.stdin.write('exit\n');
    await new Promise((resolve) => clients.once('exit', resolve));
  }
}

function stateEvent(n: number): { worker_id: string; from: 'running'; to: 'stopping'; pid: number; at: number; reason: string } {
  return { worker_id: `w${n % 100}`, from: 'running', to: 'stopping', pid: 1000 + (n % 100), at: Date.now(), reason: 'stop requested' };
}

export async function benchApiSse(): Promise<Row[]> {
  note(`api: SSE fan-out of ${EVENTS_PER_SECOND} events/s to ${CLIENTS} clients for ${WINDOW_MS / 1000} s: the master's CPU, against a bare node:http SSE server...`);
  return withMaster('api-sse', 0, async (master, stateDir) => {
    const floorSocket = path.join(stateDir, 'floor-sse.sock');
    const responses = new Set<ServerResponse>();
    const floor = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(': open\n\n');
      responses.add(res);
      req.once('close', () => responses.delete(res));
    });
    await listen(floor, floorSocket);
    let bare: FanOut;
    let hsu: FanOut;
    try {
      let seq = 0;
      bare = await fanOut(floorSocket, '/events', (n) => {
        const frame = `event: state\nid: ${++seq}\ndata: ${JSON.stringify(stateEvent(n))}\n\n`;
        for (const res of responses) res.write(frame);
      });
      hsu = await fanOut(path.join(stateDir, 'hsu.sock'), '/events?types=state', (n) => master.events.emit('state', stateEvent(n)));
    } finally {
      await close(floor);
    }
    note(`  hsu ${hsu.cpuPercent.toFixed(1)}% CPU, ${hsu.delivered}/${hsu.expected} delivered; bare ${bare.cpuPercent.toFixed(1)}% CPU, ${bare.delivered}/${bare.expected}`);
    return [
      {
        name: `api SSE ${EVENTS_PER_SECOND} events/s to ${CLIENTS} clients: master CPU`,
        value: `${hsu.cpuPercent.toFixed(1)}%`,
        spread: '',
        floor: `${bare.cpuPercent.toFixed(1)}% bare node:http SSE`,
        ratio: fmtRatio(hsu.cpuPercent / bare.cpuPercent),
        target: 'report',
        status: 'info',
      },
      {
        name: `api SSE ${EVENTS_PER_SECOND} events/s to ${CLIENTS} clients: delivered`,
        value: `${hsu.delivered}/${hsu.expected}`,
        spread: '',
        floor: `${bare.delivered}/${bare.expected} bare`,
        ratio: fmtRatio(hsu.delivered / hsu.expected),
        target: 'every event',
        status: verdict(hsu.delivered === hsu.expected),
      },
    ];
  });
}
