/**
 * An event's body as `peek` shows it, from the bytes received: JSON (pretty-printed by the renderer), UTF-8 text,
 * or binary (base64 here; hex on the terminal with --raw); a body over the byte limit is cut, at a character's
 * boundary for text, and says so with its full size. Pure.
 */

/** What the body is (judged on all its bytes). */
export type BodyKind = 'json' | 'text' | 'binary'

/**
 * How `data` holds it: `json` the parsed value; `text` a string (a cut JSON body is text: the cut is no longer
 * JSON); `base64` the bytes.
 */
export type BodyEncoding = 'json' | 'text' | 'base64'

export interface EventBody {
  kind: BodyKind
  encoding: BodyEncoding
  /** The full body's size in bytes. */
  size: number
  /** True when `data` holds only the first bytes (at most the limit). */
  truncated: boolean
  data: unknown
}

export const DEFAULT_MAX_BODY_BYTES = 4096

/** Control characters other than tab, newline and carriage return: such bytes are not text a person reads. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/

function utf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', {fatal: true, ignoreBOM: false}).decode(bytes)
  } catch {
    return null
  }
}

/** The end of the longest prefix of at most `max` bytes that does not split a UTF-8 character. */
function textCut(bytes: Uint8Array, max: number): number {
  let end = max
  // Back off continuation bytes (10xxxxxx) to the start of the character the cut falls in.
  while (end > 0 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--
  return end
}

export function describeBody(bytes: Uint8Array, maxBytes: number = DEFAULT_MAX_BODY_BYTES): EventBody {
  const size = bytes.length
  const truncated = size > maxBytes
  const text = utf8(bytes)
  if (text === null || CONTROL.test(text)) {
    const kept = truncated ? bytes.subarray(0, maxBytes) : bytes
    return {kind: 'binary', encoding: 'base64', size, truncated, data: Buffer.from(kept).toString('base64')}
  }
  let kind: BodyKind = 'text'
  let parsed: unknown
  if (text.trim() !== '') {
    try {
      parsed = JSON.parse(text)
      kind = 'json'
    } catch {
      // Not JSON: text.
    }
  }
  if (truncated) {
    const data = Buffer.from(bytes.subarray(0, textCut(bytes, maxBytes))).toString('utf8')
    return {kind, encoding: 'text', size, truncated, data}
  }
  return kind === 'json' ? {kind, encoding: 'json', size, truncated, data: parsed} : {kind, encoding: 'text', size, truncated, data: text}
}
