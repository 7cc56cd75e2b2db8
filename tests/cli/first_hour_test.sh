#!/usr/bin/env bash
# What a newcomer meets first: `sluice` alone or mistyped prints the help and exits 2; the
# bundled plugins are found with no flag, relative to the binary; no component anywhere is a
# warning that names the fix; a --plugins directory that does not exist is an error naming it;
# --plugins takes one directory, so a positional after it stays a positional.
set -euo pipefail
sluice=$(realpath "$1")
plugins=$(realpath "$2")
sdk_lib_dir=$(realpath "$3")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export SLUICE_PLUGIN_PATH=  # only what the binary finds by itself, or what is named here
export XDG_CACHE_HOME="$work/cache"
fail() { echo "FAIL: $*" >&2; exit 1; }
# run STATUS COMMAND...: runs it with stdout in out.txt and stderr in err.txt, checks the exit status.
run() {
  local want=$1 status=0
  shift
  "$@" >out.txt 2>err.txt || status=$?
  [ "$status" = "$want" ] || fail "$* exited $status, not $want: $(cat err.txt)"
}

run 2 "$sluice"
grep -q "^sluice: a command is required" err.txt || fail "no command: $(cat err.txt)"
grep -q "serve" err.txt || fail "no command: the help is missing: $(cat err.txt)"
run 2 "$sluice" bogus
grep -q "^sluice: unknown command 'bogus'" err.txt || fail "bogus: $(cat err.txt)"
grep -q "Subcommands:" err.txt || fail "bogus: the help is missing: $(cat err.txt)"
run 2 "$sluice" plugns
grep -q "did you mean 'plugins'" err.txt || fail "plugns: $(cat err.txt)"

# The bundled plugins with no flag and no SLUICE_PLUGIN_PATH.
run 0 "$sluice" plugins
grep -q "^  collect (publisher" out.txt || fail "bundled plugins not found: $(cat out.txt)"
[ ! -s err.txt ] || fail "unexpected warning: $(cat err.txt)"

# A copy of the binary in a build tree of its own: it looks in that tree's plugins/, and warns
# when it finds nothing there; it serves the editor of the source tree meson-info names. (The
# copy needs the SDK library its build-tree rpath found.)
mkdir -p tree/kernel/cli tree/meson-info tree/plugins source/tools/editor/dist
echo "{\"directories\": {\"source\": \"$work/source\", \"build\": \"$work/tree\"}}" > tree/meson-info/meson-info.json
echo '<title>the editor</title>' > source/tools/editor/dist/index.html
cp "$sluice" tree/kernel/cli/sluice
export LD_LIBRARY_PATH="$sdk_lib_dir"
run 0 tree/kernel/cli/sluice plugins
grep -q "0 component(s)" out.txt || fail "empty tree: $(cat out.txt)"
grep -q "warning: no components found in $work/tree/plugins; pass --plugins DIR or set SLUICE_PLUGIN_PATH" err.txt ||
  fail "empty tree: no warning: $(cat err.txt)"
mkdir tree/plugins/publish
cp "$plugins"/publish/*.so tree/plugins/publish/
run 0 tree/kernel/cli/sluice plugins
grep -q "^  collect (publisher" out.txt || fail "the tree's plugins are not found: $(cat out.txt)"
tree/kernel/cli/sluice serve --listen 127.0.0.1:0 --graphs "$work/graphs" > serve.txt 2>&1 &
server=$!
for _ in $(seq 1 300); do grep -q "^editor: " serve.txt && break; kill -0 $server || break; sleep 0.1; done
url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' serve.txt)
[ -n "$url" ] || fail "serve did not start: $(cat serve.txt)"
grep -q "^editor: $url/ (from $work/source/tools/editor/dist)" serve.txt || fail "no editor line: $(cat serve.txt)"
curl -sf "$url/" | grep -q "the editor" || fail "the editor is not served at /"
kill -TERM $server
wait $server || fail "serve exited $?: $(cat serve.txt)"
unset LD_LIBRARY_PATH

# --no-bundled-plugins: only what is named.
mkdir only
run 0 "$sluice" plugins --no-bundled-plugins --plugins only
grep -q "0 component(s)" out.txt || fail "--no-bundled-plugins: $(cat out.txt)"

# --plugins with a directory that is not there: an error naming it, for every command.
run 2 "$sluice" plugins --plugins "$work/nowhere"
grep -q -- "--plugins: Directory does not exist: $work/nowhere" err.txt || fail "missing dir: $(cat err.txt)"
run 2 "$sluice" serve --listen 127.0.0.1:0 --graphs "$work/graphs" --plugins "$work/nowhere"
grep -q "$work/nowhere" err.txt || fail "serve, missing dir: $(cat err.txt)"

# --plugins takes one directory: what follows it is the positional it looks like.
run 0 "$sluice" plugins describe --plugins "$plugins" collect
grep -q "^collect — " out.txt || fail "describe after --plugins: $(cat out.txt) $(cat err.txt)"
printf 'name: g\npipeline: [a]\nnodes:\n  a: {component: nowhere}\n' > g.yaml
run 1 "$sluice" deploy --nodes http://127.0.0.1:9,http://127.0.0.1:10 g.yaml --plugins "$plugins"
grep -q "g.yaml: 1 error; nothing deployed" err.txt || fail "deploy after --nodes: $(cat err.txt)"
run 1 "$sluice" check --plugins "$plugins" g.yaml
grep -q "g.yaml:4:" err.txt || fail "check after --plugins: $(cat err.txt)"
# Sizes read as a graph's capacity_bytes reads them: a unit in any case, a space before it; a
# size that is not one says what a size looks like.
run 2 "$sluice" serve --listen 127.0.0.1:0 --graphs "$work/graphs" --max-body 3parsecs
grep -q -- "--max-body: must be a number of bytes, such as 1048576 or 64MiB" err.txt || fail "--max-body 3parsecs: $(cat err.txt)"
run 2 "$sluice" serve --listen 127.0.0.1:0 --graphs "$work/graphs" --max-queued-bytes 0
grep -q -- "--max-queued-bytes: must be a whole number of at least 1" err.txt || fail "--max-queued-bytes 0: $(cat err.txt)"
"$sluice" serve --listen 127.0.0.1:0 --graphs "$work/graphs" --max-body "2 kib" --max-queued-bytes 1mb > sized.txt 2>&1 &
server=$!
for _ in $(seq 1 300); do grep -q "listening on" sized.txt && break; kill -0 $server || break; sleep 0.1; done
url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' sized.txt)
[ -n "$url" ] || fail "serve with sizes did not start: $(cat sized.txt)"
head -c 3000 /dev/zero | tr '\0' 'x' > big.txt
status=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @big.txt -H 'Content-Type: text/plain' "$url/v1/graphs/none/packets")
[ "$status" = 413 ] || fail "--max-body '2 kib': a 3000-byte body got $status"
kill -TERM $server
wait $server || fail "serve with sizes exited $?: $(cat sized.txt)"
echo "first hour: ok"
