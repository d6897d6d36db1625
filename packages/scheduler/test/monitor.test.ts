import { ConfigError, loadConfig } from '../src/config';
import { SystemMonitor, describeSample } from '../src/monitor';
import { TriggerDetector } from '../src/trigger';
import { FakeHost } from './fixtures';

const thresholds = { cacheMb: 8192, tempC: 80, memoryPct: 85, psiPct: null };

describe('SystemMonitor on fixture trees', () => {
  test('reads page cache, memory use, PSI, temperature (hottest zone) and CPU load', () => {
    const host = new FakeHost({ cachedMb: 600, totalMb: 16000, availableMb: 4000, psi: 1.25, temps: [41.5, 67.25, 55], cpu: [100, 900] });
    try {
      const m = new SystemMonitor({ procRoot: host.proc, sysRoot: host.sys });
      const a = m.sample();
      expect(a).toMatchObject({ cacheMb: 600, memoryPct: 75, memTotalMb: 16000, memAvailableMb: 4000, psiSome10: 1.25, tempC: 67.3, cpuPct: null });
      host.set({ cachedMb: 700, totalMb: 16000, availableMb: 8000, psi: 0, temps: [41.5, 30, 55], cpu: [400, 1600] });
      const b = m.sample();
      expect(b).toMatchObject({ cacheMb: 700, memoryPct: 50, tempC: 55, psiSome10: 0, cpuPct: 30 }); // (400-100)/(2000-1000)
      expect(describeSample(b)).toBe('cache 700 MiB, temp 55 °C, memory 50 % used, psi 0 %, cpu 30 %');
    } finally {
      host.remove();
    }
  });

  test('every source is optional: a host without thermal zones, PSI, meminfo or stat reports n/a', () => {
    const host = new FakeHost({});
    try {
      const s = new SystemMonitor({ procRoot: host.proc, sysRoot: host.sys }).sample();
      expect(s).toMatchObject({ cacheMb: null, tempC: null, memoryPct: null, psiSome10: null, cpuPct: null });
      expect(describeSample(s)).toBe('cache n/a, temp n/a, memory n/a, psi n/a, cpu n/a');
      // n/a never triggers, however low the thresholds
      const d = new TriggerDetector({ thresholds: { cacheMb: 0, tempC: -50, memoryPct: 0, psiPct: 0 }, samples: 1, cooldownMs: 0 });
      for (let i = 0; i < 5; i++) expect(d.feed(s)).toBeNull();
    } finally {
      host.remove();
    }
  });

  test('a meminfo without MemAvailable gives the page cache but no memory share; the real host reads', () => {
    const host = new FakeHost({ cachedMb: 10, totalMb: 100 });
    try {
      expect(new SystemMonitor({ procRoot: host.proc, sysRoot: host.sys }).sample()).toMatchObject({ cacheMb: 10, memoryPct: null });
    } finally {
      host.remove();
    }
    const real = new SystemMonitor().sample();
    expect(real.memTotalMb).toBeGreaterThan(0);
  });
});

describe('TriggerDetector', () => {
  const at = (i: number) => 1_000_000 + i * 1000;
  const sample = (i: number, o: { cacheMb?: number; tempC?: number | null; memoryPct?: number }) => ({
    at: at(i), cacheMb: o.cacheMb ?? 100, tempC: o.tempC ?? null, memoryPct: o.memoryPct ?? 10, memTotalMb: 16000, memAvailableMb: 1000, psiSome10: null, cpuPct: null,
  });

  test('K consecutive samples over the threshold trigger; one spike or a broken run does not', () => {
    const d = new TriggerDetector({ thresholds, samples: 3, cooldownMs: 0 });
    const seq = [100, 9000, 100, 9000, 9000, 100, 9000, 9000];
    for (let i = 0; i < seq.length; i++) expect(d.feed(sample(i, { cacheMb: seq[i] }))).toBeNull();
    expect(d.feed(sample(8, { cacheMb: 9500 }))).toEqual({ metric: 'cacheMb', value: 9500, threshold: 8192, reason: 'threshold' });
  });

  test('cooldown: nothing triggers for cooldownMs after a migration, then K fresh samples are needed', () => {
    const d = new TriggerDetector({ thresholds, samples: 2, cooldownMs: 5000 });
    expect(d.feed(sample(0, { memoryPct: 90 }))).toBeNull();
    expect(d.feed(sample(1, { memoryPct: 90 }))).not.toBeNull();
    d.migrated(at(1));
    for (let i = 2; i <= 5; i++) expect(d.feed(sample(i, { memoryPct: 95 }))).toBeNull(); // at(5) < at(1) + 5000
    expect(d.inCooldown(at(5))).toBe(true);
    expect(d.feed(sample(6, { memoryPct: 95 }))).toMatchObject({ metric: 'memoryPct', value: 95 });
  });

  test('the temperature trigger', () => {
    const d = new TriggerDetector({ thresholds, samples: 3, cooldownMs: 0 });
    expect(d.feed(sample(0, { tempC: 85 }))).toBeNull();
    expect(d.feed(sample(1, { tempC: 81 }))).toBeNull();
    expect(d.feed(sample(2, { tempC: 80.5 }))).toEqual({ metric: 'tempC', value: 80.5, threshold: 80, reason: 'threshold' });
    const e = new TriggerDetector({ thresholds, samples: 3, cooldownMs: 0 });
    for (let i = 0; i < 6; i++) expect(e.feed(sample(i, { tempC: 80 }))).toBeNull(); // at the threshold is not over it
  });

  test('predictive: a fast climb triggers before the threshold, a slow one or a plateau does not', () => {
    const climb = new TriggerDetector({ thresholds, samples: 3, cooldownMs: 0, predictive: true });
    expect(climb.feed(sample(0, { memoryPct: 60 }))).toBeNull();
    expect(climb.feed(sample(1, { memoryPct: 68 }))).toBeNull();
    expect(climb.feed(sample(2, { memoryPct: 76 }))).toEqual({ metric: 'memoryPct', value: 76, threshold: 85, reason: 'trend', projected: 100 });
    const slow = new TriggerDetector({ thresholds, samples: 3, cooldownMs: 0, predictive: true });
    for (const [i, v] of [60, 61, 62, 63, 64].entries()) expect(slow.feed(sample(i, { memoryPct: v }))).toBeNull();
    const off = new TriggerDetector({ thresholds, samples: 3, cooldownMs: 0 });
    for (const [i, v] of [60, 68, 76].entries()) expect(off.feed(sample(i, { memoryPct: v }))).toBeNull();
  });
});

