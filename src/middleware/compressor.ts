// One response's gzip or brotli stream, flushed after every chunk so that what the
// application streams reaches the client as it is produced.
import zlib from 'node:zlib';

export type Coding = 'br' | 'gzip';

export interface CompressorSettings {
  gzipLevel: number;
  brotliQuality: number;
}

export class Compressor {
  private readonly z: zlib.Gzip | zlib.BrotliCompress;
  private readonly out: Buffer[] = [];
  private readonly flushKind: number;
  private error: Error | null = null;

  constructor(coding: Coding, s: CompressorSettings) {
    if (coding === 'br') {
      this.z = zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: s.brotliQuality } });
      this.flushKind = zlib.constants.BROTLI_OPERATION_FLUSH;
    } else {
      this.z = zlib.createGzip({ level: s.gzipLevel });
      this.flushKind = zlib.constants.Z_SYNC_FLUSH;
    }
    this.z.on('data', (d: Buffer) => this.out.push(d));
    this.z.on('error', (e: Error) => { this.error = e; });
  }

  /** Compresses `chunks` and flushes: resolves with every byte produced so far. */
  push(chunks: Buffer[]): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      // One write: each write is a separate round trip to the zlib thread.
      const data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      if (data.length > 0) this.z.write(data);
      this.z.flush(this.flushKind, () => (this.error !== null ? reject(this.error) : resolve(this.take())));
    });
  }

  /** Ends the stream: resolves with the last bytes. */
  end(): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.z.once('end', () => (this.error !== null ? reject(this.error) : resolve(this.take())));
      this.z.once('error', reject);
      this.z.end();
    });
  }

  destroy(): void {
    this.z.destroy();
  }

  private take(): Buffer {
    const b = this.out.length === 1 ? this.out[0] : Buffer.concat(this.out);
    this.out.length = 0;
    return b;
  }
}

/** Compresses a whole, already buffered body in one call. */
export function compressWhole(coding: Coding, data: Buffer, s: CompressorSettings): Buffer {
  return coding === 'br'
    ? zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: s.brotliQuality, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length } })
    : zlib.gzipSync(data, { level: s.gzipLevel });
}
