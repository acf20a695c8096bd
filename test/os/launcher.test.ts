// The launcher for real: hostile arguments arrive verbatim, rlimits, umask and user are what the
// program itself reads from /proc/self, bad names and values are coded errors before any spawn.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LAUNCH_FAILED_EXIT, planLaunch, resolveGroup, resolveUser, type LaunchSpec } from '../../src/os/index.js';
import { isHsuError } from '../../src/errors.js';
import { allOutput, Children, NODE, osFixture } from './helpers.js';

const children = new Children();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'hsu-launch-'));
after(async () => {
  await children.killAll();
  rmSync(tmp, { recursive: true, force: true });
});

interface Report {
  pid: number;
  argv: string[];
  umask: string;
  uid: string;
  gid: string;
  groups: string;
  nofile: { soft: string; hard: string };
  core: { soft: string; hard: string };
  nproc: { soft: string; hard: string };
  env: { HOME?: string; USER?: string };
}

async function run(spec: Omit<LaunchSpec, 'file' | 'args'>, args: string[] = []): Promise<Report> {
  const plan = planLaunch({ file: NODE, args: [osFixture('report.mjs'), ...args], ...spec });
  const child = children.spawn(plan.file, [...plan.args], { env: { ...process.env, ...plan.env }, ...(plan.uid === undefined ? {} : { uid: plan.uid }), ...(plan.gid === undefined ? {} : { gid: plan.gid }) });
  const out = await allOutput(child);
  return JSON.parse(out) as Report;
}

const isRoot = process.getuid?.() === 0;

type Limit = { soft: string; hard: string } | undefined;
/** /proc/self/limits as read by cat exec'd through the launcher. */
async function limitsOf(rlimits: NonNullable<LaunchSpec['rlimits']>, spec: Omit<LaunchSpec, 'file' | 'args'> = {}): Promise<{ nofile: Limit; core: Limit; nproc: Limit }> {
  const plan = planLaunch({ file: 'cat', args: ['/proc/self/limits'], rlimits, ...spec });
  const text = await allOutput(children.spawn(plan.file, [...plan.args]));
  const limit = (name: string): Limit => {
    const m = new RegExp(`^${name}\\s+(\\S+)\\s+(\\S+)`, 'm').exec(text);
    return m === null ? undefined : { soft: m[1]!, hard: m[2]! };
  };
  return { nofile: limit('Max open files'), core: limit('Max core file size'), nproc: limit('Max processes') };
}

