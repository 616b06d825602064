// Where one-time codes go. A real deployment plugs in its SMS or mail gateway behind OtpChannel;
// the portal ships two: the demo outbox (kept in memory, readable through GET demo/outbox) and a
// file of JSON lines for an ops process to pick up.
import { appendFile } from 'node:fs/promises'
import { resolve } from 'node:path'

export type OtpMedium = 'sms' | 'email'

export interface OtpMessage {
  /** +7XXXXXXXXXX for sms, the address for email. */
  to: string
  channel: OtpMedium
  text: string
  /** On the portal's clock. */
  sentAt: Date
}

export interface OtpChannel {
  /** Resolves once the message is handed over; a failure refuses the request (no code is announced that was not sent). */
  send(message: OtpMessage): Promise<void>
}

/**
 * The demo channel: nothing leaves the portal, the messages wait in memory (the newest
 * LIMIT) for GET demo/outbox, which exists only while this channel is in use. In memory
 * on purpose: codes in clear never reach the database, and a restart empties it.
 */
export class OutboxChannel implements OtpChannel {
  static readonly LIMIT = 500
  private readonly messages: OtpMessage[] = []

  async send(message: OtpMessage): Promise<void> {
    this.messages.push({ ...message })
    if (this.messages.length > OutboxChannel.LIMIT) this.messages.splice(0, this.messages.length - OutboxChannel.LIMIT)
  }

  /** Newest first; only those to `to` when given. */
  list(filter: { to?: string | null } = {}): OtpMessage[] {
    return this.messages.filter((m) => !filter.to || m.to === filter.to).reverse()
  }
}

/**
 * One JSON line per message ({sentAt, channel, to, text}) appended to a file created with mode
 * 0600: it holds live codes. Appends of one line each do not interleave (O_APPEND).
 */
export class FileChannel implements OtpChannel {
  readonly path: string

  constructor(path: string) {
    this.path = resolve(path)
  }

  async send(message: OtpMessage): Promise<void> {
    const line = JSON.stringify({ sentAt: message.sentAt.toISOString(), channel: message.channel, to: message.to, text: message.text })
    await appendFile(this.path, `${line}\n`, { encoding: 'utf8', mode: 0o600 })
  }
}

/** `--otp-channel outbox | file:<path>`; null when the text is neither. */
export function parseOtpChannelSpec(spec: string): { kind: 'outbox' } | { kind: 'file'; path: string } | null {
  if (spec === 'outbox') return { kind: 'outbox' }
  if (spec.startsWith('file:') && spec.length > 'file:'.length) return { kind: 'file', path: spec.slice('file:'.length) }
  return null
}
