/**
 * The bytes of a remote call. Payloads are encoded with V8's serializer, the same structured-clone
 * algorithm that carries calls to threads and processes (Maps, Dates, typed arrays, BigInts,
 * cycles), so whatever crosses a thread crosses a host; errors travel as SerializedError and are
 * rebuilt with deserializeError, keeping their codes.
 */
import { deserialize, serialize } from 'node:v8';
import { hsuError, serializeError, type SerializedError } from '../../errors.js';

/** `[instance id on its node, action, input, milliseconds left (0: none)]` */
export type CallFrame = readonly [string, string, unknown, number];
/** `[1, value]` or `[0, error]` */
export type ReplyFrame = readonly [1, unknown] | readonly [0, SerializedError];

function payloadError(what: string, err: unknown): Error {
  return hsuError('CALL_PAYLOAD', `the ${what} cannot cross hosts: ${(err as Error).message} (values must be structured-cloneable)`, { what }, err);
}

export function encodeCall(instanceId: string, action: string, input: unknown, timeoutMs: number): Uint8Array {
  try {
    return serialize([instanceId, action, input, timeoutMs] satisfies CallFrame);
  } catch (err) {
    throw payloadError('call input', err);
  }
}

export function decodeCall(data: Uint8Array): CallFrame {
  const frame: unknown = safeDeserialize(data, 'call');
  if (!Array.isArray(frame) || frame.length !== 4 || typeof frame[0] !== 'string' || typeof frame[1] !== 'string' || typeof frame[3] !== 'number') {
    throw hsuError('CLUSTER_PROTOCOL', 'a remote call frame has the wrong shape', {});
  }
  return frame as unknown as CallFrame;
}

export function encodeResult(value: unknown): Uint8Array {
  try {
    return serialize([1, value] satisfies ReplyFrame);
  } catch (err) {
    return encodeError(payloadError('call result', err));
  }
}

export function encodeError(error: unknown): Uint8Array {
  return serialize([0, serializeError(error)] satisfies ReplyFrame);
}

export function decodeReply(data: Uint8Array): ReplyFrame {
  const frame: unknown = safeDeserialize(data, 'reply');
  if (!Array.isArray(frame) || frame.length !== 2 || (frame[0] !== 0 && frame[0] !== 1)) throw hsuError('CLUSTER_PROTOCOL', 'a remote call reply has the wrong shape', {});
  if (frame[0] === 0 && (typeof frame[1] !== 'object' || frame[1] === null || typeof (frame[1] as { code?: unknown }).code !== 'string')) {
    throw hsuError('CLUSTER_PROTOCOL', 'a remote call error has no code', {});
  }
  return frame as unknown as ReplyFrame;
}

function safeDeserialize(data: Uint8Array, what: string): unknown {
  try {
    return deserialize(data);
  } catch (err) {
    throw hsuError('CLUSTER_PROTOCOL', `a remote ${what} could not be decoded: ${(err as Error).message}`, { bytes: data.length }, err);
  }
}
