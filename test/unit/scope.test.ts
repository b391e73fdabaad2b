/**
 * Scope resolution against a container's "directories": names match case-insensitively and every stored
 * spelling is kept; a missing group is not found (exit 3), an ambiguous scope a usage error (exit 2); a change
 * that can create checkpoints may name a new group in full.
 */
import {expect} from 'chai'

import {EhcpError} from '../../src/errors.js'
import {matchesFilter, resolveGroup, resolveListPrefixes, type ScopeFilter, speculativePath} from '../../src/store/scope.js'
import type {CheckpointStore} from '../../src/store/store.js'

/**
 * listChildren over a fixed set of blob names, as a listing with delimiter "/" answers it; the prefixes asked are
 * kept, and the flat listings started early (`prefetched`) with those still held after resolution (`held`).
 */
function storeOf(names: string[]): {store: CheckpointStore; asked: string[]; prefetched: string[]; held: Set<string>} {
  const asked: string[] = []
  const prefetched: string[] = []
  const held = new Set<string>()
  const fake = {
    prefetchRecords(prefix: string) {
      if (held.has(prefix)) return
      prefetched.push(prefix)
      held.add(prefix)
    },
    dropPrefetched(prefixes: readonly string[]) {
      for (const prefix of prefixes) held.delete(prefix)
    },
    async listChildren(prefix: string): Promise<string[]> {
      asked.push(prefix)
      const children = new Set<string>()
      for (const name of names) {
        if (!name.startsWith(prefix)) continue
        const rest = name.slice(prefix.length)
        const slash = rest.indexOf('/')
        if (slash > 0) children.add(rest.slice(0, slash))
      }
      return [...children]
    },
  }
  return {store: fake as unknown as CheckpointStore, asked, prefetched, held}
}

const blobs = (group: string, ...ids: string[]) => ids.map((id) => `${group}/checkpoint/${id}`)

async function failure(promise: Promise<unknown>): Promise<EhcpError> {
  try {
    await promise
  } catch (error) {
    expect(error).to.be.instanceOf(EhcpError)
    return error as EhcpError
  }
  throw new Error('expected the resolution to fail')
}

const NS = 'contoso.servicebus.windows.net'

