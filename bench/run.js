#!/usr/bin/env node
'use strict';
// `npm run bench`: starts every peer server, checks that each answers every scenario
// correctly, measures them interleaved round by round, and reports medians and ratios
// as a terminal table, JSON, Markdown and an SVG chart.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const options = require('./options');
const { PEERS, ROOT, BASELINES, labelOf } = require('./peers');
const { getScenario } = require('./scenarios');
const { ensureFile } = require('./payloads');
const { validateServer, differences } = require('./validate');
const { launch, stopAll } = require('./launch');
const generators = require('./generators');
const system = require('./system');
const idle = require('./idle');
const stats = require('./stats');
const progress = require('./progress');
const table = require('./report/table');
const markdown = require('./report/markdown');
const svg = require('./report/svg');
const summary = require('./report/summary');
const compare = require('./report/compare');
const format = require('./report/format');

function rotate(list, n) {
  const k = n % list.length;
  return list.slice(k).concat(list.slice(0, k));
}

function commandLine(argv, prog = null) {
  const args = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(' ');
  if (prog) return `${prog}${args ? ` ${args}` : ''}`;
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${args ? ` -- ${args}` : ''}`;
  return `node bench/run.js${args ? ` ${args}` : ''}`;
}

/** Keeps the harness itself (idle sockets, sampling) off the servers' CPUs. */
function pinSelf(cpus) {
  if (!cpus) return;
  spawnSync('taskset', ['-a', '-p', '-c', cpus.join(','), String(process.pid)], { stdio: 'ignore' });
}

/**
 * Runs the whole benchmark described by `o` (parsed options); resolves the result
 * document (see docs/benchmarks.md for its shape). `ui` is a progress reporter.
 */
async function runBench(o, ui, argv = [], prog = null) {
  const startedAt = new Date().toISOString();
  const pinning = system.cpuPlan({ pin: o.pin });
  const { generator, note } = generators.choose(o.generator);
  const serverCpus = pinning.pinned ? pinning.server : null;
  const genCpus = pinning.pinned ? pinning.generator : null;
  const genThreads = generator.name === 'wrk' ? Math.max(1, Math.min(o.connections, (genCpus || system.allowedCpus()).length)) : 1;
  const notes = [];
  if (o.rounds < 3) notes.push(`${o.rounds} round${o.rounds === 1 ? '' : 's'}: fewer than 3, so medians are not robust against noise`);
  if (o.workers > 1 && serverCpus && o.workers > serverCpus.length) {
    notes.push(`--workers ${o.workers} on ${serverCpus.length} server CPU(s): the workers share CPUs, so expect no multi-core gain`);
  }
  pinSelf(genCpus);

  const scenarios = o.scenarios.map((n) => getScenario(n, { path: o.app ? o.path : undefined }));
  const families = new Set(scenarios.map((s) => s.family));
  const runs = (id, s) => PEERS[id].family === s.family;
  const throughput = scenarios.filter((s) => s.kind === 'throughput');
  const wantIdle = scenarios.some((s) => s.kind === 'idle');
  let idleCount = o.idleConnections;
  if (wantIdle) {
    const p = idle.plan(o.idleConnections);
    idleCount = p.count;
    if (p.note) {
      notes.push(p.note);
      ui.log(`bench: ${p.note}`);
    }
  }
  if (families.has('js')) ensureFile(); // the 1 MB file the file scenario serves

  // Start and validate every server; a server that fails is reported, not measured.
  const servers = [];
  const handles = new Map();
  const launchOpts = { workers: o.workers, threads: o.threads, app: o.app, cpus: serverCpus };
  const answers = new Map();
  for (const id of o.servers) {
    // A server runs only the scenarios of its family (JavaScript, Python, --app).
    if (!families.has(PEERS[id].family)) continue;
    const entry = { id, label: labelOf(id, o.workers, o.threads), status: 'measured' };
    servers.push(entry);
    const why = PEERS[id].unavailable({ workers: o.workers });
    if (why) {
      Object.assign(entry, { status: 'unavailable', reason: why });
      ui.log(`bench: ${entry.label} unavailable: ${why}`);
      continue;
    }
    ui.update(`starting ${entry.label}`);
    let h;
    try {
      h = await launch(id, launchOpts);
    } catch (e) {
      Object.assign(entry, { status: 'failed-start', reason: e.message });
      ui.log(`bench: ${entry.label} did not start: ${e.message}`);
      continue;
    }
    ui.update(`validating ${entry.label}`);
    const v = await validateServer(scenarios.filter((s) => runs(id, s)), h);
    answers.set(id, v.answers);
    if (!v.ok) {
      Object.assign(entry, { status: 'failed-validation', failures: v.failures });
      ui.log(`bench: ${entry.label} answers wrong, not measured: ${JSON.stringify(v.failures)}`);
      await h.stop();
      continue;
    }
    handles.set(id, h);
  }
  if (o.app) {
    // Nothing says what the application answers, so both servers must at least agree.
    const [a, b] = o.servers.map((id) => answers.get(id));
    for (const s of scenarios) {
      const d = a && b ? differences(a[s.name], b[s.name]) : null;
      if (d) notes.push(`${s.name}: tsgi and node:http answer ${s.method} ${s.path} differently (${d})`);
    }
  }

  const measurements = [];
  const active = [...handles.keys()];
  const IDLE_STEP_S = 6; // fresh start, warm-up, 10,000 connects, settle
  const pairs = throughput.reduce((n, s) => n + active.filter((id) => runs(id, s)).length, 0);
  const idlers = wantIdle ? active.filter((id) => PEERS[id].family === 'js').length : 0;
  const totalSteps = o.rounds * (pairs + idlers);
  let step = 0;
  let left = o.rounds * (pairs * (o.duration + 1) + idlers * IDLE_STEP_S) + pairs * o.warmup;
  const eta = () => Math.max(0, left);

  try {
    for (let round = 1; round <= o.rounds && active.length; round++) {
      const order = rotate(active, round - 1); // no server always goes first
      for (const s of throughput) {
        for (const id of order) {
          if (!runs(id, s)) continue;
          const h = handles.get(id);
          step++;
          if (h.exited()) {
            notes.push(`${h.label} exited (${h.exited()}) before ${s.name} in round ${round}: ${h.stderr().trim().slice(-200)}`);
            continue;
          }
          const url = `http://${h.host}:${h.port}`;
          const run = { url, scenario: s, connections: o.connections, cpus: genCpus };
          try {
            if (round === 1 && o.warmup > 0) {
              ui.update(`round ${round}/${o.rounds} · ${s.name} · ${h.label} · warm-up`, eta());
              await generator.run({ ...run, duration: o.warmup });
              left -= o.warmup;
            }
            ui.update(`round ${round}/${o.rounds} · ${s.name} · ${h.label} (${step}/${totalSteps})`, eta());
            const tree = system.processTree(h.pid);
            const sampler = system.cpuSampler(() => tree);
            const cpuBefore = system.treeCpu(h.pid);
            const r = await generator.run({ ...run, duration: o.duration });
            // The whole tree's CPU time over the generator's run, per completed request.
            const serverCpuSeconds = system.cpuBetween(cpuBefore, system.treeCpu(h.pid));
            const serverCpu = sampler.stop();
            const cpuPerRequestUs = system.cpuPerRequestUs(serverCpuSeconds, r.requests);
            measurements.push({ round, scenario: s.name, server: id, label: h.label, ...r, serverCpu, serverCpuSeconds, cpuPerRequestUs });
            left -= o.duration + 1;
          } catch (e) {
            notes.push(`${h.label} / ${s.name} / round ${round}: ${e.message}`);
            ui.log(`bench: ${h.label} / ${s.name}: ${e.message}`);
          }
        }
      }
      if (wantIdle) {
        // Each idle measurement gets a fresh process (see bench/idle.js).
        for (const id of order) {
          if (PEERS[id].family !== 'js') continue;
          step++;
          const label = `round ${round}/${o.rounds} · idle · ${handles.get(id).label}`;
          ui.update(label, eta());
          let h;
          try {
            h = await launch(id, launchOpts);
            const r = await idle.measureIdle(h, {
              count: idleCount,
              timeLimitMs: 60000,
              onProgress: (n, of) => ui.update(`${label} · ${n}/${of} connections`, eta(), { transient: true }),
            });
            if (r.failed) notes.push(`${h.label} / idle / round ${round}: ${r.failed} connections failed (${r.firstError})`);
            if (r.closedEarly) notes.push(`${h.label} / idle / round ${round}: the server closed ${r.closedEarly} idle connections during the measurement`);
            measurements.push({ round, scenario: 'idle', server: id, label: h.label, ...r });
            left -= IDLE_STEP_S;
          } catch (e) {
            notes.push(`${handles.get(id).label} / idle / round ${round}: ${e.message}`);
          } finally {
            if (h) await h.stop();
          }
        }
      }
    }
  } finally {
    ui.update('stopping servers');
    for (const h of handles.values()) await h.stop();
    generator.cleanup();
    ui.done();
  }

  const baselines = o.app ? ['app-node'] : BASELINES;
  const rows = stats.summarize(measurements, { baselines, generatorCores: genThreads });
  return {
    version: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    command: commandLine(argv, prog),
    machine: system.machine(),
    generator: { name: generator.name, version: generator.version(), note, threads: genThreads, cpus: genCpus },
    pinning,
    options: {
      servers: o.servers,
      scenarios: o.scenarios,
      duration: o.duration,
      warmup: o.warmup,
      connections: o.connections,
      idleConnections: idleCount,
      rounds: o.rounds,
      workers: o.workers,
      threads: o.threads,
      ...(o.app ? { app: o.app.spec, path: o.path, interface: o.app.interface } : {}),
    },
    baselines,
    scenarios: o.scenarios,
    servers,
    measurements,
    rows,
    ceilings: stats.generatorCeilings(rows),
    notes,
  };
}

