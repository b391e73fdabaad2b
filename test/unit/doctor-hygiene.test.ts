/**
 * Doctor's store hygiene, pure: storage's answers (recorded in the shape Azure Blob Storage gives them, for what
 * Azurite cannot show: a hierarchical namespace, versioning on) read into settings, and settings into findings.
 */
import {expect} from 'chai'

import {azureAccountName, hygieneFindingsOf} from '../../src/doctor/hygiene.js'
import {parseAccountInfo, parseDeleteRetention, parseVersionsListing, type StoreSettings} from '../../src/store/account.js'
import {accountRootOf} from '../../src/store/blob-rest.js'

const headers = (values: Record<string, string>) => ({header: (name: string) => values[name]})

/** Get Account Information on a Data Lake Storage Gen2 account (headers as the service sends them). */
const HNS_ACCOUNT = headers({
  'x-ms-request-id': '5e4b0a3c-701e-0046-1c2d-3b7c5f000000',
  'x-ms-version': '2024-11-04',
  'x-ms-sku-name': 'Standard_LRS',
  'x-ms-account-kind': 'StorageV2',
  'x-ms-is-hns-enabled': 'true',
})

const SERVICE_PROPERTIES = (policy: string) =>
  '\uFEFF<?xml version="1.0" encoding="utf-8"?><StorageServiceProperties><Logging><Version>1.0</Version><Read>false</Read><Write>false</Write>' +
  '<Delete>false</Delete><RetentionPolicy><Enabled>true</Enabled><Days>30</Days></RetentionPolicy></Logging><HourMetrics><Version>1.0</Version>' +
  '<Enabled>true</Enabled><IncludeAPIs>true</IncludeAPIs><RetentionPolicy><Enabled>true</Enabled><Days>7</Days></RetentionPolicy></HourMetrics>' +
  `<Cors /><DefaultServiceVersion>2024-11-04</DefaultServiceVersion>${policy}<StaticWebsite><Enabled>false</Enabled></StaticWebsite></StorageServiceProperties>`

/** List Blobs with include=versions on an account with versioning on: one checkpoint written three times. */
const VERSIONED_LISTING =
  '\uFEFF<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="https://contoso.blob.core.windows.net/" ContainerName="checkpoints">' +
  '<MaxResults>20</MaxResults><Blobs>' +
  ['2026-11-30T10:00:00.0000000Z', '2026-11-30T10:00:05.0000000Z']
    .map(
      (v) =>
        `<Blob><Name>ns/orders/$default/checkpoint/0</Name><VersionId>${v}</VersionId><Properties><Content-Length>0</Content-Length></Properties></Blob>`,
    )
    .join('') +
  '<Blob><Name>ns/orders/$default/checkpoint/0</Name><VersionId>2026-11-30T10:00:10.0000000Z</VersionId><IsCurrentVersion>true</IsCurrentVersion>' +
  '<Properties><Content-Length>0</Content-Length></Properties></Blob></Blobs><NextMarker /></EnumerationResults>'

const UNVERSIONED_LISTING =
  '<?xml version="1.0" encoding="utf-8"?><EnumerationResults ContainerName="c"><Blobs><Blob><Name>a</Name><Properties /></Blob></Blobs><NextMarker /></EnumerationResults>'

const CLEAN: StoreSettings = {
  accountInfo: {readable: true, value: {hierarchicalNamespace: false}},
  softDelete: {readable: true, value: {enabled: false}},
  versioning: {readable: true, value: {enabled: false, blobsListed: 1, withVersionId: 0, earlierVersions: 0}},
}

describe('doctor: store hygiene, reading storage answers', () => {
  it('reads a hierarchical namespace, the SKU and the account kind from Get Account Information', () => {
    expect(parseAccountInfo(HNS_ACCOUNT)).to.deep.equal({
      readable: true,
      value: {hierarchicalNamespace: true, skuName: 'Standard_LRS', accountKind: 'StorageV2'},
    })
    expect(parseAccountInfo(headers({'x-ms-is-hns-enabled': 'false'}))).to.deep.equal({
      readable: true,
      value: {hierarchicalNamespace: false},
    })
  })

  it('an answer without x-ms-is-hns-enabled (Azurite on a container) is not readable, not "off"', () => {
    const reading = parseAccountInfo(headers({'x-ms-sku-name': 'Standard_RAGRS', 'x-ms-account-kind': 'StorageV2'}))
    expect(reading).to.deep.equal({readable: false, reason: 'the answer to Get Account Information has no x-ms-is-hns-enabled header'})
  })

  it('reads DeleteRetentionPolicy, not the logging or metrics retention policies beside it', () => {
    const on =
      '<DeleteRetentionPolicy><Enabled>true</Enabled><Days>14</Days><AllowPermanentDelete>false</AllowPermanentDelete></DeleteRetentionPolicy>'
    expect(parseDeleteRetention(SERVICE_PROPERTIES(on))).to.deep.equal({readable: true, value: {enabled: true, days: 14}})
    const off = '<DeleteRetentionPolicy><Enabled>false</Enabled></DeleteRetentionPolicy>'
    expect(parseDeleteRetention(SERVICE_PROPERTIES(off))).to.deep.equal({readable: true, value: {enabled: false}})
    // Azurite leaves the element out until it is set.
    expect(parseDeleteRetention(SERVICE_PROPERTIES(''))).to.deep.equal({readable: true, value: {enabled: false}})
  })

  it('a body that is not service properties (a proxy page answering 200) is not readable', () => {
    expect(parseDeleteRetention('<html><body>Welcome</body></html>')).to.deep.include({readable: false})
  })

  it('sees versioning on from version ids, and counts the earlier versions', () => {
    expect(parseVersionsListing(VERSIONED_LISTING)).to.deep.equal({
      readable: true,
      value: {enabled: true, blobsListed: 3, withVersionId: 3, earlierVersions: 2},
    })
    expect(parseVersionsListing(UNVERSIONED_LISTING)).to.deep.equal({
      readable: true,
      value: {enabled: false, blobsListed: 1, withVersionId: 0, earlierVersions: 0},
    })
  })

  it('an empty listing shows nothing either way', () => {
    const empty = '<?xml version="1.0" encoding="utf-8"?><EnumerationResults ContainerName="c"><Blobs /><NextMarker /></EnumerationResults>'
    expect(parseVersionsListing(empty)).to.deep.include({readable: false})
  })

  it("the account's root keeps the container URL's SAS and the emulator's account segment", () => {
    expect(accountRootOf('https://contoso.blob.core.windows.net/checkpoints?sv=2024-11-04&sig=abc')).to.equal(
      'https://contoso.blob.core.windows.net/?sv=2024-11-04&sig=abc',
    )
    expect(accountRootOf('http://127.0.0.1:10000/devstoreaccount1/c')).to.equal('http://127.0.0.1:10000/devstoreaccount1/')
  })

  it("names Azure's own accounts, not emulators or custom domains", () => {
    expect(azureAccountName('https://contoso.blob.core.windows.net/checkpoints')).to.equal('contoso')
    expect(azureAccountName('https://contoso.blob.core.chinacloudapi.cn/c')).to.equal('contoso')
    expect(azureAccountName('http://127.0.0.1:10000/devstoreaccount1/c')).to.equal(undefined)
    expect(azureAccountName('https://storage.example.com/c')).to.equal(undefined)
  })
})

