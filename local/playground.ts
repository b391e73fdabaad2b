/**
 * `npm run playground` (or `npm run demo -- --keep`): the scene of local/scene.ts left running with live traffic,
 * to try every ehcp command by hand. It prints the environment to export, writes it to a file to `source`, and
 * runs until Ctrl-C (SIGINT) or SIGTERM, when it stops the services, removes the file and exits 0.
 *
 *   node dist/local/playground.js [--save-env PATH]    (default PATH: ehcp-playground.env in the temporary directory)
 */
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {CONTAINER, DEAD_WORKER, NAMESPACE, type Scene, startScene} from './scene.js'

const TICK_MS = 1000
const HEARTBEAT_MS = 10_000

/** A value as a POSIX shell reads it back unchanged. */
const shellQuote = (value: string) => (/^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`)

const readText = (file: string) => {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

export const defaultEnvFile = () => path.join(tmpdir(), 'ehcp-playground.env')

/** Runs the scene's traffic until SIGINT or SIGTERM, then stops the scene. */
export async function servePlayground(scene: Scene, envFile = defaultEnvFile()): Promise<void> {
  const exports = Object.entries(scene.env).map(([name, value]) => `export ${name}=${shellQuote(value)}`)
  const envText = `# ehcp playground (${new Date().toISOString()}, pid ${process.pid}): source this file, then run ehcp.\n${exports.join('\n')}\n`
  writeFileSync(envFile, envText, {mode: 0o600})
  const bin = fileURLToPath(new URL('../../bin/run.js', import.meta.url))
  process.stdout.write(
    [
      `The playground is running: Azurite at ${scene.azurite.host}, the Event Hubs stand-in at ${scene.env.EHCP_EVENTHUBS_ENDPOINT},`,
      `holding the checkpoints of ${NAMESPACE} (container "${CONTAINER}": event hubs orders and telemetry).`,
      `Events arrive every second; the processors of orders/$Default, orders/fulfillment (slow) and telemetry/$Default`,
      `checkpoint as they go. orders/billing stalled ten minutes ago: its owner ${DEAD_WORKER} expires two minutes after start.`,
      '',
      `Paste into another shell (or: source ${envFile}):`,
      '',
      ...exports,
      '',
      `Without ehcp installed: alias ehcp=${shellQuote(`node ${bin}`)}`,
      'Then try: ehcp list --lag   (every command: README.md, "Try it locally"). Ctrl-C stops the playground.',
      '',
    ].join('\n'),
  )

  const stopping = new AbortController()
  const stopOn = () => stopping.abort()
  process.once('SIGINT', stopOn)
  process.once('SIGTERM', stopOn)
  let failures = 0
  try {
    for (let n = 1; !stopping.signal.aborted; n++) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          stopping.signal.removeEventListener('abort', done)
          resolve()
        }
        const timer = setTimeout(done, TICK_MS)
        stopping.signal.addEventListener('abort', done)
      })
      if (stopping.signal.aborted) break
      try {
        await scene.tick()
        if (n % (HEARTBEAT_MS / TICK_MS) === 0) await scene.heartbeat()
      } catch (error) {
        // Logged once; the traffic carries on (a user's own change may have raced a processor's write).
        if (failures++ === 0) process.stderr.write(`playground: a processor's write failed: ${(error as Error).message}\n`)
      }
    }
  } finally {
    process.off('SIGINT', stopOn)
    process.off('SIGTERM', stopOn)
    process.stdout.write('\nStopping the playground...\n')
    await scene.stop()
    // Another playground started since may have written the file: it is its file now, left in place.
    if (readText(envFile) === envText) {
      rmSync(envFile, {force: true})
      process.stdout.write(`Stopped (removed ${envFile}).\n`)
    } else {
      process.stdout.write(`Stopped (${envFile} is another playground's now; left in place).\n`)
    }
  }
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--save-env')
  const envFile = at >= 0 ? process.argv[at + 1] : undefined
  if (at >= 0 && !envFile) throw new Error('--save-env needs a path')
  const scene = await startScene()
  await servePlayground(scene, envFile ? path.resolve(envFile) : undefined)
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main()
