/** The config commands' human output: profiles as a table, one profile as lines; secrets are already replaced (profiles.ts). */
import {type ProfileReport, type ProfilesReport, SETTING_FLAGS, type SettingKey} from '../profiles.js'
import {renderTable} from './tabular.js'
import type {OutputSettings} from './terminal.js'

/** Each setting's label: the flag that gives it. */
const LABELS = SETTING_FLAGS

const text = (value: string | boolean | undefined) => (value === undefined ? '' : String(value))

const storage = (p: ProfileReport) => {
  const s = p.settings
  return String(s.containerUrl ?? s.connectionString ?? s.accountUrl ?? (s.emulator ? 'emulator' : ''))
}

export function renderProfileList(report: ProfilesReport, settings: OutputSettings): string {
  if (report.profiles.length === 0)
    return `No profiles in ${report.configFile}. Save one with: ehcp config set NAME --account-url URL --container NAME`
  const rows = report.profiles.map((p) => [
    p.default ? '*' : '',
    p.name,
    storage(p),
    text(p.settings.container),
    text(p.settings.namespace),
    text(p.settings.eventHub),
    text(p.settings.consumerGroup),
  ])
  return renderTable(['DEFAULT', 'NAME', 'STORAGE', 'CONTAINER', 'NAMESPACE', 'EVENT HUB', 'CONSUMER GROUP'], rows, settings.style.bold)
}

export function renderProfile(profile: ProfileReport, configFile: string): string {
  const entries = Object.entries(profile.settings) as Array<[SettingKey, string | boolean]>
  const width = Math.max(0, ...entries.map(([key]) => LABELS[key].length))
  return [
    `Profile ${profile.name}${profile.default ? ' (default)' : ''}, in ${configFile}:`,
    ...(entries.length ? entries.map(([key, value]) => `  ${LABELS[key].padEnd(width)}  ${String(value)}`) : ['  (no values)']),
  ].join('\n')
}
