// Codes for header names the core has no id for, through the real addon: the record's id
// of such a name is minus its environ key's code, the same for the same key on every
// connection and in every spelling, distinct for distinct keys; once the loop's table is
// full (HeaderNameCodes::kMaxKeys), new keys come with id 0 and their key text as before.
import { afterEach, expect, it } from 'vitest';
import { REC_HEADER_COUNT, REC_HEADERS, REC_HEADER_STRIDE } from '../src/native';
import { b, exchange, parseResponses, startServer, type TestServer } from './native-harness';

let srv: TestServer | undefined;
afterEach(async () => { await srv?.close(); srv = undefined; });

const MAX_KEYS = 256;  // HeaderNameCodes::kMaxKeys

/** A server recording, per request, [environ key, record id] for every header. */
async function recordingServer(): Promise<{ srv: TestServer; seen: Array<Array<[string, number]>> }> {
  const seen: Array<Array<[string, number]>> = [];
  const s = await startServer({ maxHeaders: 100 }, (req) => {
    const r = b.record;
    seen.push(req.headers.map(([k], i) => [k, r[REC_HEADERS + i * REC_HEADER_STRIDE]]));
    expect(r[REC_HEADER_COUNT]).toBe(req.headers.length);
    b.respond(req.conn, 204, '204 No Content\r\n', null, -1, 0);
  });
  return { srv: s, seen };
}

/** The environ key of a header name. */
const key = (name: string) => `HTTP_${name.toUpperCase().replace(/-/g, '_')}`;

function request(names: string[]): string {
  return `GET / HTTP/1.1\r\nHost: h\r\n${names.map((n, i) => `${n}: v${i}\r\n`).join('')}\r\n`;
}

it('gives the same key the same negative id on every connection and in every spelling', async () => {
  const r = await recordingServer();
  srv = r.srv;
  await exchange(srv.port, request(['X-Code-One', 'X-Code-Two']), { until: (t) => parseResponses(t).length >= 1 });
  await exchange(srv.port, request(['x-code-two', 'X-CODE-ONE', 'Accept']), { until: (t) => parseResponses(t).length >= 1 });
  const [first, second] = r.seen.map((hs) => new Map(hs));
  const one = first.get('HTTP_X_CODE_ONE')!;
  const two = first.get('HTTP_X_CODE_TWO')!;
  expect(one).toBeLessThan(0);
  expect(two).toBeLessThan(0);
  expect(one).not.toBe(two);
  expect(second.get('HTTP_X_CODE_ONE')).toBe(one);
  expect(second.get('HTTP_X_CODE_TWO')).toBe(two);
  expect(second.get('HTTP_ACCEPT')).toBeGreaterThan(0);  // a known header keeps its id
  expect(first.get('HTTP_HOST')).toBeGreaterThan(0);
});

it('stops coding new keys once the table is full, and delivers them with id 0', async () => {
  const r = await recordingServer();
  srv = r.srv;
  // More distinct keys than the table holds, 90 per request (the table is the loop's:
  // keys coded by earlier tests in this process count too).
  const names = Array.from({ length: MAX_KEYS + 40 }, (_, i) => `X-Fill-${i}`);
  for (let at = 0; at < names.length; at += 90) {
    await exchange(srv.port, request(names.slice(at, at + 90)), { until: (t) => parseResponses(t).length >= 1 });
  }
  const ids = new Map(r.seen.flat());
  expect(ids.size).toBe(names.length + 1);
  const coded = names.filter((n) => ids.get(key(n))! < 0);
  const uncoded = names.filter((n) => ids.get(key(n)) === 0);
  expect(coded.length + uncoded.length).toBe(names.length);
  expect(coded.length).toBeLessThanOrEqual(MAX_KEYS);
  expect(uncoded.length).toBeGreaterThanOrEqual(40);
  // Coding is first come, first served: every coded key came before every uncoded one.
  expect(names.indexOf(coded[coded.length - 1])).toBeLessThan(names.indexOf(uncoded[0]));
  expect(new Set(coded.map((n) => ids.get(key(n)))).size).toBe(coded.length);
  // A key coded before the table filled keeps its code.
  r.seen.length = 0;
  await exchange(srv.port, request([coded[0], uncoded[0]]), { until: (t) => parseResponses(t).length >= 1 });
  const again = new Map(r.seen[0]);
  expect(again.get(key(coded[0]))).toBe(ids.get(key(coded[0])));
  expect(again.get(key(uncoded[0]))).toBe(0);
});
