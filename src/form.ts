// Request.form(): application/x-www-form-urlencoded and multipart/form-data bodies read
// from wsgi.input, with limits. Files up to memoryThreshold stay in memory; larger ones are
// spooled to an unlinked temporary file (nothing is left on disk if the process dies).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FormError } from './errors';
import { MultipartParser, boundaryOf, type MultipartSink, type PartHeaders } from './multipart';
import type { Environ, InputStream } from './types';

export interface FormOptions {
  /** Most parts (multipart) or fields (urlencoded). Default 1000. */
  maxParts?: number;
  /** Largest non-file field value, bytes. Default 1 MiB. */
  maxFieldSize?: number;
  /** Largest file, bytes. Default 100 MiB. */
  maxFileSize?: number;
  /** Largest body, bytes. Default 200 MiB. */
  maxTotalSize?: number;
  /** Largest header block of one part, bytes. Default 16 KiB. */
  maxHeaderSize?: number;
  /** Files larger than this go to a temporary file. Default 1 MiB. */
  memoryThreshold?: number;
  /** Where spooled files are created (they are unlinked at once). Default os.tmpdir(). */
  tmpdir?: string;
}

export const FORM_DEFAULTS = {
  maxParts: 1000,
  maxFieldSize: 1024 * 1024,
  maxFileSize: 100 * 1024 * 1024,
  maxTotalSize: 200 * 1024 * 1024,
  maxHeaderSize: 16 * 1024,
  memoryThreshold: 1024 * 1024,
} as const;

const READ_SIZE = 64 * 1024;
/** Parsing yields to the event loop after this many bytes, so a large upload does not starve other requests. */
const TURN_BYTES = 1024 * 1024;

const cleanup = new FinalizationRegistry<number>((fd) => { try { fs.closeSync(fd); } catch { /* already closed */ } });

/** An uploaded file: in memory, or in an unlinked temporary file. */
export class UploadedFile {
  /** The form field name. */
  readonly field: string;
  /** The client's file name (may be ''). Never use it as a path as it is. */
  readonly filename: string;
  readonly contentType: string;
  readonly headers: ReadonlyMap<string, string>;
  size = 0;
  private memory: Buffer[] | null = [];
  private fd = -1;

  constructor(part: PartHeaders) {
    this.field = part.name;
    this.filename = part.filename ?? '';
    this.contentType = part.contentType;
    this.headers = part.headers;
  }

  /** True while the content is held in memory (not spooled). */
  get inMemory(): boolean { return this.fd < 0; }

  /** @internal */
  append(data: Buffer, threshold: number, dir: string): void {
    this.size += data.length;
    if (this.memory !== null && this.size <= threshold) {
      this.memory.push(Buffer.from(data));
      return;
    }
    if (this.fd < 0) {
      const file = path.join(dir, `tsgi-upload-${crypto.randomBytes(8).toString('hex')}`);
      this.fd = fs.openSync(file, 'wx+', 0o600);
      fs.unlinkSync(file);
      cleanup.register(this, this.fd, this);
      for (const b of this.memory ?? []) writeAll(this.fd, b);
      this.memory = null;
    }
    writeAll(this.fd, data);
  }

  /** The whole content. */
  async bytes(): Promise<Buffer> {
    if (this.memory !== null) return Buffer.concat(this.memory);
    if (this.fd < 0) throw new Error('the uploaded file was disposed');
    const out = Buffer.allocUnsafe(this.size);
    let got = 0;
    while (got < this.size) {
      const n = fs.readSync(this.fd, out, got, this.size - got, got);
      if (n <= 0) break;
      got += n;
    }
    return out.subarray(0, got);
  }

  async text(): Promise<string> { return (await this.bytes()).toString('utf8'); }

