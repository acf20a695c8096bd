/**
 * The OpenAPI 3.1 document, generated from the zod schemas the handlers answer with (schemas.ts)
 * and the config schema a new worker is validated by; only the list of paths is written here.
 */
import * as z from 'zod';
import { workerConfigSchema } from '../config/schema.js';
import { hsuVersion } from '../cli/version.js';
import * as s from './schemas.js';

const RESPONSES: Readonly<Record<string, z.ZodType>> = {
  Error: s.errorBodySchema,
  SerializedError: s.serializedErrorSchema,
  HealthSnapshot: s.healthSnapshotSchema,
  Transition: s.transitionSchema,
  MasterInfo: s.masterInfoSchema,
  WorkerSummary: s.workerSummarySchema,
  Worker: s.workerSchema,
  WorkerList: s.workerListSchema,
  History: s.historySchema,
  ClusterView: s.clusterViewSchema,
  Services: s.servicesSchema,
  LogTail: s.logTailSchema,
  ControlResult: s.controlResultSchema,
  Removed: s.removedSchema,
  ShuttingDown: s.shutdownSchema,
  ReloadReport: s.reloadReportSchema,
};

const REQUESTS: Readonly<Record<string, z.ZodType>> = {
  ControlRequest: s.controlBodySchema,
  ShutdownRequest: s.shutdownBodySchema,
  ScaleRequest: s.scaleBodySchema,
  WorkerConfig: workerConfigSchema,
};

type Schemas = Record<string, Record<string, unknown>>;

function components(schemas: Readonly<Record<string, z.ZodType>>, io: 'input' | 'output'): Schemas {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const converted = z.toJSONSchema(registry, { io, uri: (id) => `#/components/schemas/${id}`, unrepresentable: 'any' }) as { schemas: Schemas };
  for (const schema of Object.values(converted.schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return converted.schemas;
}

const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string, description: string): object => ({ description, content: { 'application/json': { schema: ref(name) } } });
const sse = (description: string): object => ({ description, content: { 'text/event-stream': { schema: { type: 'string' } } } });
const errors = (...statuses: number[]): Record<string, object> => Object.fromEntries(statuses.map((status) => [String(status), json('Error', 'error')]));
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } };
const query = (name: string, schema: object, description: string): object => ({ name, in: 'query', required: false, schema, description });
const body = (name: string): object => ({ required: false, content: { 'application/json': { schema: ref(name) } } });
const secured = { security: [{ bearer: [] }] };

function control(verb: string, withForce: boolean): object {
  return {
    post: {
      summary: `${verb} a worker (idempotent: changed is false when it already is in that state)`,
      parameters: [idParam],
      ...(withForce ? { requestBody: body('ControlRequest') } : {}),
      ...secured,
      responses: { '200': json('ControlResult', 'the worker after the operation'), ...errors(400, 401, 404, 409, 500, 504) },
    },
  };
}

