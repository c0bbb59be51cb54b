// An append-only log destination that can be reopened (after logrotate moved the file,
// on SIGUSR1). '-' is standard output (or standard error for the error log). Lines
// are buffered briefly and written with one write(2), so a busy worker makes one
// syscall per batch; O_APPEND keeps lines from several processes whole.
import fs from 'node:fs';

const FLUSH_BYTES = 32 * 1024;
const FLUSH_MS = 50;

export class LogFile {
  private fd = -1;
  private pending: string[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly path: string, private readonly stdFd: 1 | 2 = 1) {
    this.open();
  }

  /** The descriptor written to now (-1 once closed). */
  get descriptor(): number {
    return this.fd;
  }

  private open() {
    this.fd = this.path === '-' ? this.stdFd : fs.openSync(this.path, 'a', 0o644);
  }

  write(line: string) {
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Writes a line now, unbuffered (for messages that must not be lost to a crash). */
  writeNow(line: string) {
    this.pending.push(line);
    this.flush();
  }

  flush() {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0 || this.fd < 0) return;
    const data = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    try {
      fs.writeSync(this.fd, data);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EAGAIN') {
        // A non-blocking pipe is full: keep the lines for the next flush rather than spin.
        this.pending.unshift(data);
        this.pendingBytes += data.length;
        if (!this.timer) (this.timer = setTimeout(() => this.flush(), FLUSH_MS)).unref();
      }
      // Otherwise (a closed pipe, a full disk, no memory left) the lines are dropped:
      // logging must never take the process down.
    }
  }

  /** Flushes, then closes and opens the path again (a rotated file is replaced by a new one). */
  reopen() {
    this.flush();
    if (this.path === '-') return;
    const old = this.fd;
    try {
      this.open();
    } catch {
      // No descriptor or memory to open it again (EMFILE, ENOMEM): keep writing to the old one.
      this.fd = old;
      return;
    }
    try { fs.closeSync(old); } catch { /* already closed */ }
  }

  close() {
    this.flush();
    if (this.path !== '-' && this.fd >= 0) {
      try { fs.closeSync(this.fd); } catch { /* already closed */ }
    }
    this.fd = -1;
  }
}
