// Python WSGI applications: which specs name one, loading the optional Python addon
// (build/Release/tsgi_python.node) and the application through it. Requests never come
// through here: the core calls the interpreter directly (native/python/).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AppLoadError } from './app-loader';
import { NativeApp, type NativeListeners } from './native-app';

interface PythonAddon {
  abi: number;
  pythonVersion: string;
  load(options: PythonLoadOptions): unknown;
  configure(handle: unknown, listeners: NativeListeners): void;
}

export interface PythonLoadOptions {
  /** MODULE:CALLABLE or FILE.py:CALLABLE. */
  app: string;
  chdir: string;
  pythonpath: readonly string[];
  virtualenv: string;
  scriptName: string;
  urlScheme: string;
  multiprocess: boolean;
  /** ms; a request whose Python code runs longer is interrupted and answered 504 (0: never). */
  harakiri: number;
  /** Python threads taking requests (1: Python runs on the loop thread). */
  threads: number;
  /**
   * Proxies whose forwarded headers set REMOTE_ADDR, wsgi.url_scheme and HTTP_HOST; none when
   * absent. The forwardedAllowIps of the server given the application wins: when that is not
   * empty, it replaces this list.
   */
  forwardedAllowIps?: readonly string[];
}

const root = path.join(__dirname, '..');
const SPEC_FILE = /\.py(:[A-Za-z_][\w.]*)?$/;

/** The Python application a command line names: --python, or an application FILE.py[:CALLABLE]. */
export function pythonSpec(app: string | undefined, python: string): string | undefined {
  if (python !== '') return python;
  if (app !== undefined && SPEC_FILE.test(app)) return app;
  return undefined;
}

/** Why the addon is not built, from the same probe the build uses. */
function skippedReason(): string {
  try {
    const reason = execFileSync(process.execPath, [path.join(root, 'scripts', 'python-config.js'), 'reason'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (reason) return reason;
  } catch {
    // the probe itself is missing: say what to do anyway
  }
  return 'the addon was not built';
}

let addon: PythonAddon | undefined;

/** The Python addon: TSGI_PYTHON_ADDON names one, else build/Release/tsgi_python.node. */
export function pythonAddon(): PythonAddon {
  if (addon) return addon;
  const file = process.env.TSGI_PYTHON_ADDON
    ? path.resolve(process.env.TSGI_PYTHON_ADDON)
    : path.join(root, 'build', 'Release', 'tsgi_python.node');
  if (!fs.existsSync(file)) {
    throw new AppLoadError(`Python support is not built (${skippedReason()}): install Python's development files ` +
      '(Debian/Ubuntu: apt-get install python3-dev) and rebuild tsgi from source (TSGI_BUILD_FROM_SOURCE=1 npm rebuild tsgi, or npm run build:native in a checkout)');
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    addon = require(file) as PythonAddon;
  } catch (e) {
    throw new AppLoadError(`the Python addon ${file} does not load: ${(e as Error).message}; rebuild tsgi (npm rebuild tsgi)`, { cause: e });
  }
  return addon;
}

export class PythonApp extends NativeApp {
  readonly kind = 'python';
  constructor(readonly handle: unknown, private readonly py: PythonAddon) {
    super();
  }
  configure(listeners: NativeListeners): void {
    this.py.configure(this.handle, listeners);
  }
}

/** Starts the interpreter (once per process) and imports the application. */
export function loadPythonApp(options: PythonLoadOptions): PythonApp {
  const py = pythonAddon();
  try {
    return new PythonApp(py.load(options), py);
  } catch (e) {
    throw new AppLoadError(`cannot load the Python application ${options.app}:\n${(e as Error).message}`, { cause: e });
  }
}
