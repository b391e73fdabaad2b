/**
 * An unknown command (`ehcp shwo`) is a usage error, exit 2, with the nearest command suggested. It never
 * asks and never runs the suggestion: @oclif/plugin-not-found asks "Did you mean …? (Y/n)" whenever stdin is a
 * terminal (even when the output is piped) and on yes runs the guess — a mistyped `rest` would become `reset`
 * — so ehcp has its own hook.
 */
import type * as Interfaces from '@oclif/core/interfaces'
import type {Hook} from '@oclif/core/interfaces'

import {quote, usageError} from '../errors.js'
import {noteErrorOutcome} from '../output/streams.js'
import {writeJson, writeStderr} from '../output/terminal.js'
import {closest} from '../suggest.js'

/**
 * Says that `id` (as oclif has it, `a:b` for `a b`) is not a command, with the nearest one if any: the error
 * document on stdout when `argv` asks for --json, else on stderr. The caller then exits 2.
 */
export function reportUnknownCommand(config: Interfaces.Config, id: string, argv: readonly string[]): void {
  const separator = config.topicSeparator ?? ':'
  const shown = (name: string) => name.replaceAll(':', separator)
  const visible = config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases])
  const words = id.split(':')
  // `ehcp list extra` reaches here as the command "list:extra": a command with a word it does not take.
  const known = words.map((_, n) => words.slice(0, words.length - n).join(':')).find((prefix) => visible.includes(prefix))
  let error
  if (known) {
    const extra = words.slice(known.split(':').length).join(' ')
    error = usageError(
      `Unexpected argument ${quote(extra)} after \`${config.bin} ${shown(known)}\`.`,
      `Run \`${config.bin} ${shown(known)} --help\` for its flags.`,
    )
  } else if (words[0]!.startsWith('-')) {
    error = usageError(`Unknown flag ${quote(shown(id))}: flags go after the command.`, `Run \`${config.bin} --help\` for the commands.`)
  } else {
    const guess = suggestion(config, words, visible)
    error = usageError(
      `${quote(shown(id))} is not an ${config.bin} command.${guess ? ` Did you mean ${guess}?` : ''}`,
      `Run \`${config.bin} --help\` for the commands.`,
    )
  }
  const end = argv.indexOf('--')
  if ((end === -1 ? argv : argv.slice(0, end)).includes('--json')) {
    noteErrorOutcome(error.message)
    writeJson({error: {code: error.code, message: error.message, exitCode: error.exitCode, hint: error.hint ?? null}})
  } else {
    writeStderr(`Error: ${error.message}\n${error.hint}`)
  }
}

/**
 * The command (or topic) `words` most likely meant: under a topic (`config shwo`), the nearest of its commands; else
 * the nearest command or topic for the first word, completed with the next word when that names a command
 * (`conifg list` → `config list`).
 */
function suggestion(config: Interfaces.Config, words: string[], visible: string[]): string | undefined {
  const separator = config.topicSeparator ?? ':'
  // oclif lists every command as a topic too: the top-level names, once each.
  const topics = config.topics.filter((t) => !t.hidden && !t.name.includes(':')).map((t) => t.name)
  const [first, second] = words as [string, string | undefined]
  if (second !== undefined && topics.includes(first)) {
    const under = visible.filter((id) => id.startsWith(`${first}:`)).map((id) => id.slice(first.length + 1))
    const guess = closest(second, under)
    return guess === undefined ? undefined : [first, guess].join(separator)
  }
  const guess = closest(first, [...new Set([...visible.filter((id) => !id.includes(':')), ...topics])])
  if (guess !== undefined && second !== undefined && visible.includes(`${guess}:${second}`)) return [guess, second].join(separator)
  return guess
}

const hook: Hook.CommandNotFound = async function (opts) {
  reportUnknownCommand(opts.config, opts.id, opts.argv ?? [])
  this.exit(2)
}

export default hook
