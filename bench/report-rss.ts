// Preloaded with `node --import` into a measured process: writes its peak RSS (KiB) to $EHCP_BENCH_RSS_FILE at exit.
import {writeFileSync} from 'node:fs'

process.on('exit', () => {
  if (process.env.EHCP_BENCH_RSS_FILE) writeFileSync(process.env.EHCP_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS))
})
