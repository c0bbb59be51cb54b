// Waiting in tests: one sleep and one polling wait for every harness.
import fs from 'node:fs';

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until `cond()` holds (polling), or fails after `ms`. */
export async function until(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** The non-empty lines of `file` once it has at least `n` (polling), or what it has after `ms`. */
export async function linesOf(file: string, n: number, ms = 5000): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    if (lines.length >= n || Date.now() > deadline) return lines;
    await sleep(50);
  }
}
