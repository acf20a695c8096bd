/**
 * The SSE streams: every lifecycle event of the master, and the live log lines of one worker.
 * Each stream subscribes when it opens and unsubscribes when it ends (see sse.ts), so the bus has
 * as many listeners after a client went away as before it came.
 */
import * as z from 'zod';
import type { MasterEvents } from '../../master/events.js';
import { EVENT_TYPES, type EventType } from '../event-hub.js';
import { LogFollower } from '../logs/follow.js';
import { LOG_STREAMS, logFilePath, type LogStream } from '../logs/files.js';
import { tailLog } from '../logs/tail.js';
import type { Router } from '../http/router.js';
import { sseReply, type SseSender } from '../sse.js';
import { queryOf, track, workerId, type RouteContext } from './context.js';
import { assertHasLogFiles, tailQuerySchema } from './read.js';

/** Output lines are a firehose with their own endpoint; the event stream carries the rest unless asked. */
const DEFAULT_TYPES = EVENT_TYPES.filter((t) => t !== 'output');

const eventsQuerySchema = z.strictObject({
  types: z
    .string()
    .transform((s) => s.split(',').filter((t) => t !== ''))
    .pipe(z.array(z.enum(EVENT_TYPES)))
    .optional(),
  worker: z.string().optional(),
});

const logStreamQuerySchema = tailQuerySchema.extend({
  /** file: follow the log files (every byte, survives rotation); events: the master's copied output lines (with pid, within its budget). */
  source: z.enum(['file', 'events']).default('file'),
  lines: tailQuerySchema.shape.lines.default(10),
});

export function streamRoutes(app: Router, ctx: RouteContext): void {
  app.get('/events', (request) => {
    const { types, worker } = queryOf(request, eventsQuerySchema);
    const wanted = new Set<EventType>(types ?? DEFAULT_TYPES);
    return sseReply((sse) => ctx.hub.subscribe(wanted, worker, (frame) => void sse.sendFrame(frame)), { registry: ctx.streams });
  });

  app.get('/workers/:id/logs/stream', (request) => {
    const id = workerId(request);
    const { lines, source } = queryOf(request, logStreamQuerySchema);
    assertHasLogFiles(ctx, id);
    return sseReply((sse) => (source === 'file' ? followFiles(ctx, id, lines, sse) : followEvents(ctx, id, lines, sse)), { registry: ctx.streams });
  });

}

function followFiles(ctx: RouteContext, id: string, lines: number, sse: SseSender): () => void {
  const followers: LogFollower[] = [];
  let ended = false;
  const begin = async (stream: LogStream): Promise<void> => {
    const file = logFilePath(ctx.host.logDir, id, stream);
    const tail = await tailLog(file, lines);
    if (ended) return;
    for (const line of tail.lines) sse.send('line', { stream, line, tail: true });
    const follower = new LogFollower(file, { position: tail.size, ino: tail.ino }, (found) => found.forEach((line) => sse.send('line', { stream, line })), {
      onError: (error) => sse.send('error', { code: 'HSU_ERR_UNKNOWN', message: `cannot follow ${file}: ${error.message}` }),
    });
    followers.push(follower);
    follower.start();
  };
  for (const stream of LOG_STREAMS) {
    begin(stream).catch((error: unknown) => {
      sse.send('error', { code: 'HSU_ERR_UNKNOWN', message: `cannot read the ${stream} log of ${id}: ${(error as Error).message}` });
      sse.close();
    });
  }
  return () => {
    ended = true;
    for (const follower of followers.splice(0)) track(ctx, follower.stop());
  };
}

function followEvents(ctx: RouteContext, id: string, lines: number, sse: SseSender): () => void {
  // Subscribe first and hold live lines back until the tail is out, so none falls in between.
  let held: MasterEvents['output'][] | undefined = [];
  const off = ctx.host.master.on('output', (event) => {
    if (event.worker_id !== id) return;
    if (held !== undefined) held.push(event);
    else sse.send('line', { stream: event.stream, line: event.line, pid: event.pid });
  });
  Promise.all(LOG_STREAMS.map(async (stream) => ({ stream, tail: await tailLog(logFilePath(ctx.host.logDir, id, stream), lines) })))
    .then((tails) => {
      for (const { stream, tail } of tails) for (const line of tail.lines) sse.send('line', { stream, line, tail: true });
      const pending = held ?? [];
      held = undefined;
      for (const event of pending) sse.send('line', { stream: event.stream, line: event.line, pid: event.pid });
    })
    .catch((error: unknown) => {
      sse.send('error', { code: 'HSU_ERR_UNKNOWN', message: `cannot read the logs of ${id}: ${(error as Error).message}` });
      sse.close();
    });
  return off;
}