/** Writes <stamp>.{json,md,svg} and latest.{json,md,svg}; returns the paths. */
function writeResults(doc, outDir) {
  fs.mkdirSync(outDir, { recursive: true });
  const stamp = doc.startedAt.replace(/[:.]/g, '-');
  const files = {};
  for (const name of [stamp, 'latest']) {
    fs.writeFileSync(path.join(outDir, `${name}.json`), `${JSON.stringify(doc, null, 2)}\n`);
    fs.writeFileSync(path.join(outDir, `${name}.svg`), svg.render(doc));
    fs.writeFileSync(path.join(outDir, `${name}.md`), markdown.render(doc, { chart: `${name}.svg` }));
  }
  files.json = path.join(outDir, `${stamp}.json`);
  files.md = path.join(outDir, `${stamp}.md`);
  files.svg = path.join(outDir, `${stamp}.svg`);
  return files;
}

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

/**
 * Finds the marked section of `text`: a line that is exactly START and a later line that is
 * exactly END (markers quoted inside a sentence or code are text, not markers). Returns
 * the offsets just after the START line and at the start of the END line; null without
 * markers; throws when the markers are not one START line followed by one END line.
 */
function markedSection(text, file = 'the document') {
  const starts = [];
  const ends = [];
  let at = 0;
  for (const line of text.split('\n')) {
    const bare = line.replace(/\r$/, '');
    if (bare === START) starts.push({ at, next: at + line.length + 1 });
    if (bare === END) ends.push({ at, next: at + line.length + 1 });
    at += line.length + 1;
  }
  if (starts.length === 0 && ends.length === 0) return null;
  if (starts.length !== 1 || ends.length !== 1 || ends[0].at < starts[0].next) {
    throw new Error(`${file}: expected one line "${START}" followed by one line "${END}", found ${starts.length} and ${ends.length}; fix the markers by hand`);
  }
  return { from: starts[0].next, to: ends[0].at };
}

