#!/usr/bin/env bash
# The demo in one command: installs what is missing, creates the demo CA and SoftHSM tokens
# from scratch, starts the reference portal (embedded PGlite, TLS by the demo CA) and the
# workstation. Stop with Ctrl+C.
#   npm run demo                  Electron where its binary exists, else Chromium --app
#   npm run demo -- --no-browser  only print the workstation's address
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh

PORT="${LKMR_DEMO_PORT:-8443}"
export DEMO_DIR="$PWD/.demo"
echo "Создаю демо-УЦ и демо-токены SoftHSM в $DEMO_DIR…"
npx tsx scripts/demo-tokens.ts --dir "$DEMO_DIR"
eval "$(npx tsx scripts/demo/env.ts "$PORT")"
# The demo portal sends codes to its outbox (serve --demo); the login screen shows them.
export LKMR_DEMO_OUTBOX=1

# A fresh portal each time, so a fresh workstation store too (its sync cursor belongs to the old portal).
rm -rf .data/demo-portal .data/demo-workstation
export LKMR_STORE_DIR="$PWD/.data/demo-workstation"
# Demo patients with a few years of visits in the FHIR store (fixed seed: the same data every time);
# LKMR_DEMO_PATIENTS=0 skips them.
if [ "${LKMR_DEMO_PATIENTS:-200}" -gt 0 ]; then
  npx tsx portal/src/main.ts seed --patients "${LKMR_DEMO_PATIENTS:-200}" --data .data/demo-portal --quiet
fi
npx tsx portal/src/main.ts serve --demo "$DEMO_DIR" --port "$PORT" --data .data/demo-portal --quiet &
portal_pid=$!
trap 'kill $portal_pid 2>/dev/null || true' EXIT INT TERM

# Wait for the portal to say it is up; stop with its own message if it could not start.
for _ in $(seq 1 150); do
  if ! kill -0 "$portal_pid" 2>/dev/null; then
    echo "Портал не запустился (см. сообщение выше). Демо остановлено." >&2
    exit 1
  fi
  if npm run -s diag -- portal >/dev/null 2>&1; then break; fi
  sleep 0.2
done
npm run -s diag -- portal

cat <<TXT

Демо-токены (PIN-код пользователя 12345678, администратора 87654321):
  demo-doctor    врач, RSA-2048 — вход успешен
  demo-nurse     медсестра, ECDSA P-256 — вход успешен
  demo-problems  сертификаты: истёк, ещё не действует, отозван, без СНИЛС, не в регистре,
                 работа прекращена, недоверенный УЦ, без закрытого ключа
  demo-empty     токен без сертификатов
Вход по логину и паролю (регистратор): вкладка «Логин и пароль», данные — выше в строке портала;
код подтверждения появится в панели «Демо: сообщения». После входа — «Пациенты», «Расписание»,
«Синхронизация»; без сети (остановите портал) — «Войти без сети» тем же логином и паролем.
Извлечь и вставить токен: mv $DEMO_DIR/tokens/<папка> /tmp/ и обратно (см. README).
TXT

if npx tsx scripts/start-electron.ts --check >/dev/null 2>&1; then
  npx tsx scripts/start-electron.ts
else
  node out/main/start-web.js "$@"
fi
