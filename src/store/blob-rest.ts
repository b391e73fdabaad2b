/**
 * The three Blob REST calls the checkpoint store makes — List Blobs, Set Blob Metadata (or create an empty
 * blob) and Delete Blob — sent through an Azure core pipeline (retries, the same authentication as the SDK:
 * SAS, shared key or Entra ID token). Responses are read directly: the SDK's general-purpose deserialisation
 * costs about as much CPU as the service takes to answer a listing, and a little on every one of a thousand writes.
 */
import {setTimeout as sleep} from 'node:timers/promises'

import type {TokenCredential} from '@azure/core-auth'
import type {HttpClient, Pipeline, PipelineRequest} from '@azure/core-rest-pipeline'

import {authError, classifyError, EhcpError, ExitCode, notFoundError, unreachableError} from '../errors.js'

export type BlobRestAuth =
  {kind: 'none'} | {kind: 'shared-key'; accountName: string; accountKey: string} | {kind: 'token'; credential: TokenCredential}

/** A blob as read: its name, properties and metadata. */
export interface StoredBlob {
  name: string
  etag: string
  lastModified: Date
  metadata: Record<string, string>
  /** Checkpoint-store blobs are empty; content means a backup, a legacy lease blob or a stray file. Always set by a listing. */
  contentLength?: number
  /** The blob lease's state as listed (`leased` while a legacy host owns the partition); absent when not listed. */
  leaseState?: LeaseState
}

export type LeaseState = 'available' | 'leased' | 'expired' | 'breaking' | 'broken'

/** A blob's body and what a conditional rewrite of it needs. */
export interface BlobBody {
  text: string
  etag: string
  lastModified: Date | undefined
  metadata: Record<string, string>
  leaseState: LeaseState | undefined
}

export interface ListPage {
  blobs: StoredBlob[]
  /** With a delimiter: the "directories" one level down (full prefixes, ending in the delimiter). */
  prefixes: string[]
  nextMarker: string | undefined
  /** The service's clock (Date header). */
  date: Date | undefined
}

/** A version every Azure region and Azurite (with --skipApiVersionCheck) accept for List Blobs. */
const API_VERSION = '2024-11-04'

const LISTING_CHANGED = () =>
  unreachableError('A List Blobs response was cut, and the listing had changed when it was retried.', 'Run the command again.')

const ENTITIES: Record<string, string> = {amp: '&', lt: '<', gt: '>', quot: '"', apos: "'"}

export function decodeXmlText(text: string): string {
  if (!text.includes('&')) return text
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : ENTITIES[e]!,
  )
}

/** The text inside the first `<tag>…</tag>` of `xml` (not decoded), or undefined. */
export function element(xml: string, tag: string): string | undefined {
  const open = xml.indexOf(`<${tag}>`)
  if (open < 0) return undefined
  const start = open + tag.length + 2
  const end = xml.indexOf(`</${tag}>`, start)
  return end < 0 ? undefined : xml.slice(start, end)
}

/** `<Name>` text, or `<Name Encoded="true">` (percent-encoded names with characters XML cannot carry). */
function blobName(block: string): string {
  const m = /<Name( Encoded="true")?>([\s\S]*?)<\/Name>/.exec(block)
  if (!m) throw new Error('List Blobs response: a blob without a name')
  const text = decodeXmlText(m[2]!)
  return m[1] ? decodeURIComponent(text) : text
}

function metadataOf(block: string): Record<string, string> {
  const metadata: Record<string, string> = {}
  const body = element(block, 'Metadata')
  if (!body) return metadata
  for (const m of body.matchAll(/<([A-Za-z_][\w.-]*)(?:\s*\/>|>([\s\S]*?)<\/\1>)/g)) metadata[m[1]!] = decodeXmlText(m[2] ?? '')
  return metadata
}

const BLOCK = /<Blob>([\s\S]*?)<\/Blob>|<BlobPrefix>([\s\S]*?)<\/BlobPrefix>/g

