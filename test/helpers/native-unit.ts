// The plain C++ unit tests of native/ (no V8, no CPython): each is compiled with its
// sources under ASan + UBSan into a temporary directory and run as its own process.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');
const FLAGS = ['-std=c++17', '-g', '-O1', '-Wall', '-Wextra', '-fsanitize=address,undefined', '-fno-sanitize-recover=all'];
// LD_PRELOAD from a sanitizer run of the addon must not leak into these binaries.
const env = { ...process.env, LD_PRELOAD: '' };

export interface UnitTest {
  /** Runs the binary; its standard output. Throws (with its stderr) when it exits non-zero. */
  run(args?: string[], input?: string, timeoutMs?: number): string;
  /** Removes the binary and its directory. */
  remove(): void;
}

/**
 * Compiles `sources` (paths from the project root; the test's own file first) into a
 * binary named `name`. `flags` come before the sources, `libs` after them.
 */
export function buildUnitTest(name: string, sources: string[], opts: { flags?: string[]; libs?: string[]; timeoutMs?: number } = {}): UnitTest {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tsgi-${name}-`));
  const bin = path.join(dir, name);
  execFileSync(process.env.CXX || 'g++', [...FLAGS, ...(opts.flags ?? []), ...sources, '-o', bin, ...(opts.libs ?? [])], {
    cwd: root, stdio: 'pipe', timeout: opts.timeoutMs ?? 120_000,
  });
  return {
    run: (args = [], input, timeoutMs = 30_000) =>
      execFileSync(bin, args, { encoding: 'utf8', env, input, maxBuffer: 1 << 26, timeout: timeoutMs }),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Builds, runs once and removes a unit test; its standard output. */
export function runUnitTest(name: string, sources: string[], args: string[] = []): string {
  const t = buildUnitTest(name, sources);
  try {
    return t.run(args);
  } finally {
    t.remove();
  }
}
