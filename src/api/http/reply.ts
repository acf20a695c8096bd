/**
 * What a control API handler answers: a status, headers and a body that is JSON, bytes, chunks
 * written one after another (a 2.6 MiB metrics scrape need not be joined first) or a stream the
 * handler writes itself (SSE). listener.ts puts it on the wire.
 */
import type { ServerResponse } from 'node:http';

export type Headers = Readonly<Record<string, string>>;

export type Reply =
  | { readonly status: number; readonly headers?: Headers; readonly body?: string | Uint8Array }
  | { readonly status: number; readonly headers?: Headers; readonly chunks: readonly string[] }
  | { readonly status: number; readonly headers?: Headers; readonly stream: (response: ServerResponse) => void };

const JSON_TYPE = 'application/json';

export function json(value: unknown, status = 200, headers: Headers = {}): Reply {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body: JSON.stringify(value) };
}
