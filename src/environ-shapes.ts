// Environ builders specialised to a request's header sequence. Clients repeat the same
// header names in the same order, request after request; for such a sequence a function
// is compiled once whose single object literal holds the base keys and every header key
// (values sliced from the head at fixed record offsets). The environ is then made with no
// keyed property lookups or stores: the same keys, order and values as environ.ts's
// general path, which stays for the rest (repeated fields, sequences seen once, names
// that are not headers, code generation disabled).
import { REC_HEADERS } from './native';
import type { Environ, ErrorStream, FileWrapperFactory, InputStream } from './types';

/** Builds one environ; the arguments are environ.ts's per-request values, then the record and head. */
export type ShapeBuilder = (
  method: string, scriptName: string, pathInfo: string, query: string, serverName: string, serverPort: string,
  protocol: string, addr: string, port: string, uri: string, version: readonly [1, 0], scheme: string,
  input: InputStream, errors: ErrorStream, multithread: boolean, multiprocess: boolean, fileWrapper: FileWrapperFactory,
  conn: number, listener: number, trailers: ReadonlyArray<readonly [string, string]>, rec: Int32Array, head: string,
) => Environ;

/** A sequence is compiled the time it is seen this many times (one-off sequences stay general). */
const COMPILE_AT = 3;
/** At most this many sequences, and header ids over all of them, are remembered; past it new sequences take the general path. */
const MAX_SHAPES = 1024;
const MAX_IDS = 65536;

/**
 * One header sequence: its record ids in order (> 0 a known header; < 0 the core's code for
 * another name's key, equal codes meaning equal keys; 0 a name with neither), and the
 * names with neither.
 */
class Shape {
  /** The compiled builder; null: this sequence takes the general path. */
  build: ShapeBuilder | null | undefined = undefined;
  seen = 0;
  /** Another sequence with the same hash. */
  next: Shape | undefined = undefined;
  constructor(
    readonly ids: Int32Array,
    /** Positions (in ids) of the names with id 0, and those names as environ keys. */
    readonly namedAt: Int32Array | null,
    readonly names: string[] | null,
  ) {}
}

/** Sequences by hash (of their ids, and the key lengths of their names with id 0). */
let table = new Map<number, Shape>();
let shapes = 0;
let idsKept = 0;
/** The sequence of the last request that found one. */
let lastShape: Shape | undefined;
/** The known-header keys the sequences were recorded with (ids mean keys only with them). */
let rootKeys: readonly string[] | undefined;
/** False once the runtime refused to compile (node --disallow-code-generation-from-strings). */
let enabled = true;

/** Keys the environ has before its headers, and what the builder's arguments fill them with. */
const BASE: ReadonlyArray<readonly [string, string]> = [
  ['REQUEST_METHOD', 'method'], ['SCRIPT_NAME', 'scriptName'], ['PATH_INFO', 'pathInfo'], ['QUERY_STRING', 'query'],
  ['CONTENT_TYPE', "''"], ['CONTENT_LENGTH', "''"], ['SERVER_NAME', 'serverName'], ['SERVER_PORT', 'serverPort'],
  ['SERVER_PROTOCOL', 'protocol'], ['REMOTE_ADDR', 'addr'], ['REMOTE_PORT', 'port'], ['REQUEST_URI', 'uri'],
  ['wsgi.version', 'version'], ['wsgi.url_scheme', 'scheme'], ['wsgi.input', 'input'], ['wsgi.errors', 'errors'],
  ['wsgi.multithread', 'multithread'], ['wsgi.multiprocess', 'multiprocess'], ['wsgi.run_once', 'false'],
  ['wsgi.file_wrapper', 'fileWrapper'], ['wsgi.input_terminated', 'true'], ['tsgi.connection', 'conn'],
  ['tsgi.listener', 'listener'], ['tsgi.trailers', 'trailers'],
];
const PARAMS = 'method, scriptName, pathInfo, query, serverName, serverPort, protocol, addr, port, uri, version, scheme, input, errors, multithread, multiprocess, fileWrapper, conn, listener, trailers, rec, head';
const BASE_INDEX = new Map(BASE.map(([k], i) => [k, i]));

/**
 * The compiled builder for the header sequence of the request in `rec`/`head`, or null
 * (use the general path). `keys` are the environ keys by known-header id; `keysStart` is
 * where the first header's name starts in the head.
 *
 * The sequence is the last request's when it compares equal, else found by a hash over
 * the record's ids (reads of one typed array, no pointers followed), then compared id by
 * id; names with id 0 (no known id, no code) are compared in place (no string is made).
 */
