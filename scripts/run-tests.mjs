// Runs every compiled test file with node's own test runner (Node 20 has no glob support in --test).
//
// A deadline for the whole run (HSU_TEST_DEADLINE_MIN, default 40 minutes), so that one hung file
// costs a failing run that names it, never the whole CI budget: the runner is sent SIGTERM, prints
// which files were still running, and the run fails. Not `--test-timeout`: it would not bound a
// file that stays alive after its tests (a handle nobody closed), and the timer it arms for every
// test and hook is one the leak checks (test/replicas/helpers.ts) would count as hsu's.
import { readdirSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';

const deadlineMin = Number(process.env.HSU_TEST_DEADLINE_MIN ?? 40);

function collect(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'fixtures' ? [] : collect(full);
    return name.endsWith('.test.js') ? [full] : [];
  });
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : collect('dist/test').sort();
const runner = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files], { stdio: 'inherit' });
let overran = false;
const deadline = setTimeout(() => {
  overran = true;
  console.error(`\nrun-tests: the run passed its ${deadlineMin}-minute deadline; stopping it (the files still running are listed above)`);
  runner.kill('SIGTERM');
  setTimeout(() => runner.kill('SIGKILL'), 15_000).unref();
}, deadlineMin * 60_000);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => runner.kill(signal));
runner.on('exit', (code, signal) => {
  clearTimeout(deadline);
  if (overran) console.error(`run-tests: failed: over the ${deadlineMin}-minute deadline`);
  process.exit(overran ? 1 : (code ?? (signal === null ? 1 : 128)));
});