describe('resolveGroup', () => {
  it('resolves exact names to their one prefix, reading every level (all asked at once, with the group listed early)', async () => {
    const {store, asked, prefetched, held} = storeOf([...blobs(`${NS}/orders/$default`, '0', '1'), ...blobs(`${NS}/orders/audit`, '0')])
    const ref = await resolveGroup(store, {namespace: NS, eventHub: 'orders', consumerGroup: 'audit'})
    expect(ref).to.deep.equal({namespace: NS, eventHub: 'orders', consumerGroup: 'audit', prefixes: [`${NS}/orders/audit/`]})
    expect(asked).to.deep.equal(['', `${NS}/`, `${NS}/orders/`])
    expect(prefetched).to.deep.equal([`${NS}/orders/audit/`])
    expect([...held]).to.deep.equal([`${NS}/orders/audit/`])
  })

  it('named in full in any case: the lower-cased path is asked at once; a twin in another case is still found at every level', async () => {
    const {store, asked, prefetched, held} = storeOf([
      ...blobs(`${NS}/orders/gogroup`, '0'),
      ...blobs(`${NS}/orders/GoGroup`, '0'),
      ...blobs(`${NS}/Orders/gogroup`, '1'),
    ])
    const ref = await resolveGroup(store, {namespace: NS.toUpperCase(), eventHub: 'ORDERS', consumerGroup: 'GOGROUP'})
    // As level by level: every spelling of every level, named as first seen (upper case sorts first).
    expect(ref.prefixes.sort()).to.deep.equal([`${NS}/Orders/gogroup/`, `${NS}/orders/GoGroup/`, `${NS}/orders/gogroup/`])
    expect(asked.slice(0, 3)).to.deep.equal(['', `${NS}/`, `${NS}/orders/`])
    expect(asked.slice(3)).to.deep.equal([`${NS}/Orders/`])
    expect(prefetched).to.deep.equal([`${NS}/orders/gogroup/`])
    // The early listing is one of the group's spellings: kept for the read that follows.
    expect([...held]).to.deep.equal([`${NS}/orders/gogroup/`])
  })

  it("Java's spelling alone: the lower-cased guess is dropped; below Java's spelling the names are guessed as given", async () => {
    const {store, asked, prefetched, held} = storeOf(blobs(`${NS}/Orders/$Default`, '0'))
    const ref = await resolveGroup(store, {namespace: NS, eventHub: 'orders'})
    expect(ref.prefixes).to.deep.equal([`${NS}/Orders/$Default/`])
    expect(asked).to.deep.equal(['', `${NS}/`, `${NS}/orders/`, `${NS}/Orders/`])
    // The group not named: $Default, as Java's default consumer group is spelt.
    expect(prefetched).to.deep.equal([`${NS}/orders/$default/`, `${NS}/Orders/$Default/`])
    expect([...held]).to.deep.equal([`${NS}/Orders/$Default/`])
  })

  it("below Java's spelling a guess as given that misses is dropped, and the walk finds the stored one", async () => {
    const {store, prefetched, held} = storeOf(blobs(`${NS}/Orders/$Default`, '0'))
    const ref = await resolveGroup(store, {namespace: NS, eventHub: 'orders', consumerGroup: '$DEFAULT'})
    expect(ref.prefixes).to.deep.equal([`${NS}/Orders/$Default/`])
    expect(prefetched).to.deep.equal([`${NS}/orders/$default/`, `${NS}/Orders/$DEFAULT/`])
    expect([...held]).to.deep.equal([])
  })

  it('a partial scope: the rest of the path asked as soon as the one namespace is known', async () => {
    const {store, asked, prefetched, held} = storeOf(blobs(`${NS}/orders/$default`, '0'))
    const ref = await resolveGroup(store, {eventHub: 'Orders'})
    expect(ref.prefixes).to.deep.equal([`${NS}/orders/$default/`])
    expect(asked).to.deep.equal(['', `${NS}/`, `${NS}/orders/`])
    expect(prefetched).to.deep.equal([`${NS}/orders/$default/`])
    expect([...held]).to.deep.equal([`${NS}/orders/$default/`])
  })

  it('a failed resolution holds no early listing', async () => {
    const {store, prefetched, held} = storeOf(blobs(`${NS}/orders/$default`, '0'))
    await failure(resolveGroup(store, {namespace: NS, eventHub: 'payments'}))
    expect(prefetched).to.deep.equal([`${NS}/payments/$default/`])
    expect([...held]).to.deep.equal([])
  })

  it('matches names case-insensitively and answers with the stored spelling; the group defaults to $Default', async () => {
    const {store} = storeOf(blobs(`${NS}/Orders/$default`, '0'))
    const ref = await resolveGroup(store, {namespace: NS.toUpperCase(), eventHub: 'ORDERS'})
    expect(ref).to.deep.equal({namespace: NS, eventHub: 'Orders', consumerGroup: '$default', prefixes: [`${NS}/Orders/$default/`]})
    expect(ref.newGroup).to.equal(undefined)
  })

  it('infers the namespace and event hub when the container holds only one', async () => {
    const {store} = storeOf([...blobs(`${NS}/orders/$Default`, '0'), ...blobs(`${NS}/orders/other`, '0')])
    expect(await resolveGroup(store, {})).to.deep.equal({
      namespace: NS,
      eventHub: 'orders',
      consumerGroup: '$Default',
      prefixes: [`${NS}/orders/$Default/`],
    })
  })

  it('keeps every stored spelling of the group (Java writes "$Default", the others "$default"), named as first seen', async () => {
    const {store} = storeOf([
      ...blobs(`${NS}/orders/$Default`, '0'),
      ...blobs(`${NS}/orders/$default`, '1'),
      ...blobs(`${NS}/payments/$default`, '0'),
    ])
    const ref = await resolveGroup(store, {eventHub: 'orders'})
    expect(ref.consumerGroup).to.equal('$Default')
    expect(ref.prefixes).to.deep.equal([`${NS}/orders/$Default/`, `${NS}/orders/$default/`])
  })

  it('spellings at every level multiply: each hub under each namespace spelling', async () => {
    const {store, asked} = storeOf([...blobs('NS/hub/$default', '0'), ...blobs('ns/Hub/$default', '1'), ...blobs('ns/hub/$Default', '2')])
    const ref = await resolveGroup(store, {namespace: 'ns', eventHub: 'hub'})
    expect(ref.prefixes).to.have.members(['NS/hub/$default/', 'ns/Hub/$default/', 'ns/hub/$Default/'])
    expect(ref.prefixes).to.have.length(3)
    expect(asked).to.include.members(['NS/', 'ns/', 'NS/hub/', 'ns/Hub/', 'ns/hub/'])
  })

  it('a missing group, hub or namespace is not found (exit 3), and says what there is', async () => {
    const {store} = storeOf([...blobs(`${NS}/orders/$default`, '0'), ...blobs(`${NS}/orders/audit`, '0')])
    const group = await failure(resolveGroup(store, {eventHub: 'orders', consumerGroup: 'billing'}))
    expect([group.code, group.exitCode]).to.deep.equal(['not-found', 3])
    expect(group.message).to.equal(`No consumer group "billing" under "${NS}/orders".`)
    expect(group.hint).to.equal('It holds: "$default", "audit".')
    const hub = await failure(resolveGroup(store, {eventHub: 'payments'}))
    expect([hub.exitCode, hub.message]).to.deep.equal([3, `No event hub "payments" under "${NS}".`])
    const namespace = await failure(resolveGroup(store, {namespace: 'fabrikam.servicebus.windows.net'}))
    expect([namespace.exitCode, namespace.message]).to.deep.equal([3, 'No namespace "fabrikam.servicebus.windows.net" in this container.'])
  })

  it('an empty container is not found (exit 3)', async () => {
    const error = await failure(resolveGroup(storeOf([]).store, {}))
    expect([error.exitCode, error.message]).to.deep.equal([3, 'No checkpoints or ownership blobs in this container.'])
  })

  it('an ambiguous scope is a usage error (exit 2) that lists the choices and the flag', async () => {
    const {store} = storeOf([
      ...blobs('a.example/hub/$default', '0'),
      ...blobs('b.example/hub/$default', '0'),
      ...blobs('a.example/other/$default', '0'),
    ])
    const namespaces = await failure(resolveGroup(store, {}))
    expect([namespaces.code, namespaces.exitCode]).to.deep.equal(['usage', 2])
    expect(namespaces.message).to.equal('Several namespaces in this container: "a.example", "b.example".')
    expect(namespaces.hint).to.equal('Pass --namespace to choose one.')
    const hubs = await failure(resolveGroup(store, {namespace: 'A.EXAMPLE'}))
    expect([hubs.exitCode, hubs.message, hubs.hint]).to.deep.equal([
      2,
      'Several event hubs under "a.example": "hub", "other".',
      'Pass --eventhub to choose one.',
    ])
  })

  describe('legacy lease directories beside the namespaces (EventProcessorHost, Go, Functions v4)', () => {
    /** What retired SDKs leave at the top of a container: EPH `$Default/0` and `app1/billing/0`, Go `filebeat/0`. */
    const legacy = ['$Default/0', '$Default/1', 'app1/billing/0', 'filebeat/0']
    /** Functions v4 keeps its leases under the escaped namespace and hub: a namespace-shaped folder. */
    const functionsV4 = [`${NS}/orders:20eu/$Default/0`]

    it('are not namespaces: with one modern namespace beside them, it is the one inferred', async () => {
      const {store, asked} = storeOf([...legacy, ...functionsV4, ...blobs(`${NS}/orders/$default`, '0')])
      const ref = await resolveGroup(store, {eventHub: 'orders', consumerGroup: '$Default'})
      expect(ref).to.deep.equal({namespace: NS, eventHub: 'orders', consumerGroup: '$default', prefixes: [`${NS}/orders/$default/`]})
      expect(asked).to.deep.equal(['', `${NS}/`, `${NS}/orders/`])
    })

    it('a namespace is told by its shape in any case: a host (as Java spells it), an address, localhost, with a port', async () => {
      for (const namespace of ['Contoso.ServiceBus.Windows.Net', '127.0.0.1', 'localhost', 'localhost:5672', 'ns.example:443']) {
        const ref = await resolveGroup(storeOf([...legacy, ...blobs(`${namespace}/hub/$default`, '0')]).store, {})
        expect(ref.namespace, namespace).to.equal(namespace)
      }
    })

    it('two real namespaces are still a choice to make (exit 2), naming only them', async () => {
      const {store} = storeOf([
        ...legacy,
        ...blobs(`${NS}/orders/$default`, '0'),
        ...blobs('fabrikam.servicebus.windows.net/orders/$default', '0'),
      ])
      const error = await failure(resolveGroup(store, {eventHub: 'orders'}))
      expect([error.exitCode, error.message]).to.deep.equal([
        2,
        `Several namespaces in this container: "${NS}", "fabrikam.servicebus.windows.net".`,
      ])
    })

    it('legacy directories only: no namespace (exit 3), saying what the folders are; a lone one is walked into as before', async () => {
      const error = await failure(resolveGroup(storeOf(legacy).store, {}))
      expect([error.exitCode, error.message]).to.deep.equal([3, 'No checkpoints or ownership blobs in this container.'])
      expect(error.hint).to.equal(
        'Its top-level folders ("$Default", "app1", "filebeat") are not namespaces (fully qualified hosts): pass --namespace to name one.',
      )
      const lone = await failure(resolveGroup(storeOf(['$Default/0']).store, {}))
      expect([lone.exitCode, lone.message]).to.deep.equal([3, 'No checkpoints or ownership blobs under "$Default".'])
      // A single-label host of a local setup, alone in its container, is still inferred.
      const local = await resolveGroup(storeOf(blobs('eventhubs-emulator/hub/$default', '0')).store, {})
      expect(local.namespace).to.equal('eventhubs-emulator')
    })

    it('a named namespace is matched whatever its shape', async () => {
      const ref = await resolveGroup(storeOf([...legacy, ...blobs('ns/hub/$default', '0')]).store, {namespace: 'NS'})
      expect(ref.prefixes).to.deep.equal(['ns/hub/$default/'])
    })
  })

  describe('with allowNew (a change that can create checkpoints)', () => {
    const stored = [...blobs('NS/Orders/$Default', '0')]

    it('a consumer group named in full that has no blobs yet resolves to its lower-cased prefix, and says so', async () => {
      const ref = await resolveGroup(storeOf(stored).store, {namespace: 'ns', eventHub: 'orders', consumerGroup: 'NewGroup'}, undefined, {
        allowNew: true,
      })
      expect(ref).to.deep.include({namespace: 'NS', eventHub: 'Orders', consumerGroup: 'NewGroup', prefixes: ['ns/orders/newgroup/']})
      expect(ref.newGroup).to.equal(
        'Nothing is stored yet for consumer group "NewGroup": this change creates its first blobs, under ns/orders/newgroup/ (lower-cased, as the JS, .NET, Python and Go SDKs read them). Existing consumer groups there: "$Default".',
      )
    })

    it('in an empty container the whole group is new', async () => {
      const ref = await resolveGroup(storeOf([]).store, {namespace: 'NS', eventHub: 'Hub', consumerGroup: '$Default'}, undefined, {
        allowNew: true,
      })
      expect(ref).to.deep.include({namespace: 'NS', eventHub: 'Hub', consumerGroup: '$Default', prefixes: ['ns/hub/$default/']})
      expect(ref.newGroup).to.match(/^Nothing is stored yet for namespace "NS"/)
    })

    it('an existing group resolves as without allowNew', async () => {
      const ref = await resolveGroup(storeOf(stored).store, {namespace: 'ns', eventHub: 'orders', consumerGroup: '$default'}, undefined, {
        allowNew: true,
      })
      expect(ref).to.deep.equal({namespace: 'NS', eventHub: 'Orders', consumerGroup: '$Default', prefixes: ['NS/Orders/$Default/']})
    })

    it('a group not named in full is not created: not found, with how to create one', async () => {
      const error = await failure(
        resolveGroup(storeOf(stored).store, {eventHub: 'orders', consumerGroup: 'newgroup'}, undefined, {allowNew: true}),
      )
      expect(error.exitCode).to.equal(3)
      expect(error.hint).to.contain('To create a new consumer group, name it in full: --namespace, --eventhub and --consumer-group.')
    })

    it('with newBesideOthers (migrate), a new event hub or namespace beside existing ones is created, not refused', async () => {
      const resolveNew = (filter: ScopeFilter) =>
        resolveGroup(storeOf(stored).store, filter, undefined, {allowNew: true, newBesideOthers: true})
      const hub = await resolveNew({namespace: 'ns', eventHub: 'payments', consumerGroup: '$Default'})
      expect(hub.prefixes).to.deep.equal(['ns/payments/$default/'])
      expect(hub.newGroup).to.match(/^Nothing is stored yet for event hub "payments".* Existing event hubs there: "Orders"\.$/)
      const namespace = await resolveNew({namespace: 'other.example', eventHub: 'h', consumerGroup: 'g'})
      expect(namespace.prefixes).to.deep.equal(['other.example/h/g/'])
    })

    it('a misspelt event hub beside existing ones is not found, not a new hub', async () => {
      const error = await failure(
        resolveGroup(storeOf(stored).store, {namespace: 'ns', eventHub: 'ordres', consumerGroup: '$default'}, undefined, {allowNew: true}),
      )
      expect([error.exitCode, error.message]).to.deep.equal([3, 'No event hub "ordres" under "NS".'])
    })

    it('refuses a name no blob path can hold as one segment (exit 2)', async () => {
      for (const consumerGroup of ['a/b', 'a\\b', ' padded', 'padded ', 'tab\there', 'del\x7f', '']) {
        const error = await failure(
          resolveGroup(storeOf(stored).store, {namespace: 'ns', eventHub: 'orders', consumerGroup}, undefined, {allowNew: true}),
        )
        expect(error.exitCode, JSON.stringify(consumerGroup)).to.equal(2)
        expect(error.message).to.contain('--consumer-group').and.to.contain('cannot name a new consumer group')
      }
      // Every level below the first missing one is checked: here the namespace is new, and the hub's name is bad.
      const hub = await failure(
        resolveGroup(storeOf([]).store, {namespace: 'ns', eventHub: 'a/b', consumerGroup: 'cg'}, undefined, {allowNew: true}),
      )
      expect([hub.exitCode, hub.message]).to.deep.equal([
        2,
        '--eventhub "a/b" cannot name a new event hub: it must be non-empty, without "/", "\\", control characters, or spaces at either end.',
      ])
    })
  })
})

