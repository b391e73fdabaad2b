/**
 * Profiles: named sets of connection and scope values saved in ehcp's config file, so that commands need not
 * repeat them. This module owns the file (where it is, its format, reading it safely, writing it atomically)
 * and the pure rules: which profile applies, and which values it fills in. Which flag a setting stands for
 * is flags.ts's business; the config commands render what this module returns.
 */
import {randomBytes} from 'node:crypto'
import {chmod, mkdir, open, readFile, rename, rm, stat} from 'node:fs/promises'
import {homedir, userInfo} from 'node:os'
import path from 'node:path'

import {parseConnectionString} from './connection-string.js'
import {quote, usageError} from './errors.js'
import {displayUrl, registerSecret} from './redact.js'
import {checkContainerName, resolveStorageTarget, storageConnection} from './store/connect.js'

/** What a profile can hold; every value optional. The storage way is at most one of the first four. */
export interface ProfileSettings {
  containerUrl?: string
  connectionString?: string
  accountUrl?: string
  emulator?: boolean
  container?: string
  namespace?: string
  eventHub?: string
  consumerGroup?: string
  eventHubsConnectionString?: string
  eventHubsConsumerGroup?: string
}

export type SettingKey = keyof ProfileSettings

/** The flag each profile setting stands for: how a profile fills in flags, and how `config set` reads them. */
export const SETTING_FLAGS = {
  containerUrl: 'container-url',
  connectionString: 'connection-string',
  accountUrl: 'account-url',
  emulator: 'emulator',
  container: 'container',
  namespace: 'namespace',
  eventHub: 'eventhub',
  consumerGroup: 'consumer-group',
  eventHubsConnectionString: 'eventhubs-connection-string',
  eventHubsConsumerGroup: 'eventhubs-consumer-group',
} as const satisfies Record<SettingKey, string>

/** The ways of reaching storage, in the contract's order. A profile holds at most one. */
export const STORAGE_WAYS = ['containerUrl', 'connectionString', 'accountUrl', 'emulator'] as const satisfies readonly SettingKey[]
const STRING_KEYS = [
  'containerUrl',
  'connectionString',
  'accountUrl',
  'container',
  'namespace',
  'eventHub',
  'consumerGroup',
  'eventHubsConnectionString',
  'eventHubsConsumerGroup',
] as const satisfies readonly SettingKey[]
export const SETTING_KEYS: readonly SettingKey[] = [...STRING_KEYS, 'emulator']

/** The config file's content. Keys ehcp does not know (at the top, or in a profile) are kept as they are when it is rewritten. */
export interface ConfigData {
  schemaVersion: 1
  defaultProfile?: string
  profiles: Record<string, Record<string, unknown>>
  [key: string]: unknown
}

export interface Config {
  /** The file's path (it may not exist yet). */
  file: string
  data: ConfigData
}

export const CONFIG_FILE_NAME = 'config.json'

/** `EHCP_CONFIG_DIR`, else `$XDG_CONFIG_HOME/ehcp` (an absolute path only, as the XDG spec says), else `~/.config/ehcp`. */
export function configDir(env: NodeJS.ProcessEnv, home: string = homedir()): string {
  if (env.EHCP_CONFIG_DIR) return path.resolve(env.EHCP_CONFIG_DIR)
  const xdg = env.XDG_CONFIG_HOME
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'ehcp')
  // An empty or relative HOME would put the file under the working directory (a repository's .config/ehcp could
  // then name the default profile): the account's home directory instead, else none.
  const base = path.isAbsolute(home) ? home : accountHome()
  if (!base)
    throw usageError(
      `There is no home directory for the config file (HOME is ${quote(home)}).`,
      'Set HOME, XDG_CONFIG_HOME or EHCP_CONFIG_DIR to an absolute path.',
    )
  return path.join(base, '.config', 'ehcp')
}

