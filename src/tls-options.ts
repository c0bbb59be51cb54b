// TLS options: the embedding API's `tls` ({ cert, key, ... } as PEM or file paths), the
// CLI's --certfile/--keyfile/... settings turned into the same, and the --sni entries.
// Files are read here, once, when the server is created: the native core gets PEM bytes.
import fs from 'node:fs';
import { OptionError } from './errors';
import { parseDuration } from './settings/units';
import type { NativeTlsOptions } from './native';

type Pem = string | Buffer;

export interface TlsOptions {
  /** Certificate chain: PEM text or bytes, or the path of a PEM file. */
  cert: Pem;
  /** Private key: PEM text or bytes, or a path. Absent: the key is in `cert`. */
  key?: Pem;
  /** Passphrase of an encrypted key. */
  passphrase?: string;
  /** CA certificates that client certificates are verified against. */
  ca?: Pem;
  /** Client certificates: 'none' (default), 'optional', 'required'. */
  certReqs?: 'none' | 'optional' | 'required';
  /** OpenSSL cipher list (TLS 1.2); default OpenSSL's. */
  ciphers?: string;
  /** Oldest version accepted: 'TLSv1.2' (default) or 'TLSv1.3'. */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** Certificates by server name (SNI): { 'api.example.com': { cert, key } }. */
  sni?: Record<string, { cert: Pem; key?: Pem }>;
  /** Milliseconds a handshake may take (or text with a unit, '10s'). Default 10 s. */
  handshakeTimeout?: number | string;
}

export interface SniEntry { host: string; cert: string; key: string }

const KEYS = new Set(['cert', 'key', 'passphrase', 'ca', 'certReqs', 'ciphers', 'minVersion', 'sni', 'handshakeTimeout']);
const DEFAULT_HANDSHAKE_MS = 10_000;

function invalid(message: string): OptionError {
  return new OptionError('TSGI_ERR_INVALID_OPTION', message);
}

/**
 * --sni values: 'HOST=CERT,KEY' each. A list setting splits its values at commas, so an
 * item without '=' is the KEY of the entry before it; 'HOST=CERT' alone has the key in CERT.
 */
export function parseSniEntries(items: readonly string[]): SniEntry[] {
  const out: SniEntry[] = [];
  for (const raw of items) {
    for (const item of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const eq = item.indexOf('=');
      if (eq < 0) {
        const last = out[out.length - 1];
        if (last === undefined || last.key !== last.cert) throw new Error(`--sni ${JSON.stringify(raw)}: expected HOST=CERT,KEY (e.g. api.example.com=/etc/tls/api.pem,/etc/tls/api.key)`);
        last.key = item;
        continue;
      }
      const host = item.slice(0, eq).trim().toLowerCase();
      const cert = item.slice(eq + 1).trim();
      if (!/^(\*\.)?[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/.test(host)) throw new Error(`--sni ${JSON.stringify(raw)}: ${JSON.stringify(host)} is not a server name; expected HOST=CERT,KEY`);
      if (cert === '') throw new Error(`--sni ${JSON.stringify(raw)}: the certificate path is missing; expected HOST=CERT,KEY`);
      if (out.some((e) => e.host === host)) throw new Error(`--sni: ${host} is given twice`);
      out.push({ host, cert, key: cert });
    }
  }
  return out;
}

/** How the native core names a PEM in its errors: the file's path, or the option. */
function pemName(value: unknown, what: string): string {
  return typeof value === 'string' && value !== '' && !value.includes('-----BEGIN') ? value : what.replace(/^option /, '');
}

/** PEM bytes from PEM text/bytes or a file path; `what` names the option for errors. */
function readPem(value: unknown, what: string): Buffer {
  let bytes: Buffer;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) bytes = Buffer.from(value as Uint8Array);
  else if (typeof value === 'string' && value.includes('-----BEGIN')) bytes = Buffer.from(value, 'latin1');
  else if (typeof value === 'string' && value !== '') {
    try {
      bytes = fs.readFileSync(value);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw invalid(`${what}: cannot read ${JSON.stringify(value)} (${code === 'ENOENT' ? 'no such file' : code}); give PEM text, a Buffer, or the path of a PEM file`);
    }
  } else throw invalid(`${what} must be PEM text, a Buffer, or the path of a PEM file, got ${value === '' ? 'an empty string' : typeof value}`);
  if (!bytes.includes('-----BEGIN')) throw invalid(`${what} is not PEM (no '-----BEGIN' line)${typeof value === 'string' && !value.includes('-----BEGIN') ? `: ${JSON.stringify(value)}` : ''}`);
  return bytes;
}

