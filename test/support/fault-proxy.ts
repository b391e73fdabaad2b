/**
 * A loopback TCP proxy that injects faults on a schedule the test controls: here, cutting the connection
 * right after the server has answered a write, so the write happened but the client never hears so (a lost
 * response), and resetting connections before a request reaches the server.
 */
import net from 'node:net'

export interface FaultPlan {
  /** Called for each response to a PUT/DELETE: true drops the response and resets the connection. */
  loseWriteResponse?: () => boolean
  /** Called for each request: true resets the connection before the request is forwarded. */
  resetBeforeRequest?: () => boolean
}

export interface FaultProxy {
  port: number
  readonly lostResponses: number
  readonly resetRequests: number
  close(): Promise<void>
}

export async function startFaultProxy(target: {host: string; port: number}, plan: FaultPlan): Promise<FaultProxy> {
  const sockets = new Set<net.Socket>()
  const counts = {lostResponses: 0, resetRequests: 0}
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => undefined)
    }
    let pendingWrite = false
    const cut = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('data', (chunk) => {
      const head = chunk.toString('latin1', 0, 7)
      const isRequestStart = /^(GET|HEAD|PUT|DELETE|POST) /.test(head)
      if (isRequestStart && plan.resetBeforeRequest?.()) {
        counts.resetRequests++
        return cut()
      }
      if (isRequestStart) pendingWrite = /^(PUT|DELETE) /.test(head)
      upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      if (pendingWrite && plan.loseWriteResponse?.()) {
        counts.lostResponses++
        return cut()
      }
      client.write(chunk)
    })
    client.on('end', () => upstream.end())
    upstream.on('end', () => client.end())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    get lostResponses() {
      return counts.lostResponses
    },
    get resetRequests() {
      return counts.resetRequests
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A small deterministic random source (mulberry32), so a failing schedule can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