  /** Copies the content to `dest` (created or replaced). */
  async saveTo(dest: string): Promise<void> {
    if (this.memory !== null) return fs.promises.writeFile(dest, Buffer.concat(this.memory));
    const out = await fs.promises.open(dest, 'w');
    try {
      const block = Buffer.allocUnsafe(READ_SIZE);
      for (let pos = 0; pos < this.size;) {
        const n = fs.readSync(this.fd, block, 0, Math.min(block.length, this.size - pos), pos);
        if (n <= 0) break;
        await out.write(block, 0, n);
        pos += n;
      }
    } finally {
      await out.close();
    }
  }

  /** Frees the memory or closes the temporary file. Also done when the object is collected. */
  dispose(): void {
    this.memory = [];
    this.size = 0;
    if (this.fd >= 0) {
      cleanup.unregister(this);
      try { fs.closeSync(this.fd); } catch { /* already closed */ }
      this.fd = -1;
    }
  }
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
}

/** A parsed form: text fields and uploaded files by name, in order. */
export class Form {
  readonly fields = new Map<string, string[]>();
  readonly files = new Map<string, UploadedFile[]>();

  /** The first value of a field or file. */
  get(name: string): string | UploadedFile | undefined {
    return this.fields.get(name)?.[0] ?? this.files.get(name)?.[0];
  }

  getAll(name: string): Array<string | UploadedFile> {
    return [...(this.fields.get(name) ?? []), ...(this.files.get(name) ?? [])];
  }

  has(name: string): boolean { return this.fields.has(name) || this.files.has(name); }

  /** The text fields as URLSearchParams. */
  toSearchParams(): URLSearchParams {
    const p = new URLSearchParams();
    for (const [k, vs] of this.fields) for (const v of vs) p.append(k, v);
    return p;
  }

  /** Disposes of every uploaded file. */
  dispose(): void {
    for (const list of this.files.values()) for (const f of list) f.dispose();
  }

  /** @internal */ addField(name: string, value: string): void {
    const list = this.fields.get(name);
    if (list) list.push(value); else this.fields.set(name, [value]);
  }

  /** @internal */ addFile(file: UploadedFile): void {
    const list = this.files.get(file.field);
    if (list) list.push(file); else this.files.set(file.field, [file]);
  }
}

type Limits = Required<Omit<FormOptions, 'tmpdir'>> & { tmpdir: string };

function limits(options: FormOptions): Limits {
  const out = { ...FORM_DEFAULTS, tmpdir: os.tmpdir() } as Limits;
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined) continue;
    if (k === 'tmpdir') { out.tmpdir = String(v); continue; }
    if (!(k in FORM_DEFAULTS)) throw new TypeError(`Request.form(): unknown option ${JSON.stringify(k)}; known: ${Object.keys(FORM_DEFAULTS).join(', ')}, tmpdir`);
    if (typeof v !== 'number' || !(v >= 0)) throw new TypeError(`Request.form(): ${k} must be a number of bytes (or parts) >= 0, got ${String(v)}`);
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

class FormSink implements MultipartSink {
  private parts = 0;
  private file: UploadedFile | null = null;
  private field: Buffer[] | null = null;
  private fieldSize = 0;
  private name = '';

  constructor(private readonly form: Form, private readonly lim: Limits) {}

  partStart(part: PartHeaders): void {
    if (++this.parts > this.lim.maxParts) throw new FormError('TSGI_ERR_FORM_TOO_MANY_PARTS', 413, `multipart/form-data: more than maxParts (${this.lim.maxParts}) parts`);
    this.name = part.name;
    if (part.filename !== undefined) {
      this.file = new UploadedFile(part);
      this.form.addFile(this.file);
    } else {
      this.field = [];
      this.fieldSize = 0;
    }
  }

