// The structured logger: level filtering, logfmt and JSON lines.
import { describe, expect, it } from 'vitest';
import { Logger } from '../src/log';

function capture(level: 'debug' | 'info' | 'warning', format: 'logfmt' | 'json' = 'logfmt') {
  const lines: string[] = [];
  return { lines, log: new Logger({ level, format, stream: { write: (l: string) => lines.push(l) }, fields: { worker: 1 } }) };
}

describe('logger', () => {
  it('is quiet by default: info is dropped, warnings are written', () => {
    const lines: string[] = [];
    const log = new Logger({ stream: { write: (l: string) => lines.push(l) } });
    log.info('hidden');
    log.warning('shown');
    expect(lines.length).toBe(1);
    expect(log.enabled('info')).toBe(false);
  });

  it('writes logfmt lines, quoting values with spaces', () => {
    const { lines, log } = capture('info');
    log.info('request done', { path: '/a b', status: 200 });
    expect(lines[0]).toMatch(/^time=\S+ level=info msg="request done" worker=1 path="\/a b" status=200\n$/);
  });

  it('writes JSON lines, with errors as objects', () => {
    const { lines, log } = capture('debug', 'json');
    log.error('failed', { err: new Error('x') });
    const rec = JSON.parse(lines[0]);
    expect(rec).toMatchObject({ level: 'error', msg: 'failed', worker: 1, err: { message: 'x' } });
  });

  it('child loggers add fields', () => {
    const { lines, log } = capture('info');
    log.child({ conn: 3 }).info('x');
    expect(lines[0]).toContain('worker=1 conn=3');
  });
});
