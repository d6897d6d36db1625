/**
 * Which tasks a trigger moves, in which order (the framework's unbuilt "multi-task
 * migration prioritization"). Pure: the scheduler calls it with its table and the sample.
 *
 * - Memory triggers (used memory %, PSI, page cache): the relief needed is how far the
 *   metric is over its threshold, in MiB (memory % of MemTotal; page cache as is). Tasks
 *   are taken largest linear memory first until their memory covers the relief: the fewest
 *   migrations that relieve the pressure most. At least one task moves; a PSI trigger (no
 *   MiB figure) moves the largest one. A predictive trigger ("trend") moves one task: it is
 *   an early warning, not an emergency.
 * - Temperature: heat follows CPU, so the task that ran the most instructions per second
 *   since the last sample moves (one per trigger; the cooldown spaces out the next).
 * - Ties go to the older task. Tasks already migrating, paused by the user, or finished are
 *   not candidates (a paused task stays where its user paused it).
 * - Targets are dealt out round-robin in the configured order, so several tasks moved by
 *   one trigger spread over the targets.
 */
import type { Target } from './config';
import type { Sample } from './monitor';
import type { TaskRow } from './table';
import type { Trigger } from './trigger';

export interface Candidate {
  row: TaskRow;
  /** Instructions per second since the previous sample. */
  rate: number;
}

export interface Move {
  id: string;
  target: Target;
  /** Why this task, for the log. */
  why: string;
}

const MiB = 1 << 20;

/** The MiB a memory trigger asks to free (null: no figure, e.g. PSI). */
export function reliefMb(t: Trigger, s: Sample): number | null {
  if (t.metric === 'cacheMb') return Math.max(0, t.value - t.threshold);
  if (t.metric === 'memoryPct' && s.memTotalMb !== null) return Math.max(0, ((t.value - t.threshold) / 100) * s.memTotalMb);
  return null;
}

export function chooseMoves(trigger: Trigger, sample: Sample, candidates: Candidate[], targets: Target[]): Move[] {
  if (targets.length === 0) return [];
  const pool = candidates.filter((c) => c.row.state === 'running' || c.row.state === 'blocked');
  const older = (a: Candidate, b: Candidate) => a.row.startedAt - b.row.startedAt || Number(a.row.id) - Number(b.row.id);
  const chosen: Array<{ c: Candidate; why: string }> = [];
  if (trigger.metric === 'tempC') {
    const busiest = [...pool].sort((a, b) => b.rate - a.rate || older(a, b))[0];
    if (busiest) chosen.push({ c: busiest, why: `busiest task (${Math.round(busiest.rate)} instructions/s)` });
  } else {
    const bySize = [...pool].sort((a, b) => b.row.memoryBytes - a.row.memoryBytes || older(a, b));
    const need = trigger.reason === 'trend' ? null : reliefMb(trigger, sample);
    let freed = 0;
    for (const c of bySize) {
      chosen.push({ c, why: `${(c.row.memoryBytes / MiB).toFixed(1)} MiB of memory` });
      freed += c.row.memoryBytes / MiB;
      if (need === null || freed >= need) break;
    }
  }
  return chosen.map(({ c, why }, i) => ({ id: c.row.id, target: targets[i % targets.length], why }));
}
