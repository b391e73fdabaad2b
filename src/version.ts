/**
 * `ehcp --version` without loading oclif. oclif prints its config's user agent when the first argument is
 * `--version` (whatever follows), and needs all of @oclif/core and its configuration for it: about 150 ms,
 * most of ehcp's start-up. This is the same line — `NAME/VERSION PLATFORM-ARCH node-NODEVERSION`, with the
 * platform `wsl` under WSL, told by the same wsl-utils oclif asks — from package.json and Node alone.
 */
import {existsSync, readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {arch, platform, release} from 'node:os'
import {pathToFileURL} from 'node:url'

interface PackageJson {
  name: string
  version?: string
}

const packageJson = (): PackageJson => JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as PackageJson

/** True when `argv` (after `node run.js`) asks for the version, by oclif's rule: `--version` first. */
export function asksForVersion(argv: readonly string[]): boolean {
  return argv[0] === '--version'
}

/**
 * Whether this Linux could be WSL at all: every way is-wsl (under wsl-utils) says yes needs one of these. Loading
 * wsl-utils costs about as much as the rest of `--version`, so it is asked only when one holds.
 */
function mayBeWsl(): boolean {
  if (release().toLowerCase().includes('microsoft')) return true
  try {
    if (readFileSync('/proc/version', 'utf8').toLowerCase().includes('microsoft')) return true
  } catch {
    // No /proc/version: the paths below decide.
  }
  return existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') || existsSync('/run/WSL')
}

/** oclif's `getPlatform()`: `wsl` under Windows Subsystem for Linux (asked of the wsl-utils oclif itself uses). */
async function oclifPlatform(): Promise<string> {
  if (platform() !== 'linux' || !mayBeWsl()) return platform()
  const oclif = createRequire(createRequire(import.meta.url).resolve('@oclif/core'))
  const {isWsl} = (await import(pathToFileURL(oclif.resolve('wsl-utils')).href)) as {isWsl: boolean}
  return isWsl ? 'wsl' : platform()
}

/** The line oclif prints for `--version` (its config.userAgent), without loading oclif. */
export async function versionLine(): Promise<string> {
  const {name, version} = packageJson()
  const cpu = arch() === 'ia32' ? 'x86' : arch()
  return `${name}/${version || '0.0.0'} ${await oclifPlatform()}-${cpu} node-${process.version}`
}
