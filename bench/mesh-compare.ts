/**
 * How the mesh benchmarks compare a subject with its floor on a shared, noisy machine: both are
 * warmed, then measured in short alternating segments (floor, subject, subject, floor; five rounds)
 * and each side's median segment is kept, so a burst of outside load lands on both sides alike.
 */
import type { Op } from './floors.js';
import { inFlightRate, sequentialRate, summarize } from './stats.js';

export const IN_FLIGHT = 100;
const WARMUP_MS = 300;
const SEGMENT_MS = 100;
const ROUNDS = 5;

export type Mode = 'seq' | 'inflight';
export const MODES: readonly Mode[] = ['seq', 'inflight'];

export interface Subject {
  readonly op: Op;
  /** Ops per clock read: ~256 for in-process ops, ~8 for round trips to a thread or process. */
  readonly batch: number;
}

export function modeLabel(mode: Mode): string {
  return mode === 'seq' ? 'sequential' : `${IN_FLIGHT} in flight`;
}

function segment(subject: Subject, mode: Mode, ms: number): Promise<number> {
  return mode === 'seq' ? sequentialRate(subject.op, ms, subject.batch) : inFlightRate(subject.op, IN_FLIGHT, ms, Math.max(1, subject.batch / 16));
}

/** Rates (ops/s) of `floor` and of each subject, measured ABBA against the floor. */
export async function alternate(floor: Subject, subjects: readonly Subject[], mode: Mode): Promise<{ floor: number; subjects: number[] }> {
  await segment(floor, mode, WARMUP_MS);
  for (const subject of subjects) await segment(subject, mode, WARMUP_MS);
  const floorRuns: number[] = [];
  const subjectRuns: number[][] = subjects.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    floorRuns.push(await segment(floor, mode, SEGMENT_MS));
    for (const [i, subject] of subjects.entries()) subjectRuns[i]?.push(await segment(subject, mode, SEGMENT_MS));
    for (const [i, subject] of [...subjects.entries()].reverse()) subjectRuns[i]?.push(await segment(subject, mode, SEGMENT_MS));
    floorRuns.push(await segment(floor, mode, SEGMENT_MS));
  }
  return { floor: summarize(floorRuns).p50, subjects: subjectRuns.map((runs) => summarize(runs).p50) };
}