  partData(data: Buffer): void {
    if (this.file !== null) {
      if (this.file.size + data.length > this.lim.maxFileSize) {
        throw new FormError('TSGI_ERR_FORM_PART_TOO_LARGE', 413, `multipart/form-data: file ${JSON.stringify(this.name)} is over maxFileSize (${this.lim.maxFileSize} bytes)`);
      }
      this.file.append(data, this.lim.memoryThreshold, this.lim.tmpdir);
    } else if (this.field !== null) {
      this.fieldSize += data.length;
      if (this.fieldSize > this.lim.maxFieldSize) {
        throw new FormError('TSGI_ERR_FORM_PART_TOO_LARGE', 413, `multipart/form-data: field ${JSON.stringify(this.name)} is over maxFieldSize (${this.lim.maxFieldSize} bytes)`);
      }
      this.field.push(Buffer.from(data));
    }
  }

  partEnd(): void {
    if (this.field !== null) this.form.addField(this.name, Buffer.concat(this.field).toString('utf8'));
    this.file = null;
    this.field = null;
  }
}

/** Reads and parses the form body of `environ`. Throws FormError for bodies it cannot accept. */
export async function readForm(environ: Environ, options: FormOptions = {}, cachedBody?: Buffer): Promise<Form> {
  const lim = limits(options);
  const type = environ.CONTENT_TYPE ?? '';
  const mime = type.split(';')[0].trim().toLowerCase();
  const input = environ['wsgi.input'] as InputStream;
  const length = /^\d+$/.test(environ.CONTENT_LENGTH ?? '') ? Number(environ.CONTENT_LENGTH) : cachedBody?.length ?? input.length ?? 0;
  const form = new Form();
  if (length > lim.maxTotalSize) throw new FormError('TSGI_ERR_FORM_TOO_LARGE', 413, `the form body is ${length} bytes, over maxTotalSize (${lim.maxTotalSize})`);
  // A body without a Content-Type is read as urlencoded, as it always was.
  if (mime === 'application/x-www-form-urlencoded' || mime === '') {
    const text = (cachedBody ?? input.read()).toString('utf8');
    const params = new URLSearchParams(text);
    let n = 0;
    for (const [k, v] of params) {
      if (++n > lim.maxParts) throw new FormError('TSGI_ERR_FORM_TOO_MANY_PARTS', 413, `application/x-www-form-urlencoded: more than maxParts (${lim.maxParts}) fields`);
      if (Buffer.byteLength(v) > lim.maxFieldSize) throw new FormError('TSGI_ERR_FORM_PART_TOO_LARGE', 413, `application/x-www-form-urlencoded: field ${JSON.stringify(k)} is over maxFieldSize (${lim.maxFieldSize} bytes)`);
      form.addField(k, v);
    }
    return form;
  }
  if (mime !== 'multipart/form-data') {
    throw new FormError('TSGI_ERR_FORM_UNSUPPORTED_TYPE', 415, `Request.form() reads application/x-www-form-urlencoded or multipart/form-data, not ${JSON.stringify(type)}`);
  }
  const boundary = boundaryOf(type);
  if (boundary === undefined) throw new FormError('TSGI_ERR_FORM_BOUNDARY_MISSING', 400, `multipart/form-data without a valid boundary parameter: ${JSON.stringify(type)}`);
  const parser = new MultipartParser(boundary, new FormSink(form, lim), lim.maxHeaderSize);
  try {
    if (cachedBody !== undefined) {
      for (let at = 0; at < cachedBody.length; at += READ_SIZE) parser.write(cachedBody.subarray(at, at + READ_SIZE));
    } else {
      let turn = 0;
      let total = 0;
      for (;;) {
        const chunk = input.read(READ_SIZE);
        if (chunk.length === 0) break;
        total += chunk.length;
        if (total > lim.maxTotalSize) throw new FormError('TSGI_ERR_FORM_TOO_LARGE', 413, `the form body is over maxTotalSize (${lim.maxTotalSize})`);
        parser.write(chunk);
        turn += chunk.length;
        if (turn >= TURN_BYTES) {
          turn = 0;
          await new Promise<void>((r) => setImmediate(r));
        }
      }
    }
    parser.end();
  } catch (e) {
    form.dispose();
    throw e;
  }
  return form;
}
