import * as Args from '@oclif/core/args'

import {EhcpBaseCommand} from '../../base-command.js'
import {renderProfile} from '../../output/profiles.js'
import {configDir, type ProfilesReport, showProfile} from '../../profiles.js'

export default class ConfigShowCommand extends EhcpBaseCommand<typeof ConfigShowCommand> {
  static summary = 'Show a saved profile (by default the one commands use: EHCP_PROFILE, else the default). Secrets are never printed.'
  static examples = ['<%= config.bin %> config show prod', '<%= config.bin %> config show --json']
  static args = {name: Args.string({description: 'The profile name.'})}

  async run(): Promise<ProfilesReport> {
    const result = await showProfile(configDir(process.env), this.args.name, process.env)
    this.render(() => renderProfile(result.profiles[0]!, result.configFile))
    return result
  }
}
