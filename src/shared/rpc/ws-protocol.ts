// Wire format of the Node host transport: the same contract as Electron IPC, carried as JSON
// messages over one loopback WebSocket (/rpc). Used by the host (server) and the renderer's
// WebSocket bridge (client); both decode what they receive with these schemas.
//
// The per-launch secret reaches the page in the URL fragment (`#k=…`), which browsers never send
// to a server and never put in a Referer; the page sends it as the first message on the socket,
// so it appears in no URL, header or server log.
import { z } from 'zod'
import { rpcResultSchema } from './contract'

export const WS_PATH = '/rpc'
/** Name of the URL fragment parameter that carries the secret. */
export const SECRET_PARAM = 'k'
/** Largest message either side accepts. */
export const MAX_MESSAGE_BYTES = 1024 * 1024
/** The server closes a socket that has not authenticated within this time. */
export const HELLO_TIMEOUT_MS = 5000

/** Close codes (4000–4999 are the application's range). */
export const CLOSE = {
  /** Wrong or missing secret. The client must not retry with the same secret. */
  unauthorized: 4401,
  /** A message that does not follow this protocol. */
  protocol: 4400,
  /** The host is shutting down. */
  shutdown: 4503,
} as const

const id = z.number().int().nonnegative()

export const clientMessageSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('hello'), secret: z.string().min(1).max(256) }).strict(),
  z.object({ t: z.literal('invoke'), id, method: z.string().max(200), input: z.unknown() }).strict(),
])
export type ClientMessage = z.infer<typeof clientMessageSchema>

export const serverMessageSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('ready') }).strict(),
  z.object({ t: z.literal('result'), id, result: rpcResultSchema }).strict(),
  z.object({ t: z.literal('event'), event: z.string(), payload: z.unknown() }).strict(),
])
export type ServerMessage = z.infer<typeof serverMessageSchema>

export function encodeMessage(message: ClientMessage | ServerMessage): string {
  return JSON.stringify(message)
}

function decode<T>(schema: z.ZodType<T>, raw: unknown): T | null {
  if (typeof raw !== 'string' || raw.length > MAX_MESSAGE_BYTES) return null
  let json: unknown
  try {
    json = JSON.parse(raw)
  } catch {
    return null
  }
  const parsed = schema.safeParse(json)
  return parsed.success ? parsed.data : null
}

/** A message from the page, or null when it is not one. */
export function decodeClientMessage(raw: unknown): ClientMessage | null {
  return decode(clientMessageSchema, raw)
}

/** A message from the host, or null when it is not one. */
export function decodeServerMessage(raw: unknown): ServerMessage | null {
  return decode(serverMessageSchema, raw)
}

/** The secret from a location hash such as `#k=abc`, or null. */
export function secretFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash)
  const value = params.get(SECRET_PARAM)
  return value && /^[A-Za-z0-9_-]{16,256}$/.test(value) ? value : null
}

/** The hash to append to the host's URL for a secret. */
export function hashForSecret(secret: string): string {
  return `#${SECRET_PARAM}=${secret}`
}
