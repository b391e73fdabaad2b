/**
 * A loopback HTTP server in front of a storage endpoint (or in front of nothing) that answers chosen requests
 * itself — storage failing with 503 ServerBusy or 500, or a web server that is not storage at all — and
 * forwards the rest. Every request is recorded with the status it got.
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'

export interface SeenRequest {
  method: string
  /** Path and query as sent, e.g. "/devstoreaccount1/c?restype=container&comp=list". */
  url: string
  status?: number
}

export interface CannedAnswer {
  status: number
  headers?: Record<string, string>
  body?: string
}

/** Storage's own error answer: x-ms-request-id, x-ms-error-code and the XML error body. */
export function storageError(status: number, code: string): CannedAnswer {
  return {
    status,
    headers: {'content-type': 'application/xml', 'x-ms-request-id': '00000000-0000-0000-0000-000000000000', 'x-ms-error-code': code},
    body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>canned by the test</Message></Error>`,
  }
}

export interface StatusProxy {
  /** Base URL; append the account path, e.g. `${url}/devstoreaccount1`. */
  url: string
  requests: SeenRequest[]
  close(): Promise<void>
}

/** `answer` returns a canned answer, or undefined to forward the request to `target` (a 502 when there is none). */
export async function startStatusProxy(
  target: string | undefined,
  answer: (request: SeenRequest) => CannedAnswer | undefined,
): Promise<StatusProxy> {
  const upstream = target ? new URL(target) : undefined
  const requests: SeenRequest[] = []
  const server = http.createServer((req, res) => {
    const seen: SeenRequest = {method: req.method ?? '', url: req.url ?? '/'}
    requests.push(seen)
    const canned = answer(seen)
    if (canned || !upstream) {
      const reply = canned ?? {status: 502, headers: {'content-type': 'text/plain'}, body: 'no upstream'}
      seen.status = reply.status
      req.resume()
      req.on('end', () => {
        res.writeHead(reply.status, reply.headers ?? {})
        res.end(req.method === 'HEAD' ? undefined : (reply.body ?? ''))
      })
      return
    }
    const forward = http.request(
      {host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers},
      (answered) => {
        seen.status = answered.statusCode
        res.writeHead(answered.statusCode ?? 502, answered.headers)
        answered.pipe(res)
      },
    )
    forward.on('error', () => res.destroy())
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
