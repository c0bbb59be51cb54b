// `tsgi bench MODULE[:EXPORT] [options]`: the user's own application on tsgi and on
// node:http, measured side by side by the package's harness (bench/run.js --app).
import fs from 'node:fs';
import path from 'node:path';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../manager/exit-codes';

export const BENCH_USAGE = `Usage: tsgi bench MODULE[:EXPORT] [options]

Serves the application on tsgi and on node:http, loaded as tsgi loads it, measures both
with the same load (wrk when it is on PATH) and prints the ratio of requests per second
and of CPU time per request.

Options (those of npm run bench -- --app):
  --path PATH             the path requested (default /)
  --scenarios LIST        app-get, app-close, app-pipelined (default: app-get, app-close)
  --duration SECONDS      per measurement (default 10)
  --rounds N              interleaved rounds; medians are reported (default 3)
  --connections N         concurrent connections (default 100)
  --interface NAME        auto, tsgi, node or fetch, as tsgi --interface (default auto)
  --compare FILE          print the change against an earlier results file (.json)
  --threshold PERCENT     what --compare counts as a regression (default 5)
  --out DIR               where results go
  -h, --help              show this help
`;

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Where the harness is: bench/run.js beside dist/ in the package. */
export function harnessPath(): string {
  return path.join(__dirname, '..', '..', 'bench', 'run.js');
}

/** `tsgi bench …` with argv after `bench`; resolves with the exit status. */
export async function benchMain(argv: readonly string[], io: Io): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    io.out(BENCH_USAGE);
    return EXIT_OK;
  }
  const spec = argv.find((a, i) => !a.startsWith('-') && (i === 0 || !argv[i - 1].startsWith('--') || argv[i - 1].includes('=')));
  if (!spec) {
    io.err(`tsgi bench: no application given: tsgi bench MODULE[:EXPORT], e.g. tsgi bench server.js:app\n\n${BENCH_USAGE}`);
    return EXIT_USAGE;
  }
  if (argv.includes('--app')) {
    io.err('tsgi bench: give the application as the first argument, not with --app\n');
    return EXIT_USAGE;
  }
  const run = harnessPath();
  if (!fs.existsSync(run)) {
    io.err(`tsgi bench: the benchmark harness is missing (${run}); reinstall tsgi\n`);
    return EXIT_FAILURE;
  }
  const rest = argv.filter((a) => a !== spec);
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const harness = require(run) as { main(argv: string[], o: { prog: string; shown: readonly string[] }): Promise<number> };
  return harness.main(['--app', spec, ...rest], { prog: 'tsgi bench', shown: argv });
}
