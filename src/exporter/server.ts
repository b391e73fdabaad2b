/**
 * The exporter's HTTP server: GET (or HEAD) /metrics answers the last collection's exposition, /healthz says
 * the process is up and how its collections go; any other path is 404, any other method 405. Nothing here
 * waits on Azure: both answers are built from what the collector already holds.
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'

import {usageError} from '../errors.js'
import {redact} from '../redact.js'

export interface ServedContent {
  /** The exposition and its content type. */
  metrics(): {text: string; contentType: string}
  /** The body of /healthz (JSON). */
  health(): object
}

export interface MetricsServer {
  /** The URL of /metrics, with the port actually bound. */
  url: string
  port: number
  close(): Promise<void>
}

/** `host:port` as a URL writes it (an IPv6 address in brackets). */
const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`)

/** Listens on `host`:`port` (0: a free port); a port in use or an address that cannot be bound is a usage error. */
export async function startMetricsServer(options: {host: string; port: number; content: ServedContent}): Promise<MetricsServer> {
  const {host, port, content} = options
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://exporter').pathname
    const answer = (status: number, type: string, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, {'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers})
      res.end(req.method === 'HEAD' ? undefined : body)
    }
    if (path !== '/metrics' && path !== '/healthz')
      return answer(404, 'text/plain; charset=utf-8', 'Not found: try /metrics or /healthz.\n')
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(405, 'text/plain; charset=utf-8', 'Only GET.\n', {allow: 'GET, HEAD'})
    if (path === '/healthz') return answer(200, 'application/json', `${redact(JSON.stringify(content.health()))}\n`)
    const {text, contentType} = content.metrics()
    return answer(200, contentType, text)
  })
  // A scraper that connects and sends nothing never holds a socket for long.
  server.requestTimeout = 10_000
  server.headersTimeout = 10_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, host, port)))
    server.listen(port, host, () => resolve())
  })
  const bound = (server.address() as AddressInfo).port
  return {
    url: `http://${hostPort(host, bound)}/metrics`,
    port: bound,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number) {
  switch (error.code) {
    case 'EADDRINUSE':
      return usageError(
        `Port ${port} on ${host} is already in use.`,
        'Stop what listens there, or pass another --port (0 picks a free one).',
      )
    case 'EACCES':
      return usageError(`Not allowed to listen on port ${port} of ${host}.`, 'Ports below 1024 need privileges: pass a --port above 1023.')
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EINVAL':
      return usageError(
        `--listen ${JSON.stringify(host)} is not an address of this machine (${error.code}).`,
        'Use 127.0.0.1 (the default), 0.0.0.0 for every interface, or an address of this machine.',
      )
    default:
      return error
  }
}
