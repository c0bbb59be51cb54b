// Whether an export can be an application at all, before detect.ts decides which kind:
// a function, or an object with fetch() (Hono, Workers), callback() (Koa) or routing()
// (Fastify). Kept free of imports so the module loader can ask it.

export function isApplicationExport(v: unknown): boolean {
  if (typeof v === 'function') return true;
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return typeof o.fetch === 'function' || typeof o.callback === 'function' || typeof o.routing === 'function';
}