/** The home directory the system's account database gives, when it gives an absolute one. */
function accountHome(): string | undefined {
  try {
    const home = userInfo().homedir
    return path.isAbsolute(home) ? home : undefined
  } catch {
    return undefined
  }
}

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** A profile name: 1-64 letters, digits, ".", "_" and "-", starting with a letter or digit (safe in a shell and a file). */
export function checkProfileName(name: string, source: string): string {
  if (PROFILE_NAME.test(name)) return name
  throw usageError(
    `${source} ${quote(name)} is not a valid profile name.`,
    'A profile name is 1-64 letters, digits, ".", "_" and "-", starting with a letter or digit.',
  )
}

const emptyConfig = (): ConfigData => ({schemaVersion: 1, profiles: {}})

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** "line L, column C" of a position in a text (both from 1). */
function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position).split('\n')
  return `line ${before.length}, column ${before.at(-1)!.length + 1}`
}

/** Reads the file's text: a corrupt or unexpected file is a usage error naming the file; nothing is changed. */
export function parseConfig(text: string, file: string): ConfigData {
  const fix = `Fix ${file} by hand, or move it away to start afresh.`
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    // Where, never what: V8's message quotes the text around the error, which may be part of a secret.
    const at = /at position (\d+)/.exec((error as Error).message)?.[1]
    throw usageError(`The config file ${file} is not valid JSON${at === undefined ? '' : ` (${lineAndColumn(text, Number(at))})`}.`, fix)
  }
  if (!isObject(data)) throw usageError(`The config file ${file} does not hold a JSON object.`, fix)
  if (data.schemaVersion !== 1)
    throw usageError(`The config file ${file} has schemaVersion ${quote(data.schemaVersion)}; this ehcp reads version 1.`, fix)
  const profiles = data.profiles ?? {}
  if (!isObject(profiles)) throw usageError(`The config file ${file}: "profiles" is not an object.`, fix)
  for (const [name, profile] of Object.entries(profiles)) {
    if (!PROFILE_NAME.test(name))
      throw usageError(`The config file ${file} has a profile named ${quote(name)}, which is not a valid profile name.`, fix)
    if (!isObject(profile)) throw usageError(`The config file ${file}: profile "${name}" is not an object.`, fix)
    for (const key of STRING_KEYS) {
      if (profile[key] !== undefined && typeof profile[key] !== 'string')
        throw usageError(`The config file ${file}: profile "${name}": ${key} is not a string.`, fix)
    }
    if (profile.emulator !== undefined && typeof profile.emulator !== 'boolean')
      throw usageError(`The config file ${file}: profile "${name}": emulator is not true or false.`, fix)
    const ways = STORAGE_WAYS.filter((w) => profile[w] !== undefined && profile[w] !== false)
    if (ways.length > 1)
      throw usageError(`The config file ${file}: profile "${name}" has more than one way to storage (${ways.join(', ')}).`, fix)
  }
  const defaultProfile = data.defaultProfile
  if (defaultProfile !== undefined) {
    if (typeof defaultProfile !== 'string') throw usageError(`The config file ${file}: "defaultProfile" is not a string.`, fix)
    if (!Object.hasOwn(profiles, defaultProfile))
      throw usageError(`The config file ${file} names default profile "${defaultProfile}", which it does not hold.`, fix)
  }
  return {...data, schemaVersion: 1, profiles: profiles as ConfigData['profiles'], defaultProfile}
}

/** A profile's known settings (types checked by parseConfig). */
export function profileSettings(raw: Record<string, unknown>): ProfileSettings {
  const settings: ProfileSettings = {}
  for (const key of STRING_KEYS) if (typeof raw[key] === 'string') settings[key] = raw[key]
  if (raw.emulator === true) settings.emulator = true
  return settings
}

/** The secrets a profile holds: connection strings, and a container URL's SAS. */
export function profileSecrets(settings: ProfileSettings): string[] {
  const secrets: string[] = []
  for (const cs of [settings.connectionString, settings.eventHubsConnectionString])
    if (cs) secrets.push(...parseConnectionString(cs).secrets)
  if (settings.containerUrl?.includes('?')) {
    const query = settings.containerUrl.slice(settings.containerUrl.indexOf('?') + 1)
    secrets.push(query)
    const sig = new URLSearchParams(query).get('sig')
    if (sig) secrets.push(sig)
  }
  return secrets
}

