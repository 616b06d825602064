// Reads a secret (PIN) from the terminal without echoing it; from a pipe when not a TTY
// (scripts, tests). The value is returned once and never printed or logged.
import { stdin, stdout } from 'node:process'

export function readSecret(prompt: string): Promise<string> {
  if (!stdin.isTTY) return readLineFromPipe()
  return new Promise((resolve, reject) => {
    stdout.write(prompt)
    let value = ''
    stdin.setRawMode(true)
    stdin.resume()
    stdin.setEncoding('utf8')
    const done = (result: string | Error): void => {
      stdin.setRawMode(false)
      stdin.pause()
      stdin.off('data', onData)
      stdout.write('\n')
      if (result instanceof Error) reject(result)
      else resolve(result)
    }
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done(value)
        if (ch === '\u0003') return done(new Error('Ввод PIN-кода прерван'))
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else value += ch
      }
    }
    stdin.on('data', onData)
  })
}

function readLineFromPipe(): Promise<string> {
  return new Promise((resolve) => {
    let data = ''
    stdin.setEncoding('utf8')
    const onData = (chunk: string): void => {
      data += chunk
      const nl = data.indexOf('\n')
      if (nl >= 0) finish(data.slice(0, nl))
    }
    const finish = (line: string): void => {
      stdin.off('data', onData)
      stdin.off('end', onEnd)
      stdin.pause()
      resolve(line.replace(/\r$/, ''))
    }
    const onEnd = (): void => finish(data)
    stdin.on('data', onData)
    stdin.on('end', onEnd)
  })
}