/** Validates the embedding `tls` option and reads its files; returns what the native core takes. */
export function resolveTls(raw: unknown): NativeTlsOptions {
  if (typeof raw !== 'object' || raw === null || Buffer.isBuffer(raw)) throw invalid('option tls must be an object { cert, key, ... }');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.has(k)) throw invalid(`option tls.${k} is not known; the keys are ${[...KEYS].join(', ')}`);
  if (o.cert === undefined) throw invalid('option tls.cert is required: the certificate chain (PEM text, a Buffer, or a file path)');
  const cert = readPem(o.cert, 'option tls.cert');
  const key = o.key === undefined ? cert : readPem(o.key, 'option tls.key');
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.toString('latin1'))) {
    throw invalid(o.key === undefined ? 'option tls.key is missing and tls.cert holds no private key: give tls.key' : 'option tls.key holds no private key (no "-----BEGIN ... PRIVATE KEY-----" line)');
  }
  if (o.passphrase !== undefined && typeof o.passphrase !== 'string') throw invalid('option tls.passphrase must be a string');
  const certReqs = o.certReqs ?? 'none';
  if (certReqs !== 'none' && certReqs !== 'optional' && certReqs !== 'required') throw invalid(`option tls.certReqs must be one of none, optional, required, got ${JSON.stringify(certReqs)}`);
  const ca = o.ca === undefined || o.ca === '' ? undefined : readPem(o.ca, 'option tls.ca');
  if (certReqs !== 'none' && ca === undefined) throw invalid(`option tls.certReqs '${certReqs}' needs tls.ca: the CA certificates client certificates are verified against (tsgi: --ca-certs)`);
  if (o.ciphers !== undefined && typeof o.ciphers !== 'string') throw invalid('option tls.ciphers must be an OpenSSL cipher list string');
  const minVersion = o.minVersion ?? 'TLSv1.2';
  if (minVersion !== 'TLSv1.2' && minVersion !== 'TLSv1.3') throw invalid(`option tls.minVersion must be 'TLSv1.2' or 'TLSv1.3', got ${JSON.stringify(minVersion)}`);
  let tlsHandshakeTimeout = DEFAULT_HANDSHAKE_MS;
  if (o.handshakeTimeout !== undefined) {
    const v = typeof o.handshakeTimeout === 'string' ? parseDuration(o.handshakeTimeout, null) : o.handshakeTimeout;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 100) throw invalid(`option tls.handshakeTimeout must be milliseconds (at least 100) or text with a unit ('10s'), got ${JSON.stringify(o.handshakeTimeout)}`);
    tlsHandshakeTimeout = v;
  }
  const sni: Record<string, { cert: Buffer; key: Buffer; certName: string; keyName: string }> = {};
  if (o.sni !== undefined) {
    if (typeof o.sni !== 'object' || o.sni === null || Array.isArray(o.sni)) throw invalid("option tls.sni must be an object { 'host.example.com': { cert, key } }");
    for (const [host, entry] of Object.entries(o.sni as Record<string, unknown>)) {
      const name = host.toLowerCase();
      if (!/^(\*\.)?[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/.test(name)) throw invalid(`option tls.sni: ${JSON.stringify(host)} is not a server name`);
      if (typeof entry !== 'object' || entry === null) throw invalid(`option tls.sni[${JSON.stringify(host)}] must be { cert, key }`);
      const e = entry as { cert?: unknown; key?: unknown };
      const c = readPem(e.cert, `option tls.sni[${JSON.stringify(host)}].cert`);
      const keyWhat = `option tls.sni[${JSON.stringify(host)}].key`;
      sni[name] = {
        cert: c,
        key: e.key === undefined ? c : readPem(e.key, keyWhat),
        certName: pemName(e.cert, `option tls.sni[${JSON.stringify(host)}].cert`),
        keyName: pemName(e.key ?? e.cert, keyWhat),
      };
    }
  }
  return Object.freeze({
    cert,
    key,
    certName: pemName(o.cert, 'option tls.cert'),
    keyName: pemName(o.key ?? o.cert, 'option tls.key'),
    passphrase: (o.passphrase as string | undefined) ?? '',
    ca,
    certReqs,
    ciphers: (o.ciphers as string | undefined) ?? '',
    minVersion,
    sni: Object.freeze(sni),
    tlsHandshakeTimeout,
  });
}

/** The `tls` embedding option from the CLI's settings (--certfile …), or undefined without --certfile. */
export function tlsFromSettings(s: Readonly<Record<string, unknown>>): TlsOptions | undefined {
  const certfile = String(s.certfile ?? '');
  if (certfile === '') return undefined;
  const sni: Record<string, { cert: string; key: string }> = {};
  for (const e of parseSniEntries((s.sni as string[] | undefined) ?? [])) sni[e.host] = { cert: e.cert, key: e.key };
  return {
    cert: certfile,
    key: String(s.keyfile ?? '') || undefined,
    passphrase: String(s.keyfilePassword ?? '') || undefined,
    ca: String(s.caCerts ?? '') || undefined,
    certReqs: (s.certReqs as TlsOptions['certReqs']) ?? 'none',
    ciphers: String(s.ciphers ?? ''),
    minVersion: (s.tlsMinVersion as TlsOptions['minVersion']) ?? 'TLSv1.2',
    sni,
    handshakeTimeout: Number(s.tlsHandshakeTimeout ?? DEFAULT_HANDSHAKE_MS),
  };
}
