/**
 * Command workers (hsu/messaging) in /metrics, read from what they already report: a command
 * worker's `diagnostics()` is its module's diagnostics, which the master shows as
 * `details.module_diagnostics` (inline: asked at once; thread and host: as of their previous facts
 * answer, as the heap). Recognised by shape (a consumer name, checkpoint, head, lag and counts),
 * so any module reporting the same fields is shown the same way. Labels: the worker's own
 * (`worker_id`, `type`, `deployment`) and `consumer`, the name its checkpoint is kept under.
 */
import { labelText, withLabels, type Exposition } from './exposition.js';
import type { WorkerFacts } from '../worker-facts.js';

/** The counters and positions of one command worker, as its diagnostics state them. */
export interface CommandWorkerReport {
  readonly consumer: string;
  readonly checkpoint: number;
  readonly head: number;
  readonly lag: number;
  readonly processed: number;
  readonly retried: number;
  readonly failed: number;
  readonly dead_lettered: number;
  readonly undecodable: number;
  readonly poison: number;
  readonly ignored: number;
  readonly redriven: number;
  readonly redrive_failed: number;
  /** How long the delivery in hand has been running; 0 when none is. */
  readonly running_seconds: number;
}

const COUNTS = ['processed', 'retried', 'failed', 'dead_lettered', 'undecodable', 'poison', 'ignored', 'redriven', 'redrive_failed'] as const;

/** The report in a module's diagnostics, or undefined when they are not a command worker's. */
export function commandWorkerReport(diagnostics: unknown): CommandWorkerReport | undefined {
  if (typeof diagnostics !== 'object' || diagnostics === null) return undefined;
  const d = diagnostics as Record<string, unknown>;
  if (typeof d.worker !== 'string' || typeof d.checkpoint !== 'number' || typeof d.head !== 'number' || typeof d.lag !== 'number') return undefined;
  const counts: Partial<Record<(typeof COUNTS)[number], number>> = {};
  for (const key of COUNTS) {
    const value = d[key];
    if (typeof value !== 'number') return undefined;
    counts[key] = value;
  }
  const running = (d.delivery_in_progress as { running_ms?: unknown } | null | undefined)?.running_ms;
  return {
    consumer: d.worker,
    checkpoint: d.checkpoint,
    head: d.head,
    lag: d.lag,
    ...(counts as Record<(typeof COUNTS)[number], number>),
    running_seconds: typeof running === 'number' ? running / 1000 : 0,
  };
}

type Family = readonly [name: string, type: 'counter' | 'gauge', help: string, value: (r: CommandWorkerReport) => number];

const FAMILIES: readonly Family[] = [
  ['hsu_command_handled_total', 'counter', 'Messages a command worker handled (its checkpoint moved past them), since its instance started.', (r) => r.processed],
  ['hsu_command_failed_deliveries_total', 'counter', 'Handler runs that failed (each attempt counts).', (r) => r.failed],
  ['hsu_command_retries_total', 'counter', 'Deliveries retried after a failed attempt.', (r) => r.retried],
  ['hsu_command_dead_letters_total', 'counter', 'Messages moved to the dead letters (after the last attempt, undecodable or poison).', (r) => r.dead_lettered],
  ['hsu_command_undecodable_total', 'counter', 'Messages dead-lettered because they did not decode (of hsu_command_dead_letters_total).', (r) => r.undecodable],
  ['hsu_command_poison_total', 'counter', 'Messages dead-lettered because their host died or stopped on every delivery (of hsu_command_dead_letters_total).', (r) => r.poison],
  ['hsu_command_ignored_total', 'counter', 'Records of commands the worker has no handler for (passed over by design).', (r) => r.ignored],
  ['hsu_command_redriven_total', 'counter', 'Dead letters re-driven and handled.', (r) => r.redriven],
  ['hsu_command_redrive_failed_total', 'counter', 'Dead letters re-driven whose handler failed again.', (r) => r.redrive_failed],
  ['hsu_command_lag_messages', 'gauge', 'Messages in the log the worker has not handled yet (head id minus checkpoint).', (r) => r.lag],
  ['hsu_command_checkpoint_id', 'gauge', 'Id of the last message the worker handled (its persisted checkpoint, or ahead of it by one checkpoint interval).', (r) => r.checkpoint],
  ['hsu_command_log_head_id', 'gauge', 'Highest message id the worker has seen in its log.', (r) => r.head],
  ['hsu_command_handler_running_seconds', 'gauge', 'How long the delivery in hand has been running (an asynchronous handler); 0 when none is.', (r) => r.running_seconds],
];

/** Label sets per worker and consumer, escaped once (a consumer name is fixed for an instance). */
const labelCache = new WeakMap<WorkerFacts, { consumer: string; labels: string }>();

function labelsOf(f: WorkerFacts, consumer: string): string {
  const cached = labelCache.get(f);
  if (cached?.consumer === consumer) return cached.labels;
  const labels = withLabels(f.labels, labelText({ consumer }));
  labelCache.set(f, { consumer, labels });
  return labels;
}

export function writeCommandWorkerFamilies(out: Exposition, reports: readonly (readonly [WorkerFacts, CommandWorkerReport])[]): void {
  for (const [name, type, help, value] of FAMILIES) {
    out.family(name, type, help);
    for (const [f, report] of reports) out.sample(name, labelsOf(f, report.consumer), value(report));
  }
}
