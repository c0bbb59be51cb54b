// An Express 5 application on tsgi, unchanged: fromNodeHandler() turns any node:http
// handler (Express, connect, Koa's app.callback(), Fastify's serverFactory handler) into
// a tsgi application. The request arrives through tsgi's native parser and the response
// leaves through its framing, so keep-alive, pipelining, limits, timeouts, the access
// log and stats all apply.
//   node bin/tsgi.js examples/express-app.js:app --bind 127.0.0.1:8000
'use strict';

const express = require('express');
const { fromNodeHandler } = require('..');

const expressApp = express();
expressApp.use(express.json());

expressApp.get('/', (req, res) => {
  res.type('text/plain').send('Hello from Express on tsgi\n');
});

expressApp.get('/users/:id', (req, res) => {
  res.json({ id: req.params.id, query: req.query, ip: req.ip });
});

expressApp.post('/echo', (req, res) => {
  res.json({ received: req.body });
});

expressApp.get('/stream', (req, res) => {
  res.type('text/plain');
  let n = 0;
  const timer = setInterval(() => {
    res.write(`tick ${++n}\n`);
    if (n === 5) {
      clearInterval(timer);
      res.end('done\n');
    }
  }, 100);
  res.on('close', () => clearInterval(timer));
});

exports.expressApp = expressApp;
exports.app = fromNodeHandler(expressApp);