/**
 * Reads a List Blobs (flat or hierarchical) response as it arrives: each complete <Blob> or <BlobPrefix> is
 * parsed and its text dropped, so a 5,000-blob page never sits in memory as one multi-megabyte string.
 */
export class ListBlobsParser {
  private pending = ''
  readonly blobs: StoredBlob[] = []
  readonly prefixes: string[] = []

  /** With `sink`, the blobs of each chunk go there as soon as they are parsed instead of piling up. */
  constructor(private readonly sink?: (blobs: StoredBlob[]) => void) {}

  push(text: string): void {
    this.pending += text
    BLOCK.lastIndex = 0
    let consumed = 0
    const blobs: StoredBlob[] = this.sink ? [] : this.blobs
    for (let m = BLOCK.exec(this.pending); m; m = BLOCK.exec(this.pending)) {
      if (m[1] !== undefined) blobs.push(blobOf(m[1]))
      else this.prefixes.push(blobName(m[2]!))
      consumed = BLOCK.lastIndex
    }
    if (consumed > 0) this.pending = this.pending.slice(consumed)
    if (this.sink && blobs.length > 0) this.sink(blobs)
  }

  /** The closing tag arrived: the response was read to its end, not cut short. */
  get complete(): boolean {
    return this.pending.includes('</EnumerationResults>')
  }

  end(): Omit<ListPage, 'date'> {
    const marker = element(this.pending, 'NextMarker')
    return {blobs: this.blobs, prefixes: this.prefixes, nextMarker: marker ? decodeXmlText(marker) : undefined}
  }
}

function blobOf(block: string): StoredBlob {
  const properties = element(block, 'Properties') ?? ''
  return {
    name: blobName(block),
    etag: decodeXmlText(element(properties, 'Etag') ?? ''),
    lastModified: new Date(element(properties, 'Last-Modified') ?? 0),
    contentLength: Number(element(properties, 'Content-Length') ?? 0),
    ...leaseStateOf(element(properties, 'LeaseState')),
    metadata: metadataOf(block),
  }
}

const LEASE_STATES = new Set<string>(['available', 'leased', 'expired', 'breaking', 'broken'])

function leaseStateOf(value: string | undefined): {leaseState?: LeaseState} {
  return value !== undefined && LEASE_STATES.has(value) ? {leaseState: value as LeaseState} : {}
}

/** Parses a whole List Blobs response body. Pure. */
export function parseListBlobs(xml: string): Omit<ListPage, 'date'> {
  const parser = new ListBlobsParser()
  parser.push(xml)
  return parser.end()
}

export interface ListRequest {
  prefix: string
  delimiter?: string
  marker?: string
  maxResults: number
  abortSignal?: AbortSignal
}

/**
 * The error the SDK would have thrown: classified by statusCode and the service's error code. `mayHaveLanded`
 * says whether a try of the same request may have been applied: its answer was lost (a network error, a
 * timeout) or was a 5xx other than 503 ServerBusy. The last try was answered with this error, so for a 412 it
 * means an earlier try, retried by the pipeline: only then can a 412 meet ehcp's own write.
 */
export class BlobRestError extends Error {
  readonly name = 'RestError'
  constructor(
    message: string,
    readonly statusCode: number,
    readonly code: string | undefined,
    readonly mayHaveLanded: boolean,
  ) {
    super(message)
  }
  get details() {
    return {errorCode: this.code}
  }
}

/** Storage failing (5xx after the pipeline's retries): exit 7, and whether any try of a write may have been applied. */
export class StorageUnavailableError extends EhcpError {
  constructor(
    message: string,
    hint: string,
    readonly statusCode: number,
    readonly mayHaveLanded: boolean,
    /** Whether storage itself gave the answer (its 5xx), or something else did (not a storage refusal). */
    readonly fromStorage = true,
  ) {
    super('unreachable', message, ExitCode.unreachable, hint)
  }
}

