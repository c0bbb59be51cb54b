'use strict';
// fastify with its defaults (no logger), replies written the fastify way.
const fs = require('node:fs');
const { Readable } = require('node:stream');
const { parseArgs, ready, onShutdown, fail, payloads: p } = require('./common');

const FILE = p.ensureFile();
const FILE_SIZE = fs.statSync(FILE).size;

function build(options = {}) {
  const fastify = require('fastify')({ logger: false, ...options });
  // fastify parses only JSON and text bodies out of the box; a raw body needs a parser.
  fastify.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: 1 << 20 }, (req, body, done) =>
    done(null, body),
  );
  fastify.get('/hello', (req, reply) => {
    reply.type(p.CONTENT_TYPES.text).send(p.HELLO);
  });
  fastify.get('/json', (req, reply) => {
    reply.type(p.CONTENT_TYPES.json).send(p.JSON_OBJECT);
  });
  fastify.get('/headers', (req, reply) => {
    const h = req.headers;
    reply.type(p.CONTENT_TYPES.text).send(p.headersBody(h['user-agent'], h['accept-language'], h['x-request-id']));
  });
  fastify.post('/echo', (req, reply) => {
    reply.type(p.CONTENT_TYPES.binary).send(req.body);
  });
  fastify.get('/stream', (req, reply) => {
    reply.type(p.CONTENT_TYPES.binary).send(Readable.from(p.streamChunks()));
  });
  fastify.get('/file', (req, reply) => {
    reply.type(p.CONTENT_TYPES.binary).header('Content-Length', FILE_SIZE).send(fs.createReadStream(FILE));
  });
  return fastify;
}

async function start({ host, port }) {
  const fastify = build();
  await fastify.listen({ host, port });
  onShutdown(() => fastify.close());
  ready(fastify.server.address().port);
}

module.exports = { build };
if (require.main === module) start(parseArgs()).catch(fail);
