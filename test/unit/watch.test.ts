import {expect} from 'chai'

import {EhcpError} from '../../src/errors.js'
import {cutLine, frameText} from '../../src/output/screen.js'
import {outputSettings} from '../../src/output/terminal.js'
import {renderWatchFrame, sparkline} from '../../src/output/watch.js'
import {historyLine, parseHistory, statusExitCode, statusReport} from '../../src/watch/report.js'
import {pause, runRounds} from '../../src/watch/rounds.js'
import type {SampledGroup, Sampler} from '../../src/watch/sampler.js'
import {type GroupRound, Tracker} from '../../src/watch/tracker.js'

const T0 = Date.parse('2026-12-01T12:00:00Z')
const round = (n: number, seq: number, written: number, head: number, group = 'cg'): GroupRound => ({
  round: n,
  at: new Date(T0 + n * 5000).toISOString(),
  namespace: 'ns',
  eventHub: 'hub',
  consumerGroup: group,
  partitions: [
    {
      partitionId: '0',
      checkpoint: {sequenceNumber: seq, etag: `"${written}"`, lastModified: new Date(T0 + written * 1000).toISOString()},
      ownership: null,
      lag: {events: head - seq, state: 'ok', lastEnqueuedSequenceNumber: head, timeLagSeconds: null},
    },
  ],
})

describe('status over rounds', () => {
  it('judges each group; the report is the worst group; exit codes 0, 11, 12, 3, 7', () => {
    const tracker = new Tracker({samples: 3})
    // "cg" moves and gains: OK. "stuck" rewrites one position while lag grows: STALL.
    for (let n = 1; n <= 3; n++) {
      tracker.add(round(n, 100 + 20 * n, n * 5, 150 + 5 * n))
      tracker.add(round(n, 100, n * 5, 100 + 10 * n, 'stuck'))
    }
    const report = statusReport(tracker, {allowedLag: 0})
    expect(report.groups.map((g) => [g.consumerGroup, g.status, g.rounds])).to.deep.equal([
      ['cg', 'OK', 3],
      ['stuck', 'STALL', 3],
    ])
    expect(report.status).to.equal('STALL')
    expect(report.groups[1]).to.include({complete: 1, maxLag: 30, totalLag: 30})
    expect(report.groups[1]!.partitions[0]).to.deep.equal({partitionId: '0', status: 'STALL', commitsSeen: 3, lags: [10, 20, 30]})
    expect(statusExitCode('STALL')).to.equal(12)
    expect(['OK', 'WARN', 'STOP', 'REWIND', 'NOTFOUND', 'ERR'].map((s) => statusExitCode(s as never))).to.deep.equal([0, 11, 12, 12, 3, 7])
    expect(statusReport(new Tracker(), {allowedLag: 0}).status).to.equal('NOTFOUND')
  })

  it('a history file round-trips; anything else is a usage error naming the line', () => {
    const lines = [round(1, 100, 5, 120), round(2, 110, 10, 125)].map(historyLine).join('')
    expect(lines.split('\n')).to.have.length(3)
    expect(parseHistory(`${lines}\n`, 'h.ndjson').map((r) => r.round)).to.deep.equal([1, 2])
    const bad = (text: string) => {
      try {
        parseHistory(text, 'h.ndjson')
      } catch (error) {
        expect(error).to.be.instanceOf(EhcpError)
        return `${(error as EhcpError).exitCode} ${(error as EhcpError).message}`
      }
      throw new Error('no error')
    }
    expect(bad(`${lines}not json\n`)).to.equal('2 h.ndjson line 3 is not JSON.')
    expect(bad('{"round": 1, "at": "yesterday", "partitions": []}')).to.equal(
      '2 h.ndjson line 1 is not a round (round, at and partitions).',
    )
    expect(bad('\n\n')).to.equal('2 h.ndjson holds no rounds.')
  })
})

