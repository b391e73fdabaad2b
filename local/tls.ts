/**
 * A throwaway TLS certificate for the loopback services (Azurite over https, the Event Hubs stand-in over
 * amqps): self-signed, for localhost and 127.0.0.1, made by `openssl` in a temporary directory when a test
 * asks for it. A client trusts it the way a user trusts a private CA: NODE_EXTRA_CA_CERTS=<certPath>.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export interface LoopbackCertificate {
  /** The certificate (PEM): also the CA a client must trust. */
  certPath: string
  keyPath: string
  cert: string
  key: string
  /** Removes the temporary directory. */
  dispose(): void
}

/**
 * Makes a self-signed certificate valid for two days for localhost and 127.0.0.1, and for the other loopback
 * addresses given (e.g. 127.31.7.9, where a service listens on an address of its own). Needs `openssl` (1.1.1 or
 * later) on PATH.
 */
export function makeLoopbackCertificate(otherAddresses: string[] = []): LoopbackCertificate {
  const names = ['DNS:localhost', 'IP:127.0.0.1', ...otherAddresses.map((a) => `IP:${a}`)].join(',')
  const dir = mkdtempSync(join(tmpdir(), 'ehcp-tls-'))
  const certPath = join(dir, 'cert.pem')
  const keyPath = join(dir, 'key.pem')
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyPath,
        '-out',
        certPath,
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        `subjectAltName=${names}`,
      ],
      {stdio: ['ignore', 'ignore', 'pipe']},
    )
  } catch (error) {
    rmSync(dir, {recursive: true, force: true})
    throw new Error(`openssl could not make a loopback certificate (is openssl 1.1.1 or later on PATH?): ${(error as Error).message}`)
  }
  return {
    certPath,
    keyPath,
    cert: readFileSync(certPath, 'utf8'),
    key: readFileSync(keyPath, 'utf8'),
    dispose: () => rmSync(dir, {recursive: true, force: true}),
  }
}
