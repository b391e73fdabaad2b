/**
 * An `az` for AzureCliCredential: a script, written into a temporary directory to put first on PATH, that
 * answers `az account get-access-token --output json --resource R` as Azure CLI 2.x does after `az login`
 * (accessToken, expiresOn in local time, expires_on in epoch seconds, subscription, tenant, tokenType), with a
 * token from local/entra.ts for R. Logged out, it fails as the real one does ("Please run 'az login'").
 * Every invocation's arguments are appended to a log, one JSON array a line.
 */
import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {DEFAULT_OID, TENANT_ID} from '../../local/entra.js'

export interface FakeAz {
  /** The directory holding `az`: put it first on PATH. */
  dir: string
  /** The arguments of every invocation so far. */
  calls(): string[][]
  dispose(): void
}

export const SUBSCRIPTION_ID = '0b1f6471-0000-4000-8000-0000000000c2'

export function writeFakeAz(options: {loggedIn?: boolean; oid?: string} = {}): FakeAz {
  const dir = mkdtempSync(join(tmpdir(), 'ehcp-fake-az-'))
  const log = join(dir, 'calls.jsonl')
  writeFileSync(log, '')
  const entra = new URL('../../local/entra.js', import.meta.url).href
  const script = `#!${process.execPath}
// CommonJS (an extensionless script), loading the ES module of tokens dynamically.
const {appendFileSync} = require('node:fs')

async function main() {
const args = process.argv.slice(2)
appendFileSync(${JSON.stringify(log)}, JSON.stringify(args) + '\\n')
if (args[0] !== 'account' || args[1] !== 'get-access-token') {
  process.stderr.write("ERROR: 'az' here only answers 'account get-access-token'.\\n")
  process.exit(2)
}
if (!${JSON.stringify(options.loggedIn ?? true)}) {
  process.stderr.write("ERROR: Please run 'az login' to setup account.\\n")
  process.exit(1)
}
const {issueToken} = await import(${JSON.stringify(entra)})
const at = args.indexOf('--resource')
const resource = at >= 0 ? args[at + 1] : 'https://management.core.windows.net/'
const {token, claims} = issueToken({audience: resource, oid: ${JSON.stringify(options.oid ?? DEFAULT_OID)}})
const expires = new Date(claims.exp * 1000)
const pad = (n, width = 2) => String(n).padStart(width, '0')
const expiresOn = \`\${expires.getFullYear()}-\${pad(expires.getMonth() + 1)}-\${pad(expires.getDate())} \${pad(expires.getHours())}:\${pad(expires.getMinutes())}:\${pad(expires.getSeconds())}.000000\`
const answer = {
  accessToken: token,
  expiresOn,
  expires_on: claims.exp,
  subscription: ${JSON.stringify(SUBSCRIPTION_ID)},
  tenant: ${JSON.stringify(TENANT_ID)},
  tokenType: 'Bearer',
}
process.stdout.write(JSON.stringify(answer, null, 2) + '\\n')
}
main()
`
  const az = join(dir, 'az')
  writeFileSync(az, script)
  chmodSync(az, 0o755)
  return {
    dir,
    calls: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as string[]),
    dispose: () => rmSync(dir, {recursive: true, force: true}),
  }
}