export const holdsSecret = (data: ConfigData) => Object.values(data.profiles).some((raw) => profileSecrets(profileSettings(raw)).length > 0)

/**
 * Reads the config file of `dir`; an empty configuration when there is none. A file holding a secret that others
 * may read (or write) is refused, as ssh refuses such a key: nothing is read from it until the user fixes its mode.
 */
export async function readConfig(dir: string): Promise<Config> {
  const file = path.join(dir, CONFIG_FILE_NAME)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {file, data: emptyConfig()}
    throw usageError(`The config file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`)
  }
  const data = parseConfig(text, file)
  // Registered before anything else can fail: no message or log may show them.
  for (const raw of Object.values(data.profiles)) for (const secret of profileSecrets(profileSettings(raw))) registerSecret(secret)
  if (process.platform !== 'win32' && holdsSecret(data)) {
    const mode = (await stat(file)).mode & 0o777
    if (mode & 0o077) {
      throw usageError(
        `The config file ${file} holds a secret and others can access it (mode ${mode.toString(8).padStart(4, '0')}); ehcp will not use it.`,
        `Make it yours alone: chmod 600 '${file}'`,
      )
    }
  }
  return {file, data}
}

/** A config directory or file ehcp cannot write (read-only, not a directory, not allowed): a usage error naming it. */
const unwritable = (file: string, error: unknown) =>
  usageError(
    `The config file ${file} cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
    'Set EHCP_CONFIG_DIR (or XDG_CONFIG_HOME) to a directory you can write.',
  )

/** The config directory, created 0700 (and made 0700 when it exists). */
async function makeConfigDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, {recursive: true, mode: 0o700})
    if (process.platform !== 'win32') await chmod(dir, 0o700)
  } catch (error) {
    throw unwritable(path.join(dir, CONFIG_FILE_NAME), error)
  }
}

/** Writes the config atomically (a temporary file in the same directory, then a rename), the directory 0700 and the file 0600. */
export async function writeConfig(config: Config): Promise<void> {
  const dir = path.dirname(config.file)
  await makeConfigDir(dir)
  const temp = path.join(dir, `.${CONFIG_FILE_NAME}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const handle = await open(temp, 'wx', 0o600).catch((error: unknown) => {
    throw unwritable(config.file, error)
  })
  try {
    await handle.writeFile(`${JSON.stringify(config.data, null, 2)}\n`)
    await handle.sync()
  } catch (error) {
    await handle.close()
    await rm(temp, {force: true})
    throw unwritable(config.file, error)
  }
  await handle.close()
  try {
    await rename(temp, config.file)
  } catch (error) {
    await rm(temp, {force: true})
    throw unwritable(config.file, error)
  }
}

const LOCK_WAIT_MS = 5_000
/** A lock older than this was left by an ehcp that died mid-write (a write takes milliseconds). */
const STALE_LOCK_MS = 10_000

/**
 * Runs a read-change-write of the config file of `dir` while holding its lock (`config.json.lock`, created
 * exclusively), so that two `ehcp config` at once both land: without it, the later rename dropped the other's
 * change. Another holder is waited for; a lock left behind by a killed ehcp is taken over once stale.
 */
