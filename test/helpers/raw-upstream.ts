import type { AddressInfo } from 'node:net'
import { createServer, type Socket } from 'node:net'

/** What `startRawUpstream` gives a test. */
export interface RawUpstream {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** Requests received so far. */
  readonly arrivals: number
  close(): Promise<void>
}

/**
 * A `node:net` server on 127.0.0.1, port 0, that answers each request with the bytes
 * `answer(index)` gives, as they are, then closes the connection: for status lines that
 * `node:http` refuses to write.
 */
export async function startRawUpstream(answer: (index: number) => string): Promise<RawUpstream> {
  let arrivals = 0
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let received = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      const end = received.indexOf('\r\n\r\n')
      if (end === -1) return
      const head = received.subarray(0, end).toString('latin1')
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0)
      if (received.byteLength < end + 4 + length) return
      received = Buffer.alloc(0)
      socket.end(Buffer.from(answer(arrivals++), 'utf8'))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    get arrivals() {
      return arrivals
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
    },
  }
}

/** A whole HTTP/1.1 answer: the status line as given, a text body, `connection: close`. */
export function rawAnswer(statusLine: string, body: string, headers: string[] = []): string {
  const length = Buffer.byteLength(body)
  const lines = [statusLine, ...headers, `content-length: ${length}`, 'connection: close']
  return `${lines.join('\r\n')}\r\n\r\n${body}`
}
