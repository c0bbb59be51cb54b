// Accept-Encoding negotiation (RFC 9110 §12.5.3): q-values, '*', identity.

/** Parses Accept-Encoding into coding → q (lower-cased codings; malformed members skipped). */
export function parseAcceptEncoding(value: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const member of value.split(',')) {
    const parts = member.split(';');
    let coding = parts[0].trim().toLowerCase();
    if (coding === '' || !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(coding)) continue;
    if (coding === 'x-gzip') coding = 'gzip';
    let q = 1;
    let ok = true;
    for (const p of parts.slice(1)) {
      const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(p);
      if (m === null) { if (/^\s*q\s*=/i.test(p)) ok = false; continue; }
      q = Number(m[1]);
      if (q > 1) ok = false;
    }
    if (!ok) continue;
    if (!out.has(coding)) out.set(coding, q);
  }
  return out;
}

/**
 * The codings of `supported` the client accepts, best first (q-value, then the order of
 * `supported`). Empty for no Accept-Encoding header ('' means identity only), or when the
 * client prefers identity explicitly.
 */
export function acceptableEncodings(header: string, supported: readonly string[]): string[] {
  if (header.trim() === '') return [];
  const accepted = parseAcceptEncoding(header);
  const star = accepted.get('*');
  const identityQ = accepted.get('identity');
  const ranked: Array<[string, number]> = [];
  for (const coding of supported) {
    const q = accepted.get(coding) ?? star ?? 0;
    if (q > 0 && (identityQ === undefined || q >= identityQ)) ranked.push([coding, q]);
  }
  // Array.prototype.sort is stable: equal q-values keep the server's order.
  return ranked.sort((a, b) => b[1] - a[1]).map(([c]) => c);
}

/** The best of `supported` the client accepts, or null for identity. */
export function chooseEncoding(header: string, supported: readonly string[]): string | null {
  return acceptableEncodings(header, supported)[0] ?? null;
}