export async function withConfigLock<T>(dir: string, change: () => Promise<T>): Promise<T> {
  await makeConfigDir(dir)
  const lock = path.join(dir, `${CONFIG_FILE_NAME}.lock`)
  const deadline = Date.now() + LOCK_WAIT_MS
  for (;;) {
    try {
      await (await open(lock, 'wx', 0o600)).close()
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw usageError(
          `The config file's lock ${lock} cannot be created (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
        )
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      )
      if (age > STALE_LOCK_MS) await rm(lock, {force: true})
      else if (Date.now() > deadline)
        throw usageError(
          `The config file is being changed by another ehcp (${lock} exists).`,
          `Try again; if no other ehcp is running, remove ${lock}.`,
        )
      else await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 30))
    }
  }
  try {
    return await change()
  } finally {
    await rm(lock, {force: true})
  }
}

/** The profile a name designates, or a usage error listing the profiles there are. */
export function getProfile(data: ConfigData, name: string, file: string, source: string): ProfileSettings {
  checkProfileName(name, source)
  const raw = Object.hasOwn(data.profiles, name) ? data.profiles[name] : undefined
  if (!raw) {
    const names = Object.keys(data.profiles)
    throw usageError(
      `${source} "${name}": there is no such profile in ${file}.`,
      names.length ? `The profiles are: ${names.join(', ')} (ehcp config list).` : 'Save one with `ehcp config set NAME ...`.',
    )
  }
  return profileSettings(raw)
}

export interface NamedProfile {
  name: string
  settings: ProfileSettings
}

/** The profiles that apply: a named one (--profile, else EHCP_PROFILE), or else the default one (ehcp config use). */
export interface ProfileSelection {
  named?: NamedProfile
  fallback?: NamedProfile
}

export function selectProfiles(config: Config, flag: string | undefined, env: NodeJS.ProcessEnv): ProfileSelection {
  const {data, file} = config
  if (flag !== undefined) return {named: {name: flag, settings: getProfile(data, flag, file, '--profile')}}
  if (env.EHCP_PROFILE) return {named: {name: env.EHCP_PROFILE, settings: getProfile(data, env.EHCP_PROFILE, file, 'EHCP_PROFILE')}}
  if (data.defaultProfile) return {fallback: {name: data.defaultProfile, settings: profileSettings(data.profiles[data.defaultProfile]!)}}
  return {}
}

/** What the profiles add, and which profile gave the way to storage (for the undo command). */
export interface ProfileFill {
  values: ProfileSettings
  storageFrom?: string
}

/**
 * The values a profile fills in, each where the user gave none and the command takes it (`accepted`). Per value,
 * the first that has one wins: the flags (`given`), the named profile, the environment, the default profile —
 * the default profile applies only when no profile is named. The way to storage is one value: a profile's way is
 * taken whole, and only when neither the flags nor (for the default profile) the environment give one.
 */
export function fillFromProfiles(
  given: ProfileSettings,
  accepted: ReadonlySet<SettingKey>,
  selection: ProfileSelection,
  env: NodeJS.ProcessEnv,
): ProfileFill {
  const profile = selection.named ?? selection.fallback
  if (!profile) return {values: {}}
  // The default profile yields to the environment: a way to storage, the container, an Event Hubs connection string.
  const fallback = !selection.named
  const envWay = fallback && Boolean(env.AZURE_STORAGE_CONNECTION_STRING || env.EHCP_ACCOUNT_URL)
  const fromEnvironment: Partial<Record<SettingKey, boolean>> = fallback
    ? {container: Boolean(env.EHCP_CONTAINER), eventHubsConnectionString: Boolean(env.EVENTHUBS_CONNECTION_STRING)}
    : {}
  const values: ProfileSettings = {}
  let storageFrom: string | undefined
  const way = STORAGE_WAYS.find((w) => profile.settings[w] !== undefined)
  const givenWay = STORAGE_WAYS.some((w) => given[w] !== undefined && given[w] !== false)
  if (way && !givenWay && !envWay && accepted.has(way)) {
    if (way === 'emulator') values.emulator = true
    else values[way] = profile.settings[way]
    storageFrom = profile.name
  }
  for (const key of STRING_KEYS) {
    if ((STORAGE_WAYS as readonly string[]).includes(key)) continue
    const value = profile.settings[key]
    if (value === undefined || given[key] !== undefined || fromEnvironment[key] || !accepted.has(key)) continue
    values[key] = value
  }
  return storageFrom ? {values, storageFrom} : {values}
}

/**
 * A profile as `config set` leaves it: the settings given replace the profile's (a way to storage replaces its
 * way, and with it any secret the old way held); `unset` removes settings. Unknown keys are kept.
 */
export function updateProfile(
  raw: Record<string, unknown> | undefined,
  settings: ProfileSettings,
  unset: readonly SettingKey[] = [],
): Record<string, unknown> {
  const next: Record<string, unknown> = {...raw}
  if (STORAGE_WAYS.some((w) => settings[w] !== undefined)) for (const w of STORAGE_WAYS) delete next[w]
  for (const key of unset) delete next[key]
  for (const key of SETTING_KEYS) if (settings[key] !== undefined) next[key] = settings[key]
  return next
}

/**
 * Checks what `config set` is about to save, as a command would use it: the way to storage and the container are
 * resolved exactly as at connection time; a secret is saved only with `--save-secret`.
 */
export function checkSettings(settings: ProfileSettings, saveSecret: boolean): void {
  const secrets = profileSecrets(settings)
  for (const secret of secrets) registerSecret(secret)
  if (secrets.length && !saveSecret) {
    throw usageError(
      'That profile would hold a secret (a connection string, or a SAS in the container URL), which ehcp saves only when asked.',
      'Pass --save-secret to save it in the config file (readable by you alone), or use --account-url (Entra ID) or a container URL without SAS.',
    )
  }
  if (settings.container !== undefined) checkContainerName(settings.container, '--container')
  const way = STORAGE_WAYS.find((w) => settings[w] !== undefined)
  if (way) {
    // Resolved as a command would, without the environment: a container stands in when the profile names none.
    resolveStorageTarget({[way]: settings[way], container: settings.container ?? 'checkpoints'}, {})
  }
  if (settings.eventHubsConnectionString) {
    if (!parseConnectionString(settings.eventHubsConnectionString).fields.get('endpoint'))
      throw usageError('The Event Hubs connection string has no Endpoint.', 'Copy it from the portal (Shared access policies).')
  }
  for (const key of ['namespace', 'eventHub', 'consumerGroup', 'eventHubsConsumerGroup'] as const) {
    if (settings[key] !== undefined && settings[key].trim() === '') throw usageError(`An empty ${key} cannot be saved.`)
  }
}

/** A setting as list and show print it: secrets never, only what they are and (for storage) which account. */
export function displaySetting(key: SettingKey, value: string | boolean): string | boolean {
  if (typeof value === 'boolean') return value
  if (key === 'connectionString') {
    try {
      return `<secret: connection string for ${storageConnection(parseConnectionString(value)).account}>`
    } catch {
      return '<secret: connection string>'
    }
  }
  if (key === 'eventHubsConnectionString') {
    const endpoint = parseConnectionString(value).fields.get('endpoint')
    return `<secret: connection string for ${endpoint ? displayUrl(endpoint).replace(/\/+$/, '') : 'Event Hubs'}>`
  }
  if (key === 'containerUrl' || key === 'accountUrl') return `${displayUrl(value)}${value.includes('?') ? '?<secret: SAS>' : ''}`
  return value
}

/** A profile's settings as list and show print them, in a fixed order, secrets replaced. */
export function displayProfile(settings: ProfileSettings): Partial<Record<SettingKey, string | boolean>> {
  const shown: Partial<Record<SettingKey, string | boolean>> = {}
  for (const key of [...STORAGE_WAYS, ...STRING_KEYS.filter((k) => !(STORAGE_WAYS as readonly string[]).includes(k))]) {
    const value = settings[key]
    if (value !== undefined) shown[key] = displaySetting(key, value)
  }
  return shown
}

/** A profile as the config commands report it (their JSON output): secrets replaced by what they are. */
export interface ProfileReport {
  name: string
  /** The default profile (ehcp config use). */
  default: boolean
  settings: Partial<Record<SettingKey, string | boolean>>
}

export interface ProfilesReport {
  schemaVersion: 1
  configFile: string
  defaultProfile: string | null
  profiles: ProfileReport[]
}

const report = (data: ConfigData, name: string): ProfileReport => ({
  name,
  default: data.defaultProfile === name,
  settings: displayProfile(profileSettings(data.profiles[name]!)),
})

/** What `config set`'s flags give, as flags.ts reads them. */
export interface ProfileUpdate {
  settings: ProfileSettings
  saveSecret: boolean
  unset: SettingKey[]
}

/** `ehcp config set`: creates or updates a profile; a bad value, or a secret without --save-secret, changes nothing. */
export async function setProfile(dir: string, name: string, update: ProfileUpdate): Promise<ProfilesReport> {
  checkProfileName(name, 'Profile')
  if (SETTING_KEYS.every((key) => update.settings[key] === undefined) && update.unset.length === 0)
    throw usageError(
      'Nothing to save: give the values to set (e.g. --account-url, --container, --eventhub).',
      'See ehcp config set --help.',
    )
  if (update.saveSecret && profileSecrets(update.settings).length === 0)
    throw usageError(
      '--save-secret, but no secret was given.',
      'Pass --connection-string, --eventhubs-connection-string or a --container-url with a SAS (or set AZURE_STORAGE_CONNECTION_STRING / EVENTHUBS_CONNECTION_STRING).',
    )
  checkSettings(update.settings, update.saveSecret)
  return withConfigLock(dir, async () => {
    const config = await readConfig(dir)
    const profiles = {...config.data.profiles}
    profiles[name] = updateProfile(Object.hasOwn(profiles, name) ? profiles[name] : undefined, update.settings, update.unset)
    const data: ConfigData = {...config.data, profiles}
    await writeConfig({file: config.file, data})
    return {schemaVersion: 1, configFile: config.file, defaultProfile: data.defaultProfile ?? null, profiles: [report(data, name)]}
  })
}

/** `ehcp config list`: every profile, in the file's order. */
export async function listProfiles(dir: string): Promise<ProfilesReport> {
  const {file, data} = await readConfig(dir)
  return {
    schemaVersion: 1,
    configFile: file,
    defaultProfile: data.defaultProfile ?? null,
    profiles: Object.keys(data.profiles).map((name) => report(data, name)),
  }
}

/** `ehcp config show [NAME]`: one profile; without a name, the one a command would use (EHCP_PROFILE, else the default). */
export async function showProfile(dir: string, name: string | undefined, env: NodeJS.ProcessEnv): Promise<ProfilesReport> {
  const config = await readConfig(dir)
  const {file, data} = config
  const chosen = name ?? (env.EHCP_PROFILE || data.defaultProfile)
  if (chosen === undefined)
    throw usageError(
      'No profile named, and there is no default profile.',
      'Name one (ehcp config list), or choose a default with ehcp config use NAME.',
    )
  getProfile(data, chosen, file, name !== undefined ? 'Profile' : env.EHCP_PROFILE ? 'EHCP_PROFILE' : 'The default profile')
  return {schemaVersion: 1, configFile: file, defaultProfile: data.defaultProfile ?? null, profiles: [report(data, chosen)]}
}

/** `ehcp config delete NAME`: removes the profile (and its secrets); deleting the default profile leaves no default. */
export async function deleteProfile(dir: string, name: string): Promise<ProfilesReport> {
  checkProfileName(name, 'Profile')
  return withConfigLock(dir, async () => {
    const config = await readConfig(dir)
    const deleted = report(config.data, (getProfile(config.data, name, config.file, 'Profile'), name))
    const {[name]: _removed, ...profiles} = config.data.profiles
    const data: ConfigData = {...config.data, profiles}
    if (data.defaultProfile === name) delete data.defaultProfile
    await writeConfig({file: config.file, data})
    return {schemaVersion: 1, configFile: config.file, defaultProfile: data.defaultProfile ?? null, profiles: [deleted]}
  })
}

/** `ehcp config use NAME`: the default profile, used when no profile is named; `undefined` leaves no default. */
export async function useProfile(dir: string, name: string | undefined): Promise<ProfilesReport> {
  if (name !== undefined) checkProfileName(name, 'Profile')
  return withConfigLock(dir, async () => {
    const config = await readConfig(dir)
    if (name !== undefined) getProfile(config.data, name, config.file, 'Profile')
    const data: ConfigData = {...config.data}
    if (name === undefined) delete data.defaultProfile
    else data.defaultProfile = name
    await writeConfig({file: config.file, data})
    return {
      schemaVersion: 1,
      configFile: config.file,
      defaultProfile: data.defaultProfile ?? null,
      profiles: name === undefined ? [] : [report(data, name)],
    }
  })
}
