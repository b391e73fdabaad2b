/** Rounds on a schedule: sample, hand the round over, wait the interval; a stop ends the wait at once. */
import type {SampledGroup, Sampler} from './sampler.js'

/** Waits `ms`, or less when `signal` fires (never rejects). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done)
  })
}

/**
 * Runs `count` rounds (forever without one), `intervalMs` apart from start to start. Stopping (the signal)
 * ends the loop quietly, between rounds or during one; a failed round throws unless `onError` takes it.
 */
export async function runRounds(options: {
  sampler: Sampler
  intervalMs: number
  count?: number
  signal: AbortSignal
  onRound: (groups: SampledGroup[]) => void | Promise<void>
  onError?: (error: unknown) => void
}): Promise<number> {
  const {sampler, intervalMs, count, signal} = options
  let done = 0
  while (!signal.aborted && (count === undefined || done < count)) {
    const started = Date.now()
    try {
      const groups = await sampler.sample(signal)
      await options.onRound(groups)
    } catch (error) {
      if (signal.aborted) break
      if (!options.onError) throw error
      options.onError(error)
    }
    done++
    if (count !== undefined && done >= count) break
    await pause(Math.max(0, intervalMs - (Date.now() - started)), signal)
  }
  return done
}
