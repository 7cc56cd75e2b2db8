#!/bin/sh
# The plugin boundary as built: libsluice-sdk's SONAME names the plugin ABI version; the public
# SDK headers pull in no Boost header (a component needs the SDK alone); every bundled plugin
# module exports SLUICE_PLUGIN's symbols and no symbol of its own (hidden visibility).
#   sdk_boundary_test.sh SOURCE_ROOT SDK_LIBRARY PLUGINS_BUILD_DIR CXX
set -eu
source_root=$1 library=$2 plugins=$3 cxx=$4
failed=0

abi=$(sed -n 's/^#define SLUICE_SDK_ABI_VERSION \([0-9]\+\)$/\1/p' "$source_root/sdk/include/sluice/plugin.hpp")
soname=$(readelf -d "$library" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ "$soname" != "libsluice-sdk.so.$abi" ]; then
  echo "$library: SONAME is '$soname', not libsluice-sdk.so.$abi (SLUICE_SDK_ABI_VERSION $abi)"
  failed=1
fi

for header in "$source_root"/sdk/include/sluice/*.hpp; do
  # -H lists every header the preprocessor opens, one per line, on stderr.
  included=$("$cxx" -std=c++20 -I "$source_root/sdk/include" -H -E -x c++ "$header" -o /dev/null 2>&1 |
             grep '^\.* ' | grep '/boost/' || true)
  if [ -n "$included" ]; then
    echo "${header#"$source_root"/} includes Boost:"
    echo "$included" | head -n 5
    failed=1
  fi
done

modules=$(find "$plugins" -name 'libsluice-*.so' -type f | sort)
[ -n "$modules" ] || { echo "no plugin modules under $plugins"; exit 1; }
for module in $modules; do
  for symbol in sluice_plugin sluice_plugin_export sluice_plugin_abi; do
    nm -D --defined-only "$module" | grep -q " $symbol\$" || { echo "$module does not export $symbol"; failed=1; }
  done
  # Instantiations of standard templates keep the library's default visibility, and an ASan
  # build adds an ODR indicator (__odr_asan.NAME) for each exported variable; anything else
  # exported is the plugin's own.
  own=$(nm -DC --defined-only "$module" |
    grep -v ' std::\| __gnu_cxx::\| \(__odr_asan\.\)\?sluice_plugin\(_export\|_abi\)\?$' || true)
  if [ -n "$own" ]; then
    echo "$module exports symbols of its own (build it with gnu_symbol_visibility : 'hidden'):"
    echo "$own" | head -n 5
    failed=1
  fi
done

[ "$failed" = 0 ] && echo "SONAME libsluice-sdk.so.$abi; public headers without Boost; $(echo "$modules" | wc -l) plugin modules export only SLUICE_PLUGIN's symbols"
exit "$failed"
