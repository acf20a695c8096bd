/**
 * The conformance suite: the same cases, unchanged, against one deployment of the same fixture
 * module. Each deployment's test file calls {@link defineConformance} once, so its results show up
 * on their own. A sibling worker of the same deployment runs throughout: every crash case checks
 * that it, and the master, were not affected.
 */
// describe/it return promises the runner tracks itself; `void` says so to the floating-promise rule.
import { after, before, describe } from 'node:test';
import { callCases } from './cases-calls.js';
import { isolationCases } from './cases-isolation.js';
import { lifecycleCases } from './cases-lifecycle.js';
import { observabilityCases } from './cases-observability.js';
import { servicesCases } from './cases-services.js';
import { SIBLING, Suite, type Deployment } from './harness.js';

export function defineConformance(deployment: Deployment): void {
  void describe(`conformance: ${deployment}`, { timeout: 120_000 }, () => {
    const suite = new Suite(deployment);
    before(async () => {
      await suite.start(SIBLING);
    });
    after(async () => {
      await suite.close();
    });
    void describe('lifecycle, health, restart', () => lifecycleCases(suite));
    void describe('calls', () => callCases(suite));
    void describe('logs and endpoints', () => observabilityCases(suite));
    void describe('isolation', () => isolationCases(suite));
    void describe('calls out and the bus', () => servicesCases(suite));
  });
}
