/**
 * Connecting to the container, exactly as the contract orders it. Deciding *which* way to connect, and reading
 * a connection string, is pure and happens once (resolveStorageTarget: a StorageTarget carries the address, the
 * signing and its forms without secrets); opening the client imports the Azure SDK lazily (openContainer).
 */

import {type ConnectionString, parseConnectionString} from '../connection-string.js'
import {quote, usageError} from '../errors.js'
import {displayUrl, registerSecret} from '../redact.js'
import type {BlobRestAuth, BlobRestClient} from './blob-rest.js'

export interface ConnectionInput {
  containerUrl?: string
  connectionString?: string
  container?: string
  accountUrl?: string
  emulator?: boolean
  /** The saved profile the way to storage came from (flags.ts withProfiles): the undo command names it instead. */
  profile?: string
}

/** How requests to the container are signed; the token credential itself is made when the container is opened. */
export type StorageAuth = {kind: 'none'} | {kind: 'shared-key'; accountName: string; accountKey: string} | {kind: 'default-credential'}

/**
 * A container to connect to, resolved once from the flags and the environment: everything opening it needs, and
 * its forms without secrets (for messages and for the undo command).
 */
export interface StorageTarget {
  /** The way of connecting, as the contract names them. */
  kind: 'container-url' | 'connection-string' | 'account-url' | 'emulator'
  /** Where that way came from: a flag, a saved profile, or the environment. */
  source: 'flag' | 'profile' | 'environment'
  container: string
  /** The container's URL, without a query string. */
  containerUrl: string
  /** A SAS query string (without "?"), or "". */
  sas: string
  auth: StorageAuth
  /** The account (or endpoint) and the container, without secrets. */
  display: string
  /**
   * The connection part of an undo command, without secrets: the same way of connecting (one from the environment
   * is found there again, so it takes no flag), and the container, which the backup also records and the undo checks.
   * A container URL names its container itself.
   */
  undoWords: string[]
}

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
const PATH_STYLE_PORTS = new Set([
  '10000',
  '10001',
  '10002',
  '10003',
  '10004',
  '10100',
  '10101',
  '10102',
  '10103',
  '10104',
  '11000',
  '11001',
  '11002',
  '11003',
  '11004',
  '11100',
  '11101',
  '11102',
  '11103',
  '11104',
])
export function isPathStyleHost(url: URL): boolean {
  return (
    /^.*:.*:.*$|^(localhost|host\.docker\.internal)(:[0-9]+)?$|^(\d|[1-9]\d|1\d\d|2[0-4]\d|25[0-5])(\.(\d|[1-9]\d|1\d\d|2[0-4]\d|25[0-5])){3}(:[0-9]+)?$/.test(
      url.host,
    ) ||
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
  if (!url || !/^https?:$/.test(url.protocol) || !url.hostname)
    throw usageError(`${source} is not an http(s) URL: ${quote(displayUrl(text))}.`, hint)
  return url
}

const EMULATOR_HINT =
  "EHCP_EMULATOR_BLOB_ENDPOINT is the emulator's blob endpoint with its account, e.g. http://127.0.0.1:10000/devstoreaccount1."

/**
 * --account-url / EHCP_ACCOUNT_URL: signed in with a token, which the Azure SDK sends only over https (on any
 * host, loopback included), so plain http is refused here rather than by the SDK mid-request.
 */
function checkAccountUrl(text: string, source: string): string {
  const hint =
    'An account URL is https://ACCOUNT.blob.core.windows.net (tokens are only sent over https; for Azurite use --emulator or a connection string).'
  const url = endpointUrl(text, source, hint)
  if (url.protocol !== 'https:') throw usageError(`${source} must be an https URL: ${quote(displayUrl(text))}.`, hint)
  // The container is appended to the URL's path: a query (a SAS, a secret a profile would then save unasked) or a
  // fragment would end up in front of it.
  if (url.search || url.hash)
    throw usageError(
      `${source} takes no query string: ${quote(`${displayUrl(text)}?…`)}.`,
      `${hint} A SAS goes with --container-url https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS.`,
    )
  return text
}

/**
 * Explicit flags win over environment variables; within each, the contract's order:
 * container URL, connection string, account URL, emulator.
 */
export function resolveStorageTarget(input: ConnectionInput, env: NodeJS.ProcessEnv): StorageTarget {
  const target = resolveTarget(input, env)
  if (input.profile === undefined || target.source !== 'flag') return target
  // From a profile: the undo names the profile (which holds any secret) rather than a placeholder for it.
  const container = target.kind === 'container-url' ? [] : ['--container', target.container]
  return {...target, source: 'profile', undoWords: ['--profile', input.profile, ...container]}
}

function resolveTarget(input: ConnectionInput, env: NodeJS.ProcessEnv): StorageTarget {
  const container = input.container ?? env.EHCP_CONTAINER
  const flagConnectionString = input.connectionString ? parseConnectionString(input.connectionString) : undefined
  const envConnectionString = env.AZURE_STORAGE_CONNECTION_STRING ? parseConnectionString(env.AZURE_STORAGE_CONNECTION_STRING) : undefined
  // Both are secrets whichever way is taken; the container URL's SAS is registered once the URL has been validated, below.
  for (const secret of [...(flagConnectionString?.secrets ?? []), ...(envConnectionString?.secrets ?? [])]) registerSecret(secret)

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
    const name = checkContainerUrlPath(url)
    const sas = url.search.replace(/^\?/, '')
    const display = displayUrl(input.containerUrl)
    url.search = ''
    return {
      kind: 'container-url',
      source: 'flag',
      container: name,
      containerUrl: url.toString().replace(/\/+$/, ''),
      sas,
      auth: {kind: 'none'},
      display,
      undoWords: ['--container-url', `${display}${sas ? '?<SAS>' : ''}`],
    }
  }
  if (flagConnectionString) return connectionStringTarget(flagConnectionString, needContainer(container, '--connection-string'), 'flag')
  if (input.accountUrl) {
    checkAccountUrl(input.accountUrl, '--account-url')
    return accountUrlTarget(input.accountUrl, needContainer(container, '--account-url'), 'flag')
  }
  if (input.emulator) {
    const c = needContainer(container, '--emulator')
    const blobEndpoint = (env.EHCP_EMULATOR_BLOB_ENDPOINT || EMULATOR_DEFAULT_ENDPOINT).replace(/\/+$/, '')
    endpointUrl(blobEndpoint, 'EHCP_EMULATOR_BLOB_ENDPOINT', EMULATOR_HINT)
    return {
      kind: 'emulator',
      source: 'flag',
      container: c,
      containerUrl: inContainer(blobEndpoint, c),
      sas: '',
      auth: {kind: 'shared-key', accountName: EMULATOR_ACCOUNT, accountKey: EMULATOR_KEY},
      display: `${displayUrl(blobEndpoint)}/${c}`,
      undoWords: ['--emulator', '--container', c],
    }
  }
  if (envConnectionString)
    return connectionStringTarget(envConnectionString, needContainer(container, 'AZURE_STORAGE_CONNECTION_STRING'), 'environment')
  if (env.EHCP_ACCOUNT_URL) {
    checkAccountUrl(env.EHCP_ACCOUNT_URL, 'EHCP_ACCOUNT_URL')
    return accountUrlTarget(env.EHCP_ACCOUNT_URL, needContainer(container, 'EHCP_ACCOUNT_URL'), 'environment')
  }
  throw usageError('No storage connection given.', HOW_TO_CONNECT)
}

