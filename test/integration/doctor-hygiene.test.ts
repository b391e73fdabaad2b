/**
 * Doctor's store hygiene against real Azurite 3.37 (and a server that is not storage): what each credential can
 * read of the account's settings, and that a setting it cannot read is an information finding, never a failure.
 * Azurite answers Get Account Information (x-ms-is-hns-enabled only on the account's root, always false), stores
 * the DeleteRetentionPolicy the SDK sets, and accepts include=versions without ever giving a version id: a
 * hierarchical namespace and versioning turned on are shown on recorded answers in test/unit/doctor-hygiene.test.ts.
 */
import {BlobServiceClient, ContainerSASPermissions} from '@azure/storage-blob'
import {expect} from 'chai'

import {hygieneFindings} from '../../src/doctor/hygiene.js'
import {readStoreSettings} from '../../src/store/account.js'
import {openContainer, resolveStorageTarget, type ConnectionInput} from '../../src/store/connect.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'
import {startStatusProxy, storageError} from '../support/status-proxy.js'

const open = (input: ConnectionInput, tuning = {timeoutMs: 10_000, maxTries: 2}) => {
  const target = resolveStorageTarget(input, {})
  return openContainer(target, tuning).then((opened) => ({client: opened.client, containerUrl: target.containerUrl}))
}

const codes = (findings: {code: string}[]) => findings.map((f) => f.code)

