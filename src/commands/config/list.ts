import {EhcpBaseCommand} from '../../base-command.js'
import {renderProfileList} from '../../output/profiles.js'
import {configDir, listProfiles, type ProfilesReport} from '../../profiles.js'

export default class ConfigListCommand extends EhcpBaseCommand<typeof ConfigListCommand> {
  static summary = 'List the saved profiles; the default one is marked. Secrets are never printed.'
  static examples = ['<%= config.bin %> config list', '<%= config.bin %> config list --json']

  async run(): Promise<ProfilesReport> {
    const result = await listProfiles(configDir(process.env))
    this.render(() => renderProfileList(result, this.output))
    return result
  }
}
