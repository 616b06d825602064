// Workstation configuration: built-in defaults (resources/config/default.json), then the
// machine-wide file an administrator edits, then environment variables (for the demo, CI and
// IT staff testing a setting without editing files).
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join } from 'node:path'
import { z } from 'zod'
import { findAppRoot } from './app-root'

export const appConfigSchema = z.object({
  /** Portal base URL, e.g. https://portal.clinic.local:8443 */
  portalUrl: z.url({ protocol: /^https?$/ }),
  /** PEM file with extra trust anchors for the portal's TLS certificate (a clinic's own CA). */
  portalCaFile: z.string().nullable(),
  /** Admin-set PKCS#11 library paths, tried before the built-in per-OS list. */
  tokenLibraries: z.array(z.string()),
  /** Also try the built-in list (Rutoken, JaCarta, SafeNet, ESMART, OpenSC, CryptoPro, SoftHSM2). */
  useDefaultLibraries: z.boolean(),
  tokenPollIntervalMs: z.number().int().min(100).max(10_000),
  portalTimeoutMs: z.number().int().min(500).max(120_000),
  /**
   * Idle lock: an app session with no user activity (UI input or any call) for this long ends
   * with reason 'idle' and the token is logged out. 0 turns the lock off.
   */
  idleTimeoutMs: z.number().int().min(0).max(24 * 3600_000),
  /**
   * Demo only: the login screen shows the messages (one-time codes) a demo portal "sent" instead
   * of texting them. Never on a real installation.
   */
  demoOutbox: z.boolean().default(false),
  /** Folder of the encrypted local store (store.db); null: the user's data folder (storeDirDefault). */
  storeDir: z.string().nullable().default(null),
  /** Offline login is allowed this many days after the account's last online login here; 0: never. */
  offlineLoginDays: z.number().int().min(0).max(30).default(7),
  /** Background sync period while online (after a failure it backs off up to a minute). */
  syncIntervalMs: z.number().int().min(1000).max(3600_000).default(30_000),
})
export type AppConfig = z.infer<typeof appConfigSchema>

/** The defaults next to the sources (development, Node host, CLI); see LoadConfigOptions.defaultsFile. */
export const DEFAULT_CONFIG_FILE = join(findAppRoot(), 'resources', 'config', 'default.json')

/** Where an administrator puts the workstation's settings. */
export function machineConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LKMR_CONFIG) return env.LKMR_CONFIG
  if (process.platform === 'win32') return join(env.PROGRAMDATA ?? 'C:\\ProgramData', 'LKMR', 'config.json')
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'LKMR', 'config.json')
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'lkmr', 'config.json')
}

/** Where the local store lives when the configuration does not say. */
export function storeDirDefault(env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'LKMR')
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'LKMR', 'data')
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'lkmr')
}

export class ConfigError extends Error {
  constructor(file: string, reason: string) {
    super(`Ошибка в файле настроек ${file}: ${reason}`)
    this.name = 'ConfigError'
  }
}

function readJson(file: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'))
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('ожидается объект JSON')
    return value as Record<string, unknown>
  } catch (e) {
    throw new ConfigError(file, e instanceof Error ? e.message : String(e))
  }
}

function fromEnv(env: NodeJS.ProcessEnv): Partial<AppConfig> {
  const out: Partial<AppConfig> = {}
  if (env.LKMR_PORTAL_URL) out.portalUrl = env.LKMR_PORTAL_URL
  if (env.LKMR_PORTAL_CA) out.portalCaFile = env.LKMR_PORTAL_CA
  if (env.LKMR_TOKEN_LIBRARIES) out.tokenLibraries = env.LKMR_TOKEN_LIBRARIES.split(delimiter).filter(Boolean)
  if (env.LKMR_DEFAULT_LIBRARIES) out.useDefaultLibraries = env.LKMR_DEFAULT_LIBRARIES !== '0'
  if (env.LKMR_IDLE_TIMEOUT_MS && /^\d+$/.test(env.LKMR_IDLE_TIMEOUT_MS)) out.idleTimeoutMs = Number(env.LKMR_IDLE_TIMEOUT_MS)
  if (env.LKMR_DEMO_OUTBOX) out.demoOutbox = env.LKMR_DEMO_OUTBOX === '1'
  if (env.LKMR_STORE_DIR) out.storeDir = env.LKMR_STORE_DIR
  if (env.LKMR_OFFLINE_DAYS && /^\d+$/.test(env.LKMR_OFFLINE_DAYS)) out.offlineLoginDays = Number(env.LKMR_OFFLINE_DAYS)
  if (env.LKMR_SYNC_INTERVAL_MS && /^\d+$/.test(env.LKMR_SYNC_INTERVAL_MS)) out.syncIntervalMs = Number(env.LKMR_SYNC_INTERVAL_MS)
  return out
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv
  /** The shipped defaults; the Electron glue passes the installed app's resources folder. */
  defaultsFile?: string
  /** Overrides applied last (tests, the demo). */
  overrides?: Partial<AppConfig>
}

export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  const env = options.env ?? process.env
  const machineFile = machineConfigPath(env)
  const merged = {
    ...readJson(options.defaultsFile ?? DEFAULT_CONFIG_FILE),
    ...(existsSync(machineFile) ? readJson(machineFile) : {}),
    ...fromEnv(env),
    ...options.overrides,
  }
  const parsed = appConfigSchema.safeParse(merged)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ConfigError(machineFile, `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'неверное значение'}`)
  }
  return parsed.data
}
