/**
 * A processor of the Python SDK for the `--live` tests: azure-eventhub's EventHubConsumerClient with its
 * BlobCheckpointStore (Debian's python3-azure on Debian's /usr/bin/python3; .ci/run installs it), run by
 * test/support/python-processor.py in a child process, recording what it claimed, processed (sequence numbers per
 * partition), closed and why, and every error it reported.
 *
 * What the Python SDK (azure-eventhub 5.11, pyamqp) needs of the services, and how the tests give it:
 * - TLS, always (it ignores UseDevelopmentEmulator=true), and always port 5671: with a custom endpoint it switches to
 *   websockets, and otherwise the endpoint's port is dropped. So its stand-in listens with TLS on 127.X.Y.Z:5671, an
 *   address of its own (the whole of 127.0.0.0/8 is loopback on Linux), with a throwaway certificate for that
 *   address that both the Python client (connection_verify) and ehcp (NODE_EXTRA_CA_CERTS) trust.
 * - Azurite in loose mode (see local/azurite.ts): its blob store sends a header strict Azurite refuses.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {randomInt} from 'node:crypto'
import {fileURLToPath} from 'node:url'

import {type Azurite, startAzurite} from '../../local/azurite.js'
import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import {type LoopbackCertificate, makeLoopbackCertificate} from '../../local/tls.js'

/** Debian's python3, the one python3-azure installs for (a `python3` on PATH may be another). */
export const SYSTEM_PYTHON = '/usr/bin/python3'

const SCRIPT = fileURLToPath(new URL('../../../test/support/python-processor.py', import.meta.url))

/** The port the Python SDK always connects to. */
const AMQPS_PORT = 5671

export interface PythonServices {
  hubs: EventHubsStandin
  /** Trusted by the Python client (connection_verify) and by ehcp (NODE_EXTRA_CA_CERTS). */
  cert: LoopbackCertificate
  /** An Azurite of its own, in loose mode. */
  azurite: Azurite
  /** The namespace's connection string (no EntityPath), for the Python client and ehcp alike: amqps on port 5671. */
  eventHubsConnectionString: string
  /** The environment ehcp needs to reach the stand-in: the connection string and the certificate to trust. */
  ehcpEnv: Record<string, string>
  stop(): Promise<void>
}

/** Starts the stand-in with TLS on a loopback address of its own, port 5671 (trying a few addresses), and a loose Azurite. */
export async function startPythonServices(): Promise<PythonServices> {
  let lastError: unknown
  for (let attempt = 0; attempt < 10; attempt++) {
    const host = `127.${randomInt(1, 255)}.${randomInt(1, 255)}.${randomInt(2, 255)}`
    const cert = makeLoopbackCertificate([host])
    let hubs: EventHubsStandin
    try {
      hubs = await EventHubsStandin.start({tls: {cert: cert.cert, key: cert.key}, host, port: AMQPS_PORT})
    } catch (error) {
      cert.dispose()
      lastError = error
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') continue
      throw error
    }
    const azurite = await startAzurite({loose: true})
    const eventHubsConnectionString = `Endpoint=sb://${host}/;SharedAccessKeyName=k;SharedAccessKey=v`
    return {
      hubs,
      cert,
      azurite,
      eventHubsConnectionString,
      ehcpEnv: {EVENTHUBS_CONNECTION_STRING: eventHubsConnectionString, NODE_EXTRA_CA_CERTS: cert.certPath},
      stop: async () => {
        await hubs.stop()
        await azurite.stop()
        cert.dispose()
      },
    }
  }
  throw new Error(`no free loopback address for the stand-in on port ${AMQPS_PORT}: ${String(lastError)}`)
}

export interface PythonProcessorOptions {
  services: PythonServices
  hub: string
  consumerGroup: string
  /** The blob container (in services.azurite) of the checkpoints and claims. */
  container: string
  /** The load-balancing interval in seconds (default 1). */
  intervalS?: number
  /** How long a claim lasts without renewal, in seconds (default 10). */
  expiryS?: number
}

