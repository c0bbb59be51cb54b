// A setting that is unknown, malformed or out of range, wherever it came from.
import { TsgiError } from '../errors';

export class ConfigError extends TsgiError {
  constructor(message: string) {
    super('TSGI_ERR_CONFIG', message);
  }
}
