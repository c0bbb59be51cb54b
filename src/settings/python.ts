// Python WSGI applications (Flask, Django…) served by the embedded interpreter of the
// optional Python addon: which application, and how its sys.path is set up.
import { defineSetting } from './setting';

export const python = defineSetting<string>({
  name: 'python',
  section: 'python',
  type: 'string',
  default: '',
  doc: "A Python WSGI application, MODULE:CALLABLE as Gunicorn takes it (myproject.wsgi:application); 'tsgi FILE.py:CALLABLE' does the same for a file.",
  validate: (v) => (v === '' || /^[^:]+(:[A-Za-z_][\w.]*)?$/.test(v) ? undefined : `python (--python) must be MODULE:CALLABLE, e.g. myproject.wsgi:application, got ${JSON.stringify(v)}`),
});

export const pythonpath = defineSetting<string[]>({
  name: 'pythonpath',
  section: 'python',
  type: 'list',
  default: [],
  doc: "Directories put first on the Python application's sys.path, in order (repeatable; Gunicorn's --pythonpath).",
});

export const chdir = defineSetting<string>({
  name: 'chdir',
  section: 'python',
  type: 'string',
  default: '',
  doc: "Directory the Python application is loaded from: the worker changes to it and puts it first on sys.path (Gunicorn's --chdir).",
});

export const virtualenv = defineSetting<string>({
  name: 'virtualenv',
  section: 'python',
  type: 'string',
  default: '',
  doc: "A virtualenv for the Python application (its packages on sys.path); when empty, $VIRTUAL_ENV if set (uWSGI's --virtualenv).",
});
