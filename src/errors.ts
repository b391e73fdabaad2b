/**
 * The one error funnel: every failure becomes an EhcpError carrying the contract's exit code,
 * a stable machine-readable code, a message and an optional hint. Services' own failures are mapped where
 * they come from (storage's in store/errors.ts, Event Hubs' in eventhubs/); here only what any code meets:
 * usage, cancellation, network and TLS failures, and the unexpected.
 */
export const ExitCode = {
  ok: 0,
  bug: 1,
  usage: 2,
  notFound: 3,
  auth: 4,
  refused: 5,
  partial: 6,
  unreachable: 7,
  lagExceeded: 10,
  /** `status`: some group is WARN. */
  statusWarn: 11,
  /** `status`: some group is STOP, STALL or REWIND (Burrow's ERR). */
  statusError: 12,
  /** `doctor`: at least one finding of severity error. */
  problemsFound: 13,
  cancelled: 130,
} as const

/** The machine-readable codes of ehcp's errors (`error.code` in the JSON error document). */
export type ErrorCode =
  | 'usage'
  | 'not-found'
  | 'auth'
  | 'unreachable'
  | 'cancelled'
  | 'unexpected'
  | 'active-owners'
  | 'lookup-failed'
  | typeof NAMESPACE_NOT_COVERED
  | typeof READER_REFUSED
  | typeof DECLINED

export class EhcpError extends Error {
  readonly exitCode: number
  constructor(
    readonly code: ErrorCode,
    message: string,
    exitCode: number,
    readonly hint?: string,
  ) {
    super(message)
    this.name = 'EhcpError'
    this.exitCode = exitCode
  }
}

/** The Event Hubs connection given covers another namespace than a group's (list --lag over several namespaces). */
export const NAMESPACE_NOT_COVERED = 'namespace-not-covered'
/** Event Hubs refused ehcp's reader: a processor's owner-level receiver holds the partition in that consumer group. */
export const READER_REFUSED = 'reader-refused'

/** "No" at the confirmation prompt: nothing went wrong, nothing changed (exit 130, told as a plain line). */
export const DECLINED = 'declined'

/** Control characters shown escaped, so that a message quoting input stays one line and cannot drive a terminal. */
export const printable = (text: string) =>
  [...text].map((c) => (c < ' ' || (c >= '\x7f' && c <= '\x9f') ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c)).join('')

/** A value from the input, quoted for a message: one line, at most about 60 characters. */
export function quote(value: unknown): string {
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch {
    // Nested deeper than the stack allows (a hand-edited file), or circular: say what it is instead.
    json = Array.isArray(value) ? '[...]' : '{...}'
  }
  const text = printable(json ?? String(value))
  return text.length > 60 ? `${text.slice(0, 56)}...${text.at(-1)}` : text
}

export const usageError = (message: string, hint?: string) => new EhcpError('usage', message, ExitCode.usage, hint)
export const notFoundError = (message: string, hint?: string) => new EhcpError('not-found', message, ExitCode.notFound, hint)
export const authError = (message: string, hint?: string) => new EhcpError('auth', message, ExitCode.auth, hint)
export const unreachableError = (message: string, hint?: string) => new EhcpError('unreachable', message, ExitCode.unreachable, hint)
export const cancelledError = (message = 'Cancelled.') => new EhcpError('cancelled', message, ExitCode.cancelled)

/** Error codes of a network failure (Node's sockets and DNS, undici, the Azure core pipeline): the service was not reached. */
export const NETWORK_ERROR_CODES: readonly string[] = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'REQUEST_SEND_ERROR',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]
const NETWORK_CODES = new Set(NETWORK_ERROR_CODES)

export interface ErrorLike {
  name?: string
  code?: string
  message?: string
  cause?: unknown
  parse?: unknown
  oclif?: {exit?: number}
}

/** The error and those it wraps (`cause`, and AggregateError's `errors`), a few levels deep. */
export function errorChain(err: unknown, depth = 0): ErrorLike[] {
  if (!err || typeof err !== 'object' || depth > 4) return []
  const e = err as ErrorLike & {errors?: unknown[]}
  return [e, ...errorChain(e.cause, depth + 1), ...(Array.isArray(e.errors) ? e.errors.flatMap((x) => errorChain(x, depth + 1)) : [])]
}

/** A TLS failure: an untrusted certificate (a TLS-intercepting proxy), or https to a plain-http port. */
const TLS_CODES =
  /^(ERR_SSL_|ERR_TLS_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT(_LOCALLY)?)$|CERT_(HAS_EXPIRED|NOT_YET_VALID|UNTRUSTED|REJECTED|SIGNATURE_FAILURE)$|EPROTO$)/

function tlsCode(err: unknown): string | undefined {
  return errorChain(err).find((e) => typeof e.code === 'string' && TLS_CODES.test(e.code))?.code
}

function networkCode(err: unknown): string | undefined {
  return errorChain(err).find((e) => typeof e.code === 'string' && NETWORK_CODES.has(e.code))?.code
}

/** Maps anything thrown to an EhcpError, once, by name and code (never instanceof across packages). */
export function classifyError(err: unknown): EhcpError {
  if (err instanceof EhcpError) return err
  const e = (err ?? {}) as ErrorLike
  const message = e.message ?? String(err)
  if (e.parse !== undefined || (e.oclif?.exit === ExitCode.usage && e.name !== 'ExitError')) {
    return usageError(message.replace(/\nSee more help with --help$/, ''), 'See --help for the flags this command takes.')
  }
  if (e.name === 'AbortError') return cancelledError()
  const tls = tlsCode(err)
  if (tls) {
    return unreachableError(
      `The TLS connection to the service failed (${tls}).`,
      'Check that the endpoint is https on an https port, and that this machine trusts its certificate (behind a TLS-inspecting proxy, point NODE_EXTRA_CA_CERTS at its CA).',
    )
  }
  const net = networkCode(err)
  if (net) {
    return unreachableError(`The service could not be reached (${net}).`, 'Check the endpoint, the network, and --timeout.')
  }
  const failure = new EhcpError(
    'unexpected',
    `Unexpected failure: ${message || e.name || 'unknown error'}`,
    ExitCode.bug,
    'This is a bug in ehcp. Run again with --verbose for details and report it.',
  )
  failure.cause = err
  return failure
}
