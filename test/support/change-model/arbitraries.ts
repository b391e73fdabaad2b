/** The generators: an initial container, and commands weighted towards ehcp changes and the races around them. */
import fc from 'fast-check'

import type {ChangeSpec} from './ehcp-adapter.js'
import {type ChangeOptions, Checkpoint, Claim, EhcpChange, EhcpUndo, Heartbeat, Lease, OtherWriter, Unlease} from './commands.js'
import {MAIN, OTHER, PARTITIONS} from './world.js'

/** `arb` in one case out of `oneIn`, null otherwise. */
const sometimes = <T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> =>
  fc.oneof({weight: oneIn - 1, arbitrary: fc.constant(null)}, {weight: 1, arbitrary: arb})

export interface InitialState {
  main: Array<{checkpoint: number | null; owner: string | null}>
  other: Array<number | null>
}

export const initialState: fc.Arbitrary<InitialState> = fc.record({
  main: fc.array(fc.record({checkpoint: fc.option(fc.nat(50)), owner: fc.constantFrom(null, null, '', 'proc-a', 'proc-b', 'dead-host')}), {
    minLength: PARTITIONS.length,
    maxLength: PARTITIONS.length,
  }),
  other: fc.array(fc.option(fc.nat(50)), {minLength: PARTITIONS.length, maxLength: PARTITIONS.length}),
})

const partition = fc.constantFrom(...PARTITIONS)
const somePartitions = sometimes(fc.subarray(PARTITIONS, {minLength: 1}), 4).map((p) => p ?? undefined)

export const changeSpec: fc.Arbitrary<Exclude<ChangeSpec, {kind: 'undo'}>> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record({partition, sequenceNumber: fc.integer({min: -1, max: 60})})
      .map(({partition, sequenceNumber}) => ({kind: 'set' as const, partition, sequenceNumber, offset: `s${sequenceNumber}`})),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({by: fc.integer({min: -3, max: 3}).filter((n) => n !== 0), partitions: somePartitions})
      .map((s) => ({kind: 'shift' as const, ...s})),
  },
  {weight: 2, arbitrary: somePartitions.map((partitions) => ({kind: 'delete' as const, partitions}))},
  {weight: 2, arbitrary: somePartitions.map((partitions) => ({kind: 'from-group' as const, source: OTHER, partitions}))},
  {
    weight: 2,
    arbitrary: fc
      .record({partitions: somePartitions, owner: sometimes(fc.constantFrom('proc-a', 'proc-b', 'dead-host', 'nobody'), 3)})
      .map(({partitions, owner}) => ({kind: 'release' as const, partitions, owner: owner ?? undefined})),
  },
)

/** In-process options: races, aborts and faults included. */
export const changeOptions: fc.Arbitrary<ChangeOptions> = fc.record({
  force: fc.oneof({weight: 3, arbitrary: fc.constant(true)}, {weight: 1, arbitrary: fc.constant(false)}),
  concurrency: fc.integer({min: 1, max: 8}),
  backup: fc.oneof({weight: 6, arbitrary: fc.constant(true)}, {weight: 1, arbitrary: fc.constant(false)}),
  race: sometimes(fc.record({target: fc.nat(7), kind: fc.constantFrom('checkpoint-or-heartbeat' as const, 'delete' as const)}), 4),
  abortAfter: sometimes(fc.integer({min: 1, max: 3}), 6),
  faults: sometimes(
    fc.record({
      lose: fc.constantFrom(0, 0.2, 0.5),
      reset: fc.constantFrom(0, 0.1, 0.2),
      unavailable: fc.constantFrom(0, 0.1, 0.2),
      seed: fc.nat(),
    }),
    10,
  ),
})

const processorAndOthers = [
  {
    weight: 10,
    arbitrary: fc
      .record({p: partition, group: fc.constantFrom(MAIN, MAIN, OTHER), official: fc.boolean()})
      .map(({p, group, official}) => new Checkpoint(p, group, official)),
  },
  {
    weight: 6,
    arbitrary: fc
      .record({p: partition, owner: fc.constantFrom('proc-a', 'proc-b'), stale: fc.boolean()})
      .map(({p, owner, stale}) => new Claim(p, owner, stale)),
  },
  {weight: 4, arbitrary: partition.map((p) => new Heartbeat(p))},
  {
    weight: 5,
    arbitrary: fc
      .record({
        p: partition,
        group: fc.constantFrom(MAIN, OTHER),
        kind: fc.constantFrom('checkpoint' as const, 'ownership' as const),
        write: fc.constantFrom('foreign-key' as const, 'upper-case-keys' as const, 'garbage' as const, 'delete' as const),
      })
      .map(({p, group, kind, write}) => new OtherWriter(p, kind === 'ownership' ? MAIN : group, kind, write)),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({p: partition, kind: fc.constantFrom('checkpoint' as const, 'ownership' as const)})
      .map(({p, kind}) => new Lease(p, kind)),
  },
  {weight: 2, arbitrary: fc.nat(3).map((i) => new Unlease(i))},
]

/** Changes, processors, other writers, leases, faults and signals; no undo. */
export const pipelineCommands = [
  fc.oneof({weight: 25, arbitrary: fc.tuple(changeSpec, changeOptions).map(([s, o]) => new EhcpChange(s, o))}, ...processorAndOthers),
]

/** The same, with undos of any earlier change that kept a backup. */
export const undoCommands = [
  fc.oneof(
    {weight: 25, arbitrary: fc.tuple(changeSpec, changeOptions).map(([s, o]) => new EhcpChange(s, o))},
    {weight: 18, arbitrary: fc.tuple(fc.nat(3), changeOptions).map(([which, o]) => new EhcpUndo(which, o))},
    ...processorAndOthers,
  ),
]
