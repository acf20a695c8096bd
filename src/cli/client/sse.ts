/**
 * Reads a Server-Sent Events stream from the control API until it ends (the master closed it, or
 * went away) or `signal` aborts (Ctrl-C). Resolves how it ended; non-2xx answers reject.
 */
import { open, readAll, rebuild, type Endpoint } from './connection.js';

export type StreamEnd = 'ended' | 'aborted';

/** `onOpen` runs once the master answered: it has subscribed by then, so nothing after this is missed. */
export async function followEvents(endpoint: Endpoint, pathname: string, onEvent: (event: string, data: unknown) => void, signal: AbortSignal, onOpen?: () => void): Promise<StreamEnd> {
  let reply;
  try {
    reply = await open(endpoint, 'GET', pathname, undefined, signal);
  } catch (error) {
    if (signal.aborted) return 'aborted';
    throw error;
  }
  const { status, response } = reply;
  if (status < 200 || status >= 300) {
    const text = await readAll(response);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    throw rebuild(body, status);
  }
  onOpen?.();
  return new Promise<StreamEnd>((resolve, reject) => {
    let buffered = '';
    let event = 'message';
    let data: string[] = [];
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const raw of lines) {
        const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        if (line === '') {
          if (data.length > 0) onEvent(event, JSON.parse(data.join('\n')) as unknown);
          event = 'message';
          data = [];
        } else if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        // `id:` and `: comments` carry nothing a printing client needs
      }
    });
    response.once('end', () => resolve(signal.aborted ? 'aborted' : 'ended'));
    response.once('error', (error) => (signal.aborted ? resolve('aborted') : reject(error)));
    response.once('close', () => resolve(signal.aborted ? 'aborted' : 'ended'));
  });
}

/** An AbortSignal that fires on Ctrl-C or SIGTERM; `dispose` removes the handlers. */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
