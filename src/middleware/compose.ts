// compose(mw1, mw2, …)(app): mw1(mw2(…(app))) — the first listed is the outermost.
import type { App } from '../types';
import type { Middleware } from './headers';

export function compose(...middleware: Middleware[]): Middleware {
  middleware.forEach((mw, i) => {
    if (typeof mw !== 'function') {
      throw new TypeError(`compose(): argument ${i} must be a middleware (a function from app to app), got ${mw === null ? 'null' : typeof mw}; call factories first, e.g. compress({})`);
    }
  });
  return (app: App): App => {
    if (typeof app !== 'function') throw new TypeError(`compose(...)(app): app must be a function, got ${app === null ? 'null' : typeof app}`);
    let out = app;
    for (let i = middleware.length - 1; i >= 0; i--) {
      out = middleware[i](out);
      if (typeof out !== 'function') throw new TypeError(`compose(): middleware ${i} returned ${out === null ? 'null' : typeof out} instead of an app`);
    }
    return out;
  };
}