/** What the tries of one request came to, counted by a policy that runs once per try (after the retry policy). */
interface Trail {
  tries: number
  mayHaveLanded: boolean
}

/** Network failures that prove the request never reached a server. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])

const ENDPOINT_HINT =
  "Check the endpoint: --container-url, the connection string's BlobEndpoint, --account-url or EHCP_EMULATOR_BLOB_ENDPOINT."

export type WriteCondition = {ifMatch: string} | {ifNoneMatch: '*'}

export interface WriteResult {
  etag: string
  lastModified: Date | undefined
}

type Send = (request: PipelineRequest) => ReturnType<Pipeline['sendRequest']>
type MakeRequest = (
  url: string,
  method: 'GET' | 'HEAD' | 'PUT' | 'DELETE',
  headers: Record<string, string>,
  abortSignal?: AbortSignal,
  stream?: boolean,
  body?: string,
) => PipelineRequest

/** A listing response that failed after its headers arrived (connection cut mid-body): outside the pipeline's retries. */
class ResponseCut extends Error {
  constructor(readonly reason: unknown) {
    super('List Blobs response cut short')
  }
}

/**
 * Appends query parameters, each value percent-encoded with encodeURIComponent (a space as %20, "+" as %2B),
 * leaving any SAS query already in the URL byte for byte. URLSearchParams would write a space as "+", which
 * the shared key policy signs as a literal "+" while the service reads a space: a name with a space (or "+")
 * then failed with 403 under account-key auth. This is how the storage SDK itself encodes query values.
 */
export function withQuery(url: string, params: Record<string, string | undefined>): string {
  const pairs = Object.entries(params).flatMap(([key, value]) => (value === undefined ? [] : [`${key}=${encodeURIComponent(value)}`]))
  if (pairs.length === 0) return url
  const hash = url.indexOf('#')
  const base = hash < 0 ? url : url.slice(0, hash)
  const separator = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&'
  return `${base}${separator}${pairs.join('&')}`
}

/** Storage's successful answer to a read outside the checkpoint store's own requests (doctor's account settings). */
export interface StorageAnswer {
  header(name: string): string | undefined
  text: string
}

/**
 * The account's root from a container URL, with the container's query (a SAS) kept: `https://a.blob.core.windows.net/c?sv=…`
 * -> `https://a.blob.core.windows.net/?sv=…` (the service wants the slash); path-style emulator URLs keep their account segment.
 */
export function accountRootOf(containerUrl: string): string {
  const q = containerUrl.indexOf('?')
  const path = q < 0 ? containerUrl : containerUrl.slice(0, q)
  return `${path.slice(0, path.lastIndexOf('/'))}/${q < 0 ? '' : containerUrl.slice(q)}`
}

let sharedHttpClient: HttpClient | undefined

export class BlobRestClient {
  private constructor(
    private readonly containerUrl: string,
    private readonly blobUrl: (name: string) => string,
    private readonly send: Send,
    private readonly createRequest: MakeRequest,
    private readonly maxTries: number,
    private readonly trails: WeakMap<PipelineRequest, Trail>,
  ) {}

