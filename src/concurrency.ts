/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i]!, i)
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(limit, items.length))}, worker))
  return results
}

/**
 * Runs `op` with a signal that aborts after `ms` (or with `signal`); at the deadline the call ends with
 * `timeoutError()`, even if `op` ignores its signal. Unlike `AbortSignal.timeout`, the timer holds the
 * event loop open: a call waiting on a connection that died without a word still ends at its deadline,
 * rather than the process exiting mid-await (exit 13, nothing said).
 */
export async function withDeadline<T>(
  ms: number,
  signal: AbortSignal | undefined,
  op: (signal: AbortSignal) => Promise<T>,
  timeoutError: () => Error,
): Promise<T> {
  const deadline = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      deadline.abort(new DOMException(`Timed out after ${ms} ms`, 'TimeoutError'))
      reject(timeoutError())
    }, ms)
  })
  try {
    return await Promise.race([op(signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal), expired])
  } catch (error) {
    if (deadline.signal.aborted && !signal?.aborted) throw timeoutError()
    throw error
  } finally {
    clearTimeout(timer)
  }
}
