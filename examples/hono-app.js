// A Hono app served by tsgi as it is: `npx tsgi examples/hono-app.js:app`.
// tsgi sees an object with a fetch method and runs it through fromFetch; the same file
// still runs on @hono/node-server, Bun, Deno or Workers.
'use strict';
const { Hono } = require('hono');
const { streamText } = require('hono/streaming');

const app = new Hono();

app.use('*', async (c, next) => {
  await next();
  c.header('X-Served-By', 'tsgi');
});

app.get('/', (c) => c.text('Hello from Hono on tsgi\n'));

app.get('/hello/:name', (c) => c.json({ hello: c.req.param('name') }));

app.post('/echo', async (c) => c.json({ received: await c.req.json() }));

// Streamed as it is written: each line reaches the client at once.
app.get('/countdown', (c) => streamText(c, async (stream) => {
  for (let i = 3; i > 0; i--) {
    await stream.writeln(String(i));
    await stream.sleep(300);
  }
  await stream.writeln('liftoff');
}));

exports.app = app;
