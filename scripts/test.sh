#!/usr/bin/env bash
# The one test command (README, CI): lint with the process-boundary rules, type checks, then
# unit, integration (real SoftHSM tokens, real portal over TLS) and end-to-end (Chromium) tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh

echo "== lint (process boundaries) =="
npx eslint .
echo "== typecheck =="
npx tsc -p tsconfig.node.json --noEmit
npx tsc -p tsconfig.web.json --noEmit
echo "== tests (the portal suite runs on embedded PGlite and on a PostgreSQL server) =="
source scripts/postgres-for-tests.sh
npx vitest run "$@"