describe("watch's screen", () => {
  it('a sparkline scales from 0 to the largest, unknown values blank, the last `width` kept', () => {
    expect(sparkline([0, 4, 8, null, 2], 10)).to.equal('▁▄█ ▂')
    expect(sparkline([0, 0], 10)).to.equal('▁▁')
    expect(sparkline([1, 2, 3, 4], 2)).to.equal('▆█')
  })

  it('lines are cut to the width, colour codes kept and reset', () => {
    expect(cutLine('abcdef', 10)).to.equal('abcdef')
    expect(cutLine('abcdef', 3)).to.equal('abc\x1b[0m')
    expect(cutLine('\x1b[31mabcdef\x1b[39m', 4)).to.equal('\x1b[31mabcd\x1b[0m')
  })

  it('a frame starts top-left, clears each line and below, and keeps within the rows', () => {
    expect(frameText(['ab', 'cdef', 'g'], 3, 2)).to.equal('\x1b[Hab\x1b[K\r\ncde\x1b[0m\x1b[K\x1b[J')
  })
})

describe('rounds on a schedule', () => {
  const sampler = (fail: number[] = []) => {
    let n = 0
    return {
      calls: () => n,
      sampler: {
        get rounds() {
          return n
        },
        sample: async () => {
          n++
          if (fail.includes(n)) throw new Error(`round ${n} failed`)
          return [{round: n} as unknown as SampledGroup]
        },
      } as unknown as Sampler,
    }
  }

  it('runs `count` rounds; a failed round goes to onError and the rounds go on', async () => {
    const s = sampler([2])
    const seen: number[] = []
    const errors: string[] = []
    const done = await runRounds({
      sampler: s.sampler,
      intervalMs: 1,
      count: 3,
      signal: new AbortController().signal,
      onRound: (g) => void seen.push(g[0]!.round),
      onError: (e) => errors.push((e as Error).message),
    })
    expect(done).to.equal(3)
    expect(seen).to.deep.equal([1, 3])
    expect(errors).to.deep.equal(['round 2 failed'])
  })

  it('without onError a failed round throws; a stop ends the wait (of a minute) at once', async () => {
    const s = sampler([1])
    let thrown: unknown
    await runRounds({sampler: s.sampler, intervalMs: 1, count: 2, signal: new AbortController().signal, onRound: () => {}}).catch(
      (e) => (thrown = e),
    )
    expect((thrown as Error).message).to.equal('round 1 failed')

    const stop = new AbortController()
    const t = sampler()
    const running = runRounds({sampler: t.sampler, intervalMs: 60_000, signal: stop.signal, onRound: () => stop.abort()})
    expect(await running).to.equal(1)
    const aborted = new AbortController()
    aborted.abort()
    await pause(60_000, aborted.signal)
  })
})

describe("watch's frame", () => {
  const settings = (color: boolean) => outputSettings(color, {}, {isTTY: true, columns: 200}, {isTTY: false}, {wide: false, json: false})
  const owned = (n: number, seq: number, owner: string): GroupRound => {
    const r = round(n, seq, n * 5, 200)
    r.partitions[0]!.ownership = {ownerId: owner, state: 'active'}
    return r
  }

  it('a new owner and a checkpoint gone back are highlighted, and marked in words without colour', () => {
    const tracker = new Tracker()
    tracker.add(owned(1, 150, 'a'))
    const plain = (lines: string[]) => lines.join('\n')
    const first = plain(renderWatchFrame(tracker.groups(), settings(false), {interval: '5s', round: 1, at: 'now', samples: 10}))
    expect(first).to.not.include('(new)').and.not.include('(back)')
    tracker.add(owned(2, 120, 'b'))
    const second = plain(renderWatchFrame(tracker.groups(), settings(false), {interval: '5s', round: 2, at: 'now', samples: 10}))
    expect(second).to.include('b (new)').and.include('120 (back)').and.include('REWIND')
    const colored = plain(renderWatchFrame(tracker.groups(), settings(true), {interval: '5s', round: 2, at: 'now', samples: 10}))
    expect(colored).to.include('\x1b[7m')
    tracker.add(owned(3, 130, 'b'))
    const third = plain(renderWatchFrame(tracker.groups(), settings(false), {interval: '5s', round: 3, at: 'now', samples: 10}))
    expect(third).to.not.include('(new)').and.not.include('(back)')
  })
})
