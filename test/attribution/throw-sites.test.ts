// The attribution matrix: where an inline module's error is raised decides whether hsu can charge
// it to the module (the module restarts by policy, the master and a sibling run on) with the
// default `master.inline_error_attribution: true`. Each case runs a master in a process of its own
// (throw-sites.child.ts) and asserts what actually happens, including what is not charged: a
// listener the module put on an emitter it does not own (here `process`) runs in the emitter's
// context, not the module's, so its throw ends the master as Node would. The table is in
// docs/attribution.md.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./throw-sites.child.js', import.meta.url));
const T = { timeout: 30_000 };

interface Outcome {
  readonly code: number | null;
  readonly stderr: string;
  readonly result?: {
    start_ok: boolean;
    start_code?: string;
    call?: { ok: boolean; code?: string };
    charged_code?: string;
    victim_state: string;
    sibling: { state: string; restart_count: number };
  };
}

function runMaster(site: string, origin: 'start' | 'action', attribution: 'on' | 'off' = 'on'): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CHILD, site, origin, attribution], { timeout: 20_000, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      const failure = error as (Error & { code?: number | string }) | null;
      resolve({
        code: failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null,
        stderr,
        ...(line === undefined ? {} : { result: JSON.parse(line.slice('RESULT '.length)) as Outcome['result'] }),
      });
    });
  });
}

/** Sites whose throw comes later, from a callback the module scheduled in its own async context. */
const CHARGED = ['timer', 'promise', 'emitter', 'stream', 'fs-callback', 'zlib-callback'] as const;
const ORIGINS = ['start', 'action'] as const;

function assertCharged(o: Outcome): void {
  assert.equal(o.code, 0, `the master must survive: ${o.stderr}`);
  assert.ok(o.result !== undefined, o.stderr);
  assert.equal(o.result.charged_code, 'HSU_ERR_MODULE_UNCAUGHT');
  assert.equal(o.result.victim_state, 'running', 'restarted by policy');
  assert.deepEqual(o.result.sibling, { state: 'running', restart_count: 0 });
}

function assertMasterDied(o: Outcome): void {
  assert.equal(o.result, undefined, 'nothing in the master runs after the throw');
  assert.equal(o.code, 1);
  assert.match(o.stderr, /thrown at site/);
}

void describe('inline error attribution: throw sites (default setting)', () => {
  for (const origin of ORIGINS) {
    for (const site of CHARGED) {
      void it(`${site}, armed in ${origin === 'start' ? 'start()' : 'an action'}: charged to the module`, T, async () => assertCharged(await runMaster(site, origin)));
    }
    void it(`listener on a foreign emitter (process), added in ${origin === 'start' ? 'start()' : 'an action'}: not charged, the master ends with code 1`, T, async () =>
      assertMasterDied(await runMaster('foreign-emitter', origin)));
    // AsyncResource.bind() does not help: runInAsyncScope() restores the emitter's context in its
    // `finally`, before the throw reaches the process's uncaughtException listener.
    void it(`the same listener wrapped in AsyncResource.bind(), added in ${origin === 'start' ? 'start()' : 'an action'}: still not charged`, T, async () =>
      assertMasterDied(await runMaster('bound-foreign-emitter', origin)));
  }

  void it('sync throw in start(): no uncaught error at all, the start fails and the sibling runs', T, async () => {
    const o = await runMaster('sync', 'start');
    assert.equal(o.code, 0, o.stderr);
    assert.equal(o.result?.start_ok, false);
    assert.equal(o.result?.start_code, 'HSU_ERR_START_FAILED');
    assert.equal(o.result?.victim_state, 'failed_start');
    assert.deepEqual(o.result?.sibling, { state: 'running', restart_count: 0 });
  });

  void it("sync throw in an action: the caller's call rejects, the module is not charged and keeps running", T, async () => {
    const o = await runMaster('sync', 'action');
    assert.equal(o.code, 0, o.stderr);
    assert.equal(o.result?.call?.ok, false);
    assert.equal(o.result?.charged_code, undefined);
    assert.equal(o.result?.victim_state, 'running');
  });

  void it('with inline_error_attribution: false, a timer throw is not charged: the master ends with code 1', T, async () => {
    assertMasterDied(await runMaster('timer', 'action', 'off'));
  });
});
