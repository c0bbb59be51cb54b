// Under `npm start -- ARGS` (or `npm run NAME -- ARGS`), npm appends ARGS to the script's
// own command line. The script's arguments are defaults of the project; the appended ones
// are the user's, and a list setting given there (--bind) replaces the script's values
// instead of adding to them. npm names the script it runs in npm_lifecycle_script.

/** Splits a script's command line into words (plain, 'single' and "double" quoted). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\\.|[^\s'"])+/g;
  let word: string | undefined;
  let lastEnd = -1;
  for (let m; (m = re.exec(line)); ) {
    const part = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2] !== undefined ? m[2] : m[0].replace(/\\(.)/g, '$1');
    // Adjacent pieces ("a"'b'c) make one word.
    if (word !== undefined && m.index === lastEnd) word += part;
    else {
      if (word !== undefined) words.push(word);
      word = part;
    }
    lastEnd = m.index + m[0].length;
  }
  if (word !== undefined) words.push(word);
  return words;
}

/**
 * The index in `argv` where the arguments appended to an npm script start: the script's
 * last words are the first of `argv`. 0 when tsgi was not started by an npm script, or
 * when nothing was appended.
 */
export function appendedArgsStart(argv: readonly string[], env: NodeJS.ProcessEnv): number {
  const script = env.npm_lifecycle_script;
  if (!script) return 0;
  const words = shellWords(script);
  for (let k = Math.min(words.length, argv.length - 1); k > 0; k--) {
    const tail = words.slice(words.length - k);
    if (tail.every((w, i) => w === argv[i])) return k;
  }
  return 0;
}
