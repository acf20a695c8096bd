// Shared by the v1 and v2 cgroup tests: a master removes any dead master's empty groups, and
// never one with a member (nor that member), nor a live master's empty group.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { CgroupManager, CgroupSupport, WorkerCgroup } from '../../src/os/index.js';
import { deadMastersManager, NODE, osFixture, running, type Children } from './helpers.js';

export async function assertEmptyGroupsRemoved(manager: CgroupManager, support: CgroupSupport, children: Children, ownEmpty: WorkerCgroup): Promise<void> {
  const dead = await deadMastersManager(children, support);
  const empty = await dead.create('empty');
  const occupied = await dead.create('occupied');
  try {
    const { child: member } = await children.ready(NODE, [osFixture('idle.mjs')]);
    occupied.addPid(member.pid!);
    assert.deepEqual(manager.removeEmptyOfDeadMasters(), [empty.name]);
    assert.ok(empty.dirs.every((d) => !existsSync(d)), 'the empty group is gone from every hierarchy');
    assert.ok(occupied.dirs.every((d) => existsSync(d)), 'a group with a member waits for its own master');
    assert.deepEqual(occupied.pids(), [member.pid], 'and its member was not touched');
    assert.ok(running(member.pid!));
    assert.ok(ownEmpty.dirs.every((d) => existsSync(d)), "a live master's empty group stays");
    assert.deepEqual(manager.removeEmptyOfDeadMasters(), [], 'nothing more to remove');
  } finally {
    await occupied.remove();
    await empty.remove();
  }
}
