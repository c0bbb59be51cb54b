// The access log and the error log. Both are reopened on SIGUSR1.
import { defineSetting } from './setting';
import { accessFormatProblem } from '../logging/access-log';

export const GUNICORN_ACCESS_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"';

export const accessLog = defineSetting<string>({
  name: 'accessLog',
  section: 'logging',
  type: 'string',
  default: '',
  doc: "Access log file, '-' for standard output; empty for no access log.",
});

export const accessLogFormat = defineSetting<string>({
  name: 'accessLogFormat',
  section: 'logging',
  type: 'string',
  default: GUNICORN_ACCESS_FORMAT,
  doc: "Access log line: Gunicorn atoms such as %(h)s %(t)s \"%(r)s\" %(s)s %(b)s %(D)s, or 'json' for one JSON object a line.",
  validate: accessFormatProblem,
});

export const errorLog = defineSetting<string>({
  name: 'errorLog',
  section: 'logging',
  type: 'string',
  default: '-',
  doc: "Error log file, '-' for standard error.",
});

export const logLevel = defineSetting<string>({
  name: 'logLevel',
  section: 'logging',
  type: 'string',
  default: 'info',
  choices: ['debug', 'info', 'warning', 'error', 'critical'],
  doc: 'Least severe level written to the error log.',
});