export function shapeBuilder(rec: Int32Array, head: string, count: number, keys: readonly string[], keysStart: number): ShapeBuilder | null {
  if (!enabled) return null;
  if (keys !== rootKeys) {
    table = new Map();
    lastShape = undefined;
    shapes = 0;
    idsKept = 0;
    rootKeys = keys;
  }
  // Most requests repeat the sequence of the one before: that one is tried first.
  let shape = lastShape;
  if (shape === undefined || !same(shape, rec, head, count, keysStart)) {
    shape = find(rec, head, count, keysStart);
    if (shape === undefined) return null;
    lastShape = shape;
  }
  if (shape.build !== undefined) return shape.build;
  if (++shape.seen < COMPILE_AT) return null;
  shape.build = compile(rec, head, count, keys, keysStart);
  return shape.build;
}

/** The request's sequence from the table, recorded there if new; undefined when the table is full. */
function find(rec: Int32Array, head: string, count: number, keysStart: number): Shape | undefined {
  let h = count;
  let prevEnd = keysStart;
  for (let i = 0, at = REC_HEADERS; i < count; i++, at += 3) {
    const id = rec[at];
    h = Math.imul(h ^ (id !== 0 ? id : 0x10000 + rec[at + 1] - prevEnd), 0x01000193);
    prevEnd = rec[at + 2];
  }
  let shape = table.get(h);
  while (shape !== undefined && !same(shape, rec, head, count, keysStart)) shape = shape.next;
  if (shape !== undefined) return shape;
  if (shapes >= MAX_SHAPES || idsKept + count > MAX_IDS) return undefined;
  shape = record(rec, head, count, keysStart);
  shape.next = table.get(h);
  table.set(h, shape);
  shapes++;
  idsKept += count;
  return shape;
}

/** True when the request's header sequence is `shape`'s. */
function same(shape: Shape, rec: Int32Array, head: string, count: number, keysStart: number): boolean {
  const ids = shape.ids;
  if (ids.length !== count) return false;
  for (let i = 0, at = REC_HEADERS; i < count; i++, at += 3) {
    if (rec[at] !== ids[i]) return false;
  }
  const namedAt = shape.namedAt;
  if (namedAt === null) return true;
  const names = shape.names!;
  for (let j = 0; j < namedAt.length; j++) {
    const at = REC_HEADERS + 3 * namedAt[j];
    const start = at === REC_HEADERS ? keysStart : rec[at - 1];
    const name = names[j];
    if (rec[at + 1] - start !== name.length || !head.startsWith(name, start)) return false;
  }
  return true;
}

/** A new Shape for the request's header sequence. */
function record(rec: Int32Array, head: string, count: number, keysStart: number): Shape {
  const ids = new Int32Array(count);
  const at: number[] = [];
  const names: string[] = [];
  let prevEnd = keysStart;
  for (let i = 0, r = REC_HEADERS; i < count; i++, r += 3) {
    const id = rec[r];
    ids[i] = id;
    if (id === 0) {
      at.push(i);
      names.push(head.slice(prevEnd, rec[r + 1]));
    }
    prevEnd = rec[r + 2];
  }
  return at.length === 0 ? new Shape(ids, null, null) : new Shape(ids, Int32Array.from(at), names);
}

/** The builder for this request's header sequence; null when it has a repeated key or code cannot be generated. */
function compile(rec: Int32Array, head: string, count: number, keys: readonly string[], keysStart: number): ShapeBuilder | null {
  const values = BASE.map(([, v]) => v);
  const extra: string[] = [];
  const used = new Set<string>();
  let prevEnd = keysStart;
  for (let i = 0, at = REC_HEADERS; i < count; i++, at += 3) {
    const id = rec[at];
    const key = id > 0 ? keys[id] : head.slice(prevEnd, rec[at + 1]);
    prevEnd = rec[at + 2];
    // A repeated field is merged (or the first kept) by the general path.
    if (used.has(key) || key === '__proto__') return null;
    used.add(key);
    const value = `head.slice(rec[${at + 1}], rec[${at + 2}])`;
    const base = BASE_INDEX.get(key);
    if (base === undefined) extra.push(`${JSON.stringify(key)}: ${value}`);
    else if (key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH') values[base] = value;
    else return null;
  }
  const fields = BASE.map(([k], i) => `${JSON.stringify(k)}: ${values[i]}`).concat(extra);
  try {
    return new Function(`return function environ(${PARAMS}) {\n  return {\n    ${fields.join(',\n    ')},\n  };\n};`)() as ShapeBuilder;
  } catch {
    enabled = false;
    return null;
  }
}
