/**
 * A screen redrawn in place on a terminal: the alternate screen with the cursor hidden while it runs, each
 * frame drawn from the top-left, every line cut to the terminal's width and the frame to its height (so
 * nothing wraps and nothing scrolls); a resize redraws the last frame. `close()` leaves the alternate screen,
 * shows the cursor and prints the last frame on the normal screen; it also runs if the process exits first.
 */
import {redact} from '../redact.js'
import {visibleLength} from './tabular.js'

const ENTER = '\x1b[?1049h\x1b[?25l'
const LEAVE = '\x1b[?25h\x1b[?1049l'

// eslint-disable-next-line no-control-regex
const ANSI_AT_START = /^\x1b\[[0-9;]*m/

/** A line cut to `width` visible characters (colour codes kept, the colour reset after a cut). */
export function cutLine(line: string, width: number): string {
  if (visibleLength(line) <= width) return line
  let out = ''
  let seen = 0
  let rest = line
  while (rest.length > 0 && seen < width) {
    const code = ANSI_AT_START.exec(rest)
    if (code) {
      out += code[0]
      rest = rest.slice(code[0].length)
      continue
    }
    const ch = [...rest][0]!
    out += ch
    rest = rest.slice(ch.length)
    seen++
  }
  return `${out}\x1b[0m`
}

/** The frame as written: home, each line cut and its rest cleared, then everything below cleared. */
export function frameText(lines: string[], columns: number, rows: number): string {
  const shown = lines.slice(0, Math.max(1, rows))
  return `\x1b[H${shown.map((l) => `${cutLine(l, Math.max(1, columns))}\x1b[K`).join('\r\n')}\x1b[J`
}

export class Screen {
  private last: string[] = []
  private open = true
  private readonly onResize = () => this.draw(this.last)
  private readonly onExit = () => this.restore()

  constructor(private readonly stream: NodeJS.WriteStream) {
    stream.write(ENTER)
    stream.on('resize', this.onResize)
    process.on('exit', this.onExit)
  }

  draw(lines: string[]): void {
    if (!this.open) return
    this.last = lines
    this.stream.write(redact(frameText(lines, this.stream.columns || 80, this.stream.rows || 24)))
  }

  private restore(): void {
    if (!this.open) return
    this.open = false
    this.stream.write(LEAVE)
  }

  /** Back to the normal screen, the cursor shown, the last frame printed there. */
  close(): void {
    if (!this.open) return
    this.stream.off('resize', this.onResize)
    process.off('exit', this.onExit)
    this.restore()
    if (this.last.length) this.stream.write(redact(`${this.last.join('\n')}\n`))
  }
}
