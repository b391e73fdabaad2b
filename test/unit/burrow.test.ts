import {expect} from 'chai'

import {type Commit, evaluateGroup, evaluatePartition, isRewound, STATUS_CODE, worse} from '../../src/watch/burrow.js'
import {checkpointRate, etaSeconds, evaluateTrack, type GroupRound, timeLag, Tracker} from '../../src/watch/tracker.js'

const T0 = Date.parse('2026-12-01T12:00:00Z')
/** Commits every 10 s from T0: [offset, lag] pairs. */
const commits = (...pairs: Array<[number, number]>): Commit[] =>
  pairs.map(([offset, lag], i) => ({offset, lag, timestamp: T0 + i * 10_000}))
const last = (c: Commit[]) => c.at(-1)!.timestamp

describe('Burrow rules on scripted windows', () => {
  it('OK: lag at or below the allowed lag is never judged, even with no commit for ages', () => {
    const c = commits([100, 0], [100, 0])
    expect(evaluatePartition({commits: c, heads: [100], lag: 0}, {now: last(c) + 3_600_000})).to.equal('OK')
    const d = commits([100, 5], [100, 5])
    expect(evaluatePartition({commits: d, heads: [105], lag: 5}, {now: last(d) + 3_600_000, allowedLag: 5})).to.equal('OK')
    expect(evaluatePartition({commits: d, heads: [105], lag: 5}, {now: last(d) + 3_600_000, allowedLag: 4})).to.equal('STOP')
  })

  it('OK: a consumer moving and gaining', () => {
    const c = commits([100, 50], [120, 40], [150, 20], [170, 10])
    expect(evaluatePartition({commits: c, heads: [150, 160, 170, 180], lag: 10}, {now: last(c) + 5_000})).to.equal('OK')
  })

  it('STOP: no commit for longer than the window spans, lag behind', () => {
    const c = commits([100, 50], [120, 40], [150, 30])
    // Window spans 20 s; 20 s after the last commit is not yet longer, 21 s is.
    expect(evaluatePartition({commits: c, heads: [160, 170, 180], lag: 30}, {now: last(c) + 20_000})).to.not.equal('STOP')
    expect(evaluatePartition({commits: c, heads: [160, 170, 180], lag: 30}, {now: last(c) + 21_000})).to.equal('STOP')
  })

  it('STOP: a single commit and time passed', () => {
    const c = commits([100, 30])
    expect(evaluatePartition({commits: c, heads: [130], lag: 30}, {now: last(c) + 1_000})).to.equal('STOP')
  })

  it('edge: a caught-up consumer that stops checkpointing is OK (lag 0 now)', () => {
    const c = commits([100, 0], [110, 0], [120, 0])
    expect(evaluatePartition({commits: c, heads: [120, 120, 120], lag: 0}, {now: last(c) + 3_600_000})).to.equal('OK')
  })

  it('edge: not STOP when recently caught up (a head seen at or below the last commit), though lag appeared since', () => {
    const c = commits([100, 5], [110, 0], [120, 0])
    const heads = [120, 120, 125]
    const status = evaluatePartition({commits: c, heads, lag: 5}, {now: last(c) + 3_600_000})
    expect(status).to.not.equal('STOP')
    // The same window without the caught-up head is STOP.
    expect(evaluatePartition({commits: c, heads: [121, 122, 125], lag: 5}, {now: last(c) + 3_600_000})).to.equal('STOP')
  })

  it('REWIND: a commit lower than the one before it, not recovered', () => {
    const c = commits([100, 50], [150, 20], [90, 80], [120, 60])
    expect(evaluatePartition({commits: c, heads: [180], lag: 60}, {now: last(c) + 1_000})).to.equal('REWIND')
  })

  it('edge: a rewind later recovered (a later commit reaches the pre-rewind value) is not REWIND', () => {
    const c = commits([100, 50], [150, 20], [90, 80], [150, 30], [160, 20])
    expect(isRewound(c)).to.equal(false)
    expect(evaluatePartition({commits: c, heads: [180], lag: 20}, {now: last(c) + 1_000})).to.equal('OK')
    // Recovered only partly: still REWIND.
    const d = commits([100, 50], [150, 20], [90, 80], [149, 30])
    expect(isRewound(d)).to.equal(true)
  })

  it('STOP is judged before REWIND', () => {
    const c = commits([100, 50], [90, 60])
    expect(evaluatePartition({commits: c, heads: [150], lag: 60}, {now: last(c) + 60_000})).to.equal('STOP')
  })

  it('STALL: every commit the same position while lag stays above the allowed', () => {
    const c = commits([100, 10], [100, 20], [100, 30])
    expect(evaluatePartition({commits: c, heads: [110, 120, 130], lag: 30}, {now: last(c) + 1_000})).to.equal('STALL')
  })

  it('WARN: commits move but lag never decreases', () => {
    const c = commits([100, 10], [105, 15], [110, 15], [115, 20])
    expect(evaluatePartition({commits: c, heads: [110, 120, 125, 135], lag: 20}, {now: last(c) + 1_000})).to.equal('WARN')
  })

  it('OK, not STALL or WARN, when some commit in the window had lag at or below the allowed', () => {
    const c = commits([100, 0], [100, 10], [100, 20])
    expect(evaluatePartition({commits: c, heads: [100, 110, 120], lag: 20}, {now: last(c) + 1_000})).to.equal('OK')
    const d = commits([100, 0], [105, 15], [110, 20])
    expect(evaluatePartition({commits: d, heads: [100, 120, 130], lag: 20}, {now: last(d) + 1_000})).to.equal('OK')
  })

  it('no commits: not judged', () => {
    expect(evaluatePartition({commits: [], heads: [100], lag: 100}, {now: T0})).to.equal('OK')
  })
})

