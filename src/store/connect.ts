/**
 * Connecting to the container, exactly as the contract orders it. Deciding *which* way to connect is pure
 * (resolveStorageTarget); opening the client imports the Azure SDK lazily (openContainer).
 */

import {quote, usageError} from '../errors.js'
import {displayUrl, registerSecret} from '../redact.js'
import type {BlobRestAuth, BlobRestClient} from './blob-rest.js'

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
  return checkContainerName(container, '--container')
}

/** Containers the service names itself; every other name follows the rules below. */
const SPECIAL_CONTAINERS = new Set(['$root', '$web', '$logs'])
const CONTAINER_NAME = /^[a-z0-9](?:-?[a-z0-9])*$/

/**
 * A container name as Blob Storage allows it: 3-63 characters, lower-case letters, digits and single hyphens,
 * starting and ending with a letter or digit ($root, $web and $logs are the service's own). Refused here,
 * before any request, rather than by the service with a 400 ehcp would not understand.
 */
export function checkContainerName(name: string, source: string): string {
  if (SPECIAL_CONTAINERS.has(name) || (name.length >= 3 && name.length <= 63 && CONTAINER_NAME.test(name))) return name
  throw usageError(
    `${source}: ${quote(name)} is not a valid container name.`,
    'A container name is 3-63 characters: lower-case letters, digits and single hyphens, starting and ending with a letter or digit.',
  )
}

/**
 * Hosts the storage SDK addresses path-style (http://host:port/ACCOUNT/CONTAINER): IP addresses, localhost,
 * host.docker.internal and the emulators' ports; every other host carries the account in its name.
 */
const PATH_STYLE_PORTS = new Set(['10000', '10001', '10002', '10003', '10004', '10100', '10101', '10102', '10103', '10104', '11000', '11001', '11002', '11003', '11004', '11100', '11101', '11102', '11103', '11104'])
export function isPathStyleHost(url: URL): boolean {
  return (
    /^.*:.*:.*$|^(localhost|host\.docker\.internal)(:[0-9]+)?$|^(\d|[1-9]\d|1\d\d|2[0-4]\d|25[0-5])(\.(\d|[1-9]\d|1\d\d|2[0-4]\d|25[0-5])){3}(:[0-9]+)?$/.test(url.host) ||
    (url.port !== '' && PATH_STYLE_PORTS.has(url.port))
  )
}

/** An http(s) endpoint given as text (a flag, a connection string field, an environment variable), or a usage error naming it. */
function endpointUrl(text: string, source: string, hint: string): URL {
  let url: URL | undefined
  try {
    url = new URL(text)
  } catch {
    url = undefined
  }
  if (!url || !/^https?:$/.test(url.protocol) || !url.hostname) throw usageError(`${source} is not an http(s) URL: ${quote(displayUrl(text))}.`, hint)
  return url
}

const EMULATOR_HINT = 'EHCP_EMULATOR_BLOB_ENDPOINT is the emulator\'s blob endpoint with its account, e.g. http://127.0.0.1:10000/devstoreaccount1.'

/**
 * --account-url / EHCP_ACCOUNT_URL: signed in with a token, which the Azure SDK sends only over https (on any
 * host, loopback included), so plain http is refused here rather than by the SDK mid-request.
 */