/** A container's URL under an account's blob endpoint. */
const inContainer = (endpoint: string, container: string) => `${endpoint.replace(/\/+$/, '')}/${encodeURIComponent(container)}`

function connectionStringTarget(cs: ConnectionString, container: string, source: StorageTarget['source']): StorageTarget {
  const {endpoint, account, sas, auth} = storageConnection(cs)
  return {
    kind: 'connection-string',
    source,
    container,
    containerUrl: inContainer(endpoint, container),
    sas,
    auth,
    display: `${account}/${container}`,
    undoWords: [...(source === 'flag' ? ['--connection-string', '<connection-string>'] : []), '--container', container],
  }
}

function accountUrlTarget(accountUrl: string, container: string, source: StorageTarget['source']): StorageTarget {
  return {
    kind: 'account-url',
    source,
    container,
    containerUrl: inContainer(accountUrl, container),
    sas: '',
    auth: {kind: 'default-credential'},
    display: `${displayUrl(accountUrl)}/${container}`,
    undoWords: [...(source === 'flag' ? ['--account-url', displayUrl(accountUrl)] : []), '--container', container],
  }
}

/**
 * A container URL addresses the container itself: https://ACCOUNT.blob.core.windows.net/CONTAINER, or
 * http://HOST:PORT/ACCOUNT/CONTAINER on path-style hosts (emulators). More path (a blob, a "folder") is refused.
 */
