/**
 * The services the integration tests share: one in-process Azurite for the whole run (started on first
 * use, stopped by the root hook), and a fresh, uniquely named container per test.
 */
import {randomBytes} from 'node:crypto'
import {readdirSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {BlobServiceClient, type ContainerClient} from '@azure/storage-blob'

import {type Azurite, EMULATOR_ACCOUNT, startAzurite} from '../../local/azurite.js'
import {NO_CONFIG_DIR} from './cli.js'

// Every ehcp this test process starts, however it starts it, is blind to the profiles of the machine it runs on.
process.env.EHCP_CONFIG_DIR = NO_CONFIG_DIR
delete process.env.EHCP_PROFILE

let azurite: Promise<Azurite> | undefined

export function sharedAzurite(): Promise<Azurite> {
  azurite ??= startAzurite()
  return azurite
}

export async function stopSharedAzurite(): Promise<void> {
  if (azurite) await (await azurite).stop()
  azurite = undefined
}

export interface TestContainer {
  client: ContainerClient
  name: string
  azurite: Azurite
  /** The ehcp flags that reach this container. */
  args: string[]
  dispose(): Promise<void>
}

export async function freshContainer(account = EMULATOR_ACCOUNT): Promise<TestContainer> {
  const az = await sharedAzurite()
  const name = `t-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
  const service = BlobServiceClient.fromConnectionString(az.connectionString(account))
  const client = service.getContainerClient(name)
  await client.create()
  return {
    client,
    name,
    azurite: az,
    args: ['--connection-string', az.connectionString(account), '--container', name],
    dispose: async () => {
      await client.deleteIfExists()
    },
  }
}

/** Creates a zero-length block blob with exactly this metadata (as any SDK would write it). */
export async function putBlob(container: ContainerClient, name: string, metadata: Record<string, string>): Promise<void> {
  await container.getBlockBlobClient(name).upload('', 0, {metadata})
}

/** The repository (dist/test/support/ is three floors down). */
const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url))

/** Backups in the repository root: a change run with the repository as its working directory left them there. */
export const backupsInRepository = (): string[] => readdirSync(REPOSITORY).filter((name) => name.startsWith('ehcp-backup-'))

/** Those already there when the run began (a user's own, from ehcp run by hand) are not the tests' doing. */
let backupsBefore = new Set<string>()

export const mochaHooks = {
  beforeAll(this: unknown) {
    backupsBefore = new Set(backupsInRepository())
  },
  async afterAll(this: unknown) {
    await stopSharedAzurite()
    const left = backupsInRepository().filter((name) => !backupsBefore.has(name))
    if (left.length > 0) {
      throw new Error(
        `The tests left ${left.length} backup file(s) in the repository root (${left.slice(0, 5).join(', ')}${left.length > 5 ? ', ...' : ''}): ` +
          'run ehcp in a temporary directory (runEhcp does unless given a cwd).',
      )
    }
  },
}