describe('doctor: store hygiene', function () {
  this.timeout(60_000)
  let c: TestContainer
  let service: BlobServiceClient

  beforeEach(async () => {
    c = await freshContainer()
    service = BlobServiceClient.fromConnectionString(c.azurite.connectionString())
    await putBlob(c.client, 'ns.servicebus.windows.net/orders/$default/checkpoint/0', {sequencenumber: '1', offset: '10'})
  })
  afterEach(async () => {
    // The account's settings are shared by every test of the run: soft delete goes back off.
    await service.setProperties({deleteRetentionPolicy: {enabled: false}})
    await c.dispose()
  })

  it('finds nothing on an account with soft delete off, read with the account key', async () => {
    const {client, containerUrl} = await open({connectionString: c.azurite.connectionString(), container: c.name})
    const settings = await readStoreSettings(client)
    expect(settings.accountInfo).to.deep.equal({
      readable: true,
      value: {hierarchicalNamespace: false, skuName: 'Standard_RAGRS', accountKind: 'StorageV2'},
    })
    expect(settings.softDelete).to.deep.equal({readable: true, value: {enabled: false}})
    expect(settings.versioning).to.deep.equal({
      readable: true,
      value: {enabled: false, blobsListed: 1, withVersionId: 0, earlierVersions: 0},
    })
    expect(await hygieneFindings(client, {containerUrl})).to.deep.equal([])
  })

  it('warns of soft delete turned on with the SDK, with its retention days', async () => {
    await service.setProperties({deleteRetentionPolicy: {enabled: true, days: 7}})
    const {client, containerUrl} = await open({connectionString: c.azurite.connectionString(), container: c.name})
    const findings = await hygieneFindings(client, {containerUrl})
    expect(codes(findings)).to.deep.equal(['store-soft-delete'])
    expect(findings[0]).to.deep.include({severity: 'warning', evidence: {enabled: true, retentionDays: 7}})
    expect(findings[0]!.message).to.include('for 7 days')
    // An emulator's account has no Azure name: no az command to paste.
    expect(findings[0]!.fix).to.equal(undefined)
  })

  it('with a container SAS: the soft delete setting is an information finding naming the account-level rights it needs', async () => {
    await service.setProperties({deleteRetentionPolicy: {enabled: true, days: 3}})
    const sas = await c.client.generateSasUrl({
      permissions: ContainerSASPermissions.parse('rl'),
      expiresOn: new Date(Date.now() + 3_600_000),
    })
    const {client, containerUrl} = await open({containerUrl: sas})
    const settings = await readStoreSettings(client)
    expect(settings.softDelete).to.deep.equal({
      readable: false,
      reason: 'storage answered 403 AuthorizationFailure',
      status: 403,
      code: 'AuthorizationFailure',
    })
    // Azurite's container answer has no namespace flag, and its account root refuses a container SAS.
    expect(settings.accountInfo).to.deep.include({readable: false, status: 403, code: 'AuthorizationFailure'})
    expect(settings.versioning).to.deep.include({readable: true})
    const findings = await hygieneFindings(client, {containerUrl})
    expect(codes(findings)).to.deep.equal(['store-hierarchical-namespace-not-readable', 'store-soft-delete-not-readable'])
    const softDelete = findings[1]!
    expect(softDelete.severity).to.equal('info')
    expect(softDelete.message).to.include('403 AuthorizationFailure').and.include('account SAS').and.include('AccountKey')
    expect(softDelete.evidence).to.deep.equal({
      reason: 'storage answered 403 AuthorizationFailure',
      status: 403,
      errorCode: 'AuthorizationFailure',
    })
    // The SAS never shows in a finding.
    const signature = new URL(sas).searchParams.get('sig')!
    expect(JSON.stringify(findings)).not.to.include(signature).and.not.include(encodeURIComponent(signature))
  })

  it('an empty container cannot show versioning: an information finding saying so', async () => {
    await c.client.getBlockBlobClient('ns.servicebus.windows.net/orders/$default/checkpoint/0').delete()
    const {client, containerUrl} = await open({connectionString: c.azurite.connectionString(), container: c.name})
    const findings = await hygieneFindings(client, {containerUrl})
    expect(codes(findings)).to.deep.equal(['store-versioning-not-readable'])
    expect(findings[0]!.message).to.include('holds no blobs')
  })

  describe('a server that is not storage, or storage failing', () => {
    const cases: {name: string; answer: {status: number; headers?: Record<string, string>; body?: string}; reason: RegExp}[] = [
      {
        name: 'storage answering 500 after the retries',
        answer: storageError(500, 'InternalError'),
        reason: /^Storage is unavailable: it answered 500 InternalError, after 2 tries$/,
      },
      {
        name: 'a web server answering 404 with an HTML page',
        answer: {status: 404, headers: {'content-type': 'text/html'}, body: '<html><body>Not Found</body></html>'},
        reason: /answered HTTP 404 \(text\/html\) and does not look like Azure Blob Storage/,
      },
      {
        name: 'an emulator without the operation (501)',
        answer: storageError(501, 'NotImplemented'),
        reason: /^storage does not implement this operation \(it answered 501\)$/,
      },
    ]
    for (const {name, answer, reason} of cases) {
      it(`${name}: every setting not readable, with the reason, and no exception`, async () => {
        const proxy = await startStatusProxy(c.azurite.host, () => answer)
        try {
          const connectionString = c.azurite.connectionString().replace(/BlobEndpoint=[^;]+/, `BlobEndpoint=${proxy.url}/devstoreaccount1`)
          const {client, containerUrl} = await open({connectionString, container: c.name}, {timeoutMs: 5_000, maxTries: 2})
          const findings = await hygieneFindings(client, {containerUrl})
          expect(codes(findings)).to.deep.equal([
            'store-hierarchical-namespace-not-readable',
            'store-soft-delete-not-readable',
            'store-versioning-not-readable',
          ])
          let checked = 0
          for (const finding of findings) {
            expect(finding.severity).to.equal('info')
            expect(finding.evidence.reason).to.match(reason)
            checked++
          }
          expect(checked).to.equal(3)
          expect(proxy.requests.length).to.be.at.least(3)
        } finally {
          await proxy.close()
        }
      })
    }

    it('nothing listening: not readable, naming the unreachable service', async () => {
      const proxy = await startStatusProxy(undefined, () => undefined)
      const port = new URL(proxy.url).port
      await proxy.close()
      const connectionString = c.azurite
        .connectionString()
        .replace(/BlobEndpoint=[^;]+/, `BlobEndpoint=http://127.0.0.1:${port}/devstoreaccount1`)
      const {client} = await open({connectionString, container: c.name}, {timeoutMs: 2_000, maxTries: 1})
      const settings = await readStoreSettings(client)
      for (const reading of [settings.accountInfo, settings.softDelete, settings.versioning])
        expect(reading).to.deep.include({readable: false, reason: 'The service could not be reached (ECONNREFUSED)'})
    })
  })

  it('a cancelled run ends doctor instead of becoming a finding', async () => {
    const {client, containerUrl} = await open({connectionString: c.azurite.connectionString(), container: c.name})
    const controller = new AbortController()
    controller.abort()
    const outcome = await hygieneFindings(client, {containerUrl, abortSignal: controller.signal}).then(
      () => 'finished',
      (error: Error) => error.name,
    )
    expect(outcome).to.equal('AbortError')
  })
})
