// Every peer server the harness ships answers every scenario byte-identically (the
// same check the harness runs before measuring), and is stopped afterwards.
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { PEERS } = require('../bench/peers.js');
const { launch } = require('../bench/launch.js');
const { SCENARIOS } = require('../bench/scenarios.js');
const { validateServer } = require('../bench/validate.js');

const ids = ['node', 'uws', 'fastify', 'express', 'hono', 'tsgi', 'node-cluster', 'tsgi-workers', 'express-tsgi', 'fastify-tsgi', 'hono-tsgi'];

describe('peer servers', () => {
  for (const id of ids) {
    const why = PEERS[id].unavailable();
    // tsgi needs `npm run build`; uWS a prebuilt binary for this Node. Anything else must run.
    const optional = id === 'uws' || id.startsWith('tsgi');
    it.skipIf(why && optional)(`${id} answers every scenario correctly${why ? ` (${why})` : ''}`, async () => {
      expect(why).toBeNull();
      const h = await launch(id, { workers: 2 });
      try {
        const r = await validateServer(SCENARIOS.filter((s: { family: string }) => s.family === PEERS[id].family), h);
        expect(r.failures).toEqual({});
      } finally {
        await h.stop();
      }
      expect(h.exited()).toBeTruthy();
    });
  }
});
