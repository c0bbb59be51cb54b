// The master's pid file: written after binding, removed on exit if it is still ours.
import fs from 'node:fs';
import path from 'node:path';

export class Pidfile {
  constructor(readonly file: string) {}

  create(pid = process.pid) {
    const existing = this.read();
    if (existing !== undefined && existing !== pid && alive(existing)) {
      throw new Error(`pidfile ${this.file} names a running process (${existing}); is tsgi already running?`);
    }
    // Written to a temporary name and renamed, so a reader never sees a partial file.
    const dir = path.dirname(this.file);
    const tmp = path.join(dir, `.${path.basename(this.file)}.${pid}.tmp`);
    try {
      fs.writeFileSync(tmp, `${pid}\n`);
      fs.renameSync(tmp, this.file);
    } catch (err) {
      try { fs.unlinkSync(tmp); } catch { /* not written */ }
      const code = (err as { code?: string }).code;
      const why = code === 'ENOENT' ? `the directory ${dir} does not exist; create it, or choose another --pidfile`
        : code === 'EACCES' || code === 'EPERM' ? `permission denied in ${dir}; choose a directory this user may write to with --pidfile`
          : code === 'ENOTDIR' ? `${dir} is not a directory; choose another --pidfile`
            : `${code ?? (err as Error).message}`;
      throw new Error(`cannot write the pidfile ${this.file}: ${why}`);
    }
  }

  read(): number | undefined {
    try {
      const n = parseInt(fs.readFileSync(this.file, 'utf8'), 10);
      return Number.isInteger(n) && n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  }

  remove(pid = process.pid) {
    if (this.read() === pid) {
      try { fs.unlinkSync(this.file); } catch { /* gone already */ }
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}
