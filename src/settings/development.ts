// Conveniences for development, off in production.
import { defineSetting } from './setting';

export const reload = defineSetting<boolean>({
  name: 'reload',
  section: 'development',
  type: 'boolean',
  default: false,
  doc: "Restart the workers when the application's files change.",
});

export const reloadExtraFiles = defineSetting<string[]>({
  name: 'reloadExtraFiles',
  section: 'development',
  type: 'list',
  default: [],
  doc: 'More files or directories to watch with --reload (repeatable).',
});
