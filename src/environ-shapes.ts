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
/** At most this many sequence steps are remembered; past it new sequences take the general path. */
const MAX_NODES = 4096;

class ShapeNode {
  /** The next step by known-header id. */
  known: Array<ShapeNode | undefined> = [];
  /** The next steps by the key of a header without an id: keys and nodes, side by side. */
  namedKeys: string[] | undefined = undefined;
  namedNodes: ShapeNode[] | undefined = undefined;
  /** The compiled builder; null: this sequence takes the general path. */
  build: ShapeBuilder | null | undefined = undefined;
  seen = 0;
}

let root = new ShapeNode();
let nodes = 1;
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
 */
export function shapeBuilder(rec: Int32Array, head: string, count: number, keys: readonly string[], keysStart: number): ShapeBuilder | null {
  if (!enabled) return null;
  if (keys !== rootKeys) {
    root = new ShapeNode();
    nodes = 1;
    rootKeys = keys;
  }
  let node = root;
  let prevEnd = keysStart;
  for (let i = 0, at = REC_HEADERS; i < count; i++, at += 3) {
    const id = rec[at];
    let next: ShapeNode | undefined;
    if (id > 0) next = node.known[id];
    else next = named(node, head, prevEnd, rec[at + 1]);
    if (next === undefined) {
      if (nodes >= MAX_NODES) return null;
      nodes++;
      next = new ShapeNode();
      if (id > 0) {
        node.known[id] = next;
      } else {
        (node.namedKeys ??= []).push(head.slice(prevEnd, rec[at + 1]));
        (node.namedNodes ??= []).push(next);
      }
    }
    node = next;
    prevEnd = rec[at + 2];
  }
  const build = node.build;
  if (build !== undefined) return build;
  if (++node.seen < COMPILE_AT) return null;
  node.build = compile(rec, head, count, keys, keysStart);
  return node.build;
}

/** The step after `node` for the key at head[start, end) (compared in place: no string is made). */
function named(node: ShapeNode, head: string, start: number, end: number): ShapeNode | undefined {
  const keys = node.namedKeys;
  if (keys === undefined) return undefined;
  const length = end - start;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k.length === length && head.startsWith(k, start)) return node.namedNodes![i];
  }
  return undefined;
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
