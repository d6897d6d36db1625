/**
 * The trigger detector: turns monitor samples into migration triggers, guarding against
 * the framework's false positives.
 *
 * - A metric triggers only after it has been over its threshold for K consecutive samples
 *   (one spike does nothing; a sample with the metric n/a breaks the run).
 * - After a migration (`migrated(now)`) nothing triggers for `cooldownMs`; the runs of
 *   samples are reset, so K fresh samples are needed after the cooldown too.
 * - Predictive (optional): with K samples strictly rising, the least-squares slope over
 *   them projects the metric K intervals ahead; crossing the threshold there triggers now
 *   ("trend"), before the threshold is reached.
 */
import type { Thresholds } from './config';
import type { Metric, Sample } from './monitor';

export interface Trigger {
  metric: Metric;
  value: number;
  threshold: number;
  /** 'threshold': over it for K samples; 'trend': projected to cross it soon. */
  reason: 'threshold' | 'trend';
  /** For 'trend': the projected value. */
  projected?: number;
}

export interface DetectorOptions {
  thresholds: Thresholds;
  /** K (>= 1). */
  samples: number;
  cooldownMs: number;
  predictive?: boolean;
}

const METRICS: Array<{ metric: Metric; threshold: (t: Thresholds) => number | null }> = [
  { metric: 'memoryPct', threshold: (t) => t.memoryPct },
  { metric: 'psiSome10', threshold: (t) => t.psiPct },
  { metric: 'cacheMb', threshold: (t) => t.cacheMb },
  { metric: 'tempC', threshold: (t) => t.tempC },
];

export const METRIC_NAMES: Record<Metric, string> = {
  cacheMb: 'page cache (MiB)',
  tempC: 'CPU temperature (°C)',
  memoryPct: 'memory used (%)',
  psiSome10: 'memory pressure (PSI some avg10, %)',
};

export class TriggerDetector {
  private readonly history = new Map<Metric, number[]>();
  private cooldownUntil = -Infinity;

  constructor(readonly o: DetectorOptions) {
    if (!(o.samples >= 1)) throw new RangeError('K must be at least 1');
  }

  /** Feeds one sample; returns the trigger it completes, or null. Metrics in the order above (memory first). */
  feed(s: Sample, now = s.at): Trigger | null {
    let found: Trigger | null = null;
    for (const { metric, threshold } of METRICS) {
      const limit = threshold(this.o.thresholds);
      const v = s[metric];
      let h = this.history.get(metric);
      if (!h) this.history.set(metric, (h = []));
      if (v === null || limit === null) {
        h.length = 0; // n/a breaks a run, and never triggers
        continue;
      }
      h.push(v);
      if (h.length > this.o.samples) h.shift();
      if (found || now < this.cooldownUntil) continue;
      const k = this.o.samples;
      if (h.length === k && h.every((x) => x > limit)) found = { metric, value: v, threshold: limit, reason: 'threshold' };
      else if (this.o.predictive && k >= 2 && h.length === k && v <= limit) {
        const projected = project(h, k);
        if (projected > limit && h.every((x, i) => i === 0 || x > h[i - 1])) found = { metric, value: v, threshold: limit, reason: 'trend', projected: Math.round(projected * 10) / 10 };
      }
    }
    return found;
  }

  /** A migration happened at `now`: hold off for the cooldown and start counting afresh. */
  migrated(now: number): void {
    this.cooldownUntil = now + this.o.cooldownMs;
    for (const h of this.history.values()) h.length = 0;
  }

  inCooldown(now: number): boolean {
    return now < this.cooldownUntil;
  }
}

/** The least-squares line through ys (at x = 0..n-1), evaluated `ahead` steps past the last point. */
function project(ys: number[], ahead: number): number {
  const n = ys.length;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (i - mx) * (ys[i] - my);
    den += (i - mx) ** 2;
  }
  const slope = num / den;
  return my + slope * (n - 1 - mx + ahead);
}

/** "threshold exceeded: page cache (MiB) 9000 > 8192 for 3 samples". */
export function describeTrigger(t: Trigger, k: number): string {
  return t.reason === 'threshold'
    ? `threshold exceeded: ${METRIC_NAMES[t.metric]} ${t.value} > ${t.threshold} for ${k} samples`
    : `threshold predicted: ${METRIC_NAMES[t.metric]} ${t.value} rising, projected ${t.projected} > ${t.threshold} within ${k} samples`;
}
