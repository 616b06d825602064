#!/usr/bin/env bash
# Brings the project to a runnable state: system packages, npm dependencies (native modules
# are built from source by node-gyp), the built renderer. Each step is skipped when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-system.sh

# The Electron binary cannot be fetched on machines without open internet; building needs none.
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
   || [ ! -f node_modules/pkcs11js/build/Release/pkcs11.node ] \
   || [ ! -f node_modules/better-sqlite3-multiple-ciphers/build/Release/better_sqlite3.node ]; then
  echo "Устанавливаю зависимости npm (сборка нативных модулей займёт несколько минут)…"
  npm ci --no-audit --no-fund
fi

if [ ! -f out/renderer/index.html ] || [ -n "$(find src electron.vite.config.ts -newer out/renderer/index.html -print -quit 2>/dev/null)" ]; then
  echo "Собираю приложение…"
  npx electron-vite build >/dev/null
fi
