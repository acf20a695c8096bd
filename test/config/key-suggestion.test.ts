// The "did you mean" of an unknown config key: a typo, a case or separator slip names the key it
// meant; another word names nothing (the valid keys are listed instead).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closestKey } from '../../src/config/key-suggestion.js';

const KEYS = ['id', 'type', 'stop_timeout', 'start_timeout', 'restart', 'restart_schedule', 'health_check', 'env', 'execution'];

void test('a typo, a transposition, camelCase or a hyphen names the key it meant', () => {
  assert.equal(closestKey('restrt', KEYS), 'restart');
  assert.equal(closestKey('stop_timout', KEYS), 'stop_timeout');
  assert.equal(closestKey('stopTimeout', KEYS), 'stop_timeout');
  assert.equal(closestKey('stop-timeout', KEYS), 'stop_timeout');
  assert.equal(closestKey('HealthCheck', KEYS), 'health_check');
  assert.equal(closestKey('exectuion', KEYS), 'execution');
  assert.equal(closestKey('tpye', KEYS), 'type');
});

void test('the closest of several wins; a different word names nothing', () => {
  assert.equal(closestKey('restart_schedul', KEYS), 'restart_schedule', 'closer to restart_schedule than to restart');
  for (const word of ['colour', 'command', 'script', 'x', 'environment_variables']) assert.equal(closestKey(word, KEYS), undefined, word);
  assert.equal(closestKey('ie', KEYS), 'id', 'one edit is allowed even for a short key');
  assert.equal(closestKey('anything', []), undefined);
});
