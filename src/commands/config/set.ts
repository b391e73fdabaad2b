import * as Args from '@oclif/core/args'

import {EhcpBaseCommand} from '../../base-command.js'
import {profileSettingFlags, readProfileUpdate} from '../../flags.js'
import {renderProfile} from '../../output/profiles.js'
import {configDir, type ProfilesReport, setProfile} from '../../profiles.js'

export default class ConfigSetCommand extends EhcpBaseCommand<typeof ConfigSetCommand> {
  static summary = 'Save connection and scope values as a named profile (created, or updated with the values given).'
  static description =
    'A profile saves what commands would otherwise repeat: one way to storage, the container, and the scope. Use it with ' +
    '--profile NAME or EHCP_PROFILE, or make it the default with `ehcp config use NAME`; flags given to a command still win. ' +
    'A secret (a connection string, a SAS) is saved only with --save-secret, in a file only you can read, and never printed.'
  static examples = [
    '<%= config.bin %> config set prod --account-url https://acct.blob.core.windows.net --container checkpoints --namespace contoso.servicebus.windows.net',
    '<%= config.bin %> config set prod --eventhub orders --consumer-group billing --eventhubs-consumer-group ehcp',
    '<%= config.bin %> config set local --emulator --container checkpoints',
    'AZURE_STORAGE_CONNECTION_STRING=... <%= config.bin %> config set staging --container checkpoints --save-secret',
    '<%= config.bin %> config set prod --unset consumer-group',
  ]
  static args = {name: Args.string({description: 'The profile name.', required: true})}
  static flags = profileSettingFlags

  async run(): Promise<ProfilesReport> {
    const result = await setProfile(configDir(process.env), this.args.name, readProfileUpdate(this.flags, process.env))
    this.render(() => `Saved. ${renderProfile(result.profiles[0]!, result.configFile)}`)
    return result
  }
}
