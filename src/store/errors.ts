/**
 * Storage's failures in ehcp's words, at the store boundary: every request the store makes to the Blob REST
 * client passes its failure through storageError (refused credentials, a missing container, a sign-in that
 * failed), and a write's refusal is read as a conflict here (conflictOf). Errors are recognised by statusCode
 * and the service's error code, never by class; what is not storage's (a network failure, a deadline) passes on.
 */
import {authError, EhcpError, notFoundError} from '../errors.js'

/** A failure as the REST client or the Azure SDK shapes it. */
interface StorageErrorLike {
  name?: string
  code?: string
  statusCode?: number
  details?: {errorCode?: string}
}

/** The service's error code (e.g. ContainerNotFound), wherever the client put it. */
export function serviceErrorCode(err: unknown): string | undefined {
  const e = err as StorageErrorLike | undefined
  return e?.details?.errorCode ?? (typeof e?.code === 'string' ? e.code : undefined)
}

export function statusCodeOf(err: unknown): number | undefined {
  return (err as StorageErrorLike | undefined)?.statusCode
}

/** What a request needs on a SAS or in RBAC, named when the service refuses it. */
export type Permission = 'list' | 'write' | 'delete'

const PERMISSION_HINT: Record<Permission, string> = {
  list: 'Signed in with Entra ID: grant the identity the Storage Blob Data Reader role on the container or account (or Storage Blob Data Contributor for changes). With a SAS: it needs read (r) and list (l).',
  write:
    'Signed in with Entra ID: grant the identity the Storage Blob Data Contributor role on the container or account. With a SAS: it needs read, list and write (rlw).',
  delete:
    'Signed in with Entra ID: grant the identity the Storage Blob Data Contributor role on the container or account. With a SAS: it needs delete (d).',
}

/** Sign-in failures of @azure/identity (DefaultAzureCredential), recognised by name. */
const SIGN_IN_FAILURES = new Set(['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError'])

/**
 * A failed request to storage (that needed `permission`) as ehcp's error: refused credentials (401, 403) and
 * sign-in failures are auth (exit 4), a missing container is not found (exit 3). Anything else is returned as
 * it is: storage's other answers (412, 409, 404 BlobNotFound) are read by the store, and failures that are not
 * storage's (network, deadline, cancellation) by the error funnel.
 */
export function storageError(err: unknown, permission: Permission): unknown {
  if (err instanceof EhcpError) return err
  const status = statusCodeOf(err)
  const code = serviceErrorCode(err)
  if (status === 403 && code === 'AuthorizationPermissionMismatch') {
    return authError(
      `The credential lacks the "${permission}" permission on this container (403 AuthorizationPermissionMismatch).`,
      PERMISSION_HINT[permission],
    )
  }
  if (status === 401 || status === 403) {
    const hint =
      code === 'AuthorizationResourceTypeMismatch'
        ? 'The SAS does not grant access to this resource type (a container SAS needs srt=co or sr=c).'
        : 'Check the account key, SAS token (signature, expiry, permissions) or signed-in identity.'
    return authError(`Storage refused the request (${status}${code ? ` ${code}` : ''}).`, hint)
  }
  if (SIGN_IN_FAILURES.has((err as StorageErrorLike | undefined)?.name ?? '')) {
    return authError(
      'Could not sign in with DefaultAzureCredential.',
      'Sign in with `az login`, or set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or use --connection-string / --container-url.',
    )
  }
  if (status === 404 && code === 'ContainerNotFound')
    return notFoundError('The container does not exist.', 'Check --container / the container URL.')
  return err
}

/**
 * Whether any try of the failed request may have been applied. The REST client says so for the answers it
 * got; anything else (a network error after the pipeline's retries, the store's deadline) may hide a write.
 */
export function mayHaveLanded(error: unknown): boolean {
  const flag = (error as {mayHaveLanded?: unknown} | undefined)?.mayHaveLanded
  return typeof flag === 'boolean' ? flag : true
}

export interface Conflict {
  reason: string
  /** The refusal itself says what stands in the way (a lease, snapshots, a policy), not a change of content. */
  definite: boolean
}

/** A write refused by a condition of the blob: storage's answer, put in words a user can act on. */
export function conflictOf(error: unknown): Conflict | undefined {
  // An answer that did not come from storage (a proxy's bare 412) refuses nothing: it is no conflict.
  if ((error as {fromStorage?: boolean} | undefined)?.fromStorage === false) return undefined
  const status = statusCodeOf(error)
  const code = serviceErrorCode(error)
  if (status === 412 && code === 'LeaseIdMissing') {
    return {
      reason:
        'the blob is leased by another client (412 LeaseIdMissing; ehcp takes no leases): break the lease or wait until its holder releases it, then run again',
      definite: true,
    }
  }
  if (status === 412 && code?.startsWith('Lease')) {
    return {
      reason: `the blob's lease refused the write (412 ${code}): another client holds or changed a lease on it; break the lease or wait for it, then run again`,
      definite: true,
    }
  }
  if (status === 409 && code === 'SnapshotsPresent') {
    return {
      reason: 'the blob has snapshots (409 SnapshotsPresent), which ehcp does not delete: delete them first, then run again',
      definite: true,
    }
  }
  if (status === 409 && code === 'BlobImmutableDueToPolicy') {
    return {reason: 'the blob is protected by an immutability policy or legal hold (409 BlobImmutableDueToPolicy)', definite: true}
  }
  if (status === 412) {
    if (code === undefined || code === 'ConditionNotMet')
      return {reason: 'changed since it was read (ETag no longer matches)', definite: false}
    return {reason: `refused by a condition on the blob (412 ${code})`, definite: true}
  }
  if (status === 409 && code === 'BlobAlreadyExists') return {reason: 'created by someone else since it was read', definite: false}
  if (status === 404 && code === 'BlobNotFound') return {reason: 'deleted since it was read', definite: false}
  return undefined
}
