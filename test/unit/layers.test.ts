// The floors rule (eslint-rules/layers.js) with the floors eslint.config.js gives it: arrows back up and
// reaches into closed folders are reported, everything else passes, whatever the files are called.
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {expect} from 'chai'
import {Linter, type Rule, RuleTester} from 'eslint'
import tseslint from 'typescript-eslint'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const load = (file: string) => import(pathToFileURL(path.join(ROOT, file)).href)
const {default: layers} = (await load('eslint-rules/layers.js')) as {default: Rule.RuleModule}
const config = (await load('eslint.config.js')) as {floors: unknown[]; forbidden: unknown[]}
const options = [{floors: config.floors, forbidden: config.forbidden}]

const tester = new RuleTester({languageOptions: {parser: tseslint.parser as Linter.Parser}})

/** A case: `code` in the file at `file` (a path from the repository root). */
const at = (file: string, code: string) => ({filename: path.join(ROOT, file), code, options})
const up = (file: string, code: string) => ({...at(file, code), errors: [{messageId: 'upward'}]})
const closed = (file: string, code: string) => ({...at(file, code), errors: [{messageId: 'forbidden'}]})

describe('the floors lint rule', () => {
  it('is configured with the floors of the house, top floor first, ground floor last', () => {
    const names = (config.floors as {name: string}[]).map((floor) => floor.name)
    expect(names[0]).to.equal('commands')
    expect(names.at(-1)).to.equal('ground')
    expect(names).to.have.length(8)
  })

  tester.run('layers', layers, {
    valid: [
      // Down the house, floor by floor and across several floors at once.
      at('src/commands/show.ts', "import {BaseCommand} from '../base-command.js'"),
      at('src/commands/reset.ts', "import {resetTargets} from '../change/scenarios.js'"),
      at('src/change-command.ts', "import {EhcpCommand} from './base-command.js'"),
      at('src/base-command.ts', "const {EventHubReader} = await import('./eventhubs/reader.js')"),
      at('src/output/change.ts', "import type {ChangePlan} from '../change/plan.js'"),
      at('src/change/scenarios.ts', "import {EventHubReader} from '../eventhubs/reader.js'"),
      at('src/change/plan.ts', "import {GroupId} from '../store/group.js'"),
      at('src/eventhubs/lag.ts', "import {decodeCheckpoint} from '../store/codec.js'"),
      at('src/flags.ts', "import {parseTime} from './time.js'"),
      at('src/store/blob-rest.ts', "import {EhcpError} from '../errors.js'"),
      at('src/signals.ts', "export {EhcpError} from './errors.js'"),
      // The moves under way: CSV and reset targets below their users, a bottom module for connection strings.
      at('src/change/plan-file.ts', "import {parseCsv} from '../csv.js'"),
      at('src/output/tabular.ts', "import {toCsv} from '../csv.js'"),
      at('src/eventhubs/positions.ts', "import {mapBounded} from '../concurrency.js'"),
      at('src/change/plan.ts', "import {lookUpPosition} from '../eventhubs/positions.js'"),
      at('src/eventhubs/reader.ts', "import {parseConnectionString} from '../connection-string.js'"),
      at('src/store/connect.ts', "import {parseConnectionString} from '../connection-string.js'"),
      // Same floor.
      at('src/flags.ts', "import {EventHubReader} from './eventhubs/reader.js'"),
      at('src/store/store.ts', "import {BlobRestClient} from './blob-rest.js'"),
      at('src/time.ts', "import {StoreError} from './store/index.js'"),
      at('src/errors.ts', "import {redact} from './redact.js'"),
      // Packages have no floor; tests, benchmarks and local stand-ins are on none and may import the product.
      at('src/store/store.ts', "import {BlobServiceClient} from '@azure/storage-blob'"),
      at('src/errors.ts', "import {inspect} from 'node:util'"),
      at('test/unit/plan.test.ts', "import {planChange} from '../../src/change/plan.js'"),
      at('test/integration/x.test.ts', "import {startStandIn} from '../../local/eventhubs-standin.js'"),
      at('bench/run.ts', "import {startAzurite} from '../local/azurite.js'"),
      at('bench/run.ts', "import {openStore} from '../src/store/index.js'"),
      at('local/eventhubs-standin.ts', "import {EhcpError} from '../src/errors.js'"),
    ],
    invalid: [
      // Today's two arrows back up.
      up('src/change/plan-file.ts', "import {parseCsv} from '../output/tabular.js'"),
      up('src/eventhubs/positions.ts', "import {type ResetTarget, positionsFor} from '../change/plan.js'"),
      // Every way of importing counts, a type as much as a value.
      up('src/eventhubs/positions.ts', "import type {ResetTarget} from '../change/plan.js'"),
      up('src/store/group.ts', "export {planChange} from '../change/plan.js'"),
      up('src/store/group.ts', "export * from '../change/plan.js'"),
      up('src/store/scope.ts', "const {addLag} = await import('../eventhubs/lag.js')"),
      up('src/store/scope.ts', "type Lag = import('../eventhubs/lag.js').Lag"),
      // One floor up, several floors up, and from the ground floor (anything new in src/ lands there).
      up('src/base-command.ts', "import {ChangeCommand} from './change-command.js'"),
      up('src/output/views.ts', "import {EhcpCommand} from '../base-command.js'"),
      up('src/change-command.ts', "import Show from './commands/show.js'"),
      up('src/errors.ts', "import {readScope} from './flags.js'"),
      up('src/csv.ts', "import {decodeCheckpoint} from './store/codec.js'"),
      up('src/connection-string.ts', "import {EhcpError} from './signals.js'"),
      up('src/store/blob-rest.ts', "import {EventHubReader} from '../eventhubs/reader.js'"),
      // Closed folders.
      closed('src/store/store.ts', "import {startAzurite} from '../../test/support/azurite.js'"),
      closed('src/eventhubs/reader.ts', "import {startStandIn} from '../../local/eventhubs-standin.js'"),
      closed('src/output/views.ts', "import {scenarios} from '../../bench/baselines.js'"),
      closed('bench/run.ts', "import {startAzurite} from '../test/support/azurite.js'"),
      closed('local/azurite.ts', "import {sharedAzurite} from '../test/support/services.js'"),
      // One report per import, for each bad import of a file.
      {
        name: 'three imports, two of them up',
        ...at(
          'src/change/plan.ts',
          "import {a} from '../output/tabular.js'\nimport {b} from '../errors.js'\nimport {c} from '../commands/set.js'",
        ),
        errors: [
          {messageId: 'upward', line: 1},
          {messageId: 'upward', line: 3},
        ],
      },
    ],
  })

  it('names the file and both floors in its message', () => {
    const linter = new Linter({cwd: ROOT})
    const messages = linter.verify(
      "import {parseCsv} from '../output/tabular.js'",
      {files: ['**/*.ts'], plugins: {local: {rules: {layers}}}, rules: {'local/layers': ['error', ...options]}},
      path.join(ROOT, 'src/change/plan-file.ts'),
    )
    expect(messages).to.have.length(1)
    expect(messages[0]!.message).to.equal(
      "Arrow back up: src/change/plan-file.ts (floor 'change') imports '../output/tabular.js' from floor 'output', above it. " +
        'A file may import only from its own floor or below.',
    )
  })
})
