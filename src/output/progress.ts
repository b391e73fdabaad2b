/**
 * Progress on stderr, the one owner of it for reads (listings, lag, time lookups) and writes (a change):
 * a single line redrawn in place, only on a terminal, never a byte on stdout. The layers below report
 * counts through plain callbacks (`(done, total?) => void`) and know nothing of terminals.
 *
 * A read shows its line only after it has taken a moment (so quick commands print nothing extra) and erases
 * it when done; a write may keep its last line ("Writing 30/30") as a record of what ran.
 */

/** Where progress is drawn: a terminal stream (stderr). */
export interface ProgressStream {
  isTTY?: boolean
  write(text: string): unknown
}

export interface ProgressOptions {
  /** Nothing is drawn before this many milliseconds (default 500). */
  delayMs?: number
  /** Leave the last line on screen, ended with a newline, instead of erasing it (default false). */
  keep?: boolean
  /** Below this total nothing is drawn (default 0). */
  minTotal?: number
  /** At most one redraw per this many milliseconds (default 100). */
  intervalMs?: number
  /** What is counted ("partitions", "blobs"), after the numbers. */
  unit?: string
  now?: () => number
}

export interface Progress {
  /** `done` of `total` (when the total is known). */
  update(done: number, total?: number): void
  /** Ends the line: erased, or kept with a newline. Safe to call more than once. */
  end(): void
}

/** Does nothing: off the terminal, under --json to a pipe. */
export const noProgress: Progress = {update: () => {}, end: () => {}}

/** The progress line on screen now (at most one), erased before anything else is written. */
let shown: {stream: ProgressStream} | undefined

const ERASE = '\r\x1b[K'

/**
 * Erases the progress line, if one is on screen, so that the next output starts on a clean line. Called by
 * every write of ehcp's own output (terminal.ts); the progress reappears at its next update.
 */
export function clearProgressLine(): void {
  if (!shown) return
  const {stream} = shown
  shown = undefined
  stream.write(ERASE)
}

/** "1,234" */
const count = (n: number) => n.toLocaleString('en-US')

/** "Reading lag: 120/2,000 partitions (6%)", or without a total "Listing: 12,000 blobs…". */
export function progressText(label: string, done: number, total?: number, unit?: string): string {
  const what = unit ? ` ${unit}` : ''
  if (total === undefined) return `${label} ${count(done)}${what}…`
  const percent = total > 0 ? ` (${Math.floor((done / total) * 100)}%)` : ''
  return `${label} ${count(done)}/${count(total)}${what}${percent}`
}

/**
 * A progress line labelled `label` on `stream`, or `noProgress` when `enabled` is false (decided by the
 * caller from the output settings: stderr is a terminal, and not --json to a pipe).
 */
export function startProgress(label: string, enabled: boolean, stream: ProgressStream, options: ProgressOptions = {}): Progress {
  if (!enabled) return noProgress
  const now = options.now ?? Date.now
  const delayMs = options.delayMs ?? 500
  const intervalMs = options.intervalMs ?? 100
  const started = now()
  let lastDraw = -Infinity
  let drawn = false
  let ended = false
  let latest: {done: number; total?: number} | undefined

  const text = () => (latest ? progressText(label, latest.done, latest.total, options.unit) : `${label}…`)
  const draw = () => {
    lastDraw = now()
    drawn = true
    shown = {stream}
    stream.write(`${ERASE}${text()}`)
  }
  // A read that is stuck on one slow answer still shows its line once the delay has passed.
  const timer = delayMs > 0 ? setTimeout(() => !ended && draw(), delayMs) : undefined
  timer?.unref()

  return {
    update(done, total) {
      if (ended) return
      if (total !== undefined && total < (options.minTotal ?? 0)) return
      latest = {done, total}
      const t = now()
      if (t - started < delayMs) return
      if (t - lastDraw >= intervalMs || (total !== undefined && done >= total)) draw()
    },
    end() {
      if (ended) return
      ended = true
      if (timer) clearTimeout(timer)
      if (!drawn) return
      if (options.keep) {
        // The final count, then a newline: the line stays as a record.
        stream.write(`${ERASE}${text()}\n`)
        if (shown?.stream === stream) shown = undefined
      } else if (shown?.stream === stream) clearProgressLine()
    },
  }
}
