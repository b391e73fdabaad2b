/**
 * JSON objects read as text, so that one member's value can be replaced (or a member added) with every other
 * byte kept: escapes (`\u00f4`, `\/`), number forms (`1.0`, `1e3`, integers past 2^53), whitespace and
 * member order all stay as the writer left them. Pure; no I/O.
 */

/** One member of an object: its key (escapes decoded) and where its key and value tokens sit in the text. */
export interface JsonMember {
  key: string
  keyStart: number
  /** Just past the key's closing quote. */
  keyEnd: number
  valueStart: number
  /** Just past the value's last character. */
  valueEnd: number
}

/** An object's members in text order; `start` is its `{`, `end` just past its `}`. */
export interface JsonObjectText {
  start: number
  end: number
  members: JsonMember[]
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r'])

function skipWhitespace(text: string, at: number): number {
  while (at < text.length && WHITESPACE.has(text[at]!)) at++
  return at
}

class JsonTextError extends SyntaxError {}

function expectChar(text: string, at: number, ch: string): void {
  if (text[at] !== ch) throw new JsonTextError(`expected "${ch}" at ${at}`)
}

/** Just past the string token that starts at `at` (its opening quote). */
function skipString(text: string, at: number): number {
  expectChar(text, at, '"')
  for (let i = at + 1; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === '"') return i + 1
  }
  throw new JsonTextError('unterminated string')
}

/** A number, `true`, `false` or `null`, matched where `lastIndex` says. */
const LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y

/**
 * Just past the value that starts at `at` (whitespace already skipped). Objects and arrays are skipped by
 * counting brackets outside strings, without recursion: the text is valid JSON (checked first), however deep.
 */
function skipValue(text: string, at: number): number {
  const ch = text[at]
  if (ch === '"') return skipString(text, at)
  if (ch === '{' || ch === '[') {
    let depth = 0
    for (let i = at; i < text.length; i++) {
      const c = text[i]
      if (c === '"') i = skipString(text, i) - 1
      else if (c === '{' || c === '[') depth++
      else if ((c === '}' || c === ']') && --depth === 0) return i + 1
    }
    throw new JsonTextError('unterminated object or array')
  }
  LITERAL.lastIndex = at
  const literal = LITERAL.exec(text)
  if (!literal) throw new JsonTextError(`no JSON value at ${at}`)
  return at + literal[0].length
}

function scanObjectAt(text: string, start: number): JsonObjectText {
  expectChar(text, start, '{')
  const members: JsonMember[] = []
  let i = skipWhitespace(text, start + 1)
  if (text[i] === '}') return {start, end: i + 1, members}
  for (;;) {
    const keyStart = i
    const keyEnd = skipString(text, keyStart)
    i = skipWhitespace(text, keyEnd)
    expectChar(text, i, ':')
    const valueStart = skipWhitespace(text, i + 1)
    const valueEnd = skipValue(text, valueStart)
    members.push({key: JSON.parse(text.slice(keyStart, keyEnd)) as string, keyStart, keyEnd, valueStart, valueEnd})
    i = skipWhitespace(text, valueEnd)
    if (text[i] === '}') return {start, end: i + 1, members}
    expectChar(text, i, ',')
    i = skipWhitespace(text, i + 1)
  }
}

/** The object a JSON text holds at its top level, or null when the text is not valid JSON or not an object. */
export function scanJsonObject(text: string): JsonObjectText | null {
  try {
    JSON.parse(text)
  } catch {
    return null
  }
  const start = skipWhitespace(text, 0)
  if (text[start] !== '{') return null
  return scanObjectAt(text, start)
}

/** The object that is a member's value in a text `scanJsonObject` read, or null when that value is not an object. */
export function memberObject(text: string, member: JsonMember): JsonObjectText | null {
  return text[member.valueStart] === '{' ? scanObjectAt(text, member.valueStart) : null
}

/** The separators an object's writer uses: between key and value (`":"` or `": "`) and between members. */
export function separatorsOf(text: string, object: JsonObjectText): {colon: string; comma: string} {
  const first = object.members[0]
  const second = object.members[1]
  return {
    colon: first ? text.slice(first.keyEnd, first.valueStart) : ':',
    comma: first && second ? text.slice(first.valueEnd, second.keyStart) : ',',
  }
}

/** One edit of a JSON text: `[start, end)` replaced by `text`. */
export interface TextEdit {
  start: number
  end: number
  text: string
}

/** Applies edits that do not overlap, each at the positions of the original text. */
export function applyEdits(text: string, edits: TextEdit[]): string {
  let out = text
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end)
  return out
}
