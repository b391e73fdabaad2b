import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {EhcpBaseCommand} from '../../base-command.js'
import {usageError} from '../../errors.js'
import {configDir, type ProfilesReport, useProfile} from '../../profiles.js'

export default class ConfigUseCommand extends EhcpBaseCommand<typeof ConfigUseCommand> {
  static summary = 'Make a saved profile the default: commands use it when no profile is named and the environment gives no connection.'
  static examples = ['<%= config.bin %> config use prod', '<%= config.bin %> config use --none']
  static args = {name: Args.string({description: 'The profile name.'})}
  static flags = {none: Flags.boolean({summary: 'Leave no default profile.'})}

  async run(): Promise<ProfilesReport> {
    const result = await useProfile(configDir(process.env), this.chosenName())
    this.render(() =>
      result.defaultProfile === null ? 'No default profile now.' : `Default profile: ${result.defaultProfile} (${result.configFile}).`,
    )
    return result
  }

  private chosenName(): string | undefined {
    if (this.flags.none && this.args.name !== undefined) throw usageError('Name a profile or pass --none, not both.')
    if (!this.flags.none && this.args.name === undefined) throw usageError('Name the profile to make the default, or pass --none.')
    return this.args.name
  }
}
