import * as Args from '@oclif/core/args'

import {EhcpBaseCommand} from '../../base-command.js'
import {configDir, deleteProfile, type ProfilesReport} from '../../profiles.js'

export default class ConfigDeleteCommand extends EhcpBaseCommand<typeof ConfigDeleteCommand> {
  static summary = 'Delete a saved profile, secrets included; deleting the default profile leaves no default.'
  static examples = ['<%= config.bin %> config delete staging']
  static args = {name: Args.string({description: 'The profile name.', required: true})}

  async run(): Promise<ProfilesReport> {
    const result = await deleteProfile(configDir(process.env), this.args.name)
    this.render(() => `Deleted profile ${this.args.name} from ${result.configFile}.`)
    return result
  }
}
