/**
 * Connecting to the container, exactly as the contract orders it. Deciding *which* way to connect is pure
 * (resolveStorageTarget); opening the client imports the Azure SDK lazily (openContainer).
 */

import {usageError} from '../errors.js'
import {displayUrl, registerSecret} from '../redact.js'
import type {BlobLister, ListingAuth} from './listing.js'

export interface ConnectionInput {
  containerUrl?: string
  connectionString?: string
  container?: string
  accountUrl?: string
  emulator?: boolean
}

export type StorageTarget =
  | {kind: 'container-url'; url: string; display: string}
  | {kind: 'connection-string'; connectionString: string; container: string; display: string}
  | {kind: 'account-url'; accountUrl: string; container: string; display: string}
  | {kind: 'emulator'; blobEndpoint: string; container: string; display: string}

/** The well-known, public Azurite development account (not a secret). */
export const EMULATOR_ACCOUNT = 'devstoreaccount1'
export const EMULATOR_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
const EMULATOR_DEFAULT_ENDPOINT = `http://127.0.0.1:10000/${EMULATOR_ACCOUNT}`

const HOW_TO_CONNECT = [
  'Connect to storage in one of four ways:',
  '  --container-url URL                      a container URL, optionally with a SAS query string',
  '  --connection-string S --container NAME   or env AZURE_STORAGE_CONNECTION_STRING and EHCP_CONTAINER',
  '  --account-url URL --container NAME       or env EHCP_ACCOUNT_URL; signs in with DefaultAzureCredential',
  '  --emulator --container NAME              the local Azurite account (env EHCP_EMULATOR_BLOB_ENDPOINT overrides the endpoint)',
].join('\n')

function needContainer(container: string | undefined, via: string): string {
  if (!container) throw usageError(`${via} needs --container NAME (or env EHCP_CONTAINER).`, HOW_TO_CONNECT)
  return container
}

function accountFromConnectionString(cs: string): string {
  const parts = new Map(
    cs
      .split(';')
      .filter((p) => p.includes('='))
      .map((p) => [p.slice(0, p.indexOf('=')).trim().toLowerCase(), p.slice(p.indexOf('=') + 1).trim()] as const),
  )
  if (parts.get('usedevelopmentstorage') === 'true') return `${EMULATOR_ACCOUNT} (development storage)`
  const endpoint = parts.get('blobendpoint')
  if (endpoint) return displayUrl(endpoint)
  return parts.get('accountname') ?? 'the account in the connection string'
}

/**
 * Explicit flags win over environment variables; within each, the contract's order:
 * container URL, connection string, account URL, emulator.
 */
export function resolveStorageTarget(input: ConnectionInput, env: NodeJS.ProcessEnv): StorageTarget {
  const container = input.container ?? env.EHCP_CONTAINER
  const fromEnvConnectionString = env.AZURE_STORAGE_CONNECTION_STRING
  // The container URL's SAS is registered once the URL has been validated, below.
  for (const secret of [input.connectionString, fromEnvConnectionString]) registerSecret(secret)
  registerConnectionStringSecrets(input.connectionString)
  registerConnectionStringSecrets(fromEnvConnectionString)

  if (input.containerUrl) {
    let url: URL
    try {
      url = new URL(input.containerUrl)
    } catch {
      throw usageError('--container-url is not a valid URL.', HOW_TO_CONNECT)
    }
    registerSecret(url.search.slice(1))
    registerSecret(url.searchParams.get('sig') ?? undefined)
    if (!/^https?:$/.test(url.protocol) || url.pathname.split('/').filter(Boolean).length === 0) {
      throw usageError('--container-url must be an http(s) URL that names a container.', HOW_TO_CONNECT)
    }
    return {kind: 'container-url', url: input.containerUrl, display: displayUrl(input.containerUrl)}
  }
  if (input.connectionString) {
    const c = needContainer(container, '--connection-string')
    return {kind: 'connection-string', connectionString: input.connectionString, container: c, display: `${accountFromConnectionString(input.connectionString)}/${c}`}
  }
  if (input.accountUrl) {
    const c = needContainer(container, '--account-url')
    return {kind: 'account-url', accountUrl: input.accountUrl, container: c, display: `${displayUrl(input.accountUrl)}/${c}`}
  }
  if (input.emulator) {
    const c = needContainer(container, '--emulator')
    const blobEndpoint = (env.EHCP_EMULATOR_BLOB_ENDPOINT || EMULATOR_DEFAULT_ENDPOINT).replace(/\/+$/, '')
    return {kind: 'emulator', blobEndpoint, container: c, display: `${displayUrl(blobEndpoint)}/${c}`}
  }
  if (fromEnvConnectionString) {
    const c = needContainer(container, 'AZURE_STORAGE_CONNECTION_STRING')
    return {kind: 'connection-string', connectionString: fromEnvConnectionString, container: c, display: `${accountFromConnectionString(fromEnvConnectionString)}/${c}`}
  }
  if (env.EHCP_ACCOUNT_URL) {
    const c = needContainer(container, 'EHCP_ACCOUNT_URL')
    return {kind: 'account-url', accountUrl: env.EHCP_ACCOUNT_URL, container: c, display: `${displayUrl(env.EHCP_ACCOUNT_URL)}/${c}`}
  }
  throw usageError('No storage connection given.', HOW_TO_CONNECT)
}

