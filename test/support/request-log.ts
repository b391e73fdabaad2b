/**
 * A loopback HTTP proxy in front of a storage endpoint that records every request and how it was answered,
 * so tests can assert how many requests a command makes (one listing per scope, never one request per blob)
 * and which conditions each write carried.
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {performance} from 'node:perf_hooks'

export interface LoggedRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: http.IncomingHttpHeaders
  /** Set once the answer's status line arrives. */
  status?: number
  etag?: string
  /** When the proxy received the request, and when storage's answer reached it (performance.now()). */
  arrivedAt: number
  answeredAt?: number
}

export interface RequestLog {
  /** The proxy's base URL; append the account path, e.g. `${url}/devstoreaccount1`. */
  url: string
  requests: LoggedRequest[]
  /** TCP connections the client opened to the proxy so far (fewer than requests: keep-alive reuses them). */
  readonly connections: number
  close(): Promise<void>
}

/** Runs before a request is forwarded; the request waits for it (to stage races, or slow writes down). */
export type BeforeForward = (request: LoggedRequest) => Promise<void> | void

export async function startRequestLog(target: string, beforeForward?: BeforeForward): Promise<RequestLog> {
  const upstream = new URL(target)
  const requests: LoggedRequest[] = []
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy')
    const logged: LoggedRequest = {
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      arrivedAt: performance.now(),
    }
    requests.push(logged)
    req.pause()
    await beforeForward?.(logged)
    const forward = http.request(
      {host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers},
      (answer) => {
        logged.status = answer.statusCode
        logged.answeredAt = performance.now()
        logged.etag = answer.headers.etag
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    forward.on('error', () => res.destroy())
    req.pipe(forward)
    req.resume()
  })
  const log = {connections: 0}
  server.on('connection', () => log.connections++)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get connections() {
      return log.connections
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
