import { createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP server on 127.0.0.1 that answers each request with the raw bytes `answer` gives for its
 * path, then closes the connection: what no `node:http` server would agree to send.
 */
export interface RawServer {
  readonly url: string
  close(): Promise<void>
}

export async function startRawServer(
  answer: (path: string) => string | Buffer,
): Promise<RawServer> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let head = ''
    socket.on('data', (chunk: Buffer) => {
      if (head.includes('\r\n\r\n')) return
      head += chunk.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      const path = head.split(' ')[1] ?? '/'
      socket.end(answer(path))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
