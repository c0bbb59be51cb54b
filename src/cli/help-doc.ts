// The generated part of docs/cli.md: the `tsgi --help` text between its marker lines.
import { helpText } from './help';

export const HELP_START = '<!-- help:start (generated from the settings registry by `npm run docs`; do not edit) -->';
export const HELP_END = '<!-- help:end -->';

/** The block that goes between the markers: --help without its version line. */
export function helpBlock(): string {
  const text = helpText('VERSION').split('\n').slice(2).join('\n').trimEnd();
  return '```\n' + text + '\n```';
}

/** Returns `doc` with the block between its marker lines replaced; throws when the markers are missing or misplaced. */
export function withHelpBlock(doc: string): string {
  const lines = doc.split('\n');
  const a = lines.indexOf(HELP_START);
  const b = lines.indexOf(HELP_END);
  if (a < 0 || b < a || lines.lastIndexOf(HELP_START) !== a || lines.lastIndexOf(HELP_END) !== b) {
    throw new Error(`docs/cli.md needs one line "${HELP_START}" followed by one line "${HELP_END}"`);
  }
  return [...lines.slice(0, a + 1), helpBlock(), ...lines.slice(b)].join('\n');
}
