// Prints the environment that points the workstation at the demo tokens and the demo portal,
// as shell `export` lines: eval "$(npx tsx scripts/demo/env.ts [PORT])".
import { readDemoManifest } from './manifest'

const port = process.argv[2] ?? '8443'
const m = readDemoManifest()
const vars: Record<string, string> = {
  SOFTHSM2_CONF: m.softhsmConf,
  LKMR_TOKEN_LIBRARIES: m.library,
  LKMR_PORTAL_URL: `https://127.0.0.1:${port}`,
  LKMR_PORTAL_CA: m.caCertPem,
}
for (const [k, v] of Object.entries(vars)) process.stdout.write(`export ${k}='${v.replace(/'/g, "'\\''")}'\n`)
