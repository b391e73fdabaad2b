/** Runs the built `ehcp` binary as users run it: a real subprocess, its exit code, stdout and stderr. */
import {type ChildProcess, spawn} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {TestContainer} from './services.js'

export const BIN = fileURLToPath(new URL('../../../bin/run.js', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
  /** stdout parsed as JSON (throws a readable error when it is not JSON). */
  json<T = unknown>(): T
}

/** Every output of every run in this test process, for the secret-leak check. */
export const allOutputs: string[] = []

/** Secret material handed to ehcp in this test process (account keys, SAS signatures): none may appear in any output. */
export const secretsGiven = new Set<string>()

function noteSecrets(values: Iterable<string | undefined>): void {
  for (const value of values) {
    if (!value) continue
    for (const m of value.matchAll(/AccountKey=([^;]+)/gi)) secretsGiven.add(m[1]!)
    for (const m of value.matchAll(/[?&]sig=([^&]+)/gi)) {
      secretsGiven.add(m[1]!)
      secretsGiven.add(decodeURIComponent(m[1]!))
    }
  }
}

/** Environment variables that would change which store ehcp connects to: never inherited by tests. */
export const CONNECTION_ENV = [
  'AZURE_STORAGE_CONNECTION_STRING',
  'EHCP_CONTAINER',
  'EHCP_ACCOUNT_URL',
  'EHCP_EMULATOR_BLOB_ENDPOINT',
  'EVENTHUBS_CONNECTION_STRING',
  'EHCP_EVENTHUBS_ENDPOINT',
  'EHCP_PROFILE',
  'XDG_CONFIG_HOME',
]

let scratch: string | undefined

/**
 * The working directory of every run that names none: a temporary directory of this test process, so that the
 * backups a change saves under its default name never land in the repository (the root hook checks).
 */
export function scratchDir(): string {
  scratch ??= mkdtempSync(path.join(tmpdir(), 'ehcp-test-cwd-'))
  return scratch
}

/**
 * A config directory that never exists: a run does not see the profiles of the machine it runs on (a default
 * profile would fill in connections and scopes). Tests of profiles pass EHCP_CONFIG_DIR themselves.
 */
export const NO_CONFIG_DIR = path.join(tmpdir(), `ehcp-test-no-config-${process.pid}`)

export interface RunOptions {
  env?: Record<string, string | undefined>
  timeoutMs?: number
  /** Working directory, where backup files land (default: scratchDir()). */
  cwd?: string
  /** Gets the child process as soon as it is spawned (to send it signals). */
  onSpawn?: (child: ChildProcess) => void
  /** An `ehcp` executable to run instead of the checkout's bin/run.js (the package test: the one npm installed). */
  bin?: string
  /** The environment the run starts from instead of this process's; connection variables are dropped from either. */
  baseEnv?: NodeJS.ProcessEnv
}

/** A run as an assertion message shows it: exit code, then the start of stdout and stderr. */
export const describeRun = (r: CliResult) => `exit ${r.code}\nstdout: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr.slice(0, 2000)}`

/** Options that point `--emulator` at a blob endpoint other than Azurite's own (a proxy, a stub server). */
export const emulatorAt = (endpoint: string): RunOptions => ({env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${endpoint}/devstoreaccount1`}})

/** The environment of an ehcp run: `base` without colour, profiles or any connection variable, then `extra`. */
function ehcpEnv(base: NodeJS.ProcessEnv, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...base, NO_COLOR: '1', EHCP_CONFIG_DIR: NO_CONFIG_DIR}
  for (const key of CONNECTION_ENV) delete env[key]
  return Object.assign(env, extra)
}

/** Runs ehcp (the checkout's bin/run.js on this Node, or `options.bin`) with `args`, in a clean environment. */
export function runEhcp(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const env = ehcpEnv(options.baseEnv ?? process.env, options.env)
  noteSecrets([...args, ...Object.values(options.env ?? {})])
  const [file, fileArgs] = options.bin === undefined ? [process.execPath, [BIN, ...args]] : [options.bin, args]
  return runProcess(file, fileArgs, {...options, env, cwd: options.cwd ?? scratchDir()})
}

/** Runs ehcp on one container through `--emulator`; `env` is the environment that points `--emulator` at its Azurite. */
export interface EmulatorRunner {
  (args: string[], options?: RunOptions): Promise<CliResult>
  readonly env: {EHCP_EMULATOR_BLOB_ENDPOINT: string}
}

/**
 * A runner of ehcp on `container` through `--emulator`: it appends `--emulator --container NAME` to the words and
 * sets the emulator's endpoint to the container's Azurite. `defaults` (a working directory, more environment) and
 * each run's options are merged, a run's over the defaults.
 */
export function ehcpOn(container: Pick<TestContainer, 'name' | 'azurite'>, defaults: RunOptions = {}): EmulatorRunner {
  const env = {EHCP_EMULATOR_BLOB_ENDPOINT: container.azurite.blobEndpoint()}
  const run = (args: string[], options: RunOptions = {}) =>
    runEhcp([...args, '--emulator', '--container', container.name], {
      ...defaults,
      ...options,
      env: {...env, ...defaults.env, ...options.env},
    })
  return Object.assign(run, {env})
}

/**
 * Runs any program as a child process and collects what it printed (every output is kept for the secret-leak
 * check). The environment is exactly `options.env`; it is killed after `timeoutMs` (default one minute).
 */
export function runProcess(
  file: string,
  args: string[],
  options: {env: NodeJS.ProcessEnv; cwd: string; timeoutMs?: number; onSpawn?: (child: ChildProcess) => void},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe']})
    options.onSpawn?.(child)
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      allOutputs.push(stdout, stderr)
      resolve({
        code,
        stdout,
        stderr,
        json() {
          try {
            return JSON.parse(stdout)
          } catch {
            throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`)
          }
        },
      })
    })
  })
}

/**
 * Runs a command ehcp printed (an undo) as a user pastes it into a shell, with the built binary for `ehcp`.
 * A connection string is printed as a placeholder; `connectionString` fills it in as the user would.
 */
export function runPrinted(
  command: string,
  options: {cwd: string; env?: Record<string, string>; connectionString?: string},
): Promise<CliResult> {
  const filled = options.connectionString ? command.replace("'<connection-string>'", `'${options.connectionString}'`) : command
  const env = ehcpEnv(process.env, options.env)
  return runProcess('bash', ['-c', filled.replace(/^ehcp /, `'${process.execPath}' '${BIN}' `)], {env, cwd: options.cwd})
}
