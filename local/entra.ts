/**
 * Microsoft Entra ID, played on loopback: access tokens shaped like the real ones (an HS256 JWT with the
 * claims storage and Event Hubs read: aud, iss, iat, nbf, exp, tid, oid), and a managed identity token endpoint
 * answering as App Service's does (api-version 2019-08-01), which @azure/identity's DefaultAzureCredential
 * uses when IDENTITY_ENDPOINT and IDENTITY_HEADER are set. Azurite (`--oauth basic`) and the Event Hubs
 * stand-in check a token's audience, issuer and lifetime, not its signature, so the key is a throwaway.
 */
import {createHmac, randomBytes, randomUUID} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

export const TENANT_ID = '72f988bf-0000-4000-8000-00000000e4c9'
/** Entra ID's v1 token issuer for the tenant: what storage and Event Hubs expect in `iss`. */
export const ISSUER = `https://sts.windows.net/${TENANT_ID}/`
export const STORAGE_AUDIENCE = 'https://storage.azure.com'
export const EVENT_HUBS_AUDIENCE = 'https://eventhubs.azure.net'

export interface TokenClaims {
  aud: string
  iss: string
  iat: number
  nbf: number
  exp: number
  tid: string
  /** The identity's object id. */
  oid: string
  [claim: string]: unknown
}

export interface TokenOptions {
  /** The resource the token is for, e.g. https://storage.azure.com (Entra puts it in `aud`). */
  audience: string
  /** The identity's object id (default: a fixed one). */
  oid?: string
  lifetimeSeconds?: number
  /** Seconds from now (negative: in the past); for expired tokens. */
  issuedAtOffsetSeconds?: number
}

const SIGNING_KEY = randomBytes(32)
const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url')

export const DEFAULT_OID = '5f1c2f7e-0000-4000-8000-0000000000a1'

/** An access token as Entra ID issues it (the signature is not one Entra would make, and nobody here checks it). */
export function issueToken(options: TokenOptions): {token: string; claims: TokenClaims} {
  const now = Math.floor(Date.now() / 1000) + (options.issuedAtOffsetSeconds ?? 0)
  const claims: TokenClaims = {
    aud: options.audience,
    iss: ISSUER,
    iat: now,
    nbf: now - 300,
    exp: now + (options.lifetimeSeconds ?? 3600),
    tid: TENANT_ID,
    oid: options.oid ?? DEFAULT_OID,
    ver: '1.0',
  }
  const header = base64url(JSON.stringify({typ: 'JWT', alg: 'HS256'}))
  const payload = base64url(JSON.stringify(claims))
  const signature = createHmac('sha256', SIGNING_KEY).update(`${header}.${payload}`).digest('base64url')
  return {token: `${header}.${payload}.${signature}`, claims}
}

/** A JWT's claims, unverified (as Azurite's basic OAuth mode reads them), or undefined when it is not a JWT. */
export function readTokenClaims(token: string): Partial<TokenClaims> | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'))
    return claims && typeof claims === 'object' ? (claims as Partial<TokenClaims>) : undefined
  } catch {
    return undefined
  }
}

/** The resource a scope names, as Entra reads it: https://storage.azure.com/.default -> https://storage.azure.com. */
export const resourceOfScope = (scope: string) => scope.replace(/\/\.default$/, '')

export interface TokenRequest {
  resource: string
  apiVersion: string | undefined
  /** Whether the X-IDENTITY-HEADER secret matched. */
  authorized: boolean
}

export interface ManagedIdentityEndpoint {
  /** IDENTITY_ENDPOINT and IDENTITY_HEADER, as App Service sets them for its apps. */
  env: {IDENTITY_ENDPOINT: string; IDENTITY_HEADER: string}
  /** Every token request received, in order. */
  requests: TokenRequest[]
  /** The object id of the identity this endpoint issues tokens for (default DEFAULT_OID). */
  oid: string
  /** When set, every token's audience, whatever resource was asked for (a misconfigured or foreign token). */
  audience?: string
  stop(): Promise<void>
}

/**
 * App Service's managed identity endpoint on 127.0.0.1: GET ?api-version=2019-08-01&resource=R with header
 * X-IDENTITY-HEADER answers {access_token, expires_on (epoch seconds as a string), resource, token_type,
 * client_id}; without the right header, 401 as the platform does.
 */
export async function startManagedIdentityEndpoint(options: {oid?: string} = {}): Promise<ManagedIdentityEndpoint> {
  const secret = randomUUID()
  const clientId = randomUUID()
  const requests: TokenRequest[] = []
  const endpoint: Omit<ManagedIdentityEndpoint, 'env' | 'stop'> = {requests, oid: options.oid ?? DEFAULT_OID, audience: undefined}
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const resource = url.searchParams.get('resource') ?? ''
    const authorized = req.headers['x-identity-header'] === secret
    requests.push({resource, apiVersion: url.searchParams.get('api-version') ?? undefined, authorized})
    res.setHeader('content-type', 'application/json; charset=utf-8')
    if (!authorized) {
      res.statusCode = 401
      res.end(JSON.stringify({statusCode: 401, message: 'Unauthorized: the X-IDENTITY-HEADER value is missing or wrong.'}))
      return
    }
    if (url.pathname !== '/msi/token' || !resource) {
      res.statusCode = 400
      res.end(JSON.stringify({statusCode: 400, message: 'The request must name a resource.'}))
      return
    }
    const {token, claims} = issueToken({audience: endpoint.audience ?? resource, oid: endpoint.oid})
    res.end(JSON.stringify({access_token: token, expires_on: String(claims.exp), resource, token_type: 'Bearer', client_id: clientId}))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const {port} = server.address() as AddressInfo
  return Object.assign(endpoint, {
    env: {IDENTITY_ENDPOINT: `http://127.0.0.1:${port}/msi/token`, IDENTITY_HEADER: secret},
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  })
}
