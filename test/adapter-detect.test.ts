// detectInterface on the real frameworks' exports: what each looks like and why.
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { Hono } from 'hono';
import { describeExport, detectInterface, resolveApp } from '../src/adapters/detect';

const require = createRequire(import.meta.url);

describe('detectInterface', () => {
  it('a Hono app and a Workers module are fetch', () => {
    expect(detectInterface(new Hono())).toMatchObject({ interface: 'fetch', kind: 'Hono app' });
    expect(detectInterface({ fetch: () => new Response('') })).toMatchObject({ interface: 'fetch', kind: 'object with a fetch method' });
  });

  it('fetch functions: one argument, named fetch, or (request, env, ctx)', () => {
    expect(detectInterface((request: Request) => new Response(request.url))).toMatchObject({ interface: 'fetch' });
    expect(detectInterface(async function fetch() { return new Response(''); })).toMatchObject({ interface: 'fetch', why: 'it is named fetch' });
    expect(detectInterface(async (request: Request, env: unknown, ctx: unknown) => new Response(String(env) + String(ctx)))).toMatchObject({ interface: 'fetch', why: 'its parameters are (request, env)' });
  });

  it('Express, connect, Koa and Fastify are node', () => {
    expect(detectInterface(require('express')())).toMatchObject({ interface: 'node', kind: 'Express app' });
    expect(detectInterface(require('connect')())).toMatchObject({ interface: 'node', kind: 'connect app' });
    const Koa = require('koa');
    const koa = new Koa();
    expect(detectInterface(koa)).toMatchObject({ interface: 'node', kind: 'Koa app' });
    expect(detectInterface(koa.callback())).toMatchObject({ interface: 'node', kind: 'Koa callback' });
    expect(detectInterface(require('fastify')())).toMatchObject({ interface: 'node', kind: 'Fastify instance' });
  });

  it('a plain (req, res) handler is node; (environ, startResponse) and anything else is tsgi', () => {
    expect(detectInterface((req: unknown, res: unknown) => [req, res])).toMatchObject({ interface: 'node', why: 'its parameters are (req, res)' });
    expect(detectInterface(function handler(req: unknown, res: unknown, next: unknown) { return [req, res, next]; })).toMatchObject({ interface: 'node' });
    const tsgi = detectInterface((environ: unknown, startResponse: unknown) => [environ, startResponse]);
    expect(tsgi).toMatchObject({ interface: 'tsgi' });
    expect(tsgi.why).toMatch(/--interface node/);
    // Minified: the names say nothing, so two arguments is a tsgi app.
    expect(detectInterface((a: unknown, b: unknown) => [a, b])).toMatchObject({ interface: 'tsgi' });
  });

  it('something that is no application is refused with what to export', () => {
    expect(() => detectInterface({ handler: 1 })).toThrow(/not an application: export a tsgi app/);
    expect(() => detectInterface(42)).toThrow(/number/);
  });

  it('--interface overrides, and a value it cannot serve says so', async () => {
    expect(describeExport((a: unknown, b: unknown) => [a, b], 'node')).toMatchObject({ interface: 'node', why: 'set by --interface' });
    await expect(resolveApp(new Hono(), 'tsgi')).rejects.toThrow(/not a tsgi application function/);
    expect(() => describeExport(new Hono(), 'grpc')).toThrow(/use one of auto, tsgi, node, fetch/);
  });
});
