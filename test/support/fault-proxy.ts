/**
 * A loopback TCP proxy that injects faults on a schedule the test controls:
 * - reset: a connection cut before a request reaches the server;
 * - lost write response: cut right after the server answered a PUT/DELETE (the write happened, the client
 *   never hears so);
 * - cut response: only the first N bytes of a response pass, then both sockets are destroyed (a List Blobs
 *   body truncated mid-page);
 * - black hole: a request is swallowed and its connection goes silent — held open, nothing forwarded either
 *   way, no reset, no answer. `stallResponse` lets a request through and goes silent after N bytes of its
 *   response (0: the server acts, the client never hears). `blackHoleAll` silences every connection, open or
 *   new, from then on, whatever it carries (HTTP, or AMQP to the Event Hubs stand-in).
 * Requests are recognised by their first line; HTTP/1.1 clients send one request at a time per connection.
 */
import net from 'node:net'

export interface ProxiedRequest {
  method: string
  /** e.g. "GET /devstoreaccount1/c?restype=container&comp=list HTTP/1.1" */
  firstLine: string
}

export interface FaultPlan {
  /** Called for each response to a PUT/DELETE: true drops the response and resets the connection. */
  loseWriteResponse?: () => boolean
  /** Called for each request: true resets the connection before the request is forwarded. */
  resetBeforeRequest?: () => boolean
  /** Called for each request: a number N passes only the first N bytes of its response, then cuts both sockets. */
  cutResponse?: (request: ProxiedRequest) => number | undefined
  /** Called for each request: true swallows it and silences its connection for good. */
  blackHole?: (request: ProxiedRequest) => boolean
  /** Called for each request: a number N forwards it, passes the first N bytes of its response, then goes silent. */
  stallResponse?: (request: ProxiedRequest) => number | undefined
  /** Called for each request: true answers it with 503 Server Busy without forwarding it (and closes the connection). */
  serviceUnavailable?: (request: ProxiedRequest) => boolean
}

export interface FaultProxy {
  port: number
  readonly lostResponses: number
  readonly resetRequests: number
  /** Responses cut short. */
  readonly cutResponses: number
  /** Requests swallowed by the black hole, and responses stalled. */
  readonly blackHoled: number
  /** Requests answered 503 by the proxy. */
  readonly unavailable: number
  /** From now on nothing passes on any connection, open or new, in either direction (any protocol). */
  blackHoleAll(): void
  close(): Promise<void>
}

export async function startFaultProxy(target: {host: string; port: number}, plan: FaultPlan): Promise<FaultProxy> {
  const sockets = new Set<net.Socket>()
  const counts = {lostResponses: 0, resetRequests: 0, cutResponses: 0, blackHoled: 0, unavailable: 0}
  let blackHoleAll = false
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host)
    for (const s of [client, upstream]) {
      // No Nagle: a request or response written in several small pieces would wait on delayed ACKs (40 ms each).
      s.setNoDelay(true)
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => undefined)
    }
    let pendingWrite = false
    let silent = false
    /** Bytes of the current response still allowed through, when it is to be cut or stalled. */
    let budget: number | undefined
    let stall = false
    const cut = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('data', (chunk) => {
      if (blackHoleAll) silent = true
      if (silent) return
      const head = chunk.toString('latin1', 0, 7)
      const isRequestStart = /^(GET|HEAD|PUT|DELETE|POST) /.test(head)
      if (isRequestStart) {
        const end = chunk.indexOf('\r\n')
        const firstLine = chunk.toString('latin1', 0, end < 0 ? Math.min(chunk.length, 2048) : end)
        const request = {method: firstLine.split(' ')[0]!, firstLine}
        if (plan.blackHole?.(request)) {
          counts.blackHoled++
          silent = true
          return
        }
        if (plan.resetBeforeRequest?.()) {
          counts.resetRequests++
          return cut()
        }
        if (plan.serviceUnavailable?.(request)) {
          counts.unavailable++
          silent = true
          const body = '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>The server is busy.</Message></Error>'
          client.end(
            `HTTP/1.1 503 The server is busy.\r\nx-ms-error-code: ServerBusy\r\nContent-Type: application/xml\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
          )
          upstream.destroy()
          return
        }
        pendingWrite = /^(PUT|DELETE)$/.test(request.method)
        const stallAt = plan.stallResponse?.(request)
        stall = stallAt !== undefined
        budget = stall ? stallAt : plan.cutResponse?.(request)
      }
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (blackHoleAll) silent = true
      if (silent) return
      if (pendingWrite && plan.loseWriteResponse?.()) {
        counts.lostResponses++
        return cut()
      }
      if (budget !== undefined && chunk.length >= budget) {
        if (stall) counts.blackHoled++
        else counts.cutResponses++
        client.write(chunk.subarray(0, budget), stall ? undefined : cut)
        budget = undefined
        silent = true
        return
      }
      if (budget !== undefined) budget -= chunk.length
      client.write(chunk)
    })
    // A silent connection stays open (a black hole never says goodbye); otherwise endings pass through.
    client.on('end', () => silent || blackHoleAll || upstream.end())
    upstream.on('end', () => silent || blackHoleAll || client.end())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => silent || blackHoleAll || client.destroy())
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
    get cutResponses() {
      return counts.cutResponses
    },
    get blackHoled() {
      return counts.blackHoled
    },
    get unavailable() {
      return counts.unavailable
    },
    blackHoleAll() {
      blackHoleAll = true
      counts.blackHoled++
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