function checkAccountUrl(text: string, source: string): string {
  const hint = 'An account URL is https://ACCOUNT.blob.core.windows.net (tokens are only sent over https; for Azurite use --emulator or a connection string).'
  const url = endpointUrl(text, source, hint)
  if (url.protocol !== 'https:') throw usageError(`${source} must be an https URL: ${quote(displayUrl(text))}.`, hint)
  return text
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
    checkContainerUrlPath(url)
    return {kind: 'container-url', url: input.containerUrl, display: displayUrl(input.containerUrl)}
  }
  if (input.connectionString) {
    const c = needContainer(container, '--connection-string')
    return {kind: 'connection-string', connectionString: input.connectionString, container: c, display: `${accountFromConnectionString(input.connectionString)}/${c}`}
  }
  if (input.accountUrl) {
    checkAccountUrl(input.accountUrl, '--account-url')
    const c = needContainer(container, '--account-url')
    return {kind: 'account-url', accountUrl: input.accountUrl, container: c, display: `${displayUrl(input.accountUrl)}/${c}`}
  }
  if (input.emulator) {
    const c = needContainer(container, '--emulator')
    const blobEndpoint = (env.EHCP_EMULATOR_BLOB_ENDPOINT || EMULATOR_DEFAULT_ENDPOINT).replace(/\/+$/, '')
    endpointUrl(blobEndpoint, 'EHCP_EMULATOR_BLOB_ENDPOINT', EMULATOR_HINT)
    return {kind: 'emulator', blobEndpoint, container: c, display: `${displayUrl(blobEndpoint)}/${c}`}
  }
  if (fromEnvConnectionString) {
    const c = needContainer(container, 'AZURE_STORAGE_CONNECTION_STRING')
    return {kind: 'connection-string', connectionString: fromEnvConnectionString, container: c, display: `${accountFromConnectionString(fromEnvConnectionString)}/${c}`}
  }
  if (env.EHCP_ACCOUNT_URL) {
    checkAccountUrl(env.EHCP_ACCOUNT_URL, 'EHCP_ACCOUNT_URL')
    const c = needContainer(container, 'EHCP_ACCOUNT_URL')
    return {kind: 'account-url', accountUrl: env.EHCP_ACCOUNT_URL, container: c, display: `${displayUrl(env.EHCP_ACCOUNT_URL)}/${c}`}
  }
  throw usageError('No storage connection given.', HOW_TO_CONNECT)
}

/**
 * A container URL addresses the container itself: https://ACCOUNT.blob.core.windows.net/CONTAINER, or
 * http://HOST:PORT/ACCOUNT/CONTAINER on path-style hosts (emulators). More path (a blob, a "folder") is refused.
 */
function checkContainerUrlPath(url: URL): void {
  const segments = url.pathname.split('/').filter(Boolean)
  const pathStyle = isPathStyleHost(url)
  const expected = pathStyle ? 2 : 1
  const shape = pathStyle ? `${url.protocol}//${url.host}/ACCOUNT/CONTAINER` : `${url.protocol}//${url.host}/CONTAINER`
  if (segments.length !== expected) {
    const what = segments.length > expected ? 'points below a container (at a blob or a folder)' : 'names no container'
    throw usageError(`--container-url ${what}: ${quote(displayUrl(url.toString()))}; expected ${shape}.`, 'Scope a command with --namespace, --eventhub and --consumer-group, not with the URL.')
  }
  let name: string
  try {
    name = decodeURIComponent(segments.at(-1)!)
  } catch {
    name = segments.at(-1)!
  }
  checkContainerName(name, '--container-url')
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
  lister: BlobRestClient
}

/** A container's address and how to sign requests to it. */
interface ContainerAddress {
  name: string
  /** Without a query string. */
  url: string
  /** A SAS query string (without "?"), or "". */
  sas: string
  auth: BlobRestAuth
}

/** Azure's rule for storage account names (Azurite's development account follows it too). */
const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/

const INVALID_CONNECTION_STRING = () =>
  usageError('The storage connection string is not valid.', 'Copy it from the portal (Access keys) or `az storage account show-connection-string`.')

/** Reads a storage connection string (account key or SAS; explicit or default endpoints; development storage). */
export function parseConnectionString(connectionString: string): {endpoint: string; sas: string; auth: BlobRestAuth} {
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
  if (accountName !== undefined && !ACCOUNT_NAME.test(accountName)) {
    throw usageError(
      `The storage connection string's AccountName ${quote(accountName)} is not a valid account name.`,
      'A storage account name is 3-24 lower-case letters and digits.',
    )
  }
  const endpoint = explicit ?? (accountName ? `${protocol}://${accountName}.blob.${fields.get('endpointsuffix') ?? 'core.windows.net'}` : undefined)
  if (!endpoint || !/^https?:\/\//i.test(endpoint)) throw INVALID_CONNECTION_STRING()
  endpointUrl(endpoint, explicit ? "The storage connection string's BlobEndpoint" : "The storage connection string's EndpointSuffix", 'Copy the connection string from the portal (Access keys) or `az storage account show-connection-string`.')
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
  const {BlobRestClient} = await import('./blob-rest.js')
  const blobUrl = (name: string) => `${address.url}/${escapeBlobName(name)}${query}`
  return {name: address.name, lister: await BlobRestClient.create(`${address.url}${query}`, blobUrl, address.auth, tuning)}
}
