/**
 * A loopback TCP proxy that delays every chunk by a fixed time in each direction, like the round trip to a
 * cloud region. Local services answer in microseconds, which hides what matters against real ones.
 */
import net from 'node:net'

export interface LatencyProxy {
  port: number
  /** Connections accepted so far. */
  readonly connections: number
  close(): Promise<void>
}

export async function startLatencyProxy(target: {host: string; port: number}, delayMs: number): Promise<LatencyProxy> {
  const sockets = new Set<net.Socket>()
  let connections = 0
  const pipeDelayed = (from: net.Socket, to: net.Socket) => {
    // Same delay for every chunk: timers fire in order, so the byte stream keeps its order.
    from.on('data', (chunk) => setTimeout(() => to.writable && to.write(chunk), delayMs))
    from.on('end', () => setTimeout(() => to.end(), delayMs))
    from.on('error', () => to.destroy())
    from.on('close', () => setTimeout(() => to.destroy(), delayMs))
  }
  const server = net.createServer((client) => {
    connections++
    const upstream = net.connect(target.port, target.host)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.setNoDelay(true)
    }
    pipeDelayed(client, upstream)
    pipeDelayed(upstream, client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return connections
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