describe('configuration from the environment', () => {
  test("the framework's defaults", () => {
    const c = loadConfig({});
    expect(c).toEqual({
      thresholds: { cacheMb: 8192, tempC: 80, memoryPct: 85, psiPct: null },
      port: 9876,
      targets: [],
      intervalMs: 1000,
      triggerSamples: 3,
      cooldownMs: 30000,
      predictive: false,
      logSamples: false,
    });
  });

  test('values and targets are read', () => {
    const c = loadConfig({
      MIGRATION_CACHE_THRESHOLD_MB: '512',
      MIGRATION_TEMP_THRESHOLD_C: '70.5',
      MIGRATION_MEMORY_THRESHOLD_PCT: '90',
      MIGRATION_PORT: '7000',
      ARM_MIGRATION_HOST: 'pi.local',
      MIGRATION_TARGETS: 'x86_64@10.0.0.2:9000, [::1]:9001',
      MIGRATION_MONITOR_INTERVAL_MS: '250',
      MIGRATION_TRIGGER_SAMPLES: '5',
      MIGRATION_PREDICTIVE: '1',
    });
    expect(c.thresholds).toEqual({ cacheMb: 512, tempC: 70.5, memoryPct: 90, psiPct: null });
    expect(c.targets).toEqual([
      { arch: 'arm64', host: 'pi.local', port: 7000 },
      { arch: 'x86_64', host: '10.0.0.2', port: 9000 },
      { arch: 'any', host: '::1', port: 9001 },
    ]);
    expect([c.port, c.intervalMs, c.triggerSamples, c.predictive]).toEqual([7000, 250, 5, true]);
  });

  test.each([
    ['MIGRATION_CACHE_THRESHOLD_MB', 'lots', /MIGRATION_CACHE_THRESHOLD_MB="lots": expected a number/],
    ['MIGRATION_MEMORY_THRESHOLD_PCT', '150', /MIGRATION_MEMORY_THRESHOLD_PCT="150": expected a number from 0 to 100/],
    ['MIGRATION_PORT', '70000', /MIGRATION_PORT="70000": expected an integer/],
    ['MIGRATION_TRIGGER_SAMPLES', '0', /MIGRATION_TRIGGER_SAMPLES="0"/],
    ['MIGRATION_TRIGGER_SAMPLES', '2.5', /expected an integer/],
    ['MIGRATION_MONITOR_INTERVAL_MS', '-1', /MIGRATION_MONITOR_INTERVAL_MS/],
    ['MIGRATION_TEMP_THRESHOLD_C', 'NaN', /MIGRATION_TEMP_THRESHOLD_C/],
    ['MIGRATION_TARGETS', 'arm64@', /MIGRATION_TARGETS: '': expected HOST:PORT/],
    ['MIGRATION_TARGETS', 'host:99999', /MIGRATION_TARGETS: 'host:99999': bad port/],
    ['MIGRATION_TARGETS', 'a b@host:1', /the architecture must be a word/],
    ['ARM_MIGRATION_HOST', 'host:x', /ARM_MIGRATION_HOST: "host:x" is not HOST:PORT/],
    ['MIGRATION_PREDICTIVE', 'maybe', /MIGRATION_PREDICTIVE="maybe": expected 1 or 0/],
  ])('%s=%s is refused', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });
});
