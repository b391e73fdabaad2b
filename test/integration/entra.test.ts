/**
 * Microsoft Entra ID end to end, without a cloud: ehcp with --account-url (DefaultAzureCredential, as users run
 * it) against Azurite over https with OAuth, reached through two real credential paths of @azure/identity —
 * a managed identity (App Service's token endpoint, on loopback) and `az login` (AzureCliCredential, with an
 * `az` on PATH) — and Event Hubs lag read with a token the stand-in checks. The certificate is made here and
 * trusted by ehcp as a user trusts a private CA, through NODE_EXTRA_CA_CERTS. Refused tokens name the role.
 */
import {mkdtempSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {BlobServiceClient, type ContainerClient} from '@azure/storage-blob'
import {expect} from 'chai'

import {type Azurite, EMULATOR_ACCOUNT, EMULATOR_KEY, startAzurite} from '../../local/azurite.js'
import {DEFAULT_OID, type ManagedIdentityEndpoint, startManagedIdentityEndpoint, STORAGE_AUDIENCE} from '../../local/entra.js'
import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import {type LoopbackCertificate, makeLoopbackCertificate} from '../../local/tls.js'
import type {ChangeResult} from '../../src/change/execute.js'
import type {GroupViewWithLag} from '../../src/eventhubs/lag.js'
import type {ContainerSummary} from '../../src/store/summary.js'
import {describeRun, runEhcp} from '../support/cli.js'
import {type FakeAz, writeFakeAz} from '../support/fake-az.js'
import {type DataRole, type Front, startPlainFront, startRoleProxy} from '../support/rbac-proxy.js'
import {putBlob} from '../support/services.js'

const NS = 'ehcp-entra.servicebus.windows.net'
const HUB = 'orders'
const READER_OID = '5f1c2f7e-0000-4000-8000-0000000000b2'
const NOBODY_OID = '5f1c2f7e-0000-4000-8000-0000000000b3'

/** What would choose a credential or a proxy for ehcp, from the machine running the tests: never inherited. */
const CREDENTIAL_ENV = [
  'AZURE_CLIENT_ID',
  'AZURE_TENANT_ID',
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PATH',
  'AZURE_FEDERATED_TOKEN_FILE',
  'AZURE_TOKEN_CREDENTIALS',
  'AZURE_POD_IDENTITY_AUTHORITY_HOST',
  'AZURE_CONFIG_DIR',
  'IDENTITY_ENDPOINT',
  'IDENTITY_HEADER',
  'IDENTITY_SERVER_THUMBPRINT',
  'IMDS_ENDPOINT',
  'MSI_ENDPOINT',
  'MSI_SECRET',
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'ALL_PROXY',
  'all_proxy',
  'NO_PROXY',
  'no_proxy',
  'EHCP_EVENTHUBS_ENDPOINT',
]

/**
 * A loopback HTTP proxy that records each request and drops its connection: with HTTP_PROXY pointing here,
 * DefaultAzureCredential's probe of the IMDS endpoint (http://169.254.169.254) stays on this machine and fails
 * at once, as on a laptop with no IMDS, and the chain goes on to the Azure CLI.
 */
async function startProbeCatcher(): Promise<{url: string; seen: string[]; close(): Promise<void>}> {
  const seen: string[] = []
  const server = http.createServer((req) => {
    seen.push(req.url ?? '')
    req.socket.destroy()
  })
  server.on('connect', (req: http.IncomingMessage, socket) => {
    seen.push(`CONNECT ${req.url ?? ''}`)
    socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

describe('Entra ID end to end (https Azurite with OAuth, managed identity, az login, Event Hubs tokens)', function () {
  this.timeout(120_000)
  let cert: LoopbackCertificate
  let azurite: Azurite
  let seeder: Front
  let roles: Front
  let mi: ManagedIdentityEndpoint
  let az: FakeAz
  let hubs: EventHubsStandin
  let container: ContainerClient
  let name: string
  const dataRoles = new Map<string, DataRole>([
    [DEFAULT_OID, 'Storage Blob Data Contributor'],
    [READER_OID, 'Storage Blob Data Reader'],
  ])
  const cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-entra-'))

  before(async () => {
    cert = makeLoopbackCertificate()
    azurite = await startAzurite({oauth: {certPath: cert.certPath, keyPath: cert.keyPath}})
    seeder = await startPlainFront({target: azurite.host, ca: cert.cert})
    roles = await startRoleProxy({target: azurite.host, tls: cert, roles: dataRoles})
    mi = await startManagedIdentityEndpoint()
    az = writeFakeAz()
    hubs = await EventHubsStandin.start({tls: cert})
    hubs.createHubWithEvents(HUB, 2, 10)
    name = `entra-${Date.now().toString(36)}`
    const service = BlobServiceClient.fromConnectionString(
      `DefaultEndpointsProtocol=http;AccountName=${EMULATOR_ACCOUNT};AccountKey=${EMULATOR_KEY};BlobEndpoint=${seeder.url}/${EMULATOR_ACCOUNT};`,
    )
    container = service.getContainerClient(name)
    await container.create()
    await putBlob(container, `${NS}/${HUB}/$default/checkpoint/0`, {sequencenumber: '6', offset: '1384'})
    await putBlob(container, `${NS}/${HUB}/$default/checkpoint/1`, {sequencenumber: '9', offset: '1576'})
  })
  after(async () => {
    await hubs?.stop()
    await Promise.all([seeder?.close(), roles?.close(), mi?.stop()])
    await azurite?.stop()
    az?.dispose()
    cert?.dispose()
  })
  afterEach(() => {
    mi.oid = DEFAULT_OID
    mi.audience = undefined
  })

  const cleared = () => Object.fromEntries(CREDENTIAL_ENV.map((k) => [k, undefined]))
  /** ehcp as a user runs it on an Azure host with a managed identity (App Service's variables). */
  const withManagedIdentity = (): Record<string, string | undefined> => ({
    ...cleared(),
    ...mi.env,
    NODE_EXTRA_CA_CERTS: cert.certPath,
    EHCP_EVENTHUBS_ENDPOINT: `amqps://localhost:${hubs.port}`,
  })
  const accountUrl = (base = azurite.host) => ['--account-url', `${base}/${EMULATOR_ACCOUNT}`, '--container', name]

  it('list and show sign in with a managed identity (App Service token endpoint on loopback)', async () => {
    const before = mi.requests.length
    const list = await runEhcp(['list', ...accountUrl(), '--json'], {cwd, env: withManagedIdentity()})
    expect(list.code, describeRun(list)).to.equal(0)
    const groups = list.json<ContainerSummary>().groups
    expect(groups.map((g) => [g.namespace, g.eventHub, g.consumerGroup])).to.deep.equal([[NS, HUB, '$default']])
    const show = await runEhcp(['show', ...accountUrl(), '--eventhub', HUB, '--json'], {cwd, env: withManagedIdentity()})
    expect(show.code, describeRun(show)).to.equal(0)
    expect(show.json<GroupViewWithLag>().partitions.map((p) => p.checkpoint?.sequenceNumber)).to.deep.equal([6, 9])
    // The token came from the endpoint, asked as App Service's 2019-08-01 API is asked, for storage.
    const asked = mi.requests.slice(before)
    expect(asked.length, JSON.stringify(asked)).to.be.greaterThan(0)
    for (const request of asked) expect(request).to.deep.equal({resource: STORAGE_AUDIENCE, apiVersion: '2019-08-01', authorized: true})
  })

  it('list signs in with `az login` (AzureCliCredential), the managed identity probe kept on loopback', async () => {
    const catcher = await startProbeCatcher()
    try {
      const callsBefore = az.calls().length
      const started = Date.now()
      const list = await runEhcp(['list', ...accountUrl(), '--json'], {
        cwd,
        env: {
          ...cleared(),
          PATH: `${az.dir}${path.delimiter}${process.env.PATH ?? ''}`,
          NODE_EXTRA_CA_CERTS: cert.certPath,
          HTTP_PROXY: catcher.url,
          NO_PROXY: '127.0.0.1,localhost',
        },
      })
      expect(list.code, describeRun(list)).to.equal(0)
      expect(list.json<ContainerSummary>().groups).to.have.length(1)
      // The chain probed IMDS (through the loopback proxy, not the network), found none, and asked az.
      expect(
        catcher.seen.some((url) => url.startsWith('http://169.254.169.254/metadata/identity/oauth2/token')),
        String(catcher.seen),
      ).to.be.true
      expect(az.calls().slice(callsBefore)).to.deep.include([
        'account',
        'get-access-token',
        '--output',
        'json',
        '--resource',
        STORAGE_AUDIENCE,
      ])
      expect(Date.now() - started, 'the managed identity probe failed fast').to.be.lessThan(20_000)
    } finally {
      await catcher.close()
    }
  })

  it('a Contributor identity changes a checkpoint (set); a Reader identity is refused and told the role to grant', async () => {
    const set = ['set', ...accountUrl(roles.url), '--eventhub', HUB, '--partition', '0', '--sequence-number', '7', '--offset', '1448']
    mi.oid = READER_OID
    const refused = await runEhcp([...set, '--yes', '--json'], {cwd, env: withManagedIdentity()})
    expect(refused.code, describeRun(refused)).to.equal(4)
    expect(refused.stdout + refused.stderr).to.include('Storage Blob Data Contributor')
    expect((await container.getBlobClient(`${NS}/${HUB}/$default/checkpoint/0`).getProperties()).metadata).to.deep.include({
      sequencenumber: '6',
    })

    mi.oid = DEFAULT_OID
    const done = await runEhcp([...set, '--yes', '--json'], {cwd, env: withManagedIdentity()})
    expect(done.code, describeRun(done)).to.equal(0)
    expect(done.json<ChangeResult>().partitions.map((p) => p.partitionId)).to.deep.equal(['0'])
    const metadata = (await container.getBlobClient(`${NS}/${HUB}/$default/checkpoint/0`).getProperties()).metadata
    expect(metadata).to.deep.include({sequencenumber: '7', offset: '1448'})
    // Put back for the other tests.
    await putBlob(container, `${NS}/${HUB}/$default/checkpoint/0`, {sequencenumber: '6', offset: '1384'})
    expect(roles.requests.some((r) => r.method === 'PUT' && r.status === 403)).to.be.true
  })

  it('an identity without a data role is refused with 403 AuthorizationPermissionMismatch, exit 4, naming Storage Blob Data Reader', async () => {
    mi.oid = NOBODY_OID
    const r = await runEhcp(['list', ...accountUrl(roles.url)], {cwd, env: withManagedIdentity()})
    expect(r.code, describeRun(r)).to.equal(4)
    expect(r.stderr).to.include('AuthorizationPermissionMismatch').and.include('Storage Blob Data Reader')
    expect(r.stdout).to.equal('')
  })

  it('a token for another resource is refused by storage (exit 4)', async () => {
    mi.audience = 'https://vault.azure.net'
    const r = await runEhcp(['list', ...accountUrl()], {cwd, env: withManagedIdentity()})
    expect(r.code, describeRun(r)).to.equal(4)
    expect(r.stderr).to.match(/Storage refused the request \(40[13]/)
  })

  it('show --lag reads Event Hubs with the managed identity token, whose audience the stand-in checks', async () => {
    const before = hubs.tokensSeen().length
    const r = await runEhcp(['show', ...accountUrl(), '--eventhub', HUB, '--lag', '--json'], {cwd, env: withManagedIdentity()})
    expect(r.code, describeRun(r)).to.equal(0)
    expect(r.json<GroupViewWithLag>().partitions.map((p) => [p.partitionId, p.lag?.events])).to.deep.equal([
      ['0', 3],
      ['1', 0],
    ])
    const tokens = hubs.tokensSeen().slice(before)
    expect(tokens.length).to.be.greaterThan(0)
    for (const token of tokens) {
      expect(token).to.deep.include({type: 'jwt', oid: DEFAULT_OID, status: 202})
      expect(token.audience).to.match(/^https:\/\/eventhubs\.azure\.net\/?$/)
      expect(token.name).to.match(new RegExp(`^sb://${NS.replace(/\./g, '\\.')}/`))
    }
    expect(mi.requests.some((q) => q.resource.startsWith('https://eventhubs.azure.net'))).to.be.true
  })

  it('Event Hubs refuses a token for another audience, and an identity without the role: exit 4, naming Azure Event Hubs Data Receiver', async () => {
    mi.audience = STORAGE_AUDIENCE
    const before = hubs.tokensSeen().length
    const wrongAudience = await runEhcp(['show', ...accountUrl(), '--eventhub', HUB, '--lag'], {cwd, env: withManagedIdentity()})
    expect(wrongAudience.code, describeRun(wrongAudience)).to.equal(4)
    expect(wrongAudience.stderr).to.include('Azure Event Hubs Data Receiver')
    expect(
      hubs
        .tokensSeen()
        .slice(before)
        .map((t) => [t.audience, t.status]),
    ).to.deep.include([STORAGE_AUDIENCE, 401])

    mi.audience = undefined
    const stranger = '5f1c2f7e-0000-4000-8000-0000000000b4'
    dataRoles.set(stranger, 'Storage Blob Data Reader')
    hubs.refuseIdentity(stranger)
    mi.oid = stranger
    const noRole = await runEhcp(['show', ...accountUrl(), '--eventhub', HUB, '--lag'], {cwd, env: withManagedIdentity()})
    expect(noRole.code, describeRun(noRole)).to.equal(4)
    expect(noRole.stderr).to.include('Event Hubs refused the credential').and.include('Azure Event Hubs Data Receiver')
    expect(hubs.tokensSeen().some((t) => t.oid === stranger && t.status === 401)).to.be.true
  })
})
