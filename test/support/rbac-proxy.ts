/**
 * Loopback fronts for the https Azurite of the Entra ID tests (Azurite checks a token's audience, issuer and
 * lifetime but grants every valid token everything):
 * - startRoleProxy: https, with Azure RBAC's data roles on top. A bearer token's identity (its `oid`) reads
 *   with Storage Blob Data Reader or Contributor and writes with Contributor; otherwise storage's own refusal,
 *   403 AuthorizationPermissionMismatch with the service's XML body. Allowed requests go on to Azurite.
 * - startPlainFront: plain http, forwarding everything: the test process (which cannot trust a certificate
 *   made after it started) seeds containers through it with the account key.
 */
import {randomUUID} from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import type {AddressInfo} from 'node:net'

import {readTokenClaims} from '../../local/entra.js'

export type DataRole = 'Storage Blob Data Reader' | 'Storage Blob Data Contributor'

export interface Front {
  /** e.g. https://127.0.0.1:PORT (append the account path). */
  url: string
  /** Every request: method, path and the status it got. */
  requests: {method: string; url: string; status: number}[]
  close(): Promise<void>
}

/** Storage's answer to a token whose identity lacks the data role, as the service words it. */
function permissionMismatch(res: http.ServerResponse): void {
  const requestId = randomUUID()
  res.writeHead(403, {
    'content-type': 'application/xml',
    'x-ms-request-id': requestId,
    'x-ms-version': '2024-11-04',
    'x-ms-error-code': 'AuthorizationPermissionMismatch',
  })
  res.end(
    '\uFEFF<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationPermissionMismatch</Code>' +
      '<Message>This request is not authorized to perform this operation using this permission.\n' +
      `RequestId:${requestId}\nTime:${new Date().toISOString()}</Message></Error>`,
  )
}

function forwarder(target: URL, ca: string) {
  return (req: http.IncomingMessage, res: http.ServerResponse, seen: Front['requests'][number]) => {
    const forward = https.request(
      {host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, ca},
      (answered) => {
        seen.status = answered.statusCode ?? 0
        res.writeHead(answered.statusCode ?? 502, answered.headers)
        answered.pipe(res)
      },
    )
    forward.on('error', () => res.destroy())
    req.pipe(forward)
  }
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

const closer = (server: http.Server) => () =>
  new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })

/** An https front for `target` (https Azurite) that enforces `roles` (object id -> role) on bearer tokens. */
export async function startRoleProxy(options: {
  target: string
  tls: {cert: string; key: string}
  roles: Map<string, DataRole>
}): Promise<Front> {
  const requests: Front['requests'] = []
  const forward = forwarder(new URL(options.target), options.tls.cert)
  const server = https.createServer({cert: options.tls.cert, key: options.tls.key}, (req, res) => {
    const seen = {method: req.method ?? '', url: req.url ?? '/', status: 0}
    requests.push(seen)
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    if (bearer) {
      const oid = readTokenClaims(bearer)?.oid
      const role = oid ? options.roles.get(oid) : undefined
      const reading = req.method === 'GET' || req.method === 'HEAD'
      if (!(role === 'Storage Blob Data Contributor' || (reading && role === 'Storage Blob Data Reader'))) {
        seen.status = 403
        req.resume()
        req.on('end', () => permissionMismatch(res))
        return
      }
    }
    forward(req, res, seen)
  })
  const port = await listen(server)
  return {url: `https://127.0.0.1:${port}`, requests, close: closer(server)}
}

/** A plain http front forwarding everything to `target` (https Azurite), trusting its certificate. */
export async function startPlainFront(options: {target: string; ca: string}): Promise<Front> {
  const requests: Front['requests'] = []
  const forward = forwarder(new URL(options.target), options.ca)
  const server = http.createServer((req, res) => {
    const seen = {method: req.method ?? '', url: req.url ?? '/', status: 0}
    requests.push(seen)
    forward(req, res, seen)
  })
  const port = await listen(server)
  return {url: `http://127.0.0.1:${port}`, requests, close: closer(server)}
}
