/**
 * The channel between a master and a module hosted elsewhere, whatever carries it: a worker
 * thread's MessagePort, a child process's IPC channel, later a NATS subject. Both ends speak the
 * messages in ./messages.ts through this one interface, so a new carrier is one new adapter.
 */
import type { ChildProcess } from 'node:child_process';
import type { MessagePort, Worker } from 'node:worker_threads';

export interface Transport<Out, In> {
  /** Sends one message. Throws synchronously when the payload cannot be serialized (DataCloneError). */
  send(message: Out): void;
  /** Every incoming message; returns the function that stops listening. */
  onMessage(handler: (message: In) => void): () => void;
}

/** A worker thread, from the master's side (Worker) or the thread's side (parentPort). */
export function portTransport<Out, In>(port: Worker | MessagePort): Transport<Out, In> {
  return {
    send: (message) => port.postMessage(message),
    onMessage: (handler) => {
      const listener = (message: In): void => handler(message);
      port.on('message', listener);
      return () => void port.off('message', listener);
    },
  };
}

/** A child process's IPC channel (serialization 'advanced': structured clone, like postMessage). */
export function childTransport<Out, In>(child: ChildProcess): Transport<Out, In> {
  return {
    send: (message) => {
      // A channel that closed is the exit's business, not the sender's: the exit reports it.
      if (child.connected) child.send(message as never);
    },
    onMessage: (handler) => {
      const listener = (message: unknown): void => handler(message as In);
      child.on('message', listener);
      return () => void child.off('message', listener);
    },
  };
}
