/**
 * A user's bundler gets one copy of every package: each package's entry point ("exports",
 * dist/) is what every import of it resolves to, with no tsconfig `paths` sending some
 * imports to src/ instead (two copies of @mvvm/interpreter made the bundled CLI fail with
 * "cannot link ... it belongs to another store"). Bundles the CLI from a checkout with
 * esbuild and runs, checkpoints and restores a WASI program with the bundle alone.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { PROGRAMS, mvvm, workdir } from './cli-harness';

const ROOT = join(__dirname, '..', '..', '..');
let dir: string;
let bundle: string;
/** The files esbuild put into the bundle, relative to the repository. */
let inputs: string[];

beforeAll(() => {
  // The bundle is made of the packages' dist/ (as an installed copy would be): build it.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', ...['interpreter', 'wasi', 'snapshot', 'cli'].map((p) => join(ROOT, 'packages', p))], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'mvvm-bundle-'));
  bundle = join(dir, 'mvvm-bundled.js');
  const result = buildSync({
    stdin: {
      contents: "require('../src/main').main(process.argv.slice(2)).then((code) => { process.exitCode = code; });",
      resolveDir: join(ROOT, 'packages', 'cli', 'test'),
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    outfile: bundle,
    external: ['cbor-extract'], // cbor-x's optional native helper: it falls back to JS without it
    logLevel: 'error',
    metafile: true,
    absWorkingDir: ROOT,
  });
  inputs = Object.keys(result.metafile!.inputs);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('the bundle holds one copy of each package: its dist/', () => {
  for (const name of ['interpreter', 'wasi', 'snapshot']) {
    const files = inputs.filter((f) => f.startsWith(`packages/${name}/`));
    expect(files.length).toBeGreaterThan(5);
    expect(files.filter((f) => !f.startsWith(`packages/${name}/dist/`))).toEqual([]);
  }
  expect(inputs.filter((f) => /^packages\/interpreter\/.*\/machine\.[jt]s$/.test(f))).toEqual(['packages/interpreter/dist/machine.js']);
  expect(readFileSync(bundle, 'utf8')).toContain('belongs to another store'); // the check is there, and passes below
});

test('the bundled CLI runs, checkpoints and restores a WASI program like the bin', () => {
  const wasm = join(PROGRAMS, 'compute.wasm');
  const ref = mvvm(['run', wasm, '-g7', '-n30000'], workdir());
  expect(ref.stdout.length).toBeGreaterThan(0);
  const run = (args: string[], cwd: string) => spawnSync(process.execPath, [bundle, ...args], { cwd, encoding: 'buffer' });
  const whole = run(['run', wasm, '-g7', '-n30000'], workdir());
  expect(whole.stderr.toString()).toBe(ref.stderr.toString());
  expect(whole.stdout.toString()).toBe(ref.stdout.toString());
  expect(whole.status).toBe(ref.code);

  const cwd = workdir();
  const first = run(['checkpoint', '-t', wasm, '-a', '-g7,-n30000', '-c', '200000', '-o', 's.mvvm'], cwd);
  expect(first.stderr.toString()).not.toMatch(/another store|Error/);
  expect(first.status).toBe(0);
  const second = run(['restore', '-t', wasm, 's.mvvm'], cwd);
  expect(second.stderr.toString()).not.toMatch(/another store|Error/);
  expect(Buffer.concat([first.stdout, second.stdout]).toString()).toBe(ref.stdout.toString());
  expect(second.status).toBe(ref.code);
});
