#!/usr/bin/env bash
# Builds native/build/libpkcs11-faults.so (the fault-injecting PKCS#11 module, see
# native/pkcs11-faults/README.md) with the system C compiler. PKCS#11 headers: the OASIS 2.40 set
# that ships with pkcs11js (node_modules/pkcs11js/includes/pkcs11), so `npm ci` must have run.
#   bash native/build.sh            optimised build (what the tests and the app use)
#   SANITIZE=address bash native/build.sh   ASan/UBSan build into native/build/asan/
# The library is written to a temporary name and renamed into place, so parallel test workers
# that build at the same time never load a half-written file.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
src="$here/pkcs11-faults"
inc="$root/node_modules/pkcs11js/includes/pkcs11"
if [ ! -f "$inc/pkcs11.h" ]; then
  echo "PKCS#11 headers not found in $inc (run npm ci first)" >&2
  exit 1
fi
cc="${CC:-cc}"
flags=(-std=c11 -D_DEFAULT_SOURCE -fPIC -shared -fvisibility=hidden -pthread -Wall -Wextra -Werror -g)
out="$here/build"
if [ "${SANITIZE:-}" != "" ]; then
  flags+=(-O1 -fno-omit-frame-pointer "-fsanitize=$SANITIZE,undefined")
  out="$here/build/asan"
else
  flags+=(-O2)
fi
mkdir -p "$out"
tmp="$(mktemp "$out/.libpkcs11-faults.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
"$cc" "${flags[@]}" -I"$inc" -o "$tmp" "$src"/*.c -ldl
chmod 755 "$tmp"
mv -f "$tmp" "$out/libpkcs11-faults.so"
trap - EXIT
echo "built $out/libpkcs11-faults.so"
