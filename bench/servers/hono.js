'use strict';
// Hono on @hono/node-server: fetch-style handlers, serveStatic for the file.
const { parseArgs, ready, onShutdown, fail, payloads: p } = require('./common');

const FILE = p.ensureFile();

/** The bench app; `fileRoute` serves /file (each server's own way of sending a file). */
function build(fileRoute = nodeServerFile()) {
  const { Hono } = require('hono');
  const app = new Hono();
  app.get('/hello', (c) => c.text(p.HELLO));
  app.get('/json', (c) => c.json(p.JSON_OBJECT, 200, { 'Content-Type': p.CONTENT_TYPES.json }));
  app.get('/headers', (c) =>
    c.text(p.headersBody(c.req.header('user-agent'), c.req.header('accept-language'), c.req.header('x-request-id'))),
  );
  app.post('/echo', async (c) =>
    c.body(await c.req.arrayBuffer(), 200, { 'Content-Type': p.CONTENT_TYPES.binary }),
  );
  app.get('/stream', (c) => {
    let i = 0;
    const body = new ReadableStream({
      pull(controller) {
        if (i < p.STREAM_CHUNKS.length) controller.enqueue(p.STREAM_CHUNKS[i++]);
        else controller.close();
      },
    });
    return c.body(body, 200, { 'Content-Type': p.CONTENT_TYPES.binary });
  });
  app.get('/file', fileRoute);
  return app;
}

function nodeServerFile() {
  const { serveStatic } = require('@hono/node-server/serve-static');
  return serveStatic({ path: FILE });
}

function start({ host, port }) {
  const { serve } = require('@hono/node-server');
  const server = serve({ fetch: build().fetch, hostname: host, port }, (info) => ready(info.port));
  onShutdown(() => new Promise((r) => server.close(r)));
}

module.exports = { build, FILE };

if (require.main === module) {
  try {
    start(parseArgs());
  } catch (e) {
    fail(e);
  }
}
