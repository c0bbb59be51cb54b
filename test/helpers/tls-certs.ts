// Test certificates made with the `openssl` command in a temporary directory: a CA,
// server certificates (localhost, other.test, *.wild.test, a second localhost one for
// reloads), a client certificate signed by the CA, and an encrypted copy of the key.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestCerts {
  dir: string;
  /** Absolute path of a file in dir: certs.file('server.pem'). */
  file(name: string): string;
  read(name: string): Buffer;
  remove(): void;
}

/** The passphrase of server-enc.key. */
export const KEY_PASSPHRASE = 'tsgi-secret';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 30_000 });
}

function keyAndCsr(dir: string, name: string, subject: string): void {
  openssl(dir, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
}

function sign(dir: string, name: string, extensions: string): void {
  fs.writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', '2', '-sha256', '-out', `${name}.pem`, '-extfile', `${name}.ext`]);
}

/**
 * Files: ca.pem ca.key; server.pem/.key (CN localhost, SAN localhost + 127.0.0.1 + ::1);
 * server2.pem/.key (CN localhost-2, same SANs); other.pem/.key (other.test);
 * wild.pem/.key (*.wild.test); client.pem/.key (CN tsgi client, clientAuth);
 * server-enc.key (server.key encrypted with KEY_PASSPHRASE).
 */
export function makeTestCerts(): TestCerts {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-certs-'));
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=tsgi test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const serverExt = 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n';
  keyAndCsr(dir, 'server', '/CN=localhost');
  sign(dir, 'server', serverExt);
  keyAndCsr(dir, 'server2', '/CN=localhost-2');
  sign(dir, 'server2', serverExt);
  keyAndCsr(dir, 'other', '/CN=other.test');
  sign(dir, 'other', 'subjectAltName=DNS:other.test\nextendedKeyUsage=serverAuth\n');
  keyAndCsr(dir, 'wild', '/CN=*.wild.test');
  sign(dir, 'wild', 'subjectAltName=DNS:*.wild.test\nextendedKeyUsage=serverAuth\n');
  keyAndCsr(dir, 'client', '/CN=tsgi client/O=tsgi tests');
  sign(dir, 'client', 'extendedKeyUsage=clientAuth\n');
  openssl(dir, ['pkey', '-in', 'server.key', '-aes256', '-passout', `pass:${KEY_PASSPHRASE}`, '-out', 'server-enc.key']);
  return {
    dir,
    file: (name) => path.join(dir, name),
    read: (name) => fs.readFileSync(path.join(dir, name)),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