function registerConnectionStringSecrets(cs: string | undefined): void {
  if (!cs) return
  for (const m of cs.matchAll(/(?:AccountKey|SharedAccessSignature|SharedAccessKey)=([^;]+)/gi)) {
    registerSecret(m[1])
    registerSecret(m[1] ? new URLSearchParams(m[1]).get('sig') ?? undefined : undefined)
  }
}

export interface ClientTuning {
  /** Per attempt; the store also bounds each whole operation by it. */
  timeoutMs: number
  maxTries: number
}

export interface OpenedContainer {
  name: string
  /** Listings and writes. */
  lister: BlobLister
}

/** A container's address and how to sign requests to it. */
interface ContainerAddress {
  name: string
  /** Without a query string. */
  url: string
  /** A SAS query string (without "?"), or "". */
  sas: string
  auth: ListingAuth
}

const INVALID_CONNECTION_STRING = () =>
  usageError('The storage connection string is not valid.', 'Copy it from the portal (Access keys) or `az storage account show-connection-string`.')

/** Reads a storage connection string (account key or SAS; explicit or default endpoints; development storage). */
export function parseConnectionString(connectionString: string): {endpoint: string; sas: string; auth: ListingAuth} {
  const fields = new Map<string, string>()
  for (const part of connectionString.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0) fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim())
  }
  if (fields.get('usedevelopmentstorage')?.toLowerCase() === 'true') {
    return {endpoint: EMULATOR_DEFAULT_ENDPOINT, sas: '', auth: {kind: 'shared-key', accountName: EMULATOR_ACCOUNT, accountKey: EMULATOR_KEY}}
  }
  const accountName = fields.get('accountname')
  const accountKey = fields.get('accountkey')
  const explicit = fields.get('blobendpoint')?.replace(/\/+$/, '')
  const protocol = (fields.get('defaultendpointsprotocol') ?? 'https').toLowerCase()
  if (protocol !== 'https' && protocol !== 'http') throw INVALID_CONNECTION_STRING()
  const endpoint = explicit ?? (accountName ? `${protocol}://${accountName}.blob.${fields.get('endpointsuffix') ?? 'core.windows.net'}` : undefined)
  if (!endpoint || !/^https?:\/\//i.test(endpoint)) throw INVALID_CONNECTION_STRING()
  if (accountName && accountKey) return {endpoint, sas: '', auth: {kind: 'shared-key', accountName, accountKey}}
  const sas = fields.get('sharedaccesssignature')?.replace(/^\?/, '')
  if (sas) return {endpoint, sas, auth: {kind: 'none'}}
  throw INVALID_CONNECTION_STRING()
}

/** As the service expects a blob name in a URL: each path segment percent-encoded, "/" kept, "'" encoded too. */
export function escapeBlobName(name: string): string {
  return name
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/'/g, '%27'))
    .join('/')
}

async function addressOf(target: StorageTarget): Promise<ContainerAddress> {
  const inContainer = (endpoint: string, container: string) => `${endpoint.replace(/\/+$/, '')}/${encodeURIComponent(container)}`
  switch (target.kind) {
    case 'container-url': {
      const url = new URL(target.url)
      const sas = url.search.replace(/^\?/, '')
      url.search = ''
      const name = decodeURIComponent(url.pathname.split('/').filter(Boolean).at(-1) ?? '')
      return {name, url: url.toString().replace(/\/+$/, ''), sas, auth: {kind: 'none'}}
    }
    case 'connection-string': {
      const {endpoint, sas, auth} = parseConnectionString(target.connectionString)
      return {name: target.container, url: inContainer(endpoint, target.container), sas, auth}
    }
    case 'account-url': {
      const {DefaultAzureCredential} = await import('@azure/identity')
      return {name: target.container, url: inContainer(target.accountUrl, target.container), sas: '', auth: {kind: 'token', credential: new DefaultAzureCredential()}}
    }
    case 'emulator':
      return {name: target.container, url: inContainer(target.blobEndpoint, target.container), sas: '', auth: {kind: 'shared-key', accountName: EMULATOR_ACCOUNT, accountKey: EMULATOR_KEY}}
  }
}

/** Opens the container: the lean Blob REST client, signed as the target says. @azure/identity loads only when needed. */
export async function openContainer(target: StorageTarget, tuning: ClientTuning): Promise<OpenedContainer> {
  const address = await addressOf(target)
  const query = address.sas ? `?${address.sas}` : ''
  const {BlobLister} = await import('./listing.js')
  const blobUrl = (name: string) => `${address.url}/${escapeBlobName(name)}${query}`
  return {name: address.name, lister: await BlobLister.create(`${address.url}${query}`, blobUrl, address.auth, tuning)}
}