  /**
   * `containerUrl` may carry a SAS query string; `blobUrl` gives a blob's URL escaped as the service expects.
   * `timeoutMs` bounds each try; `maxTries` includes the first.
   */
  static async create(
    containerUrl: string,
    blobUrl: (name: string) => string,
    auth: BlobRestAuth,
    tuning: {timeoutMs: number; maxTries: number},
  ): Promise<BlobRestClient> {
    const rest = await import('@azure/core-rest-pipeline')
    const pipeline = rest.createPipelineFromOptions({
      retryOptions: {maxRetries: Math.max(0, tuning.maxTries - 1), retryDelayInMs: 200, maxRetryDelayInMs: 2000},
      userAgentOptions: {userAgentPrefix: 'ehcp'},
    })
    if (auth.kind === 'shared-key') {
      const {storageSharedKeyCredentialPolicy} = await import('@azure/storage-common')
      pipeline.addPolicy(
        storageSharedKeyCredentialPolicy({accountName: auth.accountName, accountKey: Buffer.from(auth.accountKey, 'base64')}),
        {phase: 'Sign'},
      )
    } else if (auth.kind === 'token') {
      pipeline.addPolicy(
        rest.bearerTokenAuthenticationPolicy({credential: auth.credential, scopes: 'https://storage.azure.com/.default'}),
        {phase: 'Sign'},
      )
    }
    // Runs once per try (the Sign phase comes after the retry policy): how many tries, and whether one may have landed.
    const trails = new WeakMap<PipelineRequest, Trail>()
    pipeline.addPolicy(
      {
        name: 'ehcpTries',
        async sendRequest(request, next) {
          const trail = trails.get(request)
          if (trail) trail.tries++
          try {
            const response = await next(request)
            if (trail && response.status >= 500 && response.status !== 503) trail.mayHaveLanded = true
            // A wait storage asks for that outlasts --timeout cannot be honoured: retried as any other failure, so
            // that the run ends naming storage's answer (503 ServerBusy), not as "did not answer within".
            for (const header of ['retry-after', 'retry-after-ms', 'x-ms-retry-after-ms']) {
              const value = response.headers.get(header)
              if (value === undefined) continue
              const ms = header === 'retry-after' ? Number(value) * 1000 || Date.parse(value) - Date.now() : Number(value)
              if (!(ms < tuning.timeoutMs)) response.headers.delete(header)
            }
            return response
          } catch (error) {
            const code = (error as {code?: string}).code
            if (trail && !(code && NEVER_SENT.has(code))) trail.mayHaveLanded = true
            throw error
          }
        },
      },
      {phase: 'Sign'},
    )
    // One HTTP client for the process: its keep-alive agent's connections serve every container (migrate's source and target).
    const client = (sharedHttpClient ??= rest.createDefaultHttpClient())
    const createRequest: MakeRequest = (url, method, headers, abortSignal, stream, body) =>
      rest.createPipelineRequest({
        url,
        method,
        abortSignal,
        ...(body !== undefined ? {body} : {}),
        ...(stream ? {streamResponseStatusCodes: new Set([200])} : {}),
        timeout: tuning.timeoutMs,
        // As the storage SDK does: plain http is the user's choice (emulators, local proxies).
        allowInsecureConnection: url.startsWith('http:'),
        headers: rest.createHttpHeaders({'x-ms-version': API_VERSION, ...headers}),
      })
    return new BlobRestClient(
      containerUrl,
      blobUrl,
      (request) => pipeline.sendRequest(client, request),
      createRequest,
      Math.max(1, tuning.maxTries),
      trails,
    )
  }

  /**
   * A GET with `query` (restype, comp, ...) on the container or on its account's root, signed, retried and its
   * failure mapped as every other request's (storage's 4xx a BlobRestError, its 5xx or a non-storage answer a
   * StorageUnavailableError, ...). The answer's headers and whole body: for small reads, not listings to stream.
   */
  async get(on: 'container' | 'account', query: Record<string, string>, abortSignal?: AbortSignal): Promise<StorageAnswer> {
    const base = on === 'container' ? this.containerUrl : accountRootOf(this.containerUrl)
    const response = await this.call(withQuery(base, query), 'GET', {}, abortSignal)
    return {header: (name) => response.headers.get(name), text: response.bodyAsText ?? ''}
  }

