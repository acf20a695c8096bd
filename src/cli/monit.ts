/**
 * `hsu monit`: a live terminal view of a running master, like `pm2 monit`, for servers without a
 * browser. It follows the same streams as the web dashboard (events, usage, the selected worker's
 * log) and redraws at most ten times a second; keys restart, stop and start the selected worker.
 */
import { hsuError } from '../errors.js';
import { newModel, pushUsage, renderScreen, LOG_LINES, type MonitModel, type WorkerRow } from '../dashboard/terminal/monit-view.js';
import { call, type Endpoint } from './client/connection.js';
import { followEvents, interruptSignal } from './client/sse.js';
import { openSession, workerPath, type ClientArgs } from './client/session.js';
import type { CliIo } from './main.js';

const FRAME_MS = 100;

interface UsageFrame {
  readonly master: { cpu_percent: number | null; rss_bytes: number | null };
  readonly workers: Record<string, { cpu_percent: number | null; rss_bytes: number | null; heap_used_bytes: number | null }>;
}

export async function monitCommand(args: ClientArgs, io: CliIo): Promise<number> {
  const stdin = process.stdin;
  const stdout = process.stdout;
  if (!stdin.isTTY || !stdout.isTTY) throw hsuError('MONIT_NOT_A_TERMINAL', 'hsu monit draws on an interactive terminal; for scripts use hsu ls --json or hsu events --json', {});
  const session = await openSession(args, io);
  const endpoint = session.endpoint;
  const model = newModel();
  const style = { tty: true, color: session.style.color };
  const interrupt = interruptSignal();
  const quit = new AbortController();
  const stop = (): void => quit.abort();
  interrupt.signal.addEventListener('abort', stop, { once: true });

  let timer: NodeJS.Timeout | undefined;
  const draw = (): void => {
    timer = undefined;
    stdout.write(`\u001b[H${renderScreen(model, stdout.columns, stdout.rows, style)}`);
  };
  const schedule = (): void => {
    timer ??= setTimeout(draw, FRAME_MS);
  };
  const clock = setInterval(schedule, 1000); // uptimes advance on the terminal's own clock

  let log: AbortController | undefined;
  const select = (id: string | undefined): void => {
    if (id === model.selected) return;
    model.selected = id;
    model.log.length = 0;
    log?.abort();
    log = undefined;
    if (id === undefined) return schedule();
    const controller = new AbortController();
    log = controller;
    const stream = followEvents(endpoint, `${workerPath(id, '/logs/stream')}?lines=${LOG_LINES}`, (event, data) => {
      const d = data as { stream?: string; line?: string; message?: string };
      model.log.push({ stream: event === 'line' ? (d.stream ?? 'stdout') : 'note', line: d.line ?? d.message ?? '' });
      if (model.log.length > LOG_LINES) model.log.shift();
      schedule();
    }, controller.signal);
    stream.catch((error: unknown) => {
      model.log.push({ stream: 'note', line: (error as { code?: string }).code === 'HSU_ERR_API_NO_LOG_FILES' ? `${id} runs inline: its lines are in the master's log` : `no log: ${(error as Error).message}` });
      schedule();
    });
    schedule();
  };

  const onKey = (key: string): void => {
    if (key === 'q' || key === '\u0003' || key === '\u001b') return stop();
    const ids = [...model.workers.keys()];
    const at = model.selected === undefined ? -1 : ids.indexOf(model.selected);
    if (key === '\u001b[A' || key === 'k') select(ids[Math.max(0, at - 1)]);
    else if (key === '\u001b[B' || key === 'j') select(ids[Math.min(ids.length - 1, at + 1)]);
    else if ((key === 'r' || key === 's') && model.selected !== undefined) void act(endpoint, model, key === 'r' ? 'restart' : model.workers.get(model.selected)?.state === 'running' ? 'stop' : 'start', schedule);
  };

  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.on('data', onKey);
  stdout.on('resize', schedule);
  stdout.write('\u001b[?1049h\u001b[?25l');
  try {
    const info = await call<{ pid: number; version: string; status: string }>(endpoint, 'GET', '/');
    model.master = { pid: info.pid, version: info.version, status: info.status };
    // Subscribe before reading the list: nothing that happens in between is missed.
    const events = followEvents(endpoint, '/events', (event, data) => void onEvent(endpoint, model, event, data as Record<string, unknown>, schedule), quit.signal, () => void load(endpoint, model, select, schedule));
    const usage = followEvents(endpoint, '/usage', (event, data) => {
      if (event !== 'usage') return;
      const frame = data as UsageFrame;
      pushUsage(model.masterUsage, { cpu: frame.master.cpu_percent, memory: frame.master.rss_bytes });
      for (const [id, u] of Object.entries(frame.workers)) {
        let points = model.usage.get(id);
        if (points === undefined) model.usage.set(id, (points = []));
        pushUsage(points, { cpu: u.cpu_percent, memory: u.rss_bytes ?? u.heap_used_bytes });
      }
      schedule();
    }, quit.signal);
    const end = await Promise.race([events, quit.signal.aborted ? Promise.resolve('aborted' as const) : new Promise<'aborted'>((resolve) => quit.signal.addEventListener('abort', () => resolve('aborted'), { once: true }))]);
    quit.abort();
    await Promise.allSettled([events, usage]);
    if (end === 'ended') io.err('hsu: the master closed the event stream\n');
    return 0;
  } finally {
    quit.abort();
    log?.abort();
    clearInterval(clock);
    clearTimeout(timer);
    stdin.off('data', onKey);
    stdout.off('resize', schedule);
    stdin.setRawMode(false);
    stdin.pause();
    stdout.write('\u001b[?25h\u001b[?1049l');
    interrupt.dispose();
  }
}

