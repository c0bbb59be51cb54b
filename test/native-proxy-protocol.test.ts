// The PROXY protocol on a listener ({ proxyProtocol: true, proxyAllow }) over real loopback
// sockets: v1 and v2 headers written raw before the request, the client address they
// carry as REMOTE_ADDR/REMOTE_PORT, the TLS records as tsgi.proxy, who may send them,
// malformed and slow headers, and the header combined with the uwsgi protocol.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { NativeListenOptions } from '../src/native';
import { b, exchange, parseResponses, sleep, startServer, type Req, type TestServer } from './native-harness';

let srv: TestServer | undefined;
afterEach(async () => { await srv?.close(); srv = undefined; });

const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

function u16(n: number): Buffer { const x = Buffer.alloc(2); x.writeUInt16BE(n); return x; }
function u32(n: number): Buffer { const x = Buffer.alloc(4); x.writeUInt32BE(n); return x; }
function tlv(type: number, value: Buffer | string): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  return Buffer.concat([Buffer.from([type]), u16(v.length), v]);
}
function ip4(text: string): Buffer { return Buffer.from(text.split('.').map(Number)); }
function ip6(text: string): Buffer {
  // Enough for the literals used here: '::'-compressed groups.
  const [head, tail = ''] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.concat(groups.map((g) => u16(parseInt(g, 16))));
}
function v2(verCmd: number, famTrans: number, block: Buffer): Buffer {
  return Buffer.concat([SIG, Buffer.from([verCmd, famTrans]), u16(block.length), block]);
}
function v2tcp4(src: string, sport: number, dst: string, dport: number, tlvs: Buffer[] = []): Buffer {
  return v2(0x21, 0x11, Buffer.concat([ip4(src), ip4(dst), u16(sport), u16(dport), ...tlvs]));
}