describe('resolveListPrefixes', () => {
  const {store} = storeOf([
    ...blobs('ns/hub/$default', '0'),
    ...blobs('NS/Hub/$Default', '0'),
    ...blobs('ns/other/$default', '0'),
    ...blobs('fabrikam/hub/$default', '0'),
  ])

  it('no filter: one flat listing of the whole container', async () => {
    expect(await resolveListPrefixes(store, {})).to.deep.equal([''])
  })

  it('walks down only while the levels are named from the top, keeping every spelling', async () => {
    expect(await resolveListPrefixes(store, {namespace: 'NS'})).to.have.members(['ns/', 'NS/'])
    expect(await resolveListPrefixes(store, {namespace: 'ns', eventHub: 'HUB'})).to.have.members(['ns/hub/', 'NS/Hub/'])
    expect(await resolveListPrefixes(store, {namespace: 'ns', eventHub: 'hub', consumerGroup: '$DEFAULT'})).to.have.members([
      'ns/hub/$default/',
      'NS/Hub/$Default/',
    ])
    // An event hub without a namespace: the whole container, filtered per blob afterwards.
    expect(await resolveListPrefixes(store, {eventHub: 'hub'})).to.deep.equal([''])
    expect(await resolveListPrefixes(store, {namespace: 'ns', consumerGroup: '$default'})).to.have.members(['ns/', 'NS/'])
  })

  it('nothing to list when a named level is not stored', async () => {
    expect(await resolveListPrefixes(store, {namespace: 'missing'})).to.deep.equal([])
    expect(await resolveListPrefixes(store, {namespace: 'ns', eventHub: 'missing', consumerGroup: '$default'})).to.deep.equal([])
  })
})

