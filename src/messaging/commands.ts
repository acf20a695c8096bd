/**
 * Typed commands: each command type is a name and a zod schema, and the schema is also its
 * TypeScript type. The registry refuses an unknown name or an invalid payload at append and turns
 * what a log stores back into typed commands at read, saying why when it cannot.
 */
import * as z from 'zod';
import { hsuError, type HsuError } from '../errors.js';
import type { LogRecord } from './message-log.js';

/** A command as it travels: its registered name and its payload. */
export interface Command<N extends string = string, P = unknown> {
  readonly name: N;
  readonly payload: P;
}

export interface CommandType<N extends string = string, S extends z.ZodType = z.ZodType> {
  readonly name: N;
  readonly schema: S;
  /** Builds a command of this type (not validated until it is appended or executed). */
  (payload: z.input<S>): Command<N, z.input<S>>;
}

/** What append accepts for a command type: the schema's input. */
export type CommandInputOf<T> = T extends CommandType<infer N, infer S> ? Command<N, z.input<S>> : never;
/** What a handler receives for a command type: the schema's output. */
export type CommandOf<T> = T extends CommandType<infer N, infer S> ? Command<N, z.output<S>> : never;
/** The command types of a registry. */
export type TypesOf<R> = R extends CommandRegistry<infer T> ? T : never;

/**
 * Declares a command type. Payloads are stored as JSON of what was appended and parsed again at
 * read, so a schema must accept JSON values (use `z.coerce.date()` rather than `z.date()`).
 *
 * @example
 * const OrderPlaced = defineCommand('order/placed', z.object({ order_id: z.string(), qty: z.number().int() }));
 * await log.append(OrderPlaced({ order_id: 'o-1', qty: 2 }));
 */
export function defineCommand<const N extends string, S extends z.ZodType>(name: N, schema: S): CommandType<N, S> {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw hsuError('COMMAND_INVALID', `command name must be a non-empty string of at most 200 characters, got ${JSON.stringify(name)}`, { name });
  }
  const create = (payload: z.input<S>): Command<N, z.input<S>> => ({ name, payload });
  // A function's own `name` is read-only, so it is redefined rather than assigned.
  Object.defineProperty(create, 'name', { value: name });
  return Object.assign(create, { schema }) as unknown as CommandType<N, S>;
}

export type DecodeResult<C> = { readonly ok: true; readonly command: C } | { readonly ok: false; readonly error: HsuError };

export class CommandRegistry<T extends CommandType = CommandType> {
  private readonly types = new Map<string, T>();

  constructor(types: Iterable<T> = []) {
    for (const type of types) this.add(type);
  }

  /** `CommandRegistry.of(A, B)` keeps each type's name and schema in the registry's type. */
  static of<const Ts extends readonly CommandType[]>(...types: Ts): CommandRegistry<Ts[number]> {
    return new CommandRegistry<Ts[number]>(types);
  }

  add(type: T): this {
    if (this.types.has(type.name)) {
      throw hsuError('COMMAND_EXISTS', `a command type named '${type.name}' is already registered`, { name: type.name });
    }
    this.types.set(type.name, type);
    return this;
  }

  has(name: string): boolean {
    return this.types.has(name);
  }

  get names(): string[] {
    return [...this.types.keys()];
  }

  /** Validates a command and returns the JSON text to store; throws COMMAND_UNKNOWN or COMMAND_INVALID. */
  encode(command: CommandInputOf<T>): string {
    const [type, payload] = this.validate(command);
    return encodePayload(type.name, payload);
  }

  /** Validates a command and returns it as a handler would see it (the schema's output). */
  parse(command: CommandInputOf<T>): CommandOf<T> {
    const [type, payload] = this.validate(command);
    return { name: type.name, payload: type.schema.parse(payload) } as CommandOf<T>;
  }

  private validate(command: CommandInputOf<T>): [T, unknown] {
    const input = command as unknown as Partial<Command>;
    const name = typeof input === 'object' && input !== null ? input.name : undefined;
    const type = typeof name === 'string' ? this.types.get(name) : undefined;
    if (type === undefined) {
      throw hsuError('COMMAND_UNKNOWN', `unknown command ${JSON.stringify(name)} (registered: ${this.names.join(', ') || 'none'})`, {
        name,
        registered: this.names,
      });
    }
    const parsed = type.schema.safeParse(input.payload);
    if (!parsed.success) throw invalid(type.name, parsed.error);
    return [type, input.payload];
  }

  /** Turns a stored record back into a typed command, or says why it cannot (never throws). */
  decode(record: LogRecord): DecodeResult<CommandOf<T>> {
    const type = this.types.get(record.name);
    if (type === undefined) {
      return { ok: false, error: undecodable(record, `no command type named '${record.name}' is registered`) };
    }
    let json: unknown;
    try {
      json = JSON.parse(record.data);
    } catch (err) {
      return { ok: false, error: undecodable(record, `payload is not valid JSON: ${(err as Error).message}`) };
    }
    const parsed = type.schema.safeParse(json);
    if (!parsed.success) {
      return { ok: false, error: undecodable(record, `payload does not match the schema: ${z.prettifyError(parsed.error)}`, issuesOf(parsed.error)) };
    }
    return { ok: true, command: { name: record.name, payload: parsed.data } as CommandOf<T> };
  }
}

/** JSON text of a payload; refuses what JSON cannot carry (undefined, functions, BigInt, cycles). */
export function encodePayload(name: string, payload: unknown): string {
  let data: string | undefined;
  try {
    data = JSON.stringify(payload);
  } catch (err) {
    throw hsuError('COMMAND_INVALID', `command '${name}': payload cannot be stored as JSON: ${(err as Error).message}`, { name });
  }
  if (data === undefined) throw hsuError('COMMAND_INVALID', `command '${name}': payload ${typeof payload} cannot be stored as JSON`, { name });
  return data;
}

function invalid(name: string, error: z.ZodError): HsuError {
  return hsuError('COMMAND_INVALID', `command '${name}': invalid payload: ${z.prettifyError(error)}`, { name, issues: issuesOf(error) });
}

function undecodable(record: LogRecord, reason: string, issues?: unknown): HsuError {
  return hsuError('MESSAGE_UNDECODABLE', `message ${record.id} ('${record.name}'): ${reason}`, {
    message_id: record.id,
    name: record.name,
    ...(issues === undefined ? {} : { issues }),
  });
}

function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}