const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: h\r\n${extra}\r\n`;
const proxied = (o: NativeListenOptions = {}) => (id: number) => b.listenTcp(id, '127.0.0.1', 0, 128, { proxyProtocol: true, ...o });
const overrides = (req: Req) => Object.fromEntries(req.overrides);

function echo(req: Req): void {
  b.respond(req.conn, 200, '200 OK\r\nContent-Type: text/plain\r\n', `${req.uri} from ${req.addr}:${req.remotePort}`, -1, 0);
}

describe('PROXY protocol listener', () => {
  it('v1 TCP4: the client address and port are the header\'s, tsgi.proxy says what came', async () => {
    srv = await startServer({}, echo, proxied());
    const ex = await exchange(srv.port, 'PROXY TCP4 192.0.2.10 198.51.100.1 40123 443\r\n' + GET('/v1'), { until: (t) => t.includes('/v1 from') });
    expect(parseResponses(ex.text)[0].body).toBe('/v1 from 192.0.2.10:40123');
    expect(overrides(srv.requests[0])).toEqual({
      'tsgi.proxy.version': '1', 'tsgi.proxy.command': 'PROXY', 'tsgi.proxy.family': 'TCP4',
      'tsgi.proxy.sourceAddress': '192.0.2.10', 'tsgi.proxy.sourcePort': '40123',
      'tsgi.proxy.destinationAddress': '198.51.100.1', 'tsgi.proxy.destinationPort': '443',
    });
  });

  it('v2 TCP6 with TLS records: SSL version, cipher, CN, ALPN and AUTHORITY in tsgi.proxy, HTTPS on', async () => {
    srv = await startServer({}, echo, proxied());
    const ssl = Buffer.concat([Buffer.from([0x07]), u32(0), tlv(0x21, 'TLSv1.3'), tlv(0x23, 'TLS_AES_256_GCM_SHA384'), tlv(0x22, 'client.example')]);
    const header = v2(0x21, 0x21, Buffer.concat([ip6('2001:db8::5'), ip6('2001:db8::1'), u16(5555), u16(8443),
      tlv(0x01, 'h2'), tlv(0x02, 'api.example'), tlv(0x20, ssl)]));
    const ex = await exchange(srv.port, Buffer.concat([header, Buffer.from(GET('/v2'))]), { until: (t) => t.includes('/v2 from') });
    expect(parseResponses(ex.text)[0].body).toBe('/v2 from 2001:db8::5:5555');
    expect(overrides(srv.requests[0])).toMatchObject({
      'tsgi.proxy.version': '2', 'tsgi.proxy.family': 'TCP6', 'tsgi.proxy.alpn': 'h2', 'tsgi.proxy.authority': 'api.example',
      'tsgi.proxy.ssl': '1', 'tsgi.proxy.sslVersion': 'TLSv1.3', 'tsgi.proxy.sslCipher': 'TLS_AES_256_GCM_SHA384',
      'tsgi.proxy.sslCn': 'client.example', 'tsgi.proxy.sslVerify': '0', HTTPS: 'on', 'wsgi.url_scheme': 'https',
    });
  });

  it('v2 LOCAL (the proxy\'s own health check): the real peer address stays', async () => {
    srv = await startServer({}, echo, proxied());
    const ex = await exchange(srv.port, Buffer.concat([v2(0x20, 0x00, Buffer.alloc(0)), Buffer.from(GET('/hc'))]), { until: (t) => t.includes('/hc from') });
    expect(parseResponses(ex.text)[0].body).toMatch(/^\/hc from 127\.0\.0\.1:\d+$/);
    expect(overrides(srv.requests[0])['tsgi.proxy.command']).toBe('LOCAL');
  });

  it('the header byte by byte, then keep-alive requests on the same connection all carry its address', async () => {
    srv = await startServer({}, echo, proxied());
    const header = v2tcp4('10.1.2.3', 1234, '10.0.0.1', 80, [tlv(0x04, '')]);
    const pieces: Array<Buffer | string> = [...header].map((x) => Buffer.from([x]));
    pieces.push(GET('/a'), GET('/b'));
    const ex = await exchange(srv.port, pieces, { gapMs: 2, until: (t) => t.includes('/b from') });
    expect(parseResponses(ex.text).map((r) => r.body)).toEqual(['/a from 10.1.2.3:1234', '/b from 10.1.2.3:1234']);
  });

  it.each([
    ['no header at all (plain HTTP)', Buffer.from(GET('/'))],
    ['a v1 header with a bad address', Buffer.from('PROXY TCP4 300.1.1.1 10.0.0.1 1 2\r\n' + GET('/'))],
    ['a v1 line over 107 bytes', Buffer.from('PROXY UNKNOWN ' + 'x'.repeat(100) + '\r\n' + GET('/'))],
    ['a v2 header with version 3', Buffer.concat([SIG, Buffer.from([0x31, 0x11]), u16(12), Buffer.alloc(12), Buffer.from(GET('/'))])],
    ['a v2 TLV running past the header', Buffer.concat([v2(0x21, 0x11, Buffer.concat([Buffer.alloc(12), Buffer.from([0x02, 0, 9, 0x61])])), Buffer.from(GET('/'))])],
  ])('%s: closed without a response, the application is not called', async (_name, wire) => {
    srv = await startServer({}, echo, proxied());
    const ex = await exchange(srv.port, wire);
    expect(ex.closed).toBe(true);
    expect(ex.data.length).toBe(0);
    expect(srv.requests).toHaveLength(0);
  });

  it('a peer outside proxyAllow is closed at once, even with a valid header', async () => {
    srv = await startServer({}, echo, proxied({ proxyAllow: ['10.0.0.0/8', '2001:db8::/32'] }));
    const ex = await exchange(srv.port, 'PROXY TCP4 192.0.2.10 198.51.100.1 40123 443\r\n' + GET('/'));
    expect(ex.closed).toBe(true);
    expect(ex.data.length).toBe(0);
    expect(srv.requests).toHaveLength(0);
  });

  it('proxyAllow with the peer\'s range lets it in; the default allows loopback', async () => {
    srv = await startServer({}, echo, proxied({ proxyAllow: ['10.0.0.0/8', '127.0.0.0/8'] }));
    const ex = await exchange(srv.port, 'PROXY TCP4 192.0.2.10 198.51.100.1 1 2\r\n' + GET('/in'), { until: (t) => t.includes('/in from') });
    expect(parseResponses(ex.text)[0].status).toBe(200);
  });

  it('a header that does not complete within firstByteTimeout: the connection is closed', async () => {
    srv = await startServer({ firstByteTimeout: 300 }, echo, proxied());
    const t0 = Date.now();
    const ex = await exchange(srv.port, 'PROXY TCP4 192.0.2.10', { timeoutMs: 5000 });
    expect(ex.closed).toBe(true);
    expect(ex.data.length).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('after the header, the request gets its own first-byte window', async () => {
    srv = await startServer({ firstByteTimeout: 600 }, echo, proxied());
    const ex = await new Promise<string>((resolve, reject) => {
      const s = net.connect(srv!.port, '127.0.0.1', async () => {
        await sleep(400);
        s.write('PROXY TCP4 192.0.2.10 198.51.100.1 7 8\r\n');
        await sleep(400);
        s.write(GET('/late', 'Connection: close\r\n'));
      });
      const chunks: Buffer[] = [];
      s.on('data', (d) => chunks.push(d));
      s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      s.on('error', reject);
    });
    expect(parseResponses(ex)[0]?.body).toBe('/late from 192.0.2.10:7');
  });

  it('PROXY protocol before a uwsgi packet without REMOTE_ADDR: the header\'s address is the client\'s', async () => {
    srv = await startServer({}, echo, proxied({ protocol: 'uwsgi' }));
    const vars: Array<[string, string]> = [['REQUEST_METHOD', 'GET'], ['REQUEST_URI', '/u']];
    const block = Buffer.concat(vars.flatMap(([k, v]) => {
      const kl = Buffer.alloc(2); kl.writeUInt16LE(k.length);
      const vl = Buffer.alloc(2); vl.writeUInt16LE(v.length);
      return [kl, Buffer.from(k), vl, Buffer.from(v)];
    }));
    const pkt = Buffer.concat([Buffer.from([0, block.length & 0xff, block.length >> 8, 0]), block]);
    const ex = await exchange(srv.port, Buffer.concat([Buffer.from('PROXY TCP4 192.0.2.77 10.0.0.1 999 3031\r\n'), pkt]));
    expect(parseResponses(ex.text)[0].body).toBe('/u from 192.0.2.77:999');
    expect(overrides(srv.requests[0])['tsgi.proxy.sourceAddress']).toBe('192.0.2.77');
  });

  it('an invalid proxyAllow entry throws TSGI_ERR_PROXY_ALLOW and names it', async () => {
    srv = await startServer({}, echo);
    expect(() => b.listenTcp(srv!.id, '127.0.0.1', 0, 128, { proxyProtocol: true, proxyAllow: ['10.0.0.0/33'] }))
      .toThrow(expect.objectContaining({ code: 'TSGI_ERR_PROXY_ALLOW', message: expect.stringContaining('10.0.0.0/33') }));
  });
});
