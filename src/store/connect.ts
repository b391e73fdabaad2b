/**
 * Connecting to the container, exactly as the contract orders it. Deciding *which* way to connect is pure
 * (resolveStorageTarget); opening the client imports the Azure SDK lazily (openContainer).
 */
import type {TokenCredential} from '@azure/core-auth'
import type {ContainerClient} from '@azure/storage-blob'

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
  for (const secret of [input.containerUrl ? new URL(input.containerUrl, 'http://x').search : undefined, input.connectionString, fromEnvConnectionString]) {
    registerSecret(secret)
  }
  registerConnectionStringSecrets(input.connectionString)
  registerConnectionStringSecrets(fromEnvConnectionString)

  if (input.containerUrl) {
    let url: URL
    try {
      url = new URL(input.containerUrl)
    } catch {
      throw usageError('--container-url is not a valid URL.', HOW_TO_CONNECT)
    }
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

/** Opens the container: the SDK client for writes, the fast lister with the same credential for listings. */
export async function openContainer(target: StorageTarget, tuning: ClientTuning): Promise<OpenedContainer> {
  const client = await openContainerClient(target, tuning)
  const {BlobLister} = await import('./listing.js')
  const auth: ListingAuth =
    target.kind === 'emulator'
      ? {kind: 'shared-key', accountName: EMULATOR_ACCOUNT, accountKey: EMULATOR_KEY}
      : target.kind === 'connection-string'
        ? sharedKeyOf(target.connectionString)
        : target.kind === 'account-url'
          ? {kind: 'token', credential: client.credential as TokenCredential}
          : {kind: 'none'}
  const blobUrl = (name: string) => client.getBlockBlobClient(name).url
  return {name: client.containerName, lister: await BlobLister.create(client.url, blobUrl, auth, tuning)}
}

/** The account key of a connection string (none when it carries a SAS instead: the SAS is in the client's URL). */
function sharedKeyOf(connectionString: string): ListingAuth {
  const field = (name: string) => new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*([^;]+)`, 'i').exec(connectionString)?.[1]?.trim()
  if (/(?:^|;)\s*UseDevelopmentStorage\s*=\s*true/i.test(connectionString)) return {kind: 'shared-key', accountName: EMULATOR_ACCOUNT, accountKey: EMULATOR_KEY}
  const accountName = field('AccountName')
  const accountKey = field('AccountKey')
  return accountName && accountKey ? {kind: 'shared-key', accountName, accountKey} : {kind: 'none'}
}

/** Opens a ContainerClient. @azure/storage-blob (and @azure/identity) load only here. */
async function openContainerClient(target: StorageTarget, tuning: ClientTuning): Promise<ContainerClient> {
  const blob = await import('@azure/storage-blob')
  const pipelineOptions = {
    retryOptions: {
      maxTries: tuning.maxTries,
      tryTimeoutInMs: tuning.timeoutMs,
      retryDelayInMs: 200,
      maxRetryDelayInMs: 2000,
    },
    keepAliveOptions: {enable: true},
  }
  switch (target.kind) {
    case 'container-url':
      return new blob.ContainerClient(target.url, new blob.AnonymousCredential(), pipelineOptions)
    case 'connection-string':
      try {
        return blob.BlobServiceClient.fromConnectionString(target.connectionString, pipelineOptions).getContainerClient(target.container)
      } catch {
        throw usageError('The storage connection string is not valid.', 'Copy it from the portal (Access keys) or `az storage account show-connection-string`.')
      }
    case 'account-url': {
      const {DefaultAzureCredential} = await import('@azure/identity')
      const service = new blob.BlobServiceClient(target.accountUrl, new DefaultAzureCredential(), pipelineOptions)
      return service.getContainerClient(target.container)
    }
    case 'emulator': {
      const credential = new blob.StorageSharedKeyCredential(EMULATOR_ACCOUNT, EMULATOR_KEY)
      return new blob.BlobServiceClient(target.blobEndpoint, credential, pipelineOptions).getContainerClient(target.container)
    }
  }
}
