#!/bin/sh
# `-Dsdk_only=true` configures and builds the SDK alone: what a component author outside the
# tree builds. Nothing of the kernel, plugins, tools or tests is configured then.
#   sdk_only_build_test.sh SOURCE_ROOT
set -eu
source_root=$1
build=$(mktemp -d /tmp/sluice-sdk-only-XXXXXX)
trap 'rm -rf "$build"' EXIT
meson setup "$build" "$source_root" -Dsdk_only=true >"$build/setup.log" 2>&1 || { cat "$build/setup.log"; exit 1; }
ninja -C "$build" >"$build/ninja.log" 2>&1 || { tail -n 40 "$build/ninja.log"; exit 1; }
test -e "$build/sdk/libsluice-sdk.so" || { echo "no libsluice-sdk.so in $build/sdk"; exit 1; }
for part in kernel plugins tests tools; do
  if [ -e "$build/$part" ]; then echo "-Dsdk_only=true built $part/"; exit 1; fi
done
grep -q "kernel and CLI : NO" "$build/setup.log" || { echo "the summary does not say the kernel is left out"; exit 1; }
echo "the SDK alone: built, nothing else configured"
