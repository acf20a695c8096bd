/**
 * The raw Node primitives hsu sits on, measured beside it in the same run: `new Worker`, `fork`,
 * `spawn`, a postMessage or process.send round trip. Nothing here may be tuned to flatter hsu.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { fixture } from './common.js';

const IDLE_CHILD = fixture('idle-child.mjs');

/** `new Worker(file)` until the 'online' event; waits for the thread to end before returning. */
export async function threadOnlineFloor(): Promise<number> {
  const t0 = performance.now();
  const worker = new Worker(pathToFileURL(fixture('thread-empty.mjs')));
  const exited = once(worker, 'exit');
  await once(worker, 'online');
  const ms = performance.now() - t0;
  await exited;
  return ms;
}

/** `new Worker(file)` until the thread's first postMessage arrives. */
export async function threadMessageFloor(): Promise<number> {
  const t0 = performance.now();
  const worker = new Worker(pathToFileURL(fixture('thread-hello.mjs')));
  const exited = once(worker, 'exit');
  await once(worker, 'message');
  const ms = performance.now() - t0;
  await exited;
  return ms;
}

/** `fork(tiny script)` with default options until its first IPC message; the child is then SIGKILLed and reaped. */
export async function forkFloor(): Promise<number> {
  const t0 = performance.now();
  const child = fork(fixture('fork-echo.mjs'));
  await once(child, 'message');
  const ms = performance.now() - t0;
  await killChild(child);
  return ms;
}

function spawnIdle(): ChildProcess {
  return spawn(process.execPath, [IDLE_CHILD], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `spawn(node, tiny script)` with piped stdio until the first stdout chunk (one line). */
export async function spawnLineFloor(): Promise<number> {
  const t0 = performance.now();
  const child = spawnIdle();
  await once(child.stdout!, 'data');
  const ms = performance.now() - t0;
  await killChild(child);
  return ms;
}

/** What a minimal supervisor does after a crash: kill -9, wait for 'exit', spawn again, wait for the first line. */
export async function rawRespawnFloor(): Promise<number> {
  const first = spawnIdle();
  await once(first.stdout!, 'data');
  const t0 = performance.now();
  const exited = once(first, 'exit');
  first.kill('SIGKILL');
  await exited;
  const second = spawnIdle();
  await once(second.stdout!, 'data');
  const ms = performance.now() - t0;
  await killChild(second);
  return ms;
}

export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

export type Op = () => Promise<unknown>;

/**
 * A raw round trip over an echoing channel. Replies come back in order, so a FIFO of resolvers is
 * all the correlation the floor needs (hsu's ids and pending map are hsu's own cost).
 */
export function echoOp(payload: unknown, send: (message: unknown) => void, subscribe: (onMessage: (message: unknown) => void) => void): Op {
  const waiting: ((message: unknown) => void)[] = [];
  subscribe((message) => waiting.shift()?.(message));
  return () =>
    new Promise((resolve) => {
      waiting.push(resolve);
      send(payload);
    });
}

/** A worker thread that echoes every message, ready to use. */
export async function threadEcho(payload: unknown): Promise<{ worker: Worker; op: Op }> {
  const worker = new Worker(pathToFileURL(fixture('thread-echo.mjs')));
  await once(worker, 'online');
  return { worker, op: echoOp(payload, (m) => worker.postMessage(m), (fn) => worker.on('message', fn)) };
}

/** A forked child that echoes every IPC message, ready to use (it says 'ready' first). */
export async function forkEcho(payload: unknown, serialization: 'advanced' | 'json'): Promise<{ child: ChildProcess; op: Op }> {
  const child = fork(fixture('fork-echo.mjs'), { serialization });
  await once(child, 'message');
  return { child, op: echoOp(payload, (m) => child.send(m as object), (fn) => child.on('message', fn)) };
}