describe('Burrow group status', () => {
  it('Burrow numbers the statuses', () => {
    expect(STATUS_CODE).to.deep.equal({NOTFOUND: 0, OK: 1, WARN: 2, ERR: 3, STOP: 4, STALL: 5, REWIND: 6})
    expect(worse('WARN', 'STOP')).to.equal('STOP')
    expect(worse('REWIND', 'OK')).to.equal('REWIND')
  })

  it('the worst partition, complete share, max and total lag', () => {
    const v = evaluateGroup([
      {status: 'OK', lag: 5, complete: true},
      {status: 'STALL', lag: 30, complete: false},
      {status: 'WARN', lag: 7, complete: true},
      {status: 'OK', lag: null, complete: true},
    ])
    expect(v).to.deep.equal({status: 'STALL', complete: 0.75, maxLag: 30, totalLag: 42})
  })

  it('NOTFOUND without partitions', () => {
    expect(evaluateGroup([]).status).to.equal('NOTFOUND')
  })
})

/** A one-partition round: checkpoint at `seq` written at `written` (s after T0), head `head`, read at `at` (s after T0). */
function round(n: number, at: number, seq: number | null, written: number, head: number, owner = 'a'): GroupRound {
  return {
    round: n,
    at: new Date(T0 + at * 1000).toISOString(),
    namespace: 'ns',
    eventHub: 'hub',
    consumerGroup: 'cg',
    partitions: [
      {
        partitionId: '0',
        checkpoint:
          seq === null
            ? null
            : {sequenceNumber: seq, etag: `"${seq}-${written}"`, lastModified: new Date(T0 + written * 1000).toISOString()},
        ownership: {ownerId: owner, state: 'active'},
        lag: {events: seq === null ? null : head - seq, state: 'ok', lastEnqueuedSequenceNumber: head, timeLagSeconds: 1},
      },
    ],
  }
}