function checkContainerUrlPath(url: URL): string {
  const segments = url.pathname.split('/').filter(Boolean)
  const pathStyle = isPathStyleHost(url)
  const expected = pathStyle ? 2 : 1
  const shape = pathStyle ? `${url.protocol}//${url.host}/ACCOUNT/CONTAINER` : `${url.protocol}//${url.host}/CONTAINER`
  if (segments.length !== expected) {
    const what = segments.length > expected ? 'points below a container (at a blob or a folder)' : 'names no container'
    throw usageError(
      `--container-url ${what}: ${quote(displayUrl(url.toString()))}; expected ${shape}.`,
      'Scope a command with --namespace, --eventhub and --consumer-group, not with the URL.',
    )
  }
  let name: string
  try {
    name = decodeURIComponent(segments.at(-1)!)
  } catch {
    name = segments.at(-1)!
  }
  return checkContainerName(name, '--container-url')
}

export interface ClientTuning {
  /** Per attempt; the store also bounds each whole operation by it. */
  timeoutMs: number
  maxTries: number
}

export interface OpenedContainer {
  name: string
  /** Listings and writes. */
  client: BlobRestClient
}

/** Azure's rule for storage account names (Azurite's development account follows it too). */
const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/

const INVALID_CONNECTION_STRING = () =>
  usageError(
    'The storage connection string is not valid.',
    'Copy it from the portal (Access keys) or `az storage account show-connection-string`.',
  )

/** What a storage connection string says: the account's blob endpoint, how to sign, and the account's name for messages. */
export interface StorageConnection {
  /** Without a trailing slash. */
  endpoint: string
  /** The account name, the development account, or the explicit endpoint (without its query): no secret. */
  account: string
  /** A SAS query string (without "?"), or "". */
  sas: string
  auth: StorageAuth
}

/** Reads a storage connection string (account key or SAS; explicit or default endpoints; development storage). */
export function storageConnection(cs: ConnectionString): StorageConnection {
  const {fields} = cs
  if (fields.get('usedevelopmentstorage')?.toLowerCase() === 'true') {
    return {
      endpoint: EMULATOR_DEFAULT_ENDPOINT,
      account: `${EMULATOR_ACCOUNT} (development storage)`,
      sas: '',
      auth: {kind: 'shared-key', accountName: EMULATOR_ACCOUNT, accountKey: EMULATOR_KEY},
    }
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
  const endpoint =
    explicit ?? (accountName ? `${protocol}://${accountName}.blob.${fields.get('endpointsuffix') ?? 'core.windows.net'}` : undefined)
  if (!endpoint || !/^https?:\/\//i.test(endpoint)) throw INVALID_CONNECTION_STRING()
  endpointUrl(
    endpoint,
    explicit ? "The storage connection string's BlobEndpoint" : "The storage connection string's EndpointSuffix",
    'Copy the connection string from the portal (Access keys) or `az storage account show-connection-string`.',
  )
  const account = explicit ? displayUrl(explicit).replace(/\/+$/, '') : accountName!
  if (accountName && accountKey) return {endpoint, account, sas: '', auth: {kind: 'shared-key', accountName, accountKey}}
  const sas = fields.get('sharedaccesssignature')?.replace(/^\?/, '')
  if (sas) return {endpoint, account, sas, auth: {kind: 'none'}}
  throw INVALID_CONNECTION_STRING()
}

/** As the service expects a blob name in a URL: each path segment percent-encoded, "/" kept, "'" encoded too. */
export function escapeBlobName(name: string): string {
  return name
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/'/g, '%27'))
    .join('/')
}

/** Opens the container: the lean Blob REST client, signed as the target says. @azure/identity loads only when needed. */
export async function openContainer(target: StorageTarget, tuning: ClientTuning): Promise<OpenedContainer> {
  let auth: BlobRestAuth
  if (target.auth.kind === 'default-credential') {
    const {DefaultAzureCredential} = await import('@azure/identity')
    auth = {kind: 'token', credential: new DefaultAzureCredential()}
  } else auth = target.auth
  const query = target.sas ? `?${target.sas}` : ''
  const {BlobRestClient} = await import('./blob-rest.js')
  const blobUrl = (name: string) => `${target.containerUrl}/${escapeBlobName(name)}${query}`
  return {name: target.container, client: await BlobRestClient.create(`${target.containerUrl}${query}`, blobUrl, auth, tuning)}
}
