// Footprint (issue 15), on the real thing in fresh processes: the master's import graph leaves out
// the libraries only some masters use (each costs 2-17 MB of RSS at import), they still load the
// moment a feature needs them, and a master that has gone quiet after starting gives back its
// young generation once, without leaving a `gc` global behind for anyone's code.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixture } from '../helpers/paths.js';
import { childScript, reportOf, runChild } from './support.js';

interface FootprintReport {
  packages: string[];
  trimmed: boolean;
  trim?: { pause_ms?: unknown; rss_before?: unknown; rss_after?: unknown };
  newSpaceBefore: number;
  newSpaceAfter: number;
  gcGlobal: string;
  gcInNewContext: string;
  builtins: string[];
  apiStatus?: number;
}

const T = { timeout: 60_000 };
const PLUGIN = fixture('plugins/ok.mjs');
/** Loaded only by a feature that needs it: YAML files, cron schedules, resilience policies, packages, the lexer of `hsu validate`, Prometheus registries, tracing. */
const LAZY = ['yaml', 'croner', 'cockatiel', 'semver', 'tar', 'es-module-lexer', 'prom-client', '@opentelemetry/api', 'pino-pretty'];

async function footprint(...flags: string[]): Promise<FootprintReport> {
  // No --expose-gc: the trim must work for a master started the way users start theirs.
  return reportOf(await runChild<FootprintReport>(childScript('footprint.child'), [PLUGIN, ...flags], { execArgv: [] }));
}

describe('master footprint', () => {
  for (const [how, flags] of [['tsc files', []], ['the package bundle', ['--package']]] as const) {
    it(`a master with an inline module and a process worker loads none of the libraries only some features need (${how})`, T, async () => {
      const r = await footprint(...flags);
      // The bundle carries zod inside it, so only tsc's files show zod as a package.
      const own = how === 'tsc files' ? ['zod', 'pino'] : ['pino'];
      assert.ok(own.every((name) => r.packages.includes(name)), `the probe saw the master's own dependencies: ${r.packages.join(', ')}`);
      const loaded = LAZY.filter((name) => r.packages.includes(name));
      assert.deepEqual(loaded, [], `loaded although nothing used them: ${loaded.join(', ')}`);
    });
  }

  it('a master serving its control API loads neither undici nor TLS, HTTP/2 or web streams', T, async () => {
    const r = await footprint('--api');
    assert.equal(r.apiStatus, 200, 'the API answered on its socket');
    assert.ok(r.builtins.includes('_http_server'), 'the probe saw the HTTP server load');
    // An ESM import of node:http builds its namespace, whose WebSocket getter loads undici, and with it tls, http2, zlib and web streams (~13 MB).
    const heavy = r.builtins.filter((m) => /undici|^tls$|^http2$|^https$|^internal\/webstreams\//.test(m));
    assert.deepEqual(heavy, [], `loaded although no feature used them: ${heavy.join(', ')}`);
  });

  it('a feature that needs one loads it then: a restart_schedule loads croner (and the schedule runs)', T, async () => {
    const r = await footprint('--cron');
    assert.ok(r.packages.includes('croner'), `croner not loaded: ${r.packages.join(', ')}`);
  });

  it('once quiet after starting, the master trims its heap once; no gc global is left for other code', T, async () => {
    const r = await footprint();
    assert.equal(r.trimmed, true, 'no "heap trimmed" record within the settle time');
    assert.equal(typeof r.trim?.pause_ms, 'number');
    assert.equal(typeof r.trim?.rss_before, 'number');
    assert.equal(typeof r.trim?.rss_after, 'number');
    // Loading the master grows the young generation beyond its 1-2 MB minimum; the trim shrinks it back.
    assert.ok(r.newSpaceAfter < r.newSpaceBefore, `young generation ${r.newSpaceBefore} -> ${r.newSpaceAfter} bytes`);
    assert.equal(r.gcGlobal, 'undefined');
    assert.equal(r.gcInNewContext, 'undefined', 'the --expose-gc flag was left on: new contexts (and threads) would see a gc global');
  });

  it('trimHeapAfterStart: false leaves the heap alone', T, async () => {
    const r = await footprint('--no-trim');
    assert.equal(r.trimmed, false);
  });
});
