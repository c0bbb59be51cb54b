// TLS on https:// binds: the certificate and key, client certificates, protocol versions,
// ciphers and per-name certificates (SNI). The worker reads the files (PEM) when it starts.
import fs from 'node:fs';
import { defineSetting } from './setting';
import { parseSniEntries } from '../tls-options';

/** What is wrong with a PEM file setting ('' is fine: not given), or undefined. */
function readableFile(flag: string, what: string) {
  return (v: string): string | undefined => {
    if (v === '') return undefined;
    try {
      if (!fs.statSync(v).isFile()) return `${flag} ${JSON.stringify(v)} is not a file; give the path of the ${what} (PEM)`;
      fs.accessSync(v, fs.constants.R_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'ENOENT'
        ? `${flag} ${JSON.stringify(v)} does not exist; give the path of the ${what} (PEM)`
        : `${flag} ${JSON.stringify(v)} cannot be read (${code}); check its permissions`;
    }
    return undefined;
  };
}

export const certfile = defineSetting<string>({
  name: 'certfile',
  section: 'TLS',
  type: 'string',
  default: '',
  doc: 'Certificate chain (PEM) of https:// binds: the server certificate first, then intermediates.',
  validate: readableFile('--certfile', 'certificate'),
});

export const keyfile = defineSetting<string>({
  name: 'keyfile',
  section: 'TLS',
  type: 'string',
  default: '',
  doc: 'Private key (PEM) of --certfile; empty: the key is in the certificate file.',
  validate: readableFile('--keyfile', 'private key'),
});

export const keyfilePassword = defineSetting<string>({
  name: 'keyfilePassword',
  section: 'TLS',
  type: 'string',
  default: '',
  doc: 'Passphrase of an encrypted --keyfile (prefer TSGI_KEYFILE_PASSWORD to the command line).',
});

export const caCerts = defineSetting<string>({
  name: 'caCerts',
  section: 'TLS',
  type: 'string',
  default: '',
  doc: 'CA certificates (PEM) that client certificates are verified against (with --cert-reqs).',
  validate: readableFile('--ca-certs', 'CA certificates'),
});

export const certReqs = defineSetting<string>({
  name: 'certReqs',
  section: 'TLS',
  type: 'string',
  default: 'none',
  choices: ['none', 'optional', 'required'],
  doc: "Client certificates: 'none' (not asked for), 'optional' (verified when sent), 'required' (handshake fails without one).",
});

export const ciphers = defineSetting<string>({
  name: 'ciphers',
  section: 'TLS',
  type: 'string',
  default: '',
  doc: "OpenSSL cipher list for TLS 1.2 (e.g. 'ECDHE+AESGCM:ECDHE+CHACHA20'); empty keeps OpenSSL's default.",
});

export const tlsMinVersion = defineSetting<string>({
  name: 'tlsMinVersion',
  section: 'TLS',
  type: 'string',
  default: 'TLSv1.2',
  choices: ['TLSv1.2', 'TLSv1.3'],
  doc: 'Oldest TLS version accepted; older clients fail the handshake.',
});

export const sni = defineSetting<string[]>({
  name: 'sni',
  section: 'TLS',
  type: 'list',
  default: [],
  doc: "Certificate per server name (repeatable): 'HOST=CERT,KEY'; a client naming HOST gets CERT, others get --certfile. HOST may be '*.example.com'.",
  validate: (v) => {
    try {
      for (const e of parseSniEntries(v)) {
        const problem = readableFile('--sni', 'certificate')(e.cert) ?? readableFile('--sni', 'private key')(e.key);
        if (problem) return `${problem} (for ${e.host})`;
      }
    } catch (err) {
      return (err as Error).message;
    }
    return undefined;
  },
});

export const tlsHandshakeTimeout = defineSetting<number>({
  name: 'tlsHandshakeTimeout',
  section: 'TLS',
  type: 'duration',
  default: 10_000,
  min: 100,
  max: 300_000,
  doc: 'A TLS handshake not finished this long after the connection was accepted: closed.',
});
