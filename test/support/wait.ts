/** Waiting in tests: a plain delay, and polling a condition until it holds or a deadline passes. */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Checks `check` every `everyMs` until it holds; throws "timed out waiting for <what>" after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 5_000, everyMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(everyMs)
  }
}
