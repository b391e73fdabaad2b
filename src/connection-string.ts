/**
 * The one reader of `Key=Value;Key=Value` connection strings, storage's and Event Hubs' alike: pure, keys in any
 * case, keys and values trimmed. What the fields mean (endpoints, accounts, keys) is decided where each
 * connection is resolved (store/connect.ts, eventhubs/reader.ts); this module only splits them and names the secrets.
 */

export interface ConnectionString {
  /** The string as given; a secret as a whole. */
  text: string
  /**
   * Its fields by lower-cased key, values trimmed. A part is split at its first "=" (a SAS's own "=" stay in the
   * value); parts without "=" or without a key are skipped; a key given twice keeps its last value, as the Azure
   * SDKs read it.
   */
  fields: ReadonlyMap<string, string>
  /**
   * What redaction must know: the whole string, every account key, shared access key or signature in it, and a
   * SAS's `sig` parameter on its own (it also appears in the URLs the SDKs log).
   */
  secrets: string[]
}

/** The keys whose values are secrets: storage's account key and SAS, Event Hubs' key and SAS. */
const SECRET_KEYS = new Set(['accountkey', 'sharedaccesssignature', 'sharedaccesskey'])

export function parseConnectionString(text: string): ConnectionString {
  const fields = new Map<string, string>()
  const secrets = [text]
  for (const part of text.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const key = part.slice(0, eq).trim().toLowerCase()
    if (key === '') continue
    const value = part.slice(eq + 1).trim()
    fields.set(key, value)
    if (SECRET_KEYS.has(key) && value !== '') {
      secrets.push(value)
      const sig = new URLSearchParams(value).get('sig')
      if (sig) secrets.push(sig)
    }
  }
  return {text, fields, secrets}
}
