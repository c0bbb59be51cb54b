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
 * The best of `supported` (in server preference order) the client accepts, or null for
 * identity. No Accept-Encoding header (undefined/'') means identity only.
 */
export function chooseEncoding(header: string, supported: readonly string[]): string | null {
  if (header.trim() === '') return null;
  const accepted = parseAcceptEncoding(header);
  const star = accepted.get('*');
  let best: string | null = null;
  let bestQ = 0;
  for (const coding of supported) {
    const q = accepted.get(coding) ?? star ?? 0;
    if (q > bestQ) { best = coding; bestQ = q; }
  }
  if (best === null) return null;
  // Identity is preferred when the client says so explicitly.
  const identityQ = accepted.get('identity');
  if (identityQ !== undefined && identityQ > bestQ) return null;
  return best;
}