export function openApiDocument(): object {
  return {
    openapi: '3.1.0',
    info: { title: 'hsu control API', version: hsuVersion(), description: 'Steer a running hsu master. Mutations need `Authorization: Bearer <token>` (the token is in <state_dir>/api.token).' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { ...components(RESPONSES, 'output'), ...components(REQUESTS, 'input') },
    },
    paths: {
      '/': {
        get: {
          summary: 'master info (JSON); a browser (Accept: text/html) gets the dashboard page instead',
          responses: { '200': { description: 'the master', content: { 'application/json': { schema: ref('MasterInfo') }, 'text/html': { schema: { type: 'string' } } } } },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (text format 0.0.4): workers, calls, the master process',
          responses: { '200': { description: 'the exposition', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errors(404) },
        },
      },
      '/usage': {
        get: {
          summary: 'CPU and memory of the master and its workers as SSE `usage` events, every 2 s while watched',
          responses: { '200': sse('an SSE stream of {at, interval_ms, master, workers: {id: {cpu_percent, rss_bytes, heap_used_bytes}}}') },
        },
      },
      '/openapi.json': { get: { summary: 'this document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
      '/workers': {
        get: { summary: 'every worker with its diagnostics', responses: { '200': json('WorkerList', 'workers in config order') } },
        post: {
          summary: 'add a worker (validated like a config entry) and start it',
          parameters: [query('start', { type: 'string', enum: ['true', 'false', '1', '0'] }, 'start it after adding (default true)')],
          requestBody: { required: true, content: { 'application/json': { schema: ref('WorkerConfig') } } },
          ...secured,
          responses: { '201': json('Worker', 'the added worker (a failed start shows as failed_start with last_error)'), ...errors(400, 401, 409, 413) },
        },
      },
      '/workers/{id}': {
        get: { summary: 'one worker: diagnostics and recent transitions', parameters: [idParam], responses: { '200': json('Worker', 'the worker'), ...errors(400, 404) } },
        delete: {
          summary: 'stop (if running) and remove a worker',
          parameters: [idParam, query('force', { type: 'string', enum: ['true', 'false', '1', '0'] }, 'skip the grace period')],
          ...secured,
          responses: { '200': json('Removed', 'removed'), ...errors(400, 401, 404, 409) },
        },
      },
      '/services': { get: { summary: 'registered services: instances with endpoint and health, balancer stats, breaker and bulkhead state', responses: { '200': json('Services', 'every service') } } },
      '/cluster': { get: { summary: 'the masters of this cluster and their instances (404 when this master is alone)', responses: { '200': json('ClusterView', 'every live node'), ...errors(404) } } },
      '/workers/{id}/history': { get: { summary: 'recent state transitions', parameters: [idParam], responses: { '200': json('History', 'oldest first'), ...errors(400, 404) } } },
      '/workers/{id}/logs': {
        get: {
          summary: 'the last lines of the worker’s stdout and stderr files',
          parameters: [idParam, query('lines', { type: 'integer', minimum: 0, maximum: 10000, default: 50 }, 'lines per stream')],
          responses: { '200': json('LogTail', 'the tails'), ...errors(400, 404) },
        },
      },
      '/workers/{id}/logs/stream': {
        get: {
          summary: 'live log lines (SSE `line` events: {stream, line, tail?, pid?})',
          parameters: [
            idParam,
            query('lines', { type: 'integer', minimum: 0, maximum: 10000, default: 10 }, 'lines of tail first'),
            query('source', { type: 'string', enum: ['file', 'events'], default: 'file' }, 'file: follow the files (complete, survives rotation); events: the copied output lines'),
          ],
          responses: { '200': sse('an SSE stream'), ...errors(400, 404) },
        },
      },
      '/workers/{id}/start': control('start', false),
      '/workers/{id}/stop': control('stop', true),
      '/workers/{id}/restart': control('restart', true),
      '/workers/{id}/scale': {
        post: {
          summary: 'run this many replicas of a worker that has replicas (new ones start if it runs; the highest-numbered stop first, draining their calls); until the master restarts or the file’s instances change',
          parameters: [idParam],
          requestBody: { required: true, content: { 'application/json': { schema: ref('ScaleRequest') } } },
          ...secured,
          responses: { '200': json('ControlResult', 'the worker after scaling (changed: false when it already ran that many)'), ...errors(400, 401, 404, 409) },
        },
      },
      '/events': {
        get: {
          summary: 'lifecycle events as SSE: state, exit, restart, health, added, removed, scale, cluster, reload (and output when asked)',
          parameters: [query('types', { type: 'string' }, 'comma-separated event names'), query('worker', { type: 'string' }, 'only this worker')],
          responses: { '200': sse('an SSE stream; each event’s data is the master event in JSON'), ...errors(400) },
        },
      },
      '/reload': {
        post: { summary: 're-read the config file and apply the difference', ...secured, responses: { '200': json('ReloadReport', 'what changed'), ...errors(400, 401, 409) } },
      },
      '/shutdown': {
        post: { summary: 'shut the master down gracefully (or forced)', requestBody: body('ShutdownRequest'), ...secured, responses: { '202': json('ShuttingDown', 'shutdown begun'), ...errors(401, 409) } },
      },
    },
  };
}