export interface PythonProcessor {
  /** The id the processor claims partitions as (known once it has claimed one). */
  ownerId: string | undefined
  /** Sequence numbers processed per partition, in order. */
  processed: Map<string, number[]>
  claims: string[]
  closes: Array<{partitionId: string; reason: string}>
  errors: string[]
  /** Everything the Python process wrote to stderr. */
  stderr(): string
  /** Closes the client (it abandons its claims) and waits for the process to end. */
  stop(): Promise<void>
}

interface Line {
  kind: 'ready' | 'claim' | 'batch' | 'close' | 'error' | 'stopped'
  partitionId?: string
  ownerId?: string | null
  sequenceNumbers?: number[]
  reason?: string
  message?: string
}

/**
 * Starts the Python processor and waits until its client is receiving. Fails, saying what to install, when the
 * Python SDK is missing.
 */
export async function startPythonProcessor(options: PythonProcessorOptions): Promise<PythonProcessor> {
  const {services} = options
  const child: ChildProcess = spawn(
    SYSTEM_PYTHON,
    [
      SCRIPT,
      services.eventHubsConnectionString,
      services.cert.certPath,
      options.hub,
      options.consumerGroup,
      services.azurite.connectionString(),
      options.container,
      String(options.intervalS ?? 1),
      String(options.expiryS ?? 10),
    ],
    {stdio: ['pipe', 'pipe', 'pipe']},
  )
  let stderr = ''
  let pending = ''
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code))
    child.once('error', () => resolve(null))
  })
  let spawnError: Error | undefined
  child.once('error', (error) => {
    spawnError = error
  })
  let ready: () => void = () => undefined
  const readyLine = new Promise<void>((resolve) => {
    ready = resolve
  })
  const processor: PythonProcessor = {
    ownerId: undefined,
    processed: new Map(),
    claims: [],
    closes: [],
    errors: [],
    stderr: () => stderr,
    stop: async () => {
      child.stdin?.end()
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
      await exited
      clearTimeout(timer)
    },
  }
  const take = (line: Line) => {
    if (line.kind === 'ready') ready()
    else if (line.kind === 'claim' && line.partitionId !== undefined) {
      processor.claims.push(line.partitionId)
      if (line.ownerId) processor.ownerId = line.ownerId
    } else if (line.kind === 'batch' && line.partitionId !== undefined) {
      const list = processor.processed.get(line.partitionId) ?? []
      list.push(...(line.sequenceNumbers ?? []))
      processor.processed.set(line.partitionId, list)
    } else if (line.kind === 'close' && line.partitionId !== undefined) {
      processor.closes.push({partitionId: line.partitionId, reason: line.reason ?? ''})
    } else if (line.kind === 'error') {
      processor.errors.push(`${line.partitionId ?? '-'}: ${line.message ?? ''}`)
    }
  }
  child.stdout?.setEncoding('utf8')
  child.stdout?.on('data', (chunk: string) => {
    pending += chunk
    let newline: number
    while ((newline = pending.indexOf('\n')) >= 0) {
      const text = pending.slice(0, newline).trim()
      pending = pending.slice(newline + 1)
      if (text) take(JSON.parse(text) as Line)
    }
  })
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk
  })
  const code = await Promise.race([readyLine.then(() => 'ready' as const), exited])
  if (code !== 'ready') {
    const missing =
      /ModuleNotFoundError|No module named/.test(stderr) || (spawnError as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
    throw new Error(
      `the Python processor did not start (exit ${String(code)})` +
        (missing
          ? `: the Python SDK is missing; install Debian's python3-azure for ${SYSTEM_PYTHON} (apt-get install python3-azure)`
          : '') +
        `\n${spawnError ? String(spawnError) : stderr}`,
    )
  }
  return processor
}
