#!/usr/bin/env bash
# The ABI lock catches a header change without a version bump (on a scratch copy of the SDK),
# and the real tree's lock matches its headers.
set -euo pipefail
source_root=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/tools"
cp -r "$source_root/sdk" "$scratch/"
cp "$source_root/tools/sdk-abi-lock" "$scratch/tools/"
lock="$scratch/tools/sdk-abi-lock"

"$lock" --check >/dev/null
# A comment-only edit needs no bump.
echo "// a note" >> "$scratch/sdk/include/sluice/value.hpp"
"$lock" --check >/dev/null
# A declaration does.
echo "namespace sluice { int added_function(); }" >> "$scratch/sdk/include/sluice/value.hpp"
if "$lock" --check 2>"$scratch/err"; then echo "FAIL: header change not caught"; exit 1; fi
grep -q "bump it" "$scratch/err"
old=$(sed -n 's/^#define SLUICE_SDK_ABI_VERSION \([0-9]\+\)$/\1/p' "$scratch/sdk/include/sluice/plugin.hpp")
sed -i "s/^#define SLUICE_SDK_ABI_VERSION $old\$/#define SLUICE_SDK_ABI_VERSION $((old + 1))/" \
  "$scratch/sdk/include/sluice/plugin.hpp"
if "$lock" --check 2>/dev/null; then echo "FAIL: unrecorded bump not caught"; exit 1; fi
"$lock" --write >/dev/null
"$lock" --check >/dev/null

"$source_root/tools/sdk-abi-lock" --check
