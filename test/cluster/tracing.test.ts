// Trace context across masters, as a user gets it: a real `hsu run` (node-b, the only one running
// `echo`) and a library master (node-a) on a real nats-server, both tracing to one OTLP/HTTP
// collector on loopback. A call made on node-a is served on node-b inside node-a's trace: node-b's
// call span has node-a's call span as its parent, and node-a's span names the replica and node. Without tracing on the caller, the remote side
// starts a trace of its own and nothing fails.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { Master } from '../../src/index.js';
import { instrumentMaster } from '../../src/observability/index.js';
import { HsuRun } from '../helpers/hsu-run.js';
import { fixture } from '../helpers/paths.js';
import { natsForFile, until, writeClusterYaml } from './helpers.js';

interface ExportedSpan {
  readonly service: string;
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** An OTLP/HTTP (JSON) trace receiver: every span it was sent, with its resource's service.name. */
class Collector {
  readonly spans: ExportedSpan[] = [];
  private readonly server: Server;

  private constructor(server: Server) {
    this.server = server;
  }

  static async start(): Promise<Collector> {
    const server = createServer();
    const collector = new Collector(server);
    server.on('request', (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        collector.take(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return collector;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/traces`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private take(body: string): void {
    type Attribute = { key: string; value: { stringValue?: string } };
    type Sent = Omit<ExportedSpan, 'service' | 'attributes'> & { attributes?: Attribute[] };
    type Batch = { resourceSpans?: { resource?: { attributes?: Attribute[] }; scopeSpans?: { spans?: Sent[] }[] }[] };
    const batch = JSON.parse(body) as Batch;
    for (const resourceSpans of batch.resourceSpans ?? []) {
      const service = resourceSpans.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          const attributes = Object.fromEntries((span.attributes ?? []).map((a) => [a.key, a.value.stringValue ?? '']));
          this.spans.push({ service, name: span.name, traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId ?? '', attributes });
        }
      }
    }
  }
}

const file = natsForFile('cluster-tracing');
let collector: Collector | undefined;

before(async () => {
  if (file.skip === false) collector = await Collector.start();
});
after(async () => {
  await collector?.close();
});

function writeConfig(node: string, workers: string[], tracing: boolean): string {
  const block = tracing ? ['  tracing:', '    enabled: true', '    exporter: otlp', `    endpoint: ${collector?.endpoint ?? ''}`, `    service_name: ${node}`, '    export_delay: 50ms', '    lifecycle: false'] : [];
  return writeClusterYaml({ dir: path.join(file.dir, node), cluster: 'trace-test', node, servers: file.server().url, masterLines: block, workers });
}

const echoWorker = ['  - id: echo', '    type: module', `    module: { module_type: plugin, module_path: ${JSON.stringify(fixture('../cluster/fixtures/echo-service.mjs'))} }`];
const localWorker = ['  - id: local', '    type: module', `    module: { module_type: plugin, module_path: ${JSON.stringify(fixture('plugins/ok.mjs'))} }`];

void describe('trace context across masters', { skip: file.skip, timeout: 120_000 }, () => {
  it("a call made on one master is served on the other inside the caller's trace", async () => {
    const b = new HsuRun(writeConfig('node-b', echoWorker, true), path.join(file.dir, 'node-b'));
    let a: Master | undefined;
    let closeTracing: (() => Promise<void>) | undefined;
    try {
      await b.waitFor('node-b running', (l) => l.msg === 'master running');
      const aFile = writeConfig('node-a', localWorker, false);
      a = await Master.fromConfigFile(aFile);
      const observed = await instrumentMaster(a, { metrics: false, tracing: { enabled: true, exporter: 'otlp', endpoint: collector!.endpoint, service_name: 'node-a', export_delay: 50, lifecycle: false } });
      closeTracing = () => observed.close();
      await a.start();
      await until('echo reachable from node-a', () => a!.call('echo', 'echo', { warm: true }).catch(() => undefined));
      // Under a span of the test's own, so the call is told apart from the warm-up's (exported late, maybe).
      const root = trace.getTracer('test').startSpan('test root');
      assert.deepEqual(await context.with(trace.setSpan(context.active(), root), () => a!.call('echo', 'echo', { traced: 1 })), { traced: 1 });
      root.end();

      const pair = await until('both sides of the traced call to be exported', () => {
        const caller = collector!.spans.find((s) => s.service === 'node-a' && s.name === 'echo/echo' && s.parentSpanId === root.spanContext().spanId);
        const served = caller === undefined ? undefined : collector!.spans.find((s) => s.service === 'node-b' && s.parentSpanId === caller.spanId);
        return caller !== undefined && served !== undefined ? { caller, served } : undefined;
      });
      assert.equal(pair.served.name, 'echo/echo', "node-b's span is its own call of its replica");
      assert.equal(pair.served.traceId, root.spanContext().traceId, "node-b's span is in the caller's trace");
      assert.notEqual(pair.served.spanId, pair.caller.spanId);
      assert.equal(pair.caller.attributes['hsu.replica.node'], 'node-b', "the caller's span names the master that served it");
      assert.equal(pair.caller.attributes['hsu.replica.id'], 'node-b/echo', '... and the replica, by its cluster-wide id');

      // Tracing off on the caller: no headers, and node-b's span begins a trace of its own. Every
      // call before was traced, so a root span of node-b's can only be this call's.
      await closeTracing();
      closeTracing = undefined;
      assert.deepEqual(await a.call('echo', 'echo', { untraced: 1 }), { untraced: 1 });
      const alone = await until("node-b's root span of the untraced call", () => collector!.spans.find((s) => s.service === 'node-b' && s.name === 'echo/echo' && s.parentSpanId === ''));
      assert.ok(!collector!.spans.some((s) => s.service === 'node-a' && s.traceId === alone.traceId), 'no span of node-a in its trace');
    } finally {
      await closeTracing?.();
      await a?.shutdown();
      b.signal('SIGTERM');
      await b.exited;
    }
  });
});
