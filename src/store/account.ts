/**
 * The storage account settings Event Hubs asks a checkpoint store to go without — hierarchical namespace, blob
 * soft delete, blob versioning — read through the container's own REST client. Each read gives its value or why
 * it could not be read (a credential without account-level rights, an emulator that does not implement it, storage
 * failing): ehcp often holds only a container SAS or a data role, so "not readable" is a normal outcome, never thrown.
 */
import {classifyError} from '../errors.js'
import {type BlobRestClient, element, type StorageAnswer} from './blob-rest.js'
import {serviceErrorCode, statusCodeOf} from './errors.js'

/** A value read, or the reason it could not be (with storage's status and error code when it answered). */
export type Reading<T> = {readable: true; value: T} | {readable: false; reason: string; status?: number; code?: string}

/** Get Account Information's answer. */
export interface AccountInfo {
  hierarchicalNamespace: boolean
  skuName?: string
  accountKind?: string
}

/** Blob soft delete, from Get Blob Service Properties' DeleteRetentionPolicy. */
export interface DeleteRetention {
  enabled: boolean
  days?: number
}

/** What a short List Blobs with include=versions showed: storage gives a blob a version id only while versioning is on. */
export interface VersionsSeen {
  enabled: boolean
  /** Entries listed (current blobs and, with versioning, their earlier versions). */
  blobsListed: number
  withVersionId: number
  earlierVersions: number
}

export interface StoreSettings {
  accountInfo: Reading<AccountInfo>
  softDelete: Reading<DeleteRetention>
  versioning: Reading<VersionsSeen>
}

/** How many entries the versions listing looks at: enough to see a version id, few enough to cost nothing. */
export const VERSIONS_LISTED = 20

/** A failed read as a reason: storage's status and code when it answered, else the failure's own words. */
function unreadable(error: unknown, abortSignal?: AbortSignal, timeoutMs?: number): Reading<never> {
  // A cancelled or timed-out doctor run ends as the run's own outcome, not as a setting it could not read.
  if (abortSignal?.aborted) throw error
  // A try the client gave up on (its per-try timeout aborts it): no answer, not a cancellation.
  const name = (error as {name?: string} | undefined)?.name
  if ((name === 'AbortError' || name === 'TimeoutError') && timeoutMs !== undefined)
    return {readable: false, reason: `storage did not answer within ${timeoutMs / 1000}s`}
  const status = statusCodeOf(error)
  // Storage's own refusal (403, 400, 501...): its status and error code say it all.
  if ((error as {name?: string} | undefined)?.name === 'RestError' && typeof status === 'number') {
    const code = serviceErrorCode(error)
    return {readable: false, reason: `storage answered ${status}${code ? ` ${code}` : ''}`, status, ...(code ? {code} : {})}
  }
  // An emulator (or a storage stand-in) without the operation: not storage failing, which the client calls a 5xx.
  if (status === 501) return {readable: false, reason: 'storage does not implement this operation (it answered 501)', status}
  // Storage failing after the retries, an answer not from storage, the network: ehcp's own words for it.
  const reason = classifyError(error).message.replace(/\.$/, '')
  return {readable: false, reason, ...(typeof status === 'number' ? {status} : {})}
}

async function reading<T>(read: () => Promise<T>, abortSignal?: AbortSignal, timeoutMs?: number): Promise<Reading<T>> {
  try {
    return {readable: true, value: await read()}
  } catch (error) {
    return unreadable(error, abortSignal, timeoutMs)
  }
}

/** Get Account Information's headers. Pure. */
export function parseAccountInfo(answer: Pick<StorageAnswer, 'header'>): Reading<AccountInfo> {
  const hns = answer.header('x-ms-is-hns-enabled')
  const skuName = answer.header('x-ms-sku-name')
  const accountKind = answer.header('x-ms-account-kind')
  if (hns === undefined) return {readable: false, reason: 'the answer to Get Account Information has no x-ms-is-hns-enabled header'}
  return {
    readable: true,
    value: {
      hierarchicalNamespace: hns.trim().toLowerCase() === 'true',
      ...(skuName ? {skuName} : {}),
      ...(accountKind ? {accountKind} : {}),
    },
  }
}

