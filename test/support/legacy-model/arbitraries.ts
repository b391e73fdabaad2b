/** The generators of the legacy change model: an initial container, and commands (ehcp changes, undos, hosts). */
import fc from 'fast-check'

import {EhcpRelease, EhcpResetFromFile, EhcpSet, EhcpUndo, HostAcquire, HostAct} from './commands.js'
import {BLOBS, type GoCheckpoint, type Group, HOSTS, type ModelBlob, TEMPLATES, template} from './world.js'

/** One blob at the start: its body's template and values, and whether a host holds its lease. */
export interface InitialBlob {
  name: string
  template: string
  checkpoint: number | null
  owner: string
  epoch: number
  /** The host holding the lease, or null. */
  holder: string | null
}

const initialBlob = (name: string, group: Group): fc.Arbitrary<InitialBlob> =>
  fc
    .record({
      template: fc.constantFrom(...TEMPLATES.filter((t) => t.group === group).map((t) => t.id)),
      checkpoint: fc.option(fc.nat(40), {freq: 4}),
      owner: fc.constantFrom('""', '"h\\u00f4te\\/a"', '"o\\u0026\\u003c"'),
      epoch: fc.nat(5),
      holder: fc.option(fc.constantFrom(...HOSTS[group]), {freq: 2}),
    })
    .map((b) => ({name, ...b, owner: b.holder === null ? b.owner : JSON.stringify(b.holder)}))

export const initialState: fc.Arbitrary<InitialBlob[]> = fc.tuple(...BLOBS.map((b) => initialBlob(b.name, b.group)))

/** The model's blob for an initial one (the lease is filled in when it is acquired). */
export function modelBlob(init: InitialBlob, group: Group): ModelBlob {
  const t = template(init.template)
  const checkpoint: GoCheckpoint | null =
    group === 'go' && init.checkpoint !== null
      ? {
          offset: `i${init.checkpoint}`,
          sequenceNumber: init.checkpoint,
          enqueueTime: '2023-05-01T10:00:00.123Z',
          colon: t.colon,
          comma: t.comma,
        }
      : null
  return {
    template: init.template,
    fields: {OWNER: init.owner, TOKEN: '"t\\u0026\\/"', EPOCH: String(init.epoch)},
    offset: group === 'eph' && init.checkpoint !== null ? `i${init.checkpoint}` : null,
    sequenceNumber: init.checkpoint ?? 0,
    checkpoint,
    metadata: group === 'eph' && init.holder !== null ? {OWNINGHOST: init.holder} : {},
    lease: {kind: 'free'},
    version: 0,
  }
}

const blob = fc.constantFrom(...BLOBS.map((b) => b.name))
const group = fc.constantFrom<Group>('eph', 'go')
/** --dry-run in one run out of six. */
const dryRun = fc.oneof({weight: 5, arbitrary: fc.constant(false)}, {weight: 1, arbitrary: fc.constant(true)})
/** A position: sometimes the one an initial body holds (a change to where it already is). */
const position = fc
  .record({sequenceNumber: fc.nat(40), initial: fc.boolean()})
  .map(({sequenceNumber, initial}) => ({sequenceNumber, offset: `${initial ? 'i' : 's'}${sequenceNumber}`}))

export const commands = [
  fc.tuple(blob, position, fc.boolean(), dryRun).map(([b, p, force, dry]) => new EhcpSet(b, p.sequenceNumber, p.offset, force, dry)),
  group.chain((g) =>
    fc
      .tuple(
        fc.subarray(
          BLOBS.filter((b) => b.group === g).map((b) => b.pid),
          {minLength: 1},
        ),
        fc.array(position, {minLength: 3, maxLength: 3}),
        fc.boolean(),
        dryRun,
      )
      .map(
        ([pids, ps, force, dry]) =>
          new EhcpResetFromFile(
            g,
            pids.map((pid, i) => ({pid, ...ps[i]!})),
            force,
            dry,
          ),
      ),
  ),
  group.chain((g) =>
    fc
      .tuple(
        fc.option(fc.constantFrom(...BLOBS.filter((b) => b.group === g).map((b) => b.pid)), {freq: 2}),
        fc.option(fc.constantFrom(...HOSTS[g], 'nobody'), {freq: 2}),
        fc.boolean(),
        dryRun,
      )
      .map(([pid, owner, force, dry]) => new EhcpRelease(g, pid ?? undefined, owner ?? undefined, force, dry)),
  ),
  fc.tuple(fc.nat(5), dryRun).map(([n, dry]) => new EhcpUndo(n, dry)),
  fc.nat(5).map((n) => new EhcpUndo(n)),
  blob.chain((b) =>
    fc
      .tuple(fc.constantFrom(...HOSTS[BLOBS.find((s) => s.name === b)!.group]), fc.boolean())
      .map(([host, writes]) => new HostAcquire(b, host, writes)),
  ),
  fc
    .tuple(
      blob,
      fc.constantFrom('checkpoint' as const, 'checkpoint' as const, 'renew' as const, 'release' as const),
      fc.integer({min: 1, max: 5}),
    )
    .map(([b, act, advance]) => new HostAct(b, act, advance)),
]
