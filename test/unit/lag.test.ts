import {expect} from 'chai'

import {exceedsLag, groupLagTotals, lagFromProperties, lagOf} from '../../src/eventhubs/lag.js'
import {formatDuration} from '../../src/time.js'

const info = (begin: number, last: number, isEmpty = last < begin) => ({
  beginningSequenceNumber: begin,
  lastEnqueuedSequenceNumber: last,
  lastEnqueuedOffset: String(1000 + 64 * last),
  lastEnqueuedOnUtc: new Date('2026-11-26T12:00:00Z'),
  isEmpty,
})

describe('lag from a checkpoint and the partition properties', () => {
  it('ok: last - checkpoint, resuming at checkpoint + 1', () => {
    expect(lagFromProperties(150, info(100, 200))).to.deep.include({events: 50, state: 'ok', resumeAt: 151})
    expect(lagFromProperties(200, info(100, 200))).to.deep.include({events: 0, state: 'ok', resumeAt: null})
    expect(lagFromProperties(99, info(100, 200))).to.deep.include({events: 101, state: 'ok', resumeAt: 100})
  })

  it('empty partition: lag 0', () => {
    expect(lagFromProperties(null, info(0, -1))).to.deep.include({events: 0, state: 'empty'})
    expect(lagFromProperties(-1, info(0, -1))).to.deep.include({events: 0, state: 'empty'})
    // Everything expired: empty, though events were once there.
    expect(lagFromProperties(40, info(50, 49, true))).to.deep.include({events: 0, state: 'empty'})
  })

  it('no checkpoint: not a number that looks exact', () => {
    const lag = lagFromProperties(null, info(100, 200))
    expect(lag).to.deep.include({events: null, state: 'no-checkpoint'})
    expect(lag.reason).to.include('101 events retained')
  })

  it('behind retention: at most the retained events, resuming at the first retained one', () => {
    const lag = lagFromProperties(50, info(100, 200))
    expect(lag).to.deep.include({events: 101, state: 'behind-retention', resumeAt: 100})
    expect(lag.reason).to.include('51..99 expired')
  })

  it('ahead of the partition: flagged, never 0', () => {
    const lag = lagFromProperties(500, info(100, 200))
    expect(lag).to.deep.include({events: null, state: 'ahead-of-partition'})
    expect(lag.reason).to.include('The supplied sequence number is invalid')
  })

  it('time lag is the age of the next unprocessed event', () => {
    const now = Date.parse('2026-11-26T12:10:00Z')
    const next = {sequenceNumber: 151, offset: 'x', enqueuedTime: new Date('2026-11-26T12:00:00Z')}
    expect(lagOf({info: info(100, 200), checkpointSequence: 150, next}, now)).to.deep.include({
      events: 50,
      timeLagSeconds: 600,
      nextEventTime: '2026-11-26T12:00:00.000Z',
    })
    expect(lagOf({info: info(100, 200), checkpointSequence: 200, next: null}, now)).to.deep.include({
      events: 0,
      timeLagSeconds: 0,
      nextEventTime: null,
    })
  })

  it('--fail-on-lag: above the threshold, or ahead of the partition', () => {
    const of = (c: number | null, i = info(100, 200)) => lagOf({info: i, checkpointSequence: c, next: null}, 0)
    expect(exceedsLag(of(150), 50)).to.equal(false)
    expect(exceedsLag(of(150), 49)).to.equal(true)
    expect(exceedsLag(of(500), 1_000_000)).to.equal(true)
    expect(exceedsLag(of(null), 0)).to.equal(false)
  })

  it('group totals count only partitions with a known number', () => {
    const infos = new Map([
      ['0', info(0, 99)],
      ['1', info(0, 49)],
      ['2', info(0, 9)],
      ['3', info(0, -1)],
    ])
    const totals = groupLagTotals(
      new Map([
        ['0', 89],
        ['1', 49],
      ]),
      infos,
    )
    expect(totals).to.deep.equal({total: 10, max: 10, states: {ok: 2, 'no-checkpoint': 1, empty: 1}})
  })

  it('formats time lag for people', () => {
    expect(formatDuration(42)).to.equal('42s')
    expect(formatDuration(200)).to.equal('3m 20s')
    expect(formatDuration(7380)).to.equal('2h 03m')
    expect(formatDuration(2 * 86_400 + 4 * 3600)).to.equal('2d 4h')
  })
})
