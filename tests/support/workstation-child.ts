// A workstation host in a process of its own, for crash tests. Run with `node --import tsx`, or
// (as the crash tests do, for a fast start) from its bundle: tests/support/child-bundle.ts.
// It builds the real core — createAppCore, exactly as the Node host does: the store worker on the
// encrypted database in `storeDir` (key in `storeDir/store.key`), the sync engine, the session —
// logs in, runs a seeded workload through the core's handlers and reports each step on stdout, so
// the parent can SIGKILL it at any moment and still know what was acknowledged.
//
// Protocol, one line each. stdin, first: `go` (the parent may start a child early, while the
// previous one still runs on the store, and let it open the store only once that one is dead).
// stdout:
//   started                             modules loaded, waiting for `go`
//   code-needed <otpId>                 online login: the parent answers on stdin `code <digits>`
//   ready                               logged in, the workload starts
//   try <snils> <phone>                 about to save (register or edit) this patient
//   ack <patientId> <snils> <phone>     patients.save resolved: the change is acknowledged
//   syncing                             sync.now called
//   synced <pending> <rejected> <conflicts> <online 0|1>   sync.now resolved
//   done                                the script ended; the process exits 0
//   fail <message>                      anything unexpected; exit 1
// Lines are written synchronously (stdout is a pipe), so a line the parent reads was written
// before whatever the child did next.
import { createInterface } from 'node:readline'
import { createAppCore } from '../../src/main/core/app-core'
import { loadConfig } from '../../src/main/core/config'
import { toAppError } from '../../src/shared/errors'
import { childForm, childPhone, childSnils, prng, type ChildConfig } from './workstation-workload'

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '') as ChildConfig
  const stdin = createInterface({ input: process.stdin })
  const waiting: Array<(line: string) => void> = []
  const queued: string[] = []
  stdin.on('line', (line) => {
    const w = waiting.shift()
    if (w) w(line)
    else queued.push(line)
  })
  const nextLine = (): Promise<string> => new Promise((resolve) => (queued.length > 0 ? resolve(queued.shift()!) : waiting.push(resolve)))
  say('started')
  const go = await nextLine()
  if (go !== 'go') throw new Error(`expected go, got ${go}`)

  const core = createAppCore(
    loadConfig({
      env: { LKMR_CONFIG: '/nonexistent/config.json' },
      defaultsFile: cfg.defaultsFile,
      overrides: {
        useDefaultLibraries: false,
        tokenLibraries: [],
        portalUrl: cfg.portalUrl,
        portalCaFile: cfg.caFile,
        idleTimeoutMs: 0,
        storeDir: cfg.storeDir,
        syncIntervalMs: 3600_000,
        ...(cfg.portalTimeoutMs ? { portalTimeoutMs: cfg.portalTimeoutMs } : {}),
        ...(cfg.offlineLoginDays !== undefined ? { offlineLoginDays: cfg.offlineLoginDays } : {}),
      },
    }),
    { transport: 'web', log: (line) => process.stderr.write(`[child ${cfg.phase}/${cfg.gen}] ${line}\n`) },
  )
  const h = core.handlers

  if (cfg.loginMode === 'online') {
    const sent = await h['auth.passwordStart']({ login: cfg.login, password: cfg.password })
    say(`code-needed ${sent.otpId}`)
    const answer = await nextLine()
    const code = /^code (\d{6})$/.exec(answer)?.[1]
    if (!code) throw new Error(`expected a code, got ${answer}`)
    await h['auth.passwordConfirm']({ otpId: sent.otpId, code })
  } else {
    await h['auth.offlineLogin']({ login: cfg.login, password: cfg.password })
  }
  say('ready')

  const rand = prng(cfg.seed * 7919 + cfg.phase * 100_003 + cfg.gen)
  let created = 0
  const save = async (i: number): Promise<void> => {
    const phone = childPhone(cfg.phase, cfg.gen, i)
    if (cfg.candidates.length > 0 && rand() >= cfg.createShare) {
      const snils = cfg.candidates[Math.floor(rand() * cfg.candidates.length)]!
      const found = (await h['patients.search']({ query: snils, limit: 5 })).items.find((p) => p.snils === snils)
      if (found) {
        const record = await h['patients.get']({ id: found.id })
        say(`try ${snils} ${phone}`)
        const saved = await h['patients.save']({ id: found.id, form: { ...record.form, phone, address: `${record.form.address.replace(/, тел\. .*$/, '')}, тел. ${phone}` } })
        say(`ack ${saved.id} ${snils} ${phone}`)
        return
      }
    }
    const snils = childSnils(cfg.prefix, cfg.phase, cfg.gen, created++)
    say(`try ${snils} ${phone}`)
    const saved = await h['patients.save']({ id: null, form: childForm(snils, phone, cfg.gen * 100 + i) })
    say(`ack ${saved.id} ${snils} ${phone}`)
  }

  const syncOnce = async (): Promise<void> => {
    say('syncing')
    const s = await h['sync.now']({})
    say(`synced ${s.pending} ${s.rejected} ${s.conflicts} ${s.online ? 1 : 0}`)
  }

  let i = 0
  while (i < cfg.maxOps) {
    if (cfg.work === 'writes') {
      await save(i++)
      continue
    }
    const burst = 1 + Math.floor(rand() * 3)
    for (let k = 0; k < burst && i < cfg.maxOps; k++) await save(i++)
    await syncOnce()
  }
  if (cfg.work === 'sync') await syncOnce()
  say('done')
  stdin.close()
  await core.close()
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    const err = toAppError(e)
    say(`fail ${err.code} ${err.details ?? ''} ${e instanceof Error ? e.message : String(e)}`.replace(/\n/g, ' '))
    process.exit(1)
  },
)
