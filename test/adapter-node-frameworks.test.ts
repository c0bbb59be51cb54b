// Koa (with @koa/router and koa-body), Fastify (through serverFactory) and connect on
// tsgi through fromNodeHandler, compared byte for byte with the same app on node:http.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import Router from '@koa/router';
import connect from 'connect';
import Fastify from 'fastify';
import Koa from 'koa';
import { koaBody } from 'koa-body';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeHandler } from '../src/index';
import { req, same, servePair, type Pair } from './helpers/differential';

describe('Koa (@koa/router, koa-body) through fromNodeHandler matches node:http', () => {
  let pair: Pair;
  beforeAll(async () => {
    const app = new Koa();
    const router = new Router();
    router.get('/items/:id', (ctx) => { ctx.body = { id: ctx.params.id, q: ctx.query, ip: ctx.ip, protocol: ctx.protocol }; });
    router.post('/items', koaBody(), (ctx) => { ctx.status = 201; ctx.body = { created: ctx.request.body }; });
    router.post('/form', koaBody(), (ctx) => { ctx.body = { form: ctx.request.body }; });
    router.get('/stream', (ctx) => {
      ctx.type = 'text/plain';
      ctx.body = Readable.from((async function* () { for (let i = 0; i < 4; i++) { await new Promise((r) => setImmediate(r)); yield `part ${i}\n`; } })());
    });
    router.get('/bad', (ctx) => { ctx.throw(400, 'bad input'); });
    router.get('/crash', () => { throw new Error('crash'); });
    router.get('/async', async (ctx) => { await new Promise((r) => setTimeout(r, 5)); ctx.set('X-Async', '1'); ctx.body = 'later'; });
    app.use(router.routes()).use(router.allowedMethods());
    app.silent = true;
    pair = await servePair(app.callback() as NodeHandler);
  });
  afterAll(async () => { await pair?.close(); });

  it('routes with params, query, ip and protocol', async () => {
    const { tsgi } = await same(pair, req('GET', '/items/9?x=1'));
    expect(JSON.parse(tsgi.body.toString())).toEqual({ id: '9', q: { x: '1' }, ip: '127.0.0.1', protocol: 'http' });
  });

  it('koa-body parses JSON and form bodies', async () => {
    const a = await same(pair, req('POST', '/items', { 'Content-Type': 'application/json' }, '{"name":"pen"}'));
    expect(a.tsgi.status).toBe(201);
    expect(JSON.parse(a.tsgi.body.toString())).toEqual({ created: { name: 'pen' } });
    await same(pair, req('POST', '/form', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'a=1&b=%C3%A9'));
  });

  it('a stream body, an async handler', async () => {
    const s = await same(pair, req('GET', '/stream'));
    expect(s.tsgi.body.toString()).toBe('part 0\npart 1\npart 2\npart 3\n');
    await same(pair, req('GET', '/async'));
  });

  it('errors: ctx.throw(400), a thrown error (500), 404, 405 from allowedMethods, HEAD', async () => {
    expect((await same(pair, req('GET', '/bad'))).tsgi.status).toBe(400);
    expect((await same(pair, req('GET', '/crash'))).tsgi.status).toBe(500);
    expect((await same(pair, req('GET', '/none'))).tsgi.status).toBe(404);
    expect((await same(pair, req('DELETE', '/items'))).tsgi.status).toBe(405);
    await same(pair, req('HEAD', '/items/3'), { head: true });
  });
});

describe('Fastify through serverFactory matches fastify.listen()', () => {
  let pair: Pair;
  let fastify: ReturnType<typeof Fastify>;
  beforeAll(async () => {
    let handler: NodeHandler | undefined;
    fastify = Fastify({
      logger: false,
      serverFactory: (h) => {
        handler = h as NodeHandler;
        return http.createServer(h);
      },
    });
    fastify.get('/hello/:name', async (request) => ({ hello: (request.params as { name: string }).name, ip: request.ip }));
    fastify.post('/users', {
      schema: {
        body: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string', minLength: 2 }, age: { type: 'integer' } },
        },
      },
    }, async (request, reply) => { reply.code(201); return { user: request.body }; });
    fastify.get('/text', (_request, reply) => { reply.type('text/plain').header('X-One', '1').send('plain text'); });
    fastify.get('/stream', (_request, reply) => { reply.type('text/plain').send(Readable.from(['a\n', 'b\n', 'c\n'])); });
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    pair = await servePair(handler!, (fastify.server.address() as AddressInfo).port);
  });
  afterAll(async () => {
    await pair?.close();
    await fastify?.close();
  });

  it('routes with params; async handlers; text and stream replies', async () => {
    const { tsgi } = await same(pair, req('GET', '/hello/ada'));
    expect(JSON.parse(tsgi.body.toString())).toEqual({ hello: 'ada', ip: '127.0.0.1' });
    await same(pair, req('GET', '/text'));
    expect((await same(pair, req('GET', '/stream'))).tsgi.body.toString()).toBe('a\nb\nc\n');
  });

  it('JSON schema validation: accepted and refused bodies', async () => {
    const ok = await same(pair, req('POST', '/users', { 'Content-Type': 'application/json' }, '{"name":"Ada","age":36}'));
    expect(ok.tsgi.status).toBe(201);
    const bad = await same(pair, req('POST', '/users', { 'Content-Type': 'application/json' }, '{"name":"A"}'));
    expect(bad.tsgi.status).toBe(400);
    await same(pair, req('POST', '/users', { 'Content-Type': 'application/json' }, '{broken'));
  });

  it('404 and HEAD', async () => {
    expect((await same(pair, req('GET', '/missing'))).tsgi.status).toBe(404);
    await same(pair, req('HEAD', '/hello/x'), { head: true });
  });
});

describe('connect through fromNodeHandler matches node:http', () => {
  let pair: Pair;
  beforeAll(async () => {
    const app = connect();
    app.use((q: http.IncomingMessage, s: http.ServerResponse, next: () => void) => { s.setHeader('X-Seen', q.method ?? ''); next(); });
    app.use('/api', (q: http.IncomingMessage, s: http.ServerResponse) => {
      let body = '';
      q.setEncoding('utf8');
      q.on('data', (c: string) => { body += c; });
      q.on('end', () => {
        s.setHeader('Content-Type', 'application/json');
        s.end(JSON.stringify({ url: q.url, method: q.method, body, headers: { host: q.headers.host, custom: q.headers['x-custom'] } }));
      });
    });
    pair = await servePair(app as unknown as NodeHandler);
  });
  afterAll(async () => { await pair?.close(); });

  it('middleware, a mounted handler reading the body, 404 from finalhandler', async () => {
    const { tsgi } = await same(pair, req('POST', '/api/things?a=b', { 'X-Custom': 'v' }, 'payload'));
    expect(JSON.parse(tsgi.body.toString())).toEqual({ url: '/things?a=b', method: 'POST', body: 'payload', headers: { host: 'localhost', custom: 'v' } });
    expect((await same(pair, req('GET', '/elsewhere'))).tsgi.status).toBe(404);
  });
});