/** DeleteRetentionPolicy in a Get Blob Service Properties body; absent means off (Azurite leaves it out until set). Pure. */
export function parseDeleteRetention(xml: string): Reading<DeleteRetention> {
  if (!xml.includes('<StorageServiceProperties'))
    return {readable: false, reason: 'the answer to Get Blob Service Properties is not a StorageServiceProperties document'}
  const policy = element(xml, 'DeleteRetentionPolicy')
  if (policy === undefined) return {readable: true, value: {enabled: false}}
  const enabled = element(policy, 'Enabled')?.trim().toLowerCase() === 'true'
  const days = Number(element(policy, 'Days'))
  return {readable: true, value: {enabled, ...(enabled && Number.isInteger(days) && days > 0 ? {days} : {})}}
}

/** A List Blobs (include=versions) body. An empty container shows nothing either way: not readable. Pure. */
export function parseVersionsListing(xml: string): Reading<VersionsSeen> {
  if (!xml.includes('<EnumerationResults'))
    return {readable: false, reason: 'the answer to List Blobs is not an EnumerationResults document'}
  const blobs = [...xml.matchAll(/<Blob>([\s\S]*?)<\/Blob>/g)].map((m) => m[1]!)
  if (blobs.length === 0) return {readable: false, reason: 'the container holds no blobs, and only a blob shows whether versioning is on'}
  const withVersionId = blobs.filter((b) => element(b, 'VersionId')).length
  // An earlier version is listed with its version id and without IsCurrentVersion (or with it false).
  const earlierVersions = blobs.filter((b) => element(b, 'VersionId') && element(b, 'IsCurrentVersion')?.trim() !== 'true').length
  return {readable: true, value: {enabled: withVersionId > 0, blobsListed: blobs.length, withVersionId, earlierVersions}}
}

/**
 * Get Account Information, asked of the container (any SAS for it may ask); when that answer leaves out the
 * namespace flag (Azurite does on a container), asked again of the account's root, which needs account-level rights.
 */
async function readAccountInfo(client: BlobRestClient, abortSignal?: AbortSignal, timeoutMs?: number): Promise<Reading<AccountInfo>> {
  const query = {restype: 'account', comp: 'properties'}
  const onContainer = await reading(() => client.get('container', query, abortSignal), abortSignal, timeoutMs)
  if (!onContainer.readable) return onContainer
  const parsed = parseAccountInfo(onContainer.value)
  if (parsed.readable) return parsed
  const onAccount = await reading(() => client.get('account', query, abortSignal), abortSignal, timeoutMs)
  if (!onAccount.readable) return {...onAccount, reason: `${parsed.reason}, and asked of the account: ${onAccount.reason}`}
  return parseAccountInfo(onAccount.value)
}

/** The three settings, read at once. Never throws, except when `abortSignal` ends the run. */
/** `timeoutMs` (the client's per-try bound) names a read that got no answer. */
export async function readStoreSettings(client: BlobRestClient, abortSignal?: AbortSignal, timeoutMs?: number): Promise<StoreSettings> {
  const [accountInfo, softDelete, versioning] = await Promise.all([
    readAccountInfo(client, abortSignal, timeoutMs),
    reading(() => client.get('account', {restype: 'service', comp: 'properties'}, abortSignal), abortSignal, timeoutMs).then((r) =>
      r.readable ? parseDeleteRetention(r.value.text) : r,
    ),
    reading(
      () =>
        client.get(
          'container',
          {restype: 'container', comp: 'list', include: 'versions', maxresults: String(VERSIONS_LISTED)},
          abortSignal,
        ),
      abortSignal,
      timeoutMs,
    ).then((r) => (r.readable ? parseVersionsListing(r.value.text) : r)),
  ])
  return {accountInfo, softDelete, versioning}
}
