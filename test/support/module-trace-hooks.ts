/** The loader hook of module-trace.ts (it runs on the loader's own thread): every ES module loaded, by path. */
import {appendFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

type Load = (url: string, context: object, next: (url: string, context: object) => Promise<unknown>) => Promise<unknown>

export const load: Load = async (url, context, next) => {
  const out = process.env.EHCP_MODULE_TRACE
  if (out !== undefined && url.startsWith('file:')) appendFileSync(out, `${fileURLToPath(url)}\n`)
  return next(url, context)
}