  private async call(
    url: string,
    method: 'GET' | 'HEAD' | 'PUT' | 'DELETE',
    headers: Record<string, string>,
    abortSignal?: AbortSignal,
    stream = false,
    body?: string,
  ) {
    const request = this.createRequest(url, method, headers, abortSignal, stream, body)
    const trail: Trail = {tries: 0, mayHaveLanded: false}
    this.trails.set(request, trail)
    let response: Awaited<ReturnType<Send>>
    try {
      response = await this.send(request)
    } catch (error) {
      // No answer after the pipeline's retries: say whether any try may have reached storage (a refused
      // connection cannot have; a reset or a timeout may have), for the store to settle a write.
      if (error && typeof error === 'object' && !('mayHaveLanded' in error))
        Object.defineProperty(error, 'mayHaveLanded', {value: trail.mayHaveLanded})
      throw error
    }
    if (response.status >= 400) throw BlobRestClient.failure(method, response, trail)
    // Storage answers every request with 2xx and its request id: a redirect, or a web page answering 200, is
    // not storage having done anything (a write reported as written while nothing was).
    if (response.status >= 300 || response.headers.get('x-ms-request-id') === undefined) throw BlobRestClient.notStorage(response, trail)
    return response
  }

  /**
   * An error answer, mapped where it is understood: storage's own 5xx (after the pipeline's retries) is storage
   * being unavailable (exit 7); an answer that does not come from Blob Storage at all (no x-ms-request-id, no
   * error code: a web server, a proxy's error page) says so instead of passing for storage's; the rest are
   * storage's answers (412, 404 BlobNotFound...) for the store to read.
   */
  private static failure(
    method: string,
    response: {status: number; bodyAsText?: string | null; headers: {get(name: string): string | undefined}},
    trail: Trail,
  ): Error {
    const {status} = response
    const body = response.bodyAsText ?? ''
    const code = response.headers.get('x-ms-error-code') ?? element(body, 'Code')
    const fromStorage = response.headers.get('x-ms-request-id') !== undefined || code !== undefined
    const tries = trail.tries > 1 ? `, after ${trail.tries} tries` : ''
    if (!fromStorage) {
      if (status === 404) return notFoundError(BlobRestClient.notStorageText(response), ENDPOINT_HINT)
      if (status === 401 || status === 403)
        return authError(
          BlobRestClient.notStorageText(response),
          `${ENDPOINT_HINT} A proxy or firewall in between may be refusing the request.`,
        )
      return BlobRestClient.notStorage(response, trail)
    }
    if (status >= 500 || status === 429) {
      return new StorageUnavailableError(
        `Storage is unavailable: it answered ${status}${code ? ` ${code}` : ''}${tries}.`,
        'Storage is busy or failing; ehcp already retried. Wait a little and run the command again.',
        status,
        trail.mayHaveLanded,
      )
    }
    if (status === 404 && code !== undefined && code !== 'BlobNotFound' && code !== 'ContainerNotFound') {
      return notFoundError(
        `Storage answered 404 ${code}: the storage account or container was not found.`,
        'Check the account name and endpoint, and --container / the container URL.',
      )
    }
    return new BlobRestError(`${method} failed: ${status}${code ? ` ${code}` : ''}`, status, code, trail.mayHaveLanded)
  }

  private static notStorageText(response: {status: number; headers: {get(name: string): string | undefined}}): string {
    const type = response.headers.get('content-type')?.split(';')[0]
    return `The endpoint answered HTTP ${response.status}${type ? ` (${type})` : ''} and does not look like Azure Blob Storage (no x-ms-request-id in the answer).`
  }

  /** An answer that did not come from Blob Storage (a web server, a proxy's page, a redirect): exit 7, never a storage outcome. */
  private static notStorage(
    response: {status: number; headers: {get(name: string): string | undefined}},
    trail: Trail,
  ): StorageUnavailableError {
    const tries = trail.tries > 1 ? `, after ${trail.tries} tries` : ''
    return new StorageUnavailableError(
      `${BlobRestClient.notStorageText(response).slice(0, -1)}${tries}.`,
      ENDPOINT_HINT,
      response.status,
      trail.mayHaveLanded,
      false,
    )
  }

  private static writeResult(response: {headers: {get(name: string): string | undefined}}): WriteResult {
    const lastModified = response.headers.get('last-modified')
    return {etag: response.headers.get('etag') ?? '', lastModified: lastModified ? new Date(lastModified) : undefined}
  }

