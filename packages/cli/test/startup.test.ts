/**
 * Start-up: the bin runs the compiled packages (no TypeScript compiled at launch) while the
 * build is current, and never a stale build: older than its sources, it runs the sources
 * (through tsx) and says so.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { compiledIsCurrent, PACKAGES } = require('../bin/compiled') as { compiledIsCurrent: (dir: string) => boolean; PACKAGES: string[] };
const ROOT = join(__dirname, '..', '..', '..');

/** A fake packages/ tree: each package with src/a/b.ts, dist/index.js and a build stamp, all at `t` (s). */
function fakePackages(t: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'mvvm-compiled-'));
  for (const name of PACKAGES) {
    mkdirSync(join(dir, name, 'src', 'a'), { recursive: true });
    mkdirSync(join(dir, name, 'dist'));
    for (const f of ['src/a/b.ts', 'dist/index.js', 'tsconfig.tsbuildinfo']) {
      writeFileSync(join(dir, name, f), '');
      utimesSync(join(dir, name, f), t, t);
    }
  }
  return dir;
}

test('a build is current only when no source of any package is newer than its build', () => {
  const dir = fakePackages(1_000_000);
  try {
    expect(compiledIsCurrent(dir)).toBe(true);
    utimesSync(join(dir, 'snapshot', 'src', 'a', 'b.ts'), 1_000_010, 1_000_010); // edited after the build
    expect(compiledIsCurrent(dir)).toBe(false);
    utimesSync(join(dir, 'snapshot', 'tsconfig.tsbuildinfo'), 1_000_020, 1_000_020); // rebuilt
    expect(compiledIsCurrent(dir)).toBe(true);
    rmSync(join(dir, 'wasi', 'dist', 'index.js')); // never built
    expect(compiledIsCurrent(dir)).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with a current build (npm test builds first), the bin loads no TypeScript compiler', () => {
  expect(compiledIsCurrent(join(ROOT, 'packages'))).toBe(true);
  const bin = join(ROOT, 'packages', 'cli', 'bin', 'mvvm.js');
  const r = spawnSync(
    process.execPath,
    ['-e', `process.on('exit', () => process.stdout.write('tsx loaded: ' + Object.keys(require.cache).some((k) => /[\\\\/]tsx[\\\\/]/.test(k))));
      process.argv.splice(1, 0, 'mvvm'); require(${JSON.stringify(bin)});`, 'run', join(ROOT, 'bench', 'startup', 'empty.wasm')],
    { encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('tsx loaded: false');
  expect(r.status).toBe(0);
});
