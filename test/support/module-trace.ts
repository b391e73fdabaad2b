/**
 * Loaded into an ehcp run with `NODE_OPTIONS=--import <this file's URL>`: appends the path of every module the
 * process loads (ES modules through a loader hook, CommonJS through Module.prototype._compile), one per line,
 * to the file named by EHCP_MODULE_TRACE. The startup test reads it to see what a command loads.
 */
import {appendFileSync} from 'node:fs'
import Module, {register} from 'node:module'

const out = process.env.EHCP_MODULE_TRACE
if (out !== undefined) {
  register('./module-trace-hooks.js', import.meta.url)
  const proto = Module.prototype as unknown as {_compile: (this: unknown, content: string, filename: string) => unknown}
  const compile = proto._compile
  proto._compile = function (content, filename) {
    appendFileSync(out, `${filename}\n`)
    return compile.call(this, content, filename)
  }
}
