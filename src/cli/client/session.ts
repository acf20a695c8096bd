/** What every client command starts with: the master's endpoint, the output style, JSON lines. */
import type { CliIo } from '../main.js';
import { readEndpoint, type Endpoint } from './connection.js';
import { locateStateDir } from './locate.js';
import { styleFor, type Style } from './render.js';

export interface ClientArgs {
  readonly positionals: readonly string[];
  readonly json: boolean;
  readonly stateDir: string | undefined;
  readonly force: boolean;
  readonly lines: number | undefined;
  readonly follow: boolean;
}

export interface Session {
  readonly endpoint: Endpoint;
  readonly style: Style;
  readonly io: CliIo;
  readonly json: boolean;
  /** One JSON document per line. */
  emit(value: unknown): void;
}

export async function openSession(args: ClientArgs, io: CliIo): Promise<Session> {
  const located = await locateStateDir(args.stateDir);
  const endpoint = readEndpoint(located.stateDir, located.from);
  const style = io.style ?? styleFor();
  return { endpoint, style, io, json: args.json, emit: (value) => io.out(`${JSON.stringify(value)}\n`) };
}

/** `/workers/<id>` with the id escaped: a path-like id reaches the API as one segment, and is refused there. */
export function workerPath(id: string, suffix = ''): string {
  return `/workers/${encodeURIComponent(id)}${suffix}`;
}
