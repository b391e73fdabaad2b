/**
 * Second attack round (combinations): odd storage answers to writes and listings, signals while stdout is a
 * pipe nobody reads. Each test here failed when it was written; each names the break it pins.
 */
import {spawn} from 'node:child_process'
import https from 'node:https'
import type {AddressInfo} from 'node:net'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import type {ContainerClient} from '@azure/storage-blob'
import {expect} from 'chai'

import type {ChangeResult} from '../../src/change/execute.js'
import {BIN, describeRun, emulatorAt, runEhcp} from '../support/cli.js'
import {freshContainer, putBlob} from '../support/services.js'
import {type CannedAnswer, startStatusProxy, storageError} from '../support/status-proxy.js'

const NS = 'attack2.servicebus.windows.net'

async function metadataOf(client: ContainerClient, name: string): Promise<Record<string, string> | undefined> {
  for await (const b of client.listBlobsFlat({includeMetadata: true, prefix: name})) if (b.name === name) return b.metadata ?? {}
  return undefined
}

describe('attack round 2', function () {
  this.timeout(120_000)

  describe('a write answered by something that is not storage', () => {
    // A captive portal, a misrouted reverse proxy or a load balancer's redirect answers the PUT; nothing is
    // stored. ehcp counted such an answer (any status below 400) as a write: "updated", exit 0, backup outcome
    // "written", while the blob still holds the old position.
    const odd: Array<[string, CannedAnswer]> = [
      ['a 307 redirect', {status: 307, headers: {location: 'http://127.0.0.1:1/elsewhere'}}],
      ['a 200 HTML page', {status: 200, headers: {'content-type': 'text/html'}, body: '<html>signed in</html>'}],
    ]
    for (const [label, answer] of odd) {
      it(`${label} to Set Blob Metadata is not reported as "updated" (exit 7, not 0)`, async () => {
        const c = await freshContainer()
        const name = `${NS}/odd/$default/checkpoint/0`
        await putBlob(c.client, name, {sequencenumber: '10', offset: '100'})
        const stub = await startStatusProxy(c.azurite.host, (request) => (request.method === 'PUT' ? answer : undefined))
        try {
          const r = await runEhcp(
            [
              'set',
              '--emulator',
              '--container',
              c.name,
              '--namespace',
              NS,
              '--eventhub',
              'odd',
              '--partition',
              '0',
              '--sequence-number',
              '5',
              '--offset',
              '50',
              '--yes',
              '--no-backup',
              '--json',
              '--timeout',
              '5',
            ],
            emulatorAt(stub.url),
          )
          // The blob was not changed...
          expect(await metadataOf(c.client, name)).to.deep.equal({sequencenumber: '10', offset: '100'})
          // ...so the run must not say it was.
          expect(r.json<ChangeResult>().partitions[0]!.status, describeRun(r)).to.not.equal('updated')
          expect(r.code, describeRun(r)).to.equal(7)
        } finally {
          await stub.close()
          await c.dispose()
        }
      })
    }

    it('a bare 412 (no x-ms-request-id, no error code) to a write is not storage\'s conflict: exit 7, no "412 unreachable" text', async () => {
      const c = await freshContainer()
      const name = `${NS}/odd/$default/checkpoint/0`
      await putBlob(c.client, name, {sequencenumber: '10', offset: '100'})
      const stub = await startStatusProxy(c.azurite.host, (request) => (request.method === 'PUT' ? {status: 412} : undefined))
      try {
        const r = await runEhcp(
          [
            'set',
            '--emulator',
            '--container',
            c.name,
            '--namespace',
            NS,
            '--eventhub',
            'odd',
            '--partition',
            '0',
            '--sequence-number',
            '5',
            '--offset',
            '50',
            '--yes',
            '--no-backup',
            '--json',
            '--timeout',
            '5',
          ],
          emulatorAt(stub.url),
        )
        const [p] = r.json<ChangeResult>().partitions
        expect(p!.reason ?? '', describeRun(r)).to.not.include('412 unreachable')
        expect(r.code, describeRun(r)).to.equal(7)
      } finally {
        await stub.close()
        await c.dispose()
      }
    })
  })

  describe('429 from storage', () => {
    // 429 (throttling) is storage busy, not a bug in ehcp: it came back as "Unexpected failure ... This is a bug
    // in ehcp", exit 1, for a listing and for a write alike.
    it('429 ServerBusy to a listing: exit 7, never 1', async () => {
      const stub = await startStatusProxy(undefined, () => storageError(429, 'ServerBusy'))
      try {
        const r = await runEhcp(['list', '--emulator', '--container', 'abc', '--timeout', '5'], emulatorAt(stub.url))
        expect(r.code, describeRun(r)).to.equal(7)
        expect(r.stderr).to.not.include('bug in ehcp')
      } finally {
        await stub.close()
      }
    })

    it('429 ServerBusy to a write: the partition failed, exit 7, never 1', async () => {
      const c = await freshContainer()
      const name = `${NS}/busy/$default/checkpoint/0`
      await putBlob(c.client, name, {sequencenumber: '10', offset: '100'})
      const stub = await startStatusProxy(c.azurite.host, (request) =>
        request.method === 'PUT' ? storageError(429, 'ServerBusy') : undefined,
      )
      try {
        const r = await runEhcp(
          [
            'set',
            '--emulator',
            '--container',
            c.name,
            '--namespace',
            NS,
            '--eventhub',
            'busy',
            '--partition',
            '0',
            '--sequence-number',
            '5',
            '--offset',
            '50',
            '--yes',
            '--no-backup',
            '--json',
            '--timeout',
            '5',
          ],
          emulatorAt(stub.url),
        )
        expect(r.code, describeRun(r)).to.equal(7)
        expect(r.json<ChangeResult>().partitions[0]!.reason ?? '').to.not.include('Unexpected failure')
      } finally {
        await stub.close()
        await c.dispose()
      }
    })
  })

  describe('a listing answered by something that is not storage says so', () => {
    // A 200 web page (a captive portal, a login page) or a redirect to a listing came back as "A List Blobs
    // response from storage ended early (truncated)", after 3 tries: it blames the network for what is the
    // wrong endpoint. The error answers (4xx/5xx) already say "does not look like Azure Blob Storage".
    const odd: Array<[string, CannedAnswer]> = [
      ['a 200 HTML page', {status: 200, headers: {'content-type': 'text/html'}, body: '<html><body>Sign in</body></html>'}],
      ['a 301 redirect', {status: 301, headers: {location: 'https://login.example.com/'}}],
      ['a 307 redirect', {status: 307, headers: {location: 'http://127.0.0.1:1/elsewhere'}}],
    ]
    for (const [label, answer] of odd) {
      it(`${label}: exit 7, "does not look like Azure Blob Storage", not "truncated"`, async () => {
        const stub = await startStatusProxy(undefined, () => answer)
        try {
          const r = await runEhcp(['list', '--emulator', '--container', 'abc', '--timeout', '5'], emulatorAt(stub.url))
          expect(r.code, describeRun(r)).to.equal(7)
          expect(r.stderr).to.include('does not look like Azure Blob Storage')
          expect(r.stderr).to.not.include('truncated')
        } finally {
          await stub.close()
        }
      })
    }
  })

  describe('usage mistakes oclif resolves before ehcp sees them', () => {
    // A stray word right after the command (`ehcp list extra`) is looked up as the command "list:extra";
    // an unknown command likewise: both exit 1, the code that means "a bug in ehcp". The same word after a
    // flag (`ehcp list --emulator extra`) is "Unexpected argument", exit 2.
    for (const args of [['list', 'extra'], ['reset', 'typo', '--yes'], ['lst'], ['--bogus']]) {
      it(`ehcp ${args.join(' ')}: exit 2 (usage), not 1`, async () => {
        const r = await runEhcp(args)
        expect(r.code, describeRun(r)).to.equal(2)
      })
    }
  })

  describe('an Event Hubs connection string limited to the hub under another spelling', () => {
    // Event hub names are case-insensitive and the JS, .NET, Python and Go stores lower-case the blob path, so
    // the portal's connection string for hub "Orders" (EntityPath=Orders) is the one for blobs under "orders".
    // ehcp's own check agrees (it compares case-insensitively), but then hands the blobs' spelling to the
    // client, which compares case-sensitively and throws: "The Event Hubs connection string is not valid:
    // The entity path "Orders" ... doesn't match with eventHubName: "orders"", exit 2.
    it('EntityPath=Orders for blobs under "orders" gets as far as dialling (exit 7 here: .invalid never resolves), not exit 2', async () => {
      const c = await freshContainer()
      try {
        await putBlob(c.client, 'attack2.invalid/orders/$default/checkpoint/0', {sequencenumber: '3', offset: '30'})
        const r = await runEhcp(
          [
            'show',
            '--namespace',
            'attack2.invalid',
            '--eventhub',
            'orders',
            '--consumer-group',
            '$default',
            '--lag',
            '--timeout',
            '3',
            ...c.args,
          ],
          {
            env: {
              EVENTHUBS_CONNECTION_STRING:
                'Endpoint=sb://attack2.invalid/;SharedAccessKeyName=pol;SharedAccessKey=c2VjcmV0a2V5c2VjcmV0a2V5=;EntityPath=Orders',
            },
          },
        )
        expect(r.stderr, describeRun(r)).to.not.include('not valid')
        expect(r.code, describeRun(r)).to.equal(7)
      } finally {
        await c.dispose()
      }
    })
  })

  describe('a listing that never ends', () => {
    // A listing page whose NextMarker is the marker it was asked for (a broken proxy or emulator; a marker
    // cycle) was followed forever: tens of thousands of requests a minute, no output, no end.
    it('the same NextMarker again: exit 7 within the timeout, a bounded number of requests', async () => {
      const page = `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="http://x/" ContainerName="abc"><MaxResults>5000</MaxResults><Blobs><Blob><Name>${NS}/loop/$default/checkpoint/0</Name><Properties><Last-Modified>Tue, 01 Dec 2026 04:00:00 GMT</Last-Modified><Etag>0x1</Etag><Content-Length>0</Content-Length><BlobType>BlockBlob</BlobType></Properties><Metadata><sequencenumber>1</sequencenumber><offset>1</offset></Metadata></Blob></Blobs><NextMarker>m1</NextMarker></EnumerationResults>`
      const stub = await startStatusProxy(undefined, () => ({
        status: 200,
        headers: {'content-type': 'application/xml', 'x-ms-request-id': '00000000-0000-0000-0000-000000000000'},
        body: page,
      }))
      try {
        const r = await runEhcp(['list', '--emulator', '--container', 'abc', '--timeout', '5'], {
          ...emulatorAt(stub.url),
          timeoutMs: 20_000,
        })
        expect(r.code, `${describeRun(r)}\nrequests: ${stub.requests.length}`).to.equal(7)
        expect(stub.requests.length).to.be.below(100)
      } finally {
        await stub.close()
      }
    })
  })

  describe('TLS trouble is not a bug in ehcp', () => {
    // A self-signed test certificate (a TLS-intercepting corporate proxy presents one the machine does not trust).
    const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgtjYf4ewsVUSdU8oE
rzfETecHQtXaiZwzFywG1s1ELs2hRANCAAQOxfzfm8wmA0HYT+vwSdb6t0yr/0+k
OxVf363ViHuSjPhnVliCBjEugkVxPAc5jqAmtyWPMMbNS1+oj/9haQNr
-----END PRIVATE KEY-----`
    const CERT = `-----BEGIN CERTIFICATE-----
MIIBfjCCASWgAwIBAgIUGd4cQftMh5y0dwNh+zn/B2pI/2AwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMTA0MjQxNVoYDzIxMjYxMTA3
MDQyNDE1WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQOxfzfm8wmA0HYT+vwSdb6t0yr/0+kOxVf363ViHuSjPhnVliCBjEu
gkVxPAc5jqAmtyWPMMbNS1+oj/9haQNro1MwUTAdBgNVHQ4EFgQU/jF9EeYEkufc
rPQ/23cPsXg65tYwHwYDVR0jBBgwFoAU/jF9EeYEkufcrPQ/23cPsXg65tYwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiAfbMqlsBh7TabICs8UAqnm
zRjfO2IFytTmQktH7nO2lwIgZ2BaABgQ2yyBMwbj+QO1/W7PXTUyY6C5/a3MyXL4
LDc=
-----END CERTIFICATE-----`

    it('a certificate the machine does not trust (self-signed): exit 7 with one clear line, never 1', async () => {
      const server = https.createServer({key: KEY, cert: CERT}, (_q, r) => r.end(''))
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const {port} = server.address() as AddressInfo
      try {
        const r = await runEhcp(['list', '--container-url', `https://127.0.0.1:${port}/devstoreaccount1/abc`, '--timeout', '5'])
        expect(r.code, describeRun(r)).to.equal(7)
        expect(r.stderr).to.not.include('bug in ehcp')
      } finally {
        server.closeAllConnections()
        server.close()
      }
    })

    it('an https:// URL to a plain-HTTP port (EPROTO, "wrong version number"): exit 7, never 1', async () => {
      const stub = await startStatusProxy(undefined, () => ({status: 200}))
      try {
        const r = await runEhcp([
          'list',
          '--container-url',
          `${stub.url.replace('http:', 'https:')}/devstoreaccount1/abc`,
          '--timeout',
          '5',
        ])
        expect(r.code, describeRun(r)).to.equal(7)
        expect(r.stderr).to.not.include('bug in ehcp')
        expect(r.stderr).to.not.include('ssl3_record.c')
      } finally {
        await stub.close()
      }
    })
  })

  describe('signals while stdout is a pipe nobody reads', () => {
    /** Spawns ehcp with a stdout pipe that is never read; sends `signals` at the given ms; resolves with the exit. */
    function runUnread(
      args: string[],
      env: Record<string, string>,
      signals: Array<[NodeJS.Signals, number]>,
      cwd: string,
    ): Promise<{code: number | null; signal: string | null; stderr: string; killed: boolean}> {
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [BIN, ...args], {
          cwd,
          env: {...process.env, NO_COLOR: '1', ...env},
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        child.stdout.pause()
        let stderr = ''
        let killed = false
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
        const timers = signals.map(([s, ms]) => setTimeout(() => child.kill(s), ms))
        const last = Math.max(...signals.map(([, ms]) => ms))
        const guard = setTimeout(() => {
          killed = true
          child.kill('SIGKILL')
        }, last + 8000)
        child.on('close', (code, signal) => {
          for (const t of [...timers, guard]) clearTimeout(t)
          resolve({code, signal, stderr, killed})
        })
      })
    }

    async function bigGroup(partitions: number) {
      const c = await freshContainer()
      const jobs: Array<() => Promise<void>> = []
      for (let p = 0; p < partitions; p++) {
        jobs.push(() =>
          putBlob(c.client, `${NS}/big/$default/checkpoint/${p}`, {sequencenumber: String(100 + p), offset: String(1000 + p)}),
        )
        jobs.push(() => putBlob(c.client, `${NS}/big/src/checkpoint/${p}`, {sequencenumber: String(5000 + p), offset: String(50_000 + p)}))
      }
      let i = 0
      await Promise.all(
        Array.from({length: 16}, async () => {
          while (i < jobs.length) await jobs[i++]!()
        }),
      )
      return c
    }

    it('one SIGTERM ends a read-only command whose output is stuck in a full pipe: exit 143, not a hang', async () => {
      const c = await bigGroup(600)
      try {
        // show --json of 600 partitions is ~280 KB: far more than a pipe and the reader's buffer hold.
        const r = await runUnread(
          ['show', '--namespace', NS, '--eventhub', 'big', '--consumer-group', '$default', '--json', ...c.args],
          {},
          [['SIGTERM', 6000]],
          tmpdir(),
        )
        expect(r.killed, `still running 8 s after SIGTERM; stderr: ${r.stderr}`).to.equal(false)
        expect(r.code).to.equal(143)
      } finally {
        await c.dispose()
      }
    })

    it('after a change has written everything, SIGTERMs end it when its report cannot be delivered: exit 143, not unkillable', async () => {
      const c = await bigGroup(600)
      const cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-attack2-'))
      try {
        const r = await runUnread(
          [
            'reset',
            '--namespace',
            NS,
            '--eventhub',
            'big',
            '--consumer-group',
            '$default',
            '--from-consumer-group',
            'src',
            '--yes',
            '--json',
            '--backup-file',
            'b.json',
            ...c.args,
          ],
          {},
          [
            ['SIGTERM', 15_000],
            ['SIGTERM', 16_000],
          ],
          cwd,
        )
        expect(r.killed, `still running 8 s after two SIGTERMs; stderr: ${r.stderr}`).to.equal(false)
        expect(r.code).to.equal(143)
      } finally {
        await c.dispose()
      }
    })
  })
})
