/**
 * The two messages of grpc.health.v1 in protobuf wire format, by hand: `HealthCheckRequest
 * { string service = 1; }` and `HealthCheckResponse { ServingStatus status = 1; }`. Two fields do
 * not justify loading protobufjs and a .proto at run time; unknown fields are skipped as the wire
 * format says, so a newer server's extra fields do no harm.
 */

export const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
export type ServingStatus = (typeof SERVING_STATUS)[number] | `UNRECOGNIZED(${number})`;

export function encodeRequest(service: string): Buffer {
  if (service === '') return Buffer.alloc(0);
  const text = Buffer.from(service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a]), varint(text.length), text]);
}

export function decodeResponse(bytes: Buffer): ServingStatus {
  let status = 0;
  let at = 0;
  while (at < bytes.length) {
    const [tag, afterTag] = readVarint(bytes, at);
    const field = tag >>> 3;
    const wire = tag & 7;
    at = afterTag;
    if (wire === 0) {
      const [value, next] = readVarint(bytes, at);
      if (field === 1) status = value;
      at = next;
    } else if (wire === 2) {
      const [length, next] = readVarint(bytes, at);
      at = next + length;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new Error(`malformed HealthCheckResponse: wire type ${wire}`);
  }
  return SERVING_STATUS[status] ?? `UNRECOGNIZED(${status})`;
}

function varint(value: number): Buffer {
  const out: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    out.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  out.push(rest);
  return Buffer.from(out);
}

function readVarint(bytes: Buffer, start: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (let at = start; at < bytes.length && shift < 35; at++, shift += 7) {
    const byte = bytes[at]!;
    value |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value >>> 0, at + 1];
  }
  throw new Error('malformed HealthCheckResponse: truncated varint');
}
