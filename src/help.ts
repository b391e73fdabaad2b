/**
 * ehcp's help (oclif "helpClass"): oclif's own, with examples and how to connect at the end of the top-level
 * help, so that `ehcp` alone shows a new user where to start; help for a command that does not exist
 * (`ehcp help shwo`) is a usage error with a suggestion, as running it is.
 */
import * as Errors from '@oclif/core/errors'
import {Help} from '@oclif/core/help'

import {reportUnknownCommand} from './hooks/command-not-found.js'

/** Top-level examples: a first look, a lag check, a planned rewind, and help for one command. */
const EXAMPLES = [
  [
    'Sign in with `az login`, then see what a container holds:',
    'list --account-url https://ACCOUNT.blob.core.windows.net --container checkpoints',
  ],
  ['One consumer group, partition by partition, with lag:', "show --eventhub orders --consumer-group '$Default' --lag"],
  ['Plan a two-hour replay (nothing is written):', 'reset --eventhub orders --consumer-group billing --by-duration 2h --dry-run'],
  ["One command's flags and examples:", 'show -h'],
] as const

const CONNECTING = [
  'Microsoft Entra ID first: sign in with `az login` (or run where a managed identity or workload identity is set up) and ' +
    'pass --account-url https://ACCOUNT.blob.core.windows.net with --container, or export EHCP_ACCOUNT_URL and EHCP_CONTAINER. ' +
    'Reading needs the role Storage Blob Data Reader on the container; changing checkpoints, Storage Blob Data Contributor.',
  'Or an account key: export AZURE_STORAGE_CONNECTION_STRING (or pass --connection-string) with --container; ' +
    'a SAS URL with --container-url; the local Azurite with --emulator.',
  "Lag and time-based resets also read Event Hubs: Entra ID against the checkpoints' namespace, or EVENTHUBS_CONNECTION_STRING.",
]

/**
 * A shell command in lines of at most `width` characters (a single word longer than that stays whole), each
 * but the last ending in ` \`, so that it still pastes into a shell; continuation lines are indented.
 */
export function shellLines(command: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of command.split(' ')) {
    const next = line === '' ? word : `${line} ${word}`
    // Room for the " \" that ends every line but the last.
    if (line !== '' && line.trim() !== '' && next.length + 2 > width) {
      lines.push(`${line} \\`)
      line = `    ${word}`
    } else {
      line = next
    }
  }
  return [...lines, line]
}

export default class EhcpHelp extends Help {
  override async showHelp(argv: string[]): Promise<void> {
    // oclif imports a command's module (and all it imports) to show its help when a flag's defaultHelp is a
    // function, to compute that default again. ehcp's return constants ('2m', '60s', '1h'), which the manifest
    // holds already (the startup test pins that they match): its help comes from the manifest alone.
    for (const command of this.config.commands) if (command.pluginName === this.config.name) command.hasDynamicHelp = false
    try {
      await super.showHelp(argv)
    } catch (error) {
      const unknown = /^Command (.+) not found\.$/.exec((error as Error | undefined)?.message ?? '')
      if (!unknown) throw error
      reportUnknownCommand(this.config, unknown[1]!, argv)
      Errors.exit(2)
    }
  }

  protected override async showRootHelp(): Promise<void> {
    await super.showRootHelp()
    const width = this.opts.maxWidth ?? 80
    const example = ([what, command]: readonly [string, string]) =>
      [what, ...shellLines(`$ ${this.config.bin} ${command}`, width - 4).map((line) => `  ${line}`)].join('\n')
    this.log(this.section('EXAMPLES', EXAMPLES.map(example).join('\n\n')))
    this.log('')
    this.log(this.section('CONNECTING', this.wrap(CONNECTING.join('\n\n'), 2)))
    this.log('')
  }
}
