// The worker state machine as a table: reachability, every legal and illegal move, and the
// operator operations that sit on top of it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATIONS, TRANSITIONS, WORKER_STATES, type WorkerState } from '../src/index.js';
import { assertOperation, assertTransition, canTransition, type Operation } from '../src/lifecycle/states.js';
import { throwsWithCode } from './helpers/master-helpers.js';

const ILLEGAL = 'HSU_ERR_ILLEGAL_TRANSITION';

function reachableFrom(start: WorkerState): Set<WorkerState> {
  const seen = new Set<WorkerState>([start]);
  const queue: WorkerState[] = [start];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const to of TRANSITIONS[next]) {
      if (!seen.has(to)) {
        seen.add(to);
        queue.push(to);
      }
    }
  }
  return seen;
}

void describe('transition table', () => {
  it('names exactly the eight worker states, each with a row', () => {
    assert.deepEqual([...WORKER_STATES].sort(), ['failed', 'failed_start', 'idle', 'running', 'starting', 'stopped', 'stopping', 'waiting_restart']);
    assert.deepEqual(Object.keys(TRANSITIONS).sort(), [...WORKER_STATES].sort());
    for (const targets of Object.values(TRANSITIONS)) {
      for (const to of targets) assert.ok(WORKER_STATES.includes(to), `unknown target state ${to}`);
    }
  });

  it('reaches every state from idle, and idle is never re-entered', () => {
    assert.deepEqual([...reachableFrom('idle')].sort(), [...WORKER_STATES].sort());
    for (const state of WORKER_STATES) assert.ok(!TRANSITIONS[state].includes('idle'), `${state} -> idle must not exist`);
  });

  it('has no dead end: from every state a worker can be started again eventually', () => {
    for (const state of WORKER_STATES) {
      assert.ok(TRANSITIONS[state].length > 0, `${state} has no way out`);
      assert.ok(reachableFrom(state).has('starting'), `${state} can never start again`);
    }
  });

  it('contains the moves the lifecycle relies on', () => {
    const required: [WorkerState, WorkerState][] = [
      ['idle', 'starting'],
      ['starting', 'running'],
      ['starting', 'failed_start'],
      ['starting', 'stopping'], // stop during start cancels it
      ['running', 'stopping'],
      ['running', 'waiting_restart'], // crash with a restart due
      ['running', 'stopped'], // clean exit, no restart due
      ['running', 'failed'], // crash and the policy gives up
      ['stopping', 'stopped'],
      ['stopped', 'starting'],
      ['failed_start', 'starting'],
      ['failed_start', 'waiting_restart'], // a failed automatic restart attempt backs off again
      ['failed_start', 'failed'],
      ['waiting_restart', 'starting'],
      ['waiting_restart', 'stopped'], // stop during backoff
      ['failed', 'starting'],
    ];
    for (const [from, to] of required) assert.ok(canTransition(from, to), `${from} -> ${to} must be legal`);
  });

  it('accepts every move in the table and rejects every other with HSU_ERR_ILLEGAL_TRANSITION', () => {
    let legal = 0;
    let illegal = 0;
    for (const from of WORKER_STATES) {
      for (const to of WORKER_STATES) {
        if (TRANSITIONS[from].includes(to)) {
          assert.equal(canTransition(from, to), true);
          assert.doesNotThrow(() => assertTransition('w', from, to));
          legal += 1;
          continue;
        }
        assert.equal(canTransition(from, to), false);
        const error = throwsWithCode(() => assertTransition('w', from, to), ILLEGAL);
        assert.deepEqual(error.context, { worker_id: 'w', from, to, allowed: TRANSITIONS[from] });
        illegal += 1;
      }
    }
    assert.equal(legal + illegal, WORKER_STATES.length ** 2);
    assert.ok(illegal > legal, 'most moves must be illegal: the table is a whitelist');
  });

  it('rejects a self-transition in every state (no silent no-op changes)', () => {
    for (const state of WORKER_STATES) throwsWithCode(() => assertTransition('w', state, state), ILLEGAL);
  });
});

void describe('operations', () => {
  it('allows start, stop and remove exactly in the documented states', () => {
    assert.deepEqual([...OPERATIONS.start].sort(), ['failed', 'failed_start', 'idle', 'stopped']);
    assert.deepEqual([...OPERATIONS.stop].sort(), ['running', 'starting', 'waiting_restart']);
    assert.deepEqual([...OPERATIONS.remove].sort(), ['failed', 'failed_start', 'idle', 'stopped']);
  });

  it('agrees with the transition table', () => {
    for (const state of OPERATIONS.start) assert.ok(canTransition(state, 'starting'), `start from ${state} needs ${state} -> starting`);
    for (const state of OPERATIONS.stop) {
      assert.ok(canTransition(state, 'stopping') || canTransition(state, 'stopped'), `stop from ${state} needs a way to stopped`);
    }
    // Removable means nothing runs: none of these states holds an instance.
    for (const state of OPERATIONS.remove) assert.ok(!['starting', 'running', 'stopping', 'waiting_restart'].includes(state));
  });

  it('refuses an operation in a wrong state with a coded error naming the allowed states', () => {
    const operations = Object.keys(OPERATIONS) as Operation[];
    for (const operation of operations) {
      const allowed: readonly WorkerState[] = OPERATIONS[operation];
      for (const state of WORKER_STATES) {
        if (allowed.includes(state)) {
          assert.doesNotThrow(() => assertOperation('svc', operation, state));
          continue;
        }
        const error = throwsWithCode(() => assertOperation('svc', operation, state), ILLEGAL);
        assert.deepEqual(error.context, { worker_id: 'svc', operation, state, allowed });
        for (const name of allowed) assert.ok(error.message.includes(name), `message must name allowed state ${name}: ${error.message}`);
        assert.ok(error.message.includes(state) && error.message.includes('svc'));
      }
    }
  });
});
