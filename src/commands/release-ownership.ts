import * as Flags from '@oclif/core/flags'

import {ChangeCommand} from '../change-command.js'
import type {ChangeResult} from '../change/execute.js'
import {planReleases, refuseBlanketRelease} from '../change/plan.js'
import {notFoundError} from '../errors.js'
import {changeFlags, layoutFlags, partitionFlag, readChangeOptions, readLayout, readScope, scopeFlags} from '../flags.js'
import {readGroup} from '../store/group.js'
import {readLegacyShown, refuseScopeFlags} from '../store/legacy-group.js'
import {resolveGroup} from '../store/scope.js'

const {force: _force, ...releaseFlags} = changeFlags

export default class ReleaseOwnershipCommand extends ChangeCommand<typeof ReleaseOwnershipCommand> {
  static summary = 'Free partitions held by a dead or stuck processor.'
  static description =
    'Writes ownerid = "" under If-Match, the SDKs\' own "give up" signal, so another processor can claim the partition at once ' +
    'instead of waiting for the ownership to expire. A live owner loses the partition at its next heartbeat.'
  static examples = [
    '<%= config.bin %> release-ownership --emulator --container checkpoints --eventhub orders --owner 5b1c-dead-host',
    '<%= config.bin %> release-ownership --eventhub orders --partition 0,1 --dry-run',
    '<%= config.bin %> release-ownership --eventhub orders --force --yes --json   # every partition, active owners too',
    `<%= config.bin %> release-ownership --container eph-leases --layout eph --consumer-group '$Default' --owner host-a   # breaks the blob leases`,
  ]
  static flags = {
    ...scopeFlags,
    ...layoutFlags,
    partition: partitionFlag,
    owner: Flags.string({summary: 'Only partitions owned by this owner id.', helpGroup: 'SCOPE'}),
    ...releaseFlags,
    force: Flags.boolean({
      summary: 'With neither --owner nor --partition, release active owners too (refused without it).',
      helpGroup: 'SAFETY',
    }),
  }

  async run(): Promise<ChangeResult> {
    const {filter, ownershipExpiryMs} = readScope(this.flags)
    const {layout, blobPrefix} = readLayout(this.flags)
    if (layout !== undefined && layout !== 'modern') refuseScopeFlags(layout, this.givenScope())
    const store = await this.openStore({ownershipExpiryMs})
    if (layout !== undefined && layout !== 'modern') {
      // Legacy lease blobs: the owner is the blob lease, and releasing is breaking it.
      const view = await readLegacyShown(store, layout, {...filter, blobPrefix}, this.signal)
      const {legacyChangePlan, planLegacyReleases} = await import('../change/legacy-plan.js')
      const items = planLegacyReleases(view, this.flags.partition, this.flags.owner)
      if (this.flags.owner !== undefined && items.length === 0) {
        const owners = [...new Set(view.partitions.map((p) => p.legacy.owningHost ?? p.ownership?.ownerId).filter(Boolean))]
        throw notFoundError(
          `No partition is owned by "${this.flags.owner}".`,
          owners.length ? `Owners: ${owners.join(', ')}.` : 'No partition has an owner.',
        )
      }
      refuseBlanketRelease(items, {partitions: this.flags.partition, owner: this.flags.owner, force: Boolean(this.flags.force)})
      const scenario = this.flags.owner ? 'owner' : 'all'
      return this.change(
        store,
        legacyChangePlan(view, store.containerName, {operation: 'release-ownership', scenario, guarded: false, items}),
        readChangeOptions(this.flags),
      )
    }
    const group = await resolveGroup(store, filter, this.signal)
    const view = await readGroup(store, group, this.signal)
    const items = planReleases(view, this.flags.partition, this.flags.owner)
    if (this.flags.owner !== undefined && items.length === 0) {
      const owners = [...new Set(view.partitions.map((p) => p.ownership?.ownerId).filter(Boolean))]
      throw notFoundError(
        `No partition is owned by "${this.flags.owner}".`,
        owners.length ? `Owners: ${owners.join(', ')}.` : 'No partition has an owner.',
      )
    }
    refuseBlanketRelease(items, {partitions: this.flags.partition, owner: this.flags.owner, force: Boolean(this.flags.force)})
    return this.change(
      store,
      {
        operation: 'release-ownership',
        scenario: this.flags.owner ? 'owner' : 'all',
        container: store.containerName,
        ...group,
        guarded: false,
        notes: [],
        items,
      },
      // This --force only lets a blanket release through; a release is never guarded, so the pipeline's is off.
      readChangeOptions({...this.flags, force: false}),
    )
  }
}
