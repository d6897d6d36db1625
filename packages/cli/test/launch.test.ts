/**
 * What a program sees of its launch through the CLI: `--env` (repeatable, values may hold
 * '='), arguments, and stdio as the host has it: isatty(1) is false when stdout is a pipe,
 * /dev/null or a file, true on a terminal.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, PROGRAMS, mvvm, workdir } from './cli-harness';

const probe = join(PROGRAMS, 'probe.wasm');

function isattyLine(stderr: string): string {
  const line = stderr.split('\n').find((l) => l.startsWith('isatty '));
  if (line === undefined) throw new Error(`the probe printed no isatty line; stderr: ${stderr}`);
  return line;
}

test('--env and arguments reach the program', () => {
  const r = mvvm(['run', '--env', 'A=1', '-e', 'B=x=y', '--env', 'EMPTY=', probe, 'one', 'two words'], workdir());
  expect(r.code).toBe(0);
  const lines = r.stderr.toString().split('\n');
  expect(lines.filter((l) => l.startsWith('arg '))).toEqual(['arg one', 'arg two words']);
  expect(lines.filter((l) => l.startsWith('env '))).toEqual(['env A=1', 'env B=x=y', 'env EMPTY=']);
  expect(r.stdout.toString()).toBe('stdout line\n');
});

test('--env without a value is refused with one line', () => {
  const r = mvvm(['run', '--env', 'NOVALUE', probe], workdir());
  expect(r.code).not.toBe(0);
  expect(r.stderr.toString()).toMatch(/--env 'NOVALUE': expected KEY=VALUE/);
});

test('stdout that is a pipe, /dev/null or a file is not a terminal', () => {
  const dir = workdir();
  expect(isattyLine(mvvm(['run', probe], dir).stderr.toString())).toBe('isatty 0=0 1=0 2=0');
  const devnull = spawnSync(process.execPath, [BIN, 'run', probe], { cwd: dir, stdio: ['pipe', 'ignore', 'pipe'] });
  expect(isattyLine(devnull.stderr.toString())).toBe('isatty 0=0 1=0 2=0');
  const outPath = join(dir, 'out.txt');
  const out = openSync(outPath, 'w');
  try {
    const toFile = spawnSync(process.execPath, [BIN, 'run', probe], { cwd: dir, stdio: ['pipe', out, 'pipe'] });
    expect(isattyLine(toFile.stderr.toString())).toBe('isatty 0=0 1=0 2=0');
  } finally {
    closeSync(out);
  }
  expect(readFileSync(outPath, 'utf8')).toBe('stdout line\n');
});

// util-linux's `script` runs a command on a new pseudo-terminal; without it there is no terminal to test with.
const haveScript = spawnSync('script', ['--version']).status === 0;
(haveScript ? test : test.skip)('on a terminal every stdio fd is one (needs util-linux script)', () => {
  const command = [process.execPath, BIN, 'run', probe].map((a) => `'${a}'`).join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: workdir(), stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(isattyLine(r.stdout.replace(/\r/g, ''))).toBe('isatty 0=1 1=1 2=1');
});
