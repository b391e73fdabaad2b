/** Commands ehcp prints for people to paste (undo, fixes): words quoted for a POSIX shell. */

/** Single-quotes a shell word when it needs it. */
export const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)

/** A command line from its words, each quoted as it needs. */
export const commandLine = (words: string[]) => words.map(shellWord).join(' ')
