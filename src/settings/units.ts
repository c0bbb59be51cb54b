// Units of sizes and durations: the text forms a user may write ('64KB', '30s', '500ms')
// and the form tsgi prints them back in. Durations are held in milliseconds.

const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1024, k: 1024, mb: 1024 ** 2, m: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3 };
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A bare number of a duration on the command line, in TSGI_* variables and in config files is seconds. */
export const BARE_DURATION_UNIT_MS = 1000;

function withUnit(raw: string, units: Record<string, number>, bare: number | null): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*$/.exec(raw);
  if (!m) return undefined;
  const unit = m[2] === '' ? bare : units[m[2].toLowerCase()];
  if (unit === undefined || unit === null) return undefined;
  const n = Number(m[1]) * unit;
  return Number.isFinite(n) ? Math.round(n) : undefined;
}

/** '64KB' → 65536; a bare number is bytes. undefined when unreadable. */
export function parseBytes(raw: string): number | undefined {
  return withUnit(raw, BYTE_UNITS, 1);
}

/**
 * '500ms' → 500, '1.5s' → 1500, '2m' → 120000 (milliseconds). A bare number is read as
 * `bareUnitMs` milliseconds each (seconds by default); with `bareUnitMs` null a
 * unit is required. undefined when unreadable.
 */
export function parseDuration(raw: string, bareUnitMs: number | null = BARE_DURATION_UNIT_MS): number | undefined {
  return withUnit(raw, DURATION_UNITS, bareUnitMs);
}

/** 30000 → '30s', 1500 → '1500ms', 120000 → '2m', 0 → '0'. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  if (!Number.isInteger(ms)) return `${ms}ms`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
