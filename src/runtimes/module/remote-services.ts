/**
 * Inside a thread or child host: the module's calls and bus, carried to the master over the
 * control protocol. A call waits for its `out_result`; a subscription is announced once per topic
 * and its publications come back as `event` messages.
 */
import { deserializeError, hsuError } from '../../errors.js';
import type { FromHost, OutCallOptions, ToHost } from '../../protocol/messages.js';
import type { ModuleCallOptions } from '../../worker/contract.js';
import { callContextHook } from '../../observability/call-context.js';
import type { ModuleServices } from './module-services.js';

export class RemoteServices implements ModuleServices {
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: unknown): void }>();
  private readonly handlers = new Map<string, Set<(payload: unknown) => void>>();
  private nextId = 1;

  constructor(private readonly send: (message: FromHost) => void) {}

  call(target: string, action: string, input: unknown, options: ModuleCallOptions | undefined): Promise<unknown> {
    const id = this.nextId++;
    const o: OutCallOptions = { ...(options?.timeout === undefined ? {} : { timeout: options.timeout }), ...(options?.idempotent === undefined ? {} : { idempotent: options.idempotent }), ...(options?.key === undefined ? {} : { key: options.key }) };
    const answer = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    try {
      const c = callContextHook()?.inject();
      this.send(c === undefined ? { t: 'out_call', id, target, a: action, i: input, o } : { t: 'out_call', id, target, a: action, i: input, o, c });
    } catch (error) {
      this.pending.delete(id);
      return Promise.reject(hsuError('CALL_PAYLOAD', `call ${target}.${action}: input cannot cross to the master: ${(error as Error).message}`, { target, action }, error));
    }
    return answer;
  }

  publish(topic: string, payload: unknown): void {
    try {
      this.send({ t: 'publish', topic, payload });
    } catch (error) {
      throw hsuError('CALL_PAYLOAD', `publish on '${topic}': payload cannot cross to the master: ${(error as Error).message}`, { topic }, error);
    }
  }

  subscribe(topic: string, handler: (payload: unknown) => void): () => void {
    let set = this.handlers.get(topic);
    if (set === undefined) {
      this.handlers.set(topic, (set = new Set()));
      this.send({ t: 'subscribe', topic });
    }
    set.add(handler);
    return () => {
      const current = this.handlers.get(topic);
      if (current === undefined || !current.delete(handler) || current.size > 0) return;
      this.handlers.delete(topic);
      this.send({ t: 'unsubscribe', topic });
    };
  }

  /** Messages for these services; false when the message is not theirs. */
  handle(message: ToHost): boolean {
    if (message.t === 'out_result') {
      const pending = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) pending?.resolve(message.value);
      else pending?.reject(deserializeError(message.error));
      return true;
    }
    if (message.t === 'event') {
      for (const handler of [...(this.handlers.get(message.topic) ?? [])]) {
        try {
          handler(message.payload);
        } catch {
          // a throwing subscriber is the module's; the bus goes on (as on the master's side)
        }
      }
      return true;
    }
    return false;
  }
}
