// Servers that run in a child process (test/fixtures/*-server.ts, loaded through tsx), so a
// test can measure or limit that process alone (its RSS, CPU time, descriptor limit).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

/** Starts test/fixtures/<name> under tsx (optionally under `ulimit -n maxOpenFiles`); stdin and stdout are piped. */
export function spawnFixture(name: string, opts: { maxOpenFiles?: number } = {}): ChildProcess {
  const fixture = path.join(ROOT, 'test', 'fixtures', name);
  const [cmd, args] = opts.maxOpenFiles === undefined
    ? [process.execPath, ['--import', 'tsx', fixture]]
    : ['bash', ['-c', `ulimit -n ${opts.maxOpenFiles}; exec "${process.execPath}" --import tsx "${fixture}"`]];
  return spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'], cwd: ROOT });
}

/** The port from the child's first 'port N' line (it fails when the child exits first, or after 30 s). */
export function readPort(child: ChildProcess): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /port (\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`the server exited (${code})`)));
    setTimeout(() => reject(new Error('no port from the server')), 30_000);
  });
}