describe('doctor: store hygiene, findings', () => {
  it('an account as Event Hubs advises gives no finding', () => {
    expect(hygieneFindingsOf(CLEAN, 'contoso')).to.deep.equal([])
  })

  it('a hierarchical namespace is a warning without a fix command (it cannot be turned off)', () => {
    const accountInfo = parseAccountInfo(HNS_ACCOUNT)
    const [finding, ...rest] = hygieneFindingsOf({...CLEAN, accountInfo}, 'contoso')
    expect(rest).to.deep.equal([])
    expect(finding).to.deep.include({
      code: 'store-hierarchical-namespace',
      severity: 'warning',
      evidence: {hierarchicalNamespace: true, skuName: 'Standard_LRS', accountKind: 'StorageV2'},
    })
    expect(finding!.fix).to.equal(undefined)
    expect(finding!.message).to.include('cannot be turned off')
  })

  it('soft delete is a warning with its retention days and the az command that turns it off', () => {
    const [finding] = hygieneFindingsOf({...CLEAN, softDelete: {readable: true, value: {enabled: true, days: 1}}}, 'contoso')
    expect(finding).to.deep.include({code: 'store-soft-delete', severity: 'warning', evidence: {enabled: true, retentionDays: 1}})
    expect(finding!.message).to.include('for 1 day.')
    expect(finding!.fix).to.equal(
      'az storage account blob-service-properties update --enable-delete-retention false --account-name contoso',
    )
  })

  it('versioning is a warning with what the listing showed and the az command that turns it off', () => {
    const versioning = parseVersionsListing(VERSIONED_LISTING)
    const [finding] = hygieneFindingsOf({...CLEAN, versioning}, 'contoso')
    expect(finding).to.deep.include({code: 'store-versioning', severity: 'warning'})
    expect(finding!.evidence).to.deep.equal({enabled: true, blobsListed: 3, withVersionId: 3, earlierVersions: 2})
    expect(finding!.message).to.include('2 earlier versions among the first 3 entries listed')
    expect(finding!.fix).to.equal('az storage account blob-service-properties update --enable-versioning false --account-name contoso')
  })

  it('each setting not read is one information finding with its reason and what would let ehcp read it', () => {
    const refused = {
      readable: false as const,
      reason: 'storage answered 403 AuthorizationPermissionMismatch',
      status: 403,
      code: 'AuthorizationPermissionMismatch',
    }
    const findings = hygieneFindingsOf({accountInfo: refused, softDelete: refused, versioning: refused}, 'contoso')
    expect(findings.map((f) => [f.code, f.severity])).to.deep.equal([
      ['store-hierarchical-namespace-not-readable', 'info'],
      ['store-soft-delete-not-readable', 'info'],
      ['store-versioning-not-readable', 'info'],
    ])
    let checked = 0
    for (const finding of findings) {
      expect(finding.message).to.include('(storage answered 403 AuthorizationPermissionMismatch)')
      expect(finding.message).to.include('az storage account blob-service-properties show --account-name contoso')
      expect(finding.evidence).to.deep.equal({reason: refused.reason, status: 403, errorCode: 'AuthorizationPermissionMismatch'})
      expect(finding.fix).to.equal(undefined)
      checked++
    }
    expect(checked).to.equal(3)
    expect(findings[1]!.message).to.include('srt=s, sp=r')
    expect(findings[2]!.message).to.include('Storage Blob Data Reader')
  })

  it('without an Azure account name: no fix command, and the portal named instead', () => {
    const [softDelete, notRead] = hygieneFindingsOf(
      {...CLEAN, softDelete: {readable: true, value: {enabled: true, days: 7}}, versioning: {readable: false, reason: 'x'}},
      undefined,
    )
    expect(softDelete!.fix).to.equal(undefined)
    expect(notRead!.message).to.include('Azure portal')
  })
})
