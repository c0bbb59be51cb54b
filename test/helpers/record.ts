// Builds a synthetic native request record and head string, laid out exactly as
// src/native.ts documents, for unit tests of the environ that need no sockets.
import {
  REC_VERSION_MINOR, REC_METHOD_END, REC_TARGET_END, REC_QUERY_START, REC_PATH_END, REC_ADDR_END,
  REC_REMOTE_PORT, REC_LOCAL_PORT, REC_LISTENER, REC_FLAGS, REC_HEADER_COUNT, REC_HEADERS,
  REC_TRAILERS_START, REC_OVERRIDE_COUNT,
} from '../../src/native';

/** A stand-in for binding.knownHeaders(): id → environ key. */
export const KNOWN = ['', 'HTTP_HOST', 'CONTENT_LENGTH', 'CONTENT_TYPE', 'HTTP_CONNECTION', 'HTTP_TRANSFER_ENCODING', 'HTTP_EXPECT', 'HTTP_ACCEPT', 'HTTP_ACCEPT_ENCODING', 'HTTP_ACCEPT_LANGUAGE', 'HTTP_USER_AGENT', 'HTTP_COOKIE'];

export interface SyntheticRequest {
  method?: string;
  target: string;
  /** Percent-decoded path as latin-1 bytes; defaults to the target's path part. */
  path?: string;
  minor?: 0 | 1;
  addr?: string;
  remotePort?: number;
  localPort?: number;
  listener?: number;
  flags?: number;
  /** [environ key, value]; a key in KNOWN is sent by id. */
  headers?: Array<[string, string]>;
  /** The trailer text of a chunked body, as the native core appends it ('name:value\n' each). */
  trailers?: string;
  /** [environ key, value] entries that set keys outright (REC_OVERRIDE_COUNT: uwsgi, PROXY protocol). */
  overrides?: Array<[string, string]>;
}

export function synthesize(req: SyntheticRequest): { rec: Int32Array; head: string } {
  const method = req.method ?? 'GET';
  const q = req.target.indexOf('?');
  const path = req.path ?? decodeURIComponentBytes(q < 0 ? req.target : req.target.slice(0, q));
  const addr = req.addr ?? '127.0.0.1';
  const rec = new Int32Array(REC_HEADERS + 3 * 1024);
  let head = method + req.target + path + addr;
  rec[REC_VERSION_MINOR] = req.minor ?? 1;
  rec[REC_METHOD_END] = method.length;
  rec[REC_TARGET_END] = method.length + req.target.length;
  rec[REC_QUERY_START] = q < 0 ? -1 : method.length + q + 1;
  rec[REC_PATH_END] = rec[REC_TARGET_END] + path.length;
  rec[REC_ADDR_END] = rec[REC_PATH_END] + addr.length;
  rec[REC_REMOTE_PORT] = req.remotePort ?? 40000;
  rec[REC_LOCAL_PORT] = req.localPort ?? 8000;
  rec[REC_LISTENER] = req.listener ?? 0;
  rec[REC_FLAGS] = req.flags ?? 1;
  const headers = req.headers ?? [];
  rec[REC_HEADER_COUNT] = headers.length;
  headers.forEach(([key, value], i) => {
    const id = KNOWN.indexOf(key);
    const at = REC_HEADERS + 3 * i;
    rec[at] = id > 0 ? id : 0;
    if (id <= 0) head += key;
    rec[at + 1] = head.length;
    head += value;
    rec[at + 2] = head.length;
  });
  const overrides = req.overrides ?? [];
  rec[REC_OVERRIDE_COUNT] = overrides.length;
  overrides.forEach(([key, value], i) => {
    const at = REC_HEADERS + 3 * (headers.length + i);
    rec[at] = 0;
    head += key;
    rec[at + 1] = head.length;
    head += value;
    rec[at + 2] = head.length;
  });
  rec[REC_TRAILERS_START] = head.length;
  head += req.trailers ?? '';
  return { rec, head };
}

/** Percent-decodes to bytes carried as latin-1 characters (what the native core does). */
export function decodeURIComponentBytes(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}
