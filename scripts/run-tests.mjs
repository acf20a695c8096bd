// Runs every compiled test file with node's own test runner (Node 20 has no glob support in --test).
//
// A deadline for the whole run (HSU_TEST_DEADLINE_MIN, default 40 minutes; 0 turns it off), so that
// one hung file costs a failing run that names it, never the whole CI budget: the runner is sent
// SIGTERM (it prints which files were still running), then its whole process group SIGKILL, so a
// file that ignores the signal, or a server it started, cannot outlive the run holding its output.
// Not `--test-timeout`: it would not bound a file that stays alive after its tests (a handle nobody
// closed), and the timer it arms for every test and hook is one the leak checks
// (test/replicas/helpers.ts) would count as hsu's.
import { readdirSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';

const GRACE_MS = 15_000;
const raw = process.env.HSU_TEST_DEADLINE_MIN ?? '40';
const deadlineMin = Number(raw);
// setTimeout takes at most 2^31-1 ms (about 35,791 minutes); beyond it fires at once.
if (raw.trim() === '' || !Number.isFinite(deadlineMin) || deadlineMin < 0 || deadlineMin > 35_000) {
  console.error(`run-tests: HSU_TEST_DEADLINE_MIN must be a number of minutes from 0 (no deadline) to 35000, got ${JSON.stringify(raw)}`);
  process.exit(2);
}

function collect(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'fixtures' ? [] : collect(full);
    return name.endsWith('.test.js') ? [full] : [];
  });
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : collect('dist/test').sort();
// A process group of its own: the deadline can end the runner and every file process it started.
const runner = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files], { stdio: 'inherit', detached: true });
const signalGroup = (signal) => {
  try {
    process.kill(-runner.pid, signal);
  } catch {
    // the group is gone already
  }
};
let overran = false;
let killer;
const deadline =
  deadlineMin === 0
    ? undefined
    : setTimeout(() => {
        overran = true;
        console.error(`\nrun-tests: the run passed its ${deadlineMin}-minute deadline; stopping it (the runner lists the files still running)`);
        runner.kill('SIGTERM');
        killer = setTimeout(() => signalGroup('SIGKILL'), GRACE_MS);
      }, deadlineMin * 60_000);
// Detached, the runner no longer gets the terminal's Ctrl-C: pass it on.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => runner.kill(signal));
runner.on('exit', (code, signal) => {
  clearTimeout(deadline);
  // Whatever the runner left in its group (a file that ignored SIGTERM) goes with it.
  signalGroup('SIGKILL');
  clearTimeout(killer);
  if (overran) console.error(`run-tests: failed: over the ${deadlineMin}-minute deadline`);
  process.exit(overran ? 1 : (code ?? (signal === null ? 1 : 128)));
});
