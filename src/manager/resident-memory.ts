// The process's resident memory for heartbeats and stats. Reading it opens
// /proc/self/stat, which fails when descriptors (EMFILE) or memory (ENOMEM) run out; a
// heartbeat must never throw for that, so a failed read reports the last value read.
let last = 0;

/** Resident set size in bytes; the last known value when it cannot be read right now. */
export function residentMemory(read: () => number = process.memoryUsage.rss): number {
  try {
    last = read();
  } catch {
    // Descriptors or memory exhausted: keep the last known value.
  }
  return last;
}
