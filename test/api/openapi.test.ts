// The OpenAPI document against the real server: every route is documented, and every real
// response of a scenario that touches every endpoint (successes and errors) validates against the
// schema the document gives for its path, method and status (ajv, JSON Schema 2020-12).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ReloadReportBody } from '../../src/api/schemas.js';
import { pluginWorker } from '../helpers/master-helpers.js';
import { echoWorker, ping, withHarness, type Harness } from './helpers.js';

const T = { timeout: 30_000 };

interface Operation {
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
  requestBody?: { content: Record<string, { schema: object }> };
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object> };
}

const REPORT: ReloadReportBody = { ok: false, file: '/x.yaml', added: ['a'], removed: ['b'], changed: ['c'], reconfigured: ['d'], unchanged: ['e'], errors: [{ worker_id: 'a', step: 'add', code: 'HSU_ERR_START_FAILED', message: 'no' }], warnings: ['w'], duration_ms: 4 };

/** The documented path a concrete one matches (`/workers/echo/logs` -> `/workers/{id}/logs`). */
function template(doc: Document, concrete: string): string | undefined {
  const pathname = concrete.split('?')[0]!;
  return Object.keys(doc.paths).find((t) => new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(pathname));
}

async function scenario(h: Harness): Promise<{ method: string; path: string; status: number; body: unknown; request?: unknown }[]> {
  const seen: { method: string; path: string; status: number; body: unknown; request?: unknown }[] = [];
  const hit = async (method: string, path: string, init: { body?: unknown; raw?: string; token?: false } = {}): Promise<void> => {
    const response = await h.request(method, path, init);
    seen.push({ method, path, status: response.status, body: await response.json(), request: init.body });
  };
  h.master.addWorker(echoWorker(h, 'echo'));
  h.master.addWorker(pluginWorker('plug', 'ok.mjs'));
  h.master.addWorker(pluginWorker('pool', 'ok.mjs', {}, { instances: 2 }));
  await h.master.start();
  await ping(h, 'echo');
  await hit('GET', '/');
  await hit('GET', '/workers');
  await hit('GET', '/workers/echo');
  await hit('GET', '/workers/echo/history');
  await hit('GET', '/workers/echo/logs?lines=5');
  await hit('POST', '/workers/echo/restart', { body: { force: false } });
  await hit('POST', '/workers/echo/stop', { body: { force: true } });
  await hit('POST', '/workers/echo/start');
  await hit('POST', '/workers', { body: echoWorker(h, 'added', { restart: { policy: 'never' }, stop_timeout: '2s' }) });
  await hit('POST', '/workers?start=false', { body: { id: 'hc', type: 'process', execution: { executable_path: 'node' }, health_check: { type: 'tcp', port: 1 } } });
  await hit('DELETE', '/workers/added');
  await hit('POST', '/workers/pool/scale', { body: { instances: 3 } });
  await hit('POST', '/reload');
  await hit('POST', '/shutdown', { body: { force: false } });
  // Errors.
  await hit('GET', '/workers/ghost');
  await hit('GET', '/workers/..%2Fx');
  await hit('GET', '/workers/plug/logs');
  await hit('POST', '/workers/echo/stop', { raw: '{"force": nope}' });
  await hit('POST', '/workers/echo/restart', { token: false });
  await hit('POST', '/workers/plug/start');
  await hit('POST', '/workers/plug/scale', { body: { instances: 2 } });
  await hit('POST', '/workers/pool/scale', { body: { instances: 0 } });
  await hit('DELETE', '/workers/echo');
  await hit('POST', '/workers', { body: { id: 'hc', type: 'process', execution: { executable_path: 'node' } } });
  await hit('POST', '/workers', { body: { id: 1 } });
  await hit('POST', '/workers', { raw: JSON.stringify({ pad: 'x'.repeat(5000) }) });
  await hit('GET', '/nowhere');
  // No metrics attached to this master.
  await hit('GET', '/metrics');
  return seen;
}

void describe('OpenAPI document', () => {
  it('documents every route the app serves', T, async () => {
    await withHarness(async (h) => {
      const doc = (await (await h.request('GET', '/openapi.json', { token: false })).json()) as Document;
      assert.equal(doc.openapi, '3.1.0');
      const routes = h.api.routes.map((r) => `${r.method.toLowerCase()} ${r.pattern.replace(/:([a-z]+)/g, '{$1}')}`);
      const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
      assert.deepEqual([...new Set(routes)].sort(), documented.sort());
    });
  });

  it('every real response validates against the schema documented for it', T, async () => {
    await withHarness(
      async (h) => {
        const doc = (await (await h.request('GET', '/openapi.json', { token: false })).json()) as Document;
        const ajv = new Ajv2020({ strict: false, allErrors: true });
        ajv.addSchema(doc as object, 'openapi');
        const seen = await scenario(h);
        const statuses = new Set(seen.map((s) => s.status));
        for (const status of [200, 201, 202, 400, 401, 404, 409, 413]) assert.ok(statuses.has(status), `the scenario produced a ${status}`);
        const errorBody = ajv.compile({ $ref: 'openapi#/components/schemas/Error' });
        for (const { method, path, status, body, request } of seen) {
          const documentedPath = template(doc, path);
          if (documentedPath === undefined) {
            // An undocumented path: the 404 still speaks the error format.
            assert.equal(status, 404);
            assert.ok(errorBody(body), ajv.errorsText(errorBody.errors));
            continue;
          }
          const operation = doc.paths[documentedPath]?.[method.toLowerCase()];
          assert.ok(operation !== undefined, `${method} ${path} is documented`);
          const response = operation.responses[String(status)];
          assert.ok(response !== undefined, `${method} ${path} documents status ${status}`);
          const schema = response.content?.['application/json']?.schema;
          assert.ok(schema !== undefined, `${method} ${path} ${status} has a JSON schema`);
          const validate = ajv.compile({ $ref: `openapi${(schema as { $ref: string }).$ref}` });
          assert.ok(validate(body), `${method} ${path} ${status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 400)}`);
          const requestSchema = operation.requestBody?.content['application/json']?.schema as { $ref: string } | undefined;
          if (request !== undefined && requestSchema !== undefined && status < 300) {
            const validRequest = ajv.compile({ $ref: `openapi${requestSchema.$ref}` });
            assert.ok(validRequest(request), `${method} ${path} request: ${ajv.errorsText(validRequest.errors)}`);
          }
        }
      },
      { reload: () => Promise.resolve(REPORT), shutdown: () => undefined, configFile: '/x.yaml', stateDir: '/s' },
      { maxBodyBytes: 4096 },
    );
  });

  it('the document is strict: a response with a field it does not name fails validation', T, async () => {
    await withHarness(async (h) => {
      const doc = (await (await h.request('GET', '/openapi.json', { token: false })).json()) as Document;
      const ajv = new Ajv2020({ strict: false });
      ajv.addSchema(doc as object, 'openapi');
      const info = (await (await h.request('GET', '/')).json()) as Record<string, unknown>;
      const validate = ajv.compile({ $ref: 'openapi#/components/schemas/MasterInfo' });
      assert.equal(validate(info), true);
      assert.equal(validate({ ...info, extra: 1 }), false);
      assert.equal(validate({ ...info, pid: 'one' }), false);
    });
  });
});