  private static conditionHeaders(condition: WriteCondition): Record<string, string> {
    return 'ifMatch' in condition ? {'If-Match': condition.ifMatch} : {'If-None-Match': '*'}
  }

  /**
   * Set Blob Metadata (replaces all metadata) under If-Match, or creates an empty block blob with this
   * metadata under If-None-Match: *. Keys are sent with their case as given.
   */
  async writeMetadata(
    name: string,
    metadata: Record<string, string>,
    condition: WriteCondition,
    abortSignal?: AbortSignal,
  ): Promise<WriteResult> {
    const headers: Record<string, string> = {...BlobRestClient.conditionHeaders(condition)}
    for (const [key, value] of Object.entries(metadata)) headers[`x-ms-meta-${key}`] = value
    let url = this.blobUrl(name)
    if ('ifMatch' in condition) url = withQuery(url, {comp: 'metadata'})
    else Object.assign(headers, {'x-ms-blob-type': 'BlockBlob', 'Content-Length': '0'})
    return BlobRestClient.writeResult(await this.call(url, 'PUT', headers, abortSignal))
  }

  /**
   * A blob's metadata as stored, or null when it does not exist. Read with a one-blob listing, not HEAD: the
   * HTTP client drops empty header values, so HEAD cannot tell a released ownership (`ownerid = ""`) from one
   * without the key. A blob sorts before every other name it is a prefix of, so it is the first one listed.
   */
  async readMetadata(name: string, abortSignal?: AbortSignal): Promise<Record<string, string> | null> {
    const page = await this.page({prefix: name, maxResults: 1, abortSignal})
    const blob = page.blobs[0]
    return blob?.name === name ? blob.metadata : null
  }

  /**
   * A blob's body (legacy lease blobs are JSON of a few hundred bytes), with the ETag, metadata and lease
   * state a conditional rewrite needs; null when the blob does not exist.
   */
  async readBody(name: string, abortSignal?: AbortSignal): Promise<BlobBody | null> {
    let response
    try {
      response = await this.call(this.blobUrl(name), 'GET', {}, abortSignal)
    } catch (error) {
      if (error instanceof BlobRestError && error.statusCode === 404) return null
      throw error
    }
    const metadata: Record<string, string> = {}
    for (const [key, value] of response.headers) {
      if (key.toLowerCase().startsWith('x-ms-meta-')) metadata[key.slice('x-ms-meta-'.length)] = value
    }
    return {
      text: response.bodyAsText ?? '',
      etag: response.headers.get('etag') ?? '',
      lastModified: BlobRestClient.writeResult(response).lastModified,
      metadata,
      leaseState: leaseStateOf(response.headers.get('x-ms-lease-state')).leaseState,
    }
  }

  /**
   * Replaces a blob's body (Put Blob) under a condition, keeping the metadata given (Put Blob replaces it
   * all). `leaseId` when the blob is leased by ehcp; a blob leased by anyone else refuses (412 / 409).
   */
  async writeBody(
    name: string,
    text: string,
    metadata: Record<string, string>,
    condition: WriteCondition,
    leaseId?: string,
    abortSignal?: AbortSignal,
  ): Promise<WriteResult> {
    const headers: Record<string, string> = {
      ...BlobRestClient.conditionHeaders(condition),
      'x-ms-blob-type': 'BlockBlob',
      'Content-Type': 'application/json',
      ...(leaseId ? {'x-ms-lease-id': leaseId} : {}),
    }
    for (const [key, value] of Object.entries(metadata)) headers[`x-ms-meta-${key}`] = value
    return BlobRestClient.writeResult(await this.call(this.blobUrl(name), 'PUT', headers, abortSignal, false, text))
  }

