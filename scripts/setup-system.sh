#!/usr/bin/env bash
# Installs the Debian packages the workstation's demo and tests use: SoftHSM2 (the PKCS#11
# token), OpenSC tools (pkcs11-tool), OpenSSL (independent signature checks), Chromium (the
# UI through the Node host), Cyrillic fonts, a C compiler (native/ fault-injecting module),
# PostgreSQL (the portal's production database; its tests run on it too). Idempotent; needs root or sudo for a first install.
set -euo pipefail

packages=(softhsm2 opensc openssl chromium fonts-dejavu-core ca-certificates gcc libc6-dev postgresql)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "Устанавливаю системные пакеты: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
