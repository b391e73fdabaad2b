/**
 * `npm run demo`: builds the scene (local/scene.ts: Azurite and the Event Hubs stand-in in this process, seeded as
 * `contoso-orders.servicebus.windows.net` looks after three hours of traffic), runs the built `ehcp` against it
 * through the environment alone, prints its real output, and shuts everything down.
 * `npm run demo -- --keep` then leaves the scene running as the playground (local/playground.ts).
 */
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import {servePlayground} from './playground.js'
import {DEAD_WORKER, EPH_CONTAINER, FUNCTIONS_CONTAINER, NAMESPACE, type Scene, startScene} from './scene.js'

const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

function runEhcp(args: string[], env: Record<string, string>): Promise<{code: number | null; output: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, output}))
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function story(scene: Scene): Promise<void> {
  // The billing worker stopped heartbeating when the scene was built; a short --ownership-expiry shows it as the
  // expired owner it would be two minutes later (the default expiry), without waiting for it.
  await sleep(6000)
  const expiry = ['--ownership-expiry', '5s']
  const billing = ['--eventhub', 'orders', '--consumer-group', 'billing', ...expiry]
  const ordersIn = (group: string) => ['--namespace', NAMESPACE, '--eventhub', 'orders', '--consumer-group', group]
  const eph = ['--container', EPH_CONTAINER, '--layout', 'eph', ...ordersIn('reporting')]
  const steps: Array<[string, string[]]> = [
    ['Every consumer group in the container, with lag', ['list', '--lag', ...expiry]],
    [
      'A slow consumer: fulfillment is two hours behind, its processor still running',
      ['show', '--eventhub', 'orders', '--consumer-group', 'fulfillment', '--lag'],
    ],
    ['A stalled group: the billing worker died ten minutes ago, its ownership expired', ['show', ...billing, '--lag']],
    ['32 partitions: one behind retention, one never checkpointed', ['show', '--eventhub', 'telemetry', '--lag']],
    ['One partition in full', ['show', '--eventhub', 'telemetry', '--partition', '7', '--lag']],
    ['Replay the last 30 minutes of billing (dry run: nothing is written)', ['reset', ...billing, '--by-duration', '30m', '--dry-run']],
    ["Release the dead worker's partitions (dry run)", ['release-ownership', ...billing, '--owner', DEAD_WORKER, '--dry-run']],
    ['Lease blobs an EventProcessorHost app left in its own container', ['list', '--container', EPH_CONTAINER]],
    ['Its positions and lag (the layout records no namespace or hub: name them)', ['show', ...eph, '--lag']],
    [
      'Migrate it to the modern layout, into the checkpoints container (dry run)',
      ['migrate', ...eph, '--to-container', 'checkpoints', '--dry-run'],
    ],
    [
      'A Functions app on the 4.x extension: migrate it too (dry run)',
      [
        'migrate',
        '--container',
        FUNCTIONS_CONTAINER,
        '--layout',
        'functions-v4',
        ...ordersIn('alerts'),
        '--to-container',
        'checkpoints',
        '--dry-run',
      ],
    ],
  ]
  process.stdout.write(
    [
      'ehcp against a local scene: Azurite and an Event Hubs stand-in on loopback, holding the checkpoints of',
      'contoso-orders.servicebus.windows.net. ehcp finds them through the environment alone:',
      ...Object.keys(scene.env).map((name) => `  ${name}`),
      '',
    ].join('\n'),
  )
  for (const [title, args] of steps) {
    await scene.heartbeat()
    const shown = args.map((a) => (/\s|\$/.test(a) ? `'${a}'` : a)).join(' ')
    process.stdout.write(`\n=== ${title}\n$ ehcp ${shown}\n`)
    const r = await runEhcp(args, scene.env)
    process.stdout.write(r.output)
    if (r.code !== 0) throw new Error(`ehcp ${args[0]} exited ${r.code}`)
  }
}

async function main(): Promise<void> {
  const keep = process.argv.includes('--keep')
  const scene = await startScene()
  try {
    await story(scene)
  } catch (error) {
    await scene.stop()
    throw error
  }
  if (keep) {
    process.stdout.write('\n')
    await servePlayground(scene)
  } else {
    await scene.stop()
  }
}

await main()