void describe('launcher', () => {
  void it('leaves a plain command unwrapped', () => {
    const plan = planLaunch({ file: 'node', args: ['a.js'] });
    assert.deepEqual({ file: plan.file, args: plan.args, wrapped: plan.wrapped }, { file: 'node', args: ['a.js'], wrapped: false });
  });

  void it('passes hostile arguments through verbatim and never into the script text', async () => {
    const marker = path.join(tmp, 'pwned');
    const hostile = [`$(touch ${marker})`, '`touch x`', "'; touch x; '", '"$0" "$@"', 'a\nb', '--', '', '$1 ${2}'];
    const report = await run({ umask: '022' }, hostile);
    assert.deepEqual(report.argv, hostile);
    assert.equal(existsSync(marker), false);
    const plan = planLaunch({ file: NODE, args: hostile, umask: '022', cgroupProcsFiles: [`/tmp/$(touch ${marker})`] });
    assert.ok(!plan.args[1]!.includes('touch'), 'no configured string is part of the script');
  });

  void it('sets the umask before exec', async () => {
    assert.equal((await run({ umask: '027' })).umask, '0027');
    assert.equal((await run({ umask: 0o077 })).umask, '0077');
  });

  // cat, not Node: Node raises its own soft RLIMIT_NOFILE to the hard limit at start-up.
  void it('sets rlimits before exec: nofile soft/hard, core in bytes, nproc', async () => {
    const report = await limitsOf({ nofile: { soft: 1000, hard: 2000 }, core: 0, nproc: 500 });
    assert.deepEqual(report.nofile, { soft: '1000', hard: '2000' });
    assert.deepEqual(report.core, { soft: '0', hard: '0' });
    assert.deepEqual(report.nproc, { soft: '500', hard: '500' });
    const big = await limitsOf({ core: 1024 * 1024, nofile: 4096 });
    assert.deepEqual(big.core, { soft: String(1024 * 1024), hard: String(1024 * 1024) });
    assert.deepEqual(big.nofile, { soft: '4096', hard: '4096' });
    assert.equal((await limitsOf({ core: 'unlimited' })).core?.soft, 'unlimited');
  });

  void it('runs as another user (setpriv, with the user’s groups) with umask and limits set before the drop', { skip: isRoot ? false : 'needs root' }, async () => {
    const nobody = resolveUser('nobody');
    const report = await run({ user: 'nobody', umask: '077' });
    assert.equal(report.uid.split(/\s+/)[0], String(nobody.uid));
    assert.equal(report.uid.split(/\s+/)[1], String(nobody.uid), 'effective uid too');
    assert.equal(report.gid.split(/\s+/)[0], String(nobody.gid));
    assert.equal(report.umask, '0077');
    // Limits are set before the drop (raising a hard one needs CAP_SYS_RESOURCE, which this machine's root lacks).
    assert.deepEqual((await limitsOf({ nofile: { soft: 1000, hard: 2000 } }, { user: 'nobody' })).nofile, { soft: '1000', hard: '2000' });
    assert.equal(report.env.USER, 'nobody');
    const group = resolveGroup(nobody.gid);
    const withGroup = await run({ user: 'nobody', group: group.name });
    assert.equal(withGroup.gid.split(/\s+/)[0], String(group.gid));
  });

  void it('falls back to spawn’s uid/gid without setpriv, and refuses a cgroup join it could not do', { skip: isRoot ? false : 'needs root' }, async () => {
    const plan = planLaunch({ file: NODE, args: [], user: 'nobody' }, { setpriv: null });
    assert.equal(plan.uid, resolveUser('nobody').uid);
    const report = await run({ user: 'nobody', umask: '022' });
    assert.equal(report.uid.split(/\s+/)[0], String(resolveUser('nobody').uid));
    assert.throws(() => planLaunch({ file: NODE, args: [], user: 'nobody', cgroupProcsFiles: ['/x'] }, { setpriv: null }), (e) => isHsuError(e, 'LAUNCH_NO_PRIVILEGE_DROP'));
  });

  void it('unknown users and groups, bad umasks and bad rlimits are coded errors', () => {
    assert.throws(() => planLaunch({ file: NODE, args: [], user: 'no-such-user-hsu' }), (e) => isHsuError(e, 'LAUNCH_UNKNOWN_USER'));
    assert.throws(() => planLaunch({ file: NODE, args: [], group: 'no-such-group-hsu' }), (e) => isHsuError(e, 'LAUNCH_UNKNOWN_GROUP'));
    assert.throws(() => planLaunch({ file: NODE, args: [], umask: '999' }), (e) => isHsuError(e, 'LAUNCH_INVALID'));
    assert.throws(() => planLaunch({ file: NODE, args: [], umask: '1777' }), (e) => isHsuError(e, 'LAUNCH_INVALID'));
    assert.throws(() => planLaunch({ file: NODE, args: [], rlimits: { nofile: -1 } }), (e) => isHsuError(e, 'LAUNCH_INVALID'));
    assert.throws(() => planLaunch({ file: NODE, args: [], rlimits: { nofile: 1.5 } }), (e) => isHsuError(e, 'LAUNCH_INVALID'));
    // A bare uid with no passwd entry is valid for the kernel (containers use them).
    assert.equal(resolveUser(54321).uid, 54321);
  });

  void it('a launch step that fails exits with the launcher’s own status before exec', async () => {
    const plan = planLaunch({ file: NODE, args: [osFixture('report.mjs')], cgroupProcsFiles: [path.join(tmp, 'no-such-dir', 'cgroup.procs')] });
    const child = children.spawn(plan.file, [...plan.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => (err += String(chunk)));
    const [code] = await once(child, 'exit');
    assert.equal(code, LAUNCH_FAILED_EXIT);
    assert.match(err, /hsu-launch: cannot join cgroup/);
  });
});
