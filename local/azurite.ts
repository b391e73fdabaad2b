/**
 * Azurite's blob service in this process, on 127.0.0.1 and a free port, with in-memory persistence and
 * a chunk store of its own. Azurite ships no typings and its package main is a VS Code extension, so the
 * classes are loaded from their files and the 19-argument configuration is wrapped once, here.
 */
import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)

interface BlobServerLike {
  start(): Promise<void>
  close(): Promise<void>
  clean(): Promise<void>
  getHttpServerAddress(): string
  /** Azurite's garbage collector of unreferenced extents (see below). */
  gcManager?: unknown
}

/** Recognisable key material for secret-leak tests (Azurite accepts any base64 key set in AZURITE_ACCOUNTS). */
export const SECRET_ACCOUNT = 'ehcpsecretacct'
export const SECRET_ACCOUNT_KEY = Buffer.from('EHCP-SECRET-KEY-MATERIAL-never-print-me-0123456789').toString('base64')
export const EMULATOR_ACCOUNT = 'devstoreaccount1'
export const EMULATOR_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

export interface Azurite {
  /** e.g. http://127.0.0.1:41234 */
  host: string
  blobEndpoint(account?: string): string
  connectionString(account?: string, key?: string): string
  stop(): Promise<void>
}

export interface AzuriteOptions {
  /**
   * Serve https with this certificate (PEM files, e.g. from local/tls.ts) and accept Entra ID bearer tokens
   * as Azurite's `--oauth basic` does: it checks a token's audience (https://storage.azure.com), issuer
   * (https://sts.windows.net/...) and lifetime, not its signature. Shared key and SAS still work.
   */
  oauth?: {certPath: string; keyPath: string}
  /**
   * Azurite's loose mode (`--loose`): headers it does not support are ignored, not refused. The Python SDK's
   * checkpoint store (azure-eventhub's vendored azure-storage-blob 12.7) sends `x-ms-encryption-algorithm: AES256`
   * on every metadata write, which strict Azurite refuses with 500 FeatureNotSupported (the service ignores it).
   */
  loose?: boolean
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  process.env.AZURITE_ACCOUNTS = `${EMULATOR_ACCOUNT}:${EMULATOR_KEY};${SECRET_ACCOUNT}:${SECRET_ACCOUNT_KEY}`
  const BlobServer = require('azurite/dist/src/blob/BlobServer').default
  const BlobConfiguration = require('azurite/dist/src/blob/BlobConfiguration').default
  const {MemoryExtentChunkStore} = require('azurite/dist/src/common/persistence/MemoryExtentStore')
  const configuration = new BlobConfiguration(
    '127.0.0.1', // host
    0, // port: any free one
    undefined, // keepAliveTimeout
    undefined, // metadataDBPath
    undefined, // extentDBPath
    undefined, // persistencePathArray
    false, // enableAccessLog
    undefined, // accessLogWriteStream
    false, // enableDebugLog
    undefined, // debugLogFilePath
    options.loose ?? false, // loose
    true, // skipApiVersionCheck: every storage-blob release sends a newer x-ms-version than Azurite accepts
    options.oauth?.certPath ?? '', // cert
    options.oauth?.keyPath ?? '', // key
    '', // pwd
    options.oauth ? 'basic' : undefined, // oauth
    false, // disableProductStyleUrl
    true, // isMemoryPersistence
    new MemoryExtentChunkStore(512 * 1024 * 1024), // a chunk store of this instance's own
  )
  const server: BlobServerLike = new BlobServer(configuration)
  // No garbage collection: every 10 minutes Azurite's collector removes the extents of deleted blobs one at a time,
  // re-sorting every index of its in-memory database for each, which blocked this process's event loop (the tests'
  // and Azurite's alike) for many minutes once a test run had deleted a few hundred containers. What it would free
  // here is a few bytes per blob, for a process that ends with its run.
  server.gcManager = undefined
  await server.start()
  const host = server.getHttpServerAddress()
  const blobEndpoint = (account = EMULATOR_ACCOUNT) => `${host}/${account}`
  return {
    host,
    blobEndpoint,
    connectionString: (account = EMULATOR_ACCOUNT, key = account === SECRET_ACCOUNT ? SECRET_ACCOUNT_KEY : EMULATOR_KEY) =>
      `DefaultEndpointsProtocol=${options.oauth ? 'https' : 'http'};AccountName=${account};AccountKey=${key};BlobEndpoint=${blobEndpoint(account)};`,
    stop: async () => {
      await server.close()
      await server.clean()
    },
  }
}