  /**
   * Breaks a blob's lease at once (break period 0): the holder's next renewal fails and it lets the partition go.
   * With `ifMatch`, only while the blob still has that ETag (lease operations leave the ETag as it is).
   */
  async breakLease(name: string, abortSignal?: AbortSignal, ifMatch?: string): Promise<WriteResult> {
    const headers = {'x-ms-lease-action': 'break', 'x-ms-lease-break-period': '0', ...(ifMatch ? {'If-Match': ifMatch} : {})}
    return BlobRestClient.writeResult(await this.call(withQuery(this.blobUrl(name), {comp: 'lease'}), 'PUT', headers, abortSignal))
  }

  async deleteBlob(name: string, etag: string, abortSignal?: AbortSignal): Promise<void> {
    await this.call(this.blobUrl(name), 'DELETE', {'If-Match': etag}, abortSignal)
  }

  /**
   * One page of a listing. With `sink`, blobs are handed over chunk by chunk as the response streams in
   * (with the service's clock), and the returned page holds none: a large listing then never has a whole
   * page of parsed blobs alive at once.
   *
   * The pipeline retries a request until its headers arrive; a body cut after that is retried here (same
   * number of tries). Blobs already handed to `sink` are not handed over again: the retry skips as many as
   * were delivered, and fails (exit 7) rather than guess if the listing changed in between.
   */
  async page(request: ListRequest, sink?: (blobs: StoredBlob[], date: Date | undefined) => void): Promise<ListPage> {
    let delivered = 0
    let lastDelivered: string | undefined
    for (let attempt = 1; ; attempt++) {
      let skip = delivered
      const onBlobs =
        sink &&
        ((blobs: StoredBlob[], date: Date | undefined) => {
          const skipped = Math.min(skip, blobs.length)
          skip -= skipped
          if (skipped > 0 && skip === 0 && blobs[skipped - 1]!.name !== lastDelivered) throw LISTING_CHANGED()
          const fresh = skipped > 0 ? blobs.slice(skipped) : blobs
          if (fresh.length === 0) return
          delivered += fresh.length
          lastDelivered = fresh[fresh.length - 1]!.name
          sink(fresh, date)
        })
      try {
        const page = await this.pageOnce(request, onBlobs)
        if (skip > 0) throw LISTING_CHANGED()
        return page
      } catch (error) {
        if (!(error instanceof ResponseCut)) throw error
        if (attempt >= this.maxTries || request.abortSignal?.aborted) throw error.reason
        await sleep(200 * attempt, undefined, {signal: request.abortSignal})
      }
    }
  }

  private async pageOnce(request: ListRequest, sink?: (blobs: StoredBlob[], date: Date | undefined) => void): Promise<ListPage> {
    const url = withQuery(this.containerUrl, {
      restype: 'container',
      comp: 'list',
      maxresults: String(request.maxResults),
      prefix: request.prefix || undefined,
      delimiter: request.delimiter || undefined,
      include: request.delimiter ? undefined : 'metadata',
      marker: request.marker || undefined,
    })
    const response = await this.call(url, 'GET', {}, request.abortSignal, true)
    const dateHeader = response.headers.get('date')
    const date = dateHeader ? new Date(dateHeader) : undefined
    const parser = new ListBlobsParser(sink && ((blobs) => sink(blobs, date)))
    const decoder = new TextDecoder()
    try {
      for await (const chunk of response.readableStreamBody ?? []) parser.push(decoder.decode(chunk as Uint8Array, {stream: true}))
      parser.push(decoder.decode())
    } catch (error) {
      // The connection failed mid-body (not our deadline, not a problem found while reading): worth another try.
      const cut = !(error instanceof EhcpError) && !request.abortSignal?.aborted && classifyError(error).exitCode === ExitCode.unreachable
      throw cut ? new ResponseCut(error) : error
    }
    // A body that ends cleanly but early would otherwise pass for a complete (shorter) listing.
    if (!parser.complete)
      throw new ResponseCut(
        unreachableError(
          'A List Blobs response from storage ended early (truncated).',
          'Check the network or any proxy in between, and run again.',
        ),
      )
    return {...parser.end(), date}
  }
}
