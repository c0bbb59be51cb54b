// Embedding options are validated once, then frozen; the limits reach the native core as declared.
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../src/options';
import { limitSettings } from '../src/settings/limits';
import { serverSettings } from '../src/settings/server';
import { Logger } from '../src/log';

describe('options', () => {
  it('defaults come from the setting declarations', () => {
    const o = resolveOptions({});
    expect(o.binds).toEqual([{ kind: 'tcp', host: '127.0.0.1', port: 8000, protocol: 'http', tls: false }]);
    expect(o.limits).toMatchObject({ maxRequestLine: 8190, maxHeaderSize: 16384, maxHeaders: 100, keepAliveTimeout: 5000, maxKeepAliveRequests: 0 });
    expect(o.limits.spoolDir).not.toBe('');
    expect(o.hooks).toBeUndefined();
  });

  it('the result is frozen, down to the limits and binds', () => {
    const o = resolveOptions({ port: 0, bind: undefined });
    expect(Object.isFrozen(o)).toBe(true);
    expect(Object.isFrozen(o.limits)).toBe(true);
    expect(Object.isFrozen(o.binds)).toBe(true);
  });

  it('every declared setting has a doc line, a section and a default that passes its own checks', () => {
    for (const s of [...limitSettings, ...serverSettings]) {
      expect(s.doc.length, s.name).toBeGreaterThan(10);
      expect(['limits', 'server']).toContain(s.section);
      expect(() => resolveOptions({ [s.name]: s.default } as never), s.name).not.toThrow();
    }
  });

  it('hooks that are all absent cost nothing (no hooks object is kept)', () => {
    expect(resolveOptions({ hooks: {} }).hooks).toBeUndefined();
  });

  it('a logger is made quiet by default, or taken as given', () => {
    expect(resolveOptions({}).logger.level).toBe('warning');
    const l = new Logger({ level: 'debug' });
    expect(resolveOptions({ logger: l }).logger).toBe(l);
  });
});

describe('durations and sizes in embedding options', () => {
  it('a number is milliseconds (bytes for sizes); text may carry a unit', () => {
    expect(resolveOptions({ keepAliveTimeout: 1500 }).limits.keepAliveTimeout).toBe(1500);
    expect(resolveOptions({ keepAliveTimeout: '5s' }).limits.keepAliveTimeout).toBe(5000);
    expect(resolveOptions({ headerTimeout: '250ms' }).limits.headerTimeout).toBe(250);
    expect(resolveOptions({ bodyTimeout: '2m' }).limits.bodyTimeout).toBe(120_000);
    expect(resolveOptions({ maxBodySize: '10MB' }).limits.maxBodySize).toBe(10 * 1024 * 1024);
  });

  it('text without a unit, or with an unknown one, is refused', () => {
    expect(() => resolveOptions({ keepAliveTimeout: '5' })).toThrow(/keepAliveTimeout must be a number of milliseconds \(e\.g\. 5000\) or text with a unit \(e\.g\. '5s', '500ms'\), got "5"/);
    expect(() => resolveOptions({ writeTimeout: '5 fortnights' })).toThrow(/writeTimeout must be a number of milliseconds/);
  });
});