describe('matchesFilter', () => {
  const parts = {namespace: 'NS.Example', eventHub: 'Orders', consumerGroup: '$Default'}

  it('matches every named level case-insensitively and ignores unnamed ones', () => {
    const yes: ScopeFilter[] = [
      {},
      {namespace: 'ns.example'},
      {eventHub: 'ORDERS'},
      {consumerGroup: '$default'},
      {namespace: 'NS.EXAMPLE', eventHub: 'orders', consumerGroup: '$DEFAULT'},
    ]
    for (const filter of yes) expect(matchesFilter(parts, filter), JSON.stringify(filter)).to.equal(true)
  })

  it('any named level that differs is no match (and a prefix is not a match)', () => {
    const no: ScopeFilter[] = [
      {namespace: 'ns'},
      {eventHub: 'order'},
      {consumerGroup: 'default'},
      {namespace: 'ns.example', eventHub: 'payments'},
    ]
    for (const filter of no) expect(matchesFilter(parts, filter), JSON.stringify(filter)).to.equal(false)
  })
})

describe('speculativePath', () => {
  it('the directory listings along the lower-cased path, and the flat listing it ends in', () => {
    expect(speculativePath('', [NS.toUpperCase(), 'Orders', '$Default'])).to.deep.equal({
      directories: ['', `${NS}/`, `${NS}/orders/`],
      flat: `${NS}/orders/$default/`,
    })
    expect(speculativePath(`${NS}/`, ['Orders'])).to.deep.equal({directories: [`${NS}/`], flat: `${NS}/orders/`})
  })

  it("below a spelling that is not lower-case (Java's), the names as given", () => {
    expect(speculativePath(`${NS}/Orders/`, ['$Default'])).to.deep.equal({
      directories: [`${NS}/Orders/`],
      flat: `${NS}/Orders/$Default/`,
    })
  })

  it('none for a name no blob path holds as one segment', () => {
    expect(speculativePath('', [NS, 'a/b', '$default'])).to.equal(undefined)
    expect(speculativePath('', [NS, '', '$default'])).to.equal(undefined)
  })
})