/** Replaces what is between the marker lines of `file` with the latest results; false if no markers. */
function updateMarkedSection(file, doc, chartPath) {
  if (!fs.existsSync(file)) return false;
  const text = fs.readFileSync(file, 'utf8');
  const section = markedSection(text, file);
  if (!section) return false;
  const body = markdown.render(doc, { chart: chartPath });
  fs.writeFileSync(file, `${text.slice(0, section.from)}${body}\n${text.slice(section.to)}`);
  return true;
}

/** Rewrites the marked sections of docs/benchmarks.md and README.md under `root`; returns the files changed. */
function updateDocs(doc, outDir, root = ROOT) {
  const updated = [];
  const docs = path.join(root, 'docs', 'benchmarks.md');
  const readme = path.join(root, 'README.md');
  const chart = (from) => path.relative(path.dirname(from), path.join(outDir, 'latest.svg')).split(path.sep).join('/');
  if (updateMarkedSection(docs, doc, chart(docs))) updated.push(docs);
  if (updateMarkedSection(readme, doc, chart(readme))) updated.push(readme);
  return updated;
}

function printReport(doc, stream = process.stdout) {
  const out = [];
  out.push('', ...summary.context(doc), '');
  out.push(doc.rows.length ? table.render(doc) : '(nothing was measured)', '');
  const ceil = summary.ceilings(doc);
  if (ceil.length) out.push('Generator ceiling (its rate against the fastest peer):', ...ceil.map((l) => `  ${l}`), '');
  const skipped = summary.skipped(doc);
  if (skipped.length) out.push('Not measured:', ...skipped.map((l) => `  ${l}`), '');
  if (doc.notes.length) out.push('Notes:', ...doc.notes.map((l) => `  ${l}`), '');
  if (doc.options.app) out.push(...appSummary(doc), '');
  stream.write(`${out.join('\n')}\n`);
}

