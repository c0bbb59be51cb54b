'use strict';
// The live progress line on stderr: rewritten in place on a terminal, one line per
// step otherwise (CI logs, pipes).

function create(stream = process.stderr) {
  const tty = !!stream.isTTY;
  let last = '';
  const started = Date.now();
  const clock = () => {
    const s = Math.round((Date.now() - started) / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  };
  return {
    /**
     * Shows `text`; `eta` (seconds) is appended when known. Transient updates (counters
     * inside a step) only show on a terminal.
     */
    update(text, eta, { transient = false } = {}) {
      const left = eta == null ? '' : eta >= 120 ? ` · ~${Math.ceil(eta / 60)} min left` : ` · ~${Math.ceil(eta)} s left`;
      const line = `[${clock()}${left}] ${text}`;
      if (!tty && transient) return;
      if (tty) {
        const width = stream.columns || 100;
        stream.write(`\r\x1b[2K${line.slice(0, width - 1)}`);
      } else if (line !== last) stream.write(`${line}\n`);
      last = line;
    },
    /** Prints a permanent message above the progress line. */
    log(text) {
      if (tty) stream.write(`\r\x1b[2K${text}\n${last ? last.slice(0, (stream.columns || 100) - 1) : ''}`);
      else stream.write(`${text}\n`);
    },
    done() {
      if (tty && last) stream.write('\r\x1b[2K');
      last = '';
    },
  };
}

module.exports = { create };
