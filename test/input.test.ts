// wsgi.input over a body in memory and over a spooled file: PEP 3333 "Input and Error
// Streams" — read(), read(n), readline(), readlines(), iteration; empty at EOF, never a hang.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EMPTY_INPUT, RequestInput } from '../src/input';
import { kRelease } from '../src/symbols';

const TEXT = 'first line\nsecond line\n\nlast without newline';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-input-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function spooled(data: Buffer): RequestInput {
  const file = path.join(tmp, `body-${Math.random()}`);
  fs.writeFileSync(file, data);
  const fd = fs.openSync(file, 'r');
  fs.unlinkSync(file);
  return new RequestInput(null, fd, data.length);
}

const kinds: Array<[string, (b: Buffer) => RequestInput]> = [
  ['in memory', (b) => new RequestInput(b, -1, b.length)],
  ['spooled to a file', spooled],
];

describe.each(kinds)('wsgi.input %s', (_name, make) => {
  it('read() with no argument returns the whole remaining body, then an empty Buffer at EOF', () => {
    const input = make(Buffer.from(TEXT));
    expect(input.read().toString()).toBe(TEXT);
    expect(input.read()).toEqual(Buffer.alloc(0));
    expect(input.read(10)).toEqual(Buffer.alloc(0));
  });

  it('read(n) returns at most n bytes, in order', () => {
    const input = make(Buffer.from(TEXT));
    expect(input.read(5).toString()).toBe('first');
    expect(input.read(6).toString()).toBe(' line\n');
    expect(input.read(1000).toString()).toBe(TEXT.slice(11));
    expect(input.read(1).length).toBe(0);
  });

  it('readline() returns one line with its newline; the last line may lack one', () => {
    const input = make(Buffer.from(TEXT));
    expect(input.readline().toString()).toBe('first line\n');
    expect(input.readline().toString()).toBe('second line\n');
    expect(input.readline().toString()).toBe('\n');
    expect(input.readline().toString()).toBe('last without newline');
    expect(input.readline().length).toBe(0);
  });

  it('readline(limit) returns at most limit bytes of the line', () => {
    const input = make(Buffer.from(TEXT));
    expect(input.readline(3).toString()).toBe('fir');
    expect(input.readline().toString()).toBe('st line\n');
  });

  it('readlines() returns every line; readlines(hint) stops once hint bytes were read', () => {
    expect(make(Buffer.from(TEXT)).readlines().map(String)).toEqual(['first line\n', 'second line\n', '\n', 'last without newline']);
    expect(make(Buffer.from(TEXT)).readlines(12).map(String)).toEqual(['first line\n', 'second line\n']);
  });

  it('iterating yields lines', () => {
    expect([...make(Buffer.from(TEXT))].map(String)).toEqual(['first line\n', 'second line\n', '\n', 'last without newline']);
  });

  it('async iteration yields the body in chunks', async () => {
    const big = Buffer.alloc(200_000, 'x');
    big.write('start', 0);
    const parts: Buffer[] = [];
    for await (const c of make(big)) parts.push(c);
    expect(parts.length).toBeGreaterThan(1);
    expect(Buffer.concat(parts).equals(big)).toBe(true);
  });

  it('a long line over many read blocks is returned whole', () => {
    const line = 'y'.repeat(100_000) + '\n';
    const input = make(Buffer.from(line + 'z'));
    expect(input.readline().toString()).toBe(line);
    expect(input.readline().toString()).toBe('z');
  });

  it('mixing read and readline keeps one position', () => {
    const input = make(Buffer.from('ab\ncd\n'));
    expect(input.read(1).toString()).toBe('a');
    expect(input.readline().toString()).toBe('b\n');
    expect(input.read().toString()).toBe('cd\n');
  });

  it('length is the body size', () => {
    expect(make(Buffer.from(TEXT)).length).toBe(TEXT.length);
  });
});

describe('wsgi.input lifetime', () => {
  it('releasing a spooled body closes its file descriptor, and the stream then reads as empty', () => {
    const input = spooled(Buffer.from('abc')) as RequestInput & { fd: number };
    const fd = (input as unknown as { fd: number }).fd;
    expect(() => fs.fstatSync(fd)).not.toThrow();
    input[kRelease]();
    expect(() => fs.fstatSync(fd)).toThrow();
    expect(input.read().length).toBe(0);
    expect(input.readline().length).toBe(0);
  });

  it('the shared empty input of body-less requests is at EOF from the start', () => {
    expect(EMPTY_INPUT.read().length).toBe(0);
    expect(EMPTY_INPUT.readline().length).toBe(0);
    expect(EMPTY_INPUT.readlines()).toEqual([]);
    expect([...EMPTY_INPUT]).toEqual([]);
  });
});