/** `--app`: one line per scenario, tsgi against node:http. */
function appSummary(doc) {
  const lines = [`${doc.options.app} on tsgi against node:http (GET ${doc.options.path}):`];
  for (const name of doc.scenarios) {
    const t = doc.rows.find((r) => r.scenario === name && r.server === 'app-tsgi');
    const n = doc.rows.find((r) => r.scenario === name && r.server === 'app-node');
    if (!t || !n) {
      lines.push(`  ${name}: not measured on both servers`);
      continue;
    }
    const cpu = t.cpuRatios && t.cpuRatios['app-node'] != null ? `, CPU per request ${format.ratio(t.cpuRatios['app-node'])}` : '';
    lines.push(`  ${name}: ${format.ratio(t.ratios['app-node'])} the requests per second (${Math.round(t.value).toLocaleString('en-US')} vs ${Math.round(n.value).toLocaleString('en-US')})${cpu}`);
  }
  return lines;
}


/**
 * The command: parses `argv`, runs, reports, writes results; resolves the exit code.
 * `prog` names the command in the results (e.g. 'tsgi bench') and `shown` its arguments
 * as the user typed them.
 */
async function main(argv, { prog = null, shown = argv } = {}) {
  let o;
  try {
    o = options.parse(argv);
  } catch (e) {
    process.stderr.write(`bench: ${e.message}\n`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(options.HELP);
    return 0;
  }
  // Read before the run: the run rewrites latest.json, which may be the file named.
  let before = null;
  if (o.compare) {
    try {
      before = compare.load(o.compare);
    } catch (e) {
      process.stderr.write(`bench: ${e.message}\n`);
      return 2;
    }
  }
  const ui = progress.create();
  let doc;
  try {
    doc = await runBench(o, ui, shown, prog);
  } catch (e) {
    ui.done();
    await stopAll();
    process.stderr.write(`bench: ${e.message}\n`);
    return 1;
  }
  printReport(doc);
  const files = writeResults(doc, o.out);
  process.stdout.write(`Results: ${path.relative(process.cwd(), files.json)}, ${path.relative(process.cwd(), files.md)}, ${path.relative(process.cwd(), files.svg)} (and latest.*)\n`);
  if (o.updateDocs) {
    try {
      for (const f of updateDocs(doc, o.out)) process.stdout.write(`Updated ${path.relative(process.cwd(), f)}\n`);
    } catch (e) {
      process.stderr.write(`bench: --update-docs: ${e.message}\n`);
      return 1;
    }
  }
  if (before) {
    const entries = compare.compare(before, doc, { threshold: o.threshold });
    const lines = compare.render(entries, { threshold: o.threshold, color: compare.useColor(process.stdout), file: path.relative(process.cwd(), o.compare) });
    process.stdout.write(`\n${lines.join('\n')}\n`);
  }
  return doc.measurements.length ? 0 : 1;
}

module.exports = { runBench, writeResults, updateDocs, updateMarkedSection, markedSection, printReport, main };

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`bench: ${e.stack || e}\n`);
      process.exit(1);
    },
  );
}
