#!/bin/sh
# The include rules of docs/architecture.md hold in the tree (tools/check-layers), and the
# checker catches each kind of break, shown on a scratch tree with one of each.
#   layers_test.sh SOURCE_ROOT
set -eu
source_root=$1
"$source_root/tools/check-layers" "$source_root"

scratch=$(mktemp -d /tmp/sluice-layers-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/sdk/src" "$scratch/plugins/pkg" "$scratch/plugins/other" "$scratch/kernel/registry" \
  "$scratch/kernel/runtime" "$scratch/kernel/gadgets"
printf '#include "sluice/value.hpp"\n#include "runtime/runtime.hpp"\n#include "private_part.hpp"\n' >"$scratch/sdk/src/a.cpp"
printf '#include <sluice/value.hpp>\n#include "own.hpp"\n#include "../other/x.hpp"\n#include "registry/plugin_registry.hpp"\n' \
  >"$scratch/plugins/pkg/a.cpp"
: >"$scratch/plugins/pkg/own.hpp"
printf '#include "registry/x.hpp"\n#include "runtime/runtime.hpp"\n' >"$scratch/kernel/registry/a.cpp"
printf '#include "registry/x.hpp"\n' >"$scratch/kernel/runtime/a.cpp"
if "$source_root/tools/check-layers" "$scratch" >"$scratch/out" 2>&1; then
  echo "check-layers passed a tree that breaks every rule"
  exit 1
fi
expect() {
  grep -qF "$1" "$scratch/out" || { echo "check-layers did not report: $1"; cat "$scratch/out"; exit 1; }
}
expect 'sdk/src/a.cpp:2: the SDK includes only its own headers'
expect 'plugins/pkg/a.cpp:3: a plugin includes only the SDK'
expect 'plugins/pkg/a.cpp:4: a plugin must not include the kernel'
expect 'kernel/registry/a.cpp:2: kernel/registry is below runtime'
expect 'kernel/gadgets/: a kernel folder that tools/check-layers does not place'
if grep -qE 'sdk/src/a.cpp:3|plugins/pkg/a.cpp:2|kernel/runtime/a.cpp|kernel/registry/a.cpp:1' "$scratch/out"; then
  echo "check-layers reported an include that keeps the rules:"
  cat "$scratch/out"
  exit 1
fi
echo "the layers hold, and each kind of break is caught"
