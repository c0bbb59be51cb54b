// Watches the application's files for --reload and calls back, debounced, when a source
// file changes, appears or disappears.
//
// Every directory is watched on its own (not with fs.watch's recursive mode, which on
// Linux watches each file's inode and loses a file saved by rename: vim, sed -i and most
// IDEs write a new file and rename it over the old one). A directory's watch sees its
// entries being written, created, renamed over and deleted, whatever the inode. The
// directories are those under the application's directory (found by scanning, and
// again when a directory is created), the directories of the files the workers report
// they loaded, and --reload-extra-files. node_modules, .git, coverage and hidden
// directories are skipped.
import fs from 'node:fs';
import path from 'node:path';

const WATCHED = /\.(c|m)?(j|t)sx?$|\.json$|\.py$/;  // .py: Python applications
const IGNORED = /(^|[\\/])(node_modules|\.git|coverage)([\\/]|$)/;
// Editor lock and backup files that happen to end like a source file (emacs: .#app.js).
const EDITOR_FILE = /(^|[\\/])\.#[^\\/]*$/;
/** Most directories watched; beyond this, a warning, and changes there are not seen. */
export const MAX_WATCHED_DIRS = 4096;

export type WatchLog = (message: string, fields: Record<string, string | number>) => void;

export class FileWatcher {
  private readonly dirs = new Map<string, fs.FSWatcher>();
  /** Files named explicitly (--reload-extra-files): watched whatever their extension. */
  private readonly files = new Set<string>();
  /** Directories watched only for such files: other changes there are not the application's. */
  private readonly forFilesOnly = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private changed: string | undefined;
  private stopped = false;
  private warnedFull = false;

  constructor(
    private readonly roots: readonly string[],
    private readonly onChange: (file: string) => void,
    private readonly debounceMs = 200,
    private readonly warn: WatchLog = () => {},
  ) {}

  start() {
    for (const root of this.roots) {
      let stat: fs.Stats;
      try {
        stat = fs.statSync(root);
      } catch {
        continue;
      }
      if (stat.isDirectory()) this.addTree(root);
      else {
        this.files.add(root);
        const dir = path.dirname(root);
        if (!this.dirs.has(dir)) this.forFilesOnly.add(dir);
        this.watchDir(dir);
      }
    }
  }

  /** Watches the directories of files the application loaded (as reported by a worker). */
  add(files: readonly string[]) {
    for (const file of files) {
      if (!path.isAbsolute(file) || IGNORED.test(file)) continue;
      this.watchDir(path.dirname(file));
    }
  }

  /** The directories watched now. */
  watched(): string[] {
    return [...this.dirs.keys()];
  }

  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.dirs.values()) w.close();
    this.dirs.clear();
  }

  /** Watches `root` and every directory under it; returns whether it holds a source file. */
  private addTree(root: string): boolean {
    let sources = false;
    const queue = [root];
    while (queue.length) {
      const dir = queue.shift()!;
      if (!this.watchDir(dir)) break;
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (!e.name.startsWith('.') && !IGNORED.test(full)) queue.push(full);
        } else if (WATCHED.test(e.name)) sources = true;
      }
    }
    return sources;
  }

  private watchDir(dir: string): boolean {
    if (this.stopped) return false;
    if (this.dirs.has(dir)) {
      this.forFilesOnly.delete(dir);
      return true;
    }
    if (this.dirs.size >= MAX_WATCHED_DIRS) {
      if (!this.warnedFull) {
        this.warnedFull = true;
        this.warn('reload: too many directories to watch; changes in the others are not seen', { watched: this.dirs.size, skipped: dir });
      }
      return false;
    }
    let w: fs.FSWatcher;
    try {
      w = fs.watch(dir, { persistent: false }, (_event, name) => this.onEvent(dir, name === null || name === undefined ? '' : String(name)));
    } catch {
      return true; // gone, or not readable: nothing to watch there
    }
    w.on('error', () => this.unwatch(dir));
    this.dirs.set(dir, w);
    return true;
  }

  private unwatch(dir: string) {
    for (const [d, w] of this.dirs) {
      if (d === dir || d.startsWith(dir + path.sep)) {
        w.close();
        this.dirs.delete(d);
      }
    }
  }

  private onEvent(dir: string, name: string) {
    if (this.stopped || name === '') return;
    const file = path.join(dir, name);
    if (IGNORED.test(file) || EDITOR_FILE.test(file)) return;
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(file);
    } catch {
      stat = undefined;
    }
    if (stat?.isDirectory()) {
      // A new directory: watch it (and what is already in it) from now on.
      if (name.startsWith('.') || this.dirs.has(file)) return;
      if (this.addTree(file)) this.changedFile(file);
      return;
    }
    if (!stat && this.dirs.has(file)) {
      // A watched directory went away, with whatever sources it held.
      this.unwatch(file);
      this.changedFile(file);
      return;
    }
    if (this.files.has(file) || (WATCHED.test(name) && !this.forFilesOnly.has(dir))) this.changedFile(file);
  }

  private changedFile(file: string) {
    this.changed = file;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.onChange(this.changed!);
    }, this.debounceMs);
  }
}
