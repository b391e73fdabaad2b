/**
 * Secrets never reach output: every byte ehcp writes passes through redact(). Known secret values
 * (account keys, SAS signatures, connection strings) are registered when a connection is resolved,
 * and patterns catch the usual carriers even when a value was never registered.
 */

const registered = new Set<string>()

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) registered.add(value)
}

const PATTERNS: Array<[RegExp, string]> = [
  [/\b(sig=)[^&\s"'<>]+/gi, '$1REDACTED'],
  [/\b(AccountKey=)[^;\s"']+/gi, '$1REDACTED'],
  [/\b(SharedAccessKey=)[^;\s"']+/gi, '$1REDACTED'],
  [/\b(SharedAccessSignature=)[^;\s"']+/gi, '$1REDACTED'],
  // A bearer token, not the English word: a JWT (base64url parts joined by two dots), or any token68 of 20+
  // characters ("Bearer token authentication is not permitted..." stays readable).
  [/\b(Bearer\s+)(?=[\w\-~+/]*\.[\w\-~+/]*\.|[\w\-.~+/]{20})[\w\-.~+/]+=*/g, '$1REDACTED'],
]

export function redact(text: string): string {
  let out = text
  for (const secret of registered) {
    if (out.includes(secret)) out = out.split(secret).join('REDACTED')
  }
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement)
  return out
}

/** A URL safe to show: no query string (a SAS lives there), no user info. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname}`
  } catch {
    return redact(url.split('?')[0] ?? '')
  }
}