async function load(endpoint: Endpoint, model: MonitModel, select: (id: string | undefined) => void, schedule: () => void): Promise<void> {
  try {
    const { workers } = await call<{ workers: WorkerRow[] }>(endpoint, 'GET', '/workers');
    for (const w of workers) model.workers.set(w.id, w);
    if (model.selected === undefined) select(workers[0]?.id);
  } catch (error) {
    model.status = `cannot list the workers: ${(error as Error).message}`;
  }
  schedule();
}

async function onEvent(endpoint: Endpoint, model: MonitModel, event: string, data: Record<string, unknown>, schedule: () => void): Promise<void> {
  const id = data.worker_id;
  // A scale decision names the worker group, not a row: its replicas come as added and removed.
  if (typeof id !== 'string' || event === 'scale') return;
  if (event === 'removed') {
    model.workers.delete(id);
    model.usage.delete(id);
    return schedule();
  }
  const known = model.workers.get(id);
  if (event === 'state' && known !== undefined) {
    // Shown at once; the full record follows.
    model.workers.set(id, { ...known, state: data.to as WorkerRow['state'], pid: (data.pid as number | null) ?? null });
    schedule();
  }
  try {
    const { history: _history, ...row } = await call<WorkerDiagnostics>(endpoint, 'GET', workerPath(id));
    model.workers.set(id, row);
  } catch {
    // removed meanwhile: its `removed` event says so
  }
  schedule();
}

async function act(endpoint: Endpoint, model: MonitModel, verb: 'restart' | 'stop' | 'start', schedule: () => void): Promise<void> {
  const id = model.selected!;
  model.status = `${verb} ${id}…`;
  schedule();
  try {
    await call(endpoint, 'POST', workerPath(id, `/${verb}`), verb === 'start' ? undefined : {});
    model.status = `${verb} ${id}: done`;
  } catch (error) {
    model.status = `${verb} ${id}: ${(error as Error).message}`;
  }
  schedule();
}

type WorkerDiagnostics = WorkerRow & { history: unknown[] };
