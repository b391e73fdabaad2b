/**
 * `watch` on a real pseudo-terminal (util-linux `script`): frames redrawn in place on the alternate screen
 * (each from the top-left, every line within the terminal's width, the frame within its height, so nothing
 * scrolls), a resize redraws at the new width, and Ctrl-C ends it with exit 0 and the terminal restored.
 */
import {spawn} from 'node:child_process'

import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'

import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import {BIN} from '../support/cli.js'
import {processorOf} from '../support/processor.js'
import {freshContainer, type TestContainer} from '../support/services.js'
import {waitFor} from '../support/wait.js'

const NS = '127.0.0.1'
const HUB = 'orders'
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g

describe('watch on a terminal', function () {
  this.timeout(60_000)
  let hubs: EventHubsStandin
  let c: TestContainer

  before(async () => {
    hubs = await EventHubsStandin.start()
    hubs.createHubWithEvents(HUB, 4, 50, (_, i) => ({body: {i}}))
    c = await freshContainer()
    await processorOf(new BlobCheckpointStore(c.client), NS, HUB).seed('$Default', 4, 10)
  })
  after(async () => {
    await c.dispose()
    await hubs.stop()
  })

  it('redraws in place, survives a resize, and restores the terminal on Ctrl-C (exit 0)', async () => {
    const words = [process.execPath, BIN, 'watch', '--eventhub', HUB, '--interval', '200ms', ...c.args].map((w) => `'${w}'`).join(' ')
    // 70x20 at first; after 2.5 s the window narrows to 50 columns (the pty's SIGWINCH reaches watch).
    const command = `stty cols 70 rows 20; (sleep 2.5; stty cols 50 rows 20 < /dev/tty) & exec ${words}`
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: {...process.env, NO_COLOR: '1', EVENTHUBS_CONNECTION_STRING: hubs.connectionString()},
    })
    let screen = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d))
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve))
    const frames = () => screen.split('\x1b[H').slice(1)
    const narrowFrames = () =>
      frames().filter((f) => f.split(/\r*\n/).every((l) => l.replace(ANSI, '').length <= 50) && f.includes('round'))
    await waitFor('three frames', () => frames().length >= 3, 20_000, 50)
    await waitFor('frames after the resize', () => frames().length >= 16, 20_000, 50)
    child.stdin.write('\x03')
    const code = await closed
    expect(code, screen.slice(-2000)).to.equal(0)

    // The alternate screen, cursor hidden, entered once; left once at the end with the cursor shown.
    expect(screen.split('\x1b[?1049h')).to.have.length(2)
    expect(screen.split('\x1b[?1049l')).to.have.length(2)
    expect(screen.indexOf('\x1b[?25l')).to.be.lessThan(screen.indexOf('\x1b[H'))
    const restored = screen.lastIndexOf('\x1b[?25h\x1b[?1049l')
    expect(restored).to.be.greaterThan(screen.lastIndexOf('\x1b[H'))

    // Every frame starts top-left, fits 20 rows (so nothing scrolls) and its lines fit the width at the time.
    const drawn = frames().map((f) => f.slice(0, f.includes('\x1b[?25h') ? f.indexOf('\x1b[?25h') : undefined))
    expect(drawn.length).to.be.greaterThan(15)
    for (const f of drawn) {
      const lines = f.split(/\r*\n/)
      expect(lines.length).to.be.at.most(20)
      expect(f).to.not.include('\n\n')
      for (const l of lines) expect(l.replace(ANSI, '').length, l).to.be.at.most(70)
    }
    expect(drawn[0]).to.include('round 1').and.include('PARTITION')
    // The four partitions' rows, lag 50 - 11 - p each.
    expect(drawn[0]!.replace(ANSI, '')).to.match(/\b0\s.*\b39\b/)
    // After the resize the frames fit 50 columns (and some were wider before).
    expect(drawn.some((f) => f.split(/\r*\n/).some((l) => l.replace(ANSI, '').length > 50))).to.equal(true)
    expect(narrowFrames().length).to.be.greaterThan(0)
    // After the terminal is restored, the last frame is printed on the normal screen.
    expect(screen.slice(restored)).to.include('PARTITION')
  })
})
