// A setting that is unknown, malformed or out of range, wherever it came from.
export class ConfigError extends Error {
  readonly code = 'TSGI_ERR_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
