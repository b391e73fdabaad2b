/**
 * `ehcp doctor`'s store hygiene: the account settings Event Hubs advises a checkpoint store to do without
 * (hierarchical namespace, blob soft delete, blob versioning) as findings. Each is a warning, not an error: the
 * documentation lists all three as settings to keep off because they cost money and slow or disturb
 * checkpointing, not as settings processors fail under, and doctor's errors are for what is broken now. A setting
 * ehcp's credential cannot read is one information finding naming what would let ehcp read it.
 */
import type {BlobRestClient} from '../store/blob-rest.js'
import {type Reading, readStoreSettings, type StoreSettings} from '../store/account.js'
import {commandLine} from '../shell.js'
import type {Finding} from './findings.js'

/** The account's name when its URL is Azure's own (`NAME.blob.core.windows.net` and sovereign clouds); not emulators or custom domains. */
export function azureAccountName(containerUrl: string): string | undefined {
  let host: string
  try {
    host = new URL(containerUrl).hostname
  } catch {
    return undefined
  }
  return /^([a-z0-9]{3,24})\.blob\.core\.(windows\.net|chinacloudapi\.cn|usgovcloudapi\.net)$/.exec(host)?.[1]
}

const az = (account: string, ...words: string[]) =>
  commandLine(['az', 'storage', 'account', 'blob-service-properties', ...words, '--account-name', account])

/** Where a person with portal or Azure CLI (management) access sees the setting ehcp could not read. */
const seeIt = (account: string | undefined) =>
  account ? ` It shows with \`${az(account, 'show')}\`.` : ' The storage account page of the Azure portal shows it.'

function notReadable(
  code: string,
  what: string,
  reading: Extract<Reading<unknown>, {readable: false}>,
  needs: string,
  account: string | undefined,
): Finding {
  return {
    code,
    severity: 'info',
    message: `ehcp could not read whether ${what} (${reading.reason}). ${needs}${seeIt(account)}`,
    evidence: {
      reason: reading.reason,
      ...(reading.status !== undefined ? {status: reading.status} : {}),
      ...(reading.code ? {errorCode: reading.code} : {}),
    },
  }
}

/** What each read needs, in words a user can act on. */
const NEEDS = {
  accountInfo:
    'Get Account Information is answered with the account key (a connection string) or a SAS for the container; a sign-in with Entra ID may not be enough.',
  softDelete:
    'Get Blob Service Properties needs account-level rights: the account key (a connection string with AccountKey) or an account SAS with the service resource type and read (srt=s, sp=r); a container SAS or a data role on the container cannot read it.',
  versioning: 'Listing the container with its blob versions needs list permission: a SAS with l, or the Storage Blob Data Reader role.',
}

/** The findings for settings as read. Pure. `account` (an Azure account name) makes the fix commands. */
export function hygieneFindingsOf(settings: StoreSettings, account?: string): Finding[] {
  const findings: Finding[] = []
  const {accountInfo, softDelete, versioning} = settings

  if (!accountInfo.readable)
    findings.push(
      notReadable(
        'store-hierarchical-namespace-not-readable',
        'the storage account has a hierarchical namespace',
        accountInfo,
        NEEDS.accountInfo,
        account,
      ),
    )
  else if (accountInfo.value.hierarchicalNamespace)
    findings.push({
      code: 'store-hierarchical-namespace',
      severity: 'warning',
      message:
        'The storage account has a hierarchical namespace (Data Lake Storage Gen2), which Event Hubs advises against for a checkpoint store: it can slow checkpointing or make checkpoint writes fail. It cannot be turned off: keep checkpoints in an account without it.',
      evidence: {...accountInfo.value},
    })

  if (!softDelete.readable)
    findings.push(notReadable('store-soft-delete-not-readable', 'blob soft delete is on', softDelete, NEEDS.softDelete, account))
  else if (softDelete.value.enabled) {
    const days = softDelete.value.days
    findings.push({
      code: 'store-soft-delete',
      severity: 'warning',
      message: `Blob soft delete is on${days ? `, keeping deleted and overwritten blobs for ${days} day${days === 1 ? '' : 's'}` : ''}. Event Hubs advises turning it off for a checkpoint store: what processors overwrite and delete is kept and paid for, and it can slow checkpointing.`,
      evidence: {enabled: true, ...(days ? {retentionDays: days} : {})},
      ...(account ? {fix: az(account, 'update', '--enable-delete-retention', 'false')} : {}),
    })
  }

  if (!versioning.readable)
    findings.push(notReadable('store-versioning-not-readable', 'blob versioning is on', versioning, NEEDS.versioning, account))
  else if (versioning.value.enabled) {
    const {blobsListed, earlierVersions} = versioning.value
    findings.push({
      code: 'store-versioning',
      severity: 'warning',
      message: `Blob versioning is on (${earlierVersions} earlier version${earlierVersions === 1 ? '' : 's'} among the first ${blobsListed} entries listed). Event Hubs advises turning it off for a checkpoint store: every checkpoint and ownership write keeps a version that is paid for, and it can slow checkpointing. Turning it off keeps the versions already made.`,
      evidence: {...versioning.value},
      ...(account ? {fix: az(account, 'update', '--enable-versioning', 'false')} : {}),
    })
  }
  return findings
}

/**
 * Reads the account's settings through the container's client and reports them. Never throws for a setting it
 * cannot read (that is a finding); only `abortSignal` ending the run ends it. `containerUrl` (without its query)
 * names the account in the fix commands.
 */
export async function hygieneFindings(
  client: BlobRestClient,
  options: {containerUrl: string; abortSignal?: AbortSignal},
): Promise<Finding[]> {
  const settings = await readStoreSettings(client, options.abortSignal)
  return hygieneFindingsOf(settings, azureAccountName(options.containerUrl))
}
