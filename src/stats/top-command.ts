// The command line of `tsgi top`: its usage, its flags, and its exit statuses.
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../manager/exit-codes';
import { parseStatsAddress, runTop } from './top';

export const TOP_USAGE = `Usage: tsgi top [options] ADDR

A live view of the workers of a server started with --stats ADDR.

ADDR is the address given to --stats:
  HOST:PORT, [IPv6]:PORT, PORT     a plain stats server (or an HTTP one: it is asked over HTTP when silent)
  unix:PATH, /PATH, ./PATH         a Unix socket
  http://HOST:PORT                 a server started with --stats-http

Options:
  --once                           print one screen and exit (no terminal needed)
  --interval SECONDS               time between screens [default: 1]
  -h, --help                       show this help

Keys: q (or Ctrl-C) quits.
`;

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** `tsgi top …` with argv after `top`; resolves with the exit status. */
export async function topMain(argv: readonly string[], io: Io): Promise<number> {
  let address: string | undefined;
  let once = false;
  let intervalMs = 1000;
  const usage = (why: string) => {
    io.err(`tsgi top: ${why}\n\n${TOP_USAGE}`);
    return EXIT_USAGE;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      io.out(TOP_USAGE);
      return EXIT_OK;
    }
    if (arg === '--once') once = true;
    else if (arg === '--interval' || arg.startsWith('--interval=')) {
      const text = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      const seconds = Number(text);
      if (text === undefined || text === '' || !Number.isFinite(seconds) || seconds < 0.1 || seconds > 3600) {
        return usage(`--interval takes seconds between 0.1 and 3600, got ${JSON.stringify(text ?? '')}`);
      }
      intervalMs = Math.round(seconds * 1000);
    } else if (arg.startsWith('-') && arg !== '-') return usage(`unknown option ${arg}`);
    else if (address !== undefined) return usage(`one address only, got ${JSON.stringify(address)} and ${JSON.stringify(arg)}`);
    else address = arg;
  }
  if (address === undefined) return usage('no address given');
  try {
    parseStatsAddress(address);
  } catch (e) {
    io.err(`tsgi top: ${(e as Error).message}\n`);
    return EXIT_USAGE;
  }
  try {
    await runTop(address, { rounds: once ? 1 : undefined, intervalMs });
    return EXIT_OK;
  } catch (e) {
    io.err(`tsgi top: ${(e as Error).message}\n`);
    return EXIT_FAILURE;
  }
}