describe('the tracker on scripted histories', () => {
  it('records a commit only when the checkpoint changed, keeping the last `samples`', () => {
    const tracker = new Tracker({samples: 3})
    tracker.add(round(1, 0, 100, 0, 150))
    tracker.add(round(2, 5, 100, 0, 160)) // unchanged
    tracker.add(round(3, 10, 120, 9, 170))
    tracker.add(round(4, 15, 140, 14, 180))
    tracker.add(round(5, 20, 160, 19, 190))
    const [group] = tracker.groups()
    const t = group!.partitions[0]!
    expect(group!.rounds).to.equal(5)
    expect(t.commitsSeen).to.equal(4)
    expect(t.commits.map((c) => c.offset)).to.deep.equal([120, 140, 160])
    expect(t.commits[0]).to.deep.equal({offset: 120, timestamp: T0 + 9_000, lag: 50})
    expect(t.lags).to.deep.equal([50, 60, 50, 40, 30])
    expect(t.heads.map((h) => h.sequenceNumber)).to.deep.equal([170, 180, 190])
  })

  it('a new write of the same position (new ETag) is a commit: what STALL needs', () => {
    const tracker = new Tracker({samples: 3})
    tracker.add(round(1, 0, 100, 0, 110))
    tracker.add(round(2, 5, 100, 4, 120))
    tracker.add(round(3, 10, 100, 9, 130))
    const g = tracker.groups()[0]!
    expect(g.partitions[0]!.commitsSeen).to.equal(3)
    const e = evaluateTrack(g, {samples: 3, now: T0 + 10_000})
    expect(e.status).to.equal('STALL')
    expect(e.partitions[0]).to.include({status: 'STALL', commitsSeen: 3, complete: true, lag: 30})
  })

  it('a stopped consumer becomes STOP as the rounds go on', () => {
    const tracker = new Tracker({samples: 10})
    tracker.add(round(1, 0, 100, -10, 110))
    tracker.add(round(2, 5, 105, 4, 120))
    tracker.add(round(3, 10, 105, 4, 130))
    const g = tracker.groups()[0]!
    expect(evaluateTrack(g, {samples: 10, now: T0 + 10_000}).status).to.not.equal('STOP')
    tracker.add(round(4, 30, 105, 4, 140))
    expect(evaluateTrack(g, {samples: 10}).status).to.equal('STOP')
  })

  it('flags a rewind and an owner change in the round they happen', () => {
    const tracker = new Tracker()
    tracker.add(round(1, 0, 100, 0, 110, 'a'))
    tracker.add(round(2, 5, 110, 4, 120, 'b'))
    let t = tracker.groups()[0]!.partitions[0]!
    expect(t).to.include({ownerChanged: true, rewound: false})
    tracker.add(round(3, 10, 50, 9, 130, 'b'))
    t = tracker.groups()[0]!.partitions[0]!
    expect(t).to.include({ownerChanged: false, rewound: true})
    expect(evaluateTrack(tracker.groups()[0]!, {samples: 10}).status).to.equal('REWIND')
  })

  it('checkpoint rate and time to catch up', () => {
    const tracker = new Tracker()
    tracker.add(round(1, 0, 100, 0, 1000))
    tracker.add(round(2, 10, 300, 10, 1100))
    const t = tracker.groups()[0]!.partitions[0]!
    expect(checkpointRate(t)).to.equal(20) // 200 events in 10 s
    // Arriving at 10/s, consumed at 20/s: gains 10/s on a lag of 800.
    expect(etaSeconds(t)).to.equal(80)
    tracker.add(round(3, 20, 300, 10, 1200))
    expect(etaSeconds(tracker.groups()[0]!.partitions[0]!)).to.equal(90) // gains 20 - 10 on a lag of 900
  })

  it('no time to catch up when not gaining; 0 when caught up', () => {
    const tracker = new Tracker()
    tracker.add(round(1, 0, 100, 0, 200))
    tracker.add(round(2, 10, 110, 10, 400))
    expect(etaSeconds(tracker.groups()[0]!.partitions[0]!)).to.equal(null)
    const caught = new Tracker()
    caught.add(round(1, 0, 100, 0, 100))
    expect(etaSeconds(caught.groups()[0]!.partitions[0]!)).to.equal(0)
  })

  it('keeps groups apart by namespace, event hub and consumer group', () => {
    const tracker = new Tracker()
    tracker.add(round(1, 0, 100, 0, 110))
    tracker.add({...round(1, 0, 100, 0, 110), consumerGroup: 'other'})
    tracker.add({...round(2, 5, 100, 0, 110), consumerGroup: 'CG'})
    expect(tracker.groups().map((g) => [g.consumerGroup, g.rounds])).to.deep.equal([
      ['cg', 2],
      ['other', 1],
    ])
  })

  it('time lag: as read when a round read it; else lag over the arrival rate, marked estimated; 0 when caught up', () => {
    const read = new Tracker()
    read.add(round(1, 0, 100, 0, 1000))
    expect(timeLag(read.groups()[0]!.partitions[0]!)).to.deep.equal({seconds: 1, estimated: false})
    const unread = (r: GroupRound): GroupRound => ({
      ...r,
      partitions: r.partitions.map((p) => ({...p, lag: {...p.lag!, timeLagSeconds: null}})),
    })
    const estimated = new Tracker()
    estimated.add(unread(round(1, 0, 100, 0, 1000)))
    expect(timeLag(estimated.groups()[0]!.partitions[0]!), 'one head: no arrival rate yet').to.equal(null)
    estimated.add(unread(round(2, 10, 300, 10, 1100)))
    // 800 behind, arriving at 10/s.
    expect(timeLag(estimated.groups()[0]!.partitions[0]!)).to.deep.equal({seconds: 80, estimated: true})
    const caught = new Tracker()
    caught.add(unread(round(1, 0, 100, 0, 100)))
    expect(timeLag(caught.groups()[0]!.partitions[0]!)).to.deep.equal({seconds: 0, estimated: false})
  })

  it('keepOnly forgets the groups that are gone, and keeps the others with their history', () => {
    const tracker = new Tracker()
    tracker.add(round(1, 0, 100, 0, 110))
    tracker.add({...round(1, 0, 5, 0, 10), consumerGroup: 'other'})
    tracker.add(round(2, 5, 105, 4, 120))
    expect(tracker.groups().map((g) => g.consumerGroup)).to.deep.equal(['cg', 'other'])
    tracker.keepOnly([tracker.groups()[0]!.key])
    expect(tracker.groups().map((g) => [g.consumerGroup, g.rounds])).to.deep.equal([['cg', 2]])
  })
})
