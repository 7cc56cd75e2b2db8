#!/usr/bin/env bash
# docs/components.md is what `sluice plugins --markdown` prints for the bundled plugins.
set -euo pipefail
sluice=$(realpath "$1")
doc=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
SLUICE_PLUGIN_PATH= XDG_CACHE_HOME="$work/cache" "$sluice" plugins --markdown > "$work/components.md"
if ! diff -u "$doc" "$work/components.md"; then
  echo "FAIL: docs/components.md is not current; regenerate it with" >&2
  echo "  build/kernel/cli/sluice plugins --markdown > docs/components.md" >&2
  exit 1
fi
echo "docs/components.md: current"
