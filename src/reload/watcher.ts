// Watches the application's files for --reload and calls back, debounced, when a
// source file changes. node_modules, .git and dist-like output folders are ignored.
import fs from 'node:fs';
import path from 'node:path';

const WATCHED = /\.(c|m)?(j|t)sx?$|\.json$/;
const IGNORED = /(^|[\\/])(node_modules|\.git|coverage)([\\/]|$)/;

export class FileWatcher {
  private watchers: fs.FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private changed: string | undefined;

  constructor(private readonly roots: readonly string[], private readonly onChange: (file: string) => void, private readonly debounceMs = 200) {}

  start() {
    for (const root of this.roots) {
      let isDir = false;
      try {
        isDir = fs.statSync(root).isDirectory();
      } catch {
        continue;
      }
      const w = fs.watch(root, { recursive: isDir, persistent: false }, (_event, name) => {
        const file = isDir ? path.join(root, String(name ?? '')) : root;
        if (IGNORED.test(file) || (isDir && !WATCHED.test(file))) return;
        this.changed = file;
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.onChange(this.changed!);
        }, this.debounceMs);
      });
      w.on('error', () => {});
      this.watchers.push(w);
    }
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}
