#!/usr/bin/env bash
# Template round trip. Usage: template_test.sh CASE SOURCE_ROOT BUILD_ROOT SLUICE_BINARY
#   kinds            every kind: generate, build and test out of tree against BUILD_ROOT's SDK
#                    (uninstalled pkg-config), check the example of its descriptor, then run
#                    its sample graph through `sluice run`
#   install          `meson install` to a staging directory; a component builds against that SDK
#   errors           what the generator refuses, and the reasons it gives
#   cookiecutter     cookiecutter renders the template to the very same files (skipped, exit 77,
#                    when cookiecutter is not installed)
# Nothing here sleeps for a fixed time: waits poll a condition until a deadline.
set -euo pipefail

case_name=$1 source_root=$2 build_root=$3 sluice=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-template-test.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# The generated projects find this build's SDK, its `sluice` and its bundled plugins (the
# exports docs/first-component.md gives for a build tree); the plugin registry's cache and
# anything else under HOME stay inside the test's directory.
export PKG_CONFIG_PATH=$build_root/meson-uninstalled
export PATH=$(dirname "$sluice"):$PATH
export SLUICE_PLUGIN_PATH=$build_root/plugins
# ccache (which meson picks up) keeps its cache where it was, so that the projects' builds reuse it.
if command -v ccache >/dev/null; then
  export CCACHE_DIR=${CCACHE_DIR:-$(ccache -k cache_dir)}
fi
export HOME=$work/home
mkdir -p "$HOME"
unset SLUICE_TEMPLATE_DIR

kinds=(transformer filter adapter extractor publisher operator source)

# Runs a command that must fail; its exit code and output go to $status and $output.
expect_failure() {
  status=0
  output=$("$@" 2>&1 </dev/null) || status=$?
  [ "$status" -ne 0 ] || fail "expected a failure from: $*"$'\n'"$output"
}

expect_output() {  # PATTERN: in $output (fixed string)
  grep -qF -- "$1" <<<"$output" || fail "expected '$1' in the output:"$'\n'"$output"
}

# ---- kinds ---------------------------------------------------------------------------------

# What `sluice run graph.yaml` of each kind's project must print for its sample.ndjson.
expected_run_output() {
  case $1 in
    transformer) printf '%s\n' '{"text":"the quick brown fox","words":4}' \
                                '{"text":"jumps over the lazy dog","words":5}' ;;
    filter) printf '%s\n' '{"lang":"en","text":"hello"}' '{"lang":"de","text":"hallo"}' ;;
    adapter) printf '%s\n' '{"line":"first line","line_number":1}' \
                           '{"line":"second line","line_number":2}' \
                           '{"line":"third line","line_number":4}' ;;
    extractor) printf '%s\n' '{"text":"#sluice moves #data, #sluice","hashtags":["sluice","data"]}' \
                             '{"text":"no tags here","hashtags":[]}' '{"title":"no text"}' ;;
    publisher) printf '%s\n' '{"event":"signup","user":"ada"}' '{"event":"login","user":"ada"}' ;;
    operator) printf '%s\n' '{"key":1,"left":{"side":"left","id":1,"name":"ada"},"right":{"side":"right","id":1,"total":7}}' ;;
    source) printf '%s\n' '{"n":1}' '{"n":2}' '{"n":3}' '{"n":4}' '{"n":5}' ;;
  esac
}

# Waits until `sluice serve` (started with its log in $1) says where it listens; sets $port.
wait_for_listening() {
  local deadline=$((SECONDS + 60))
  port=
  while [ -z "$port" ]; do
    kill -0 "$server_pid" 2>/dev/null || { cat "$1"; fail "sluice serve exited"; }
    [ "$SECONDS" -lt "$deadline" ] || { cat "$1"; fail "sluice serve did not listen within 60 s"; }
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$1" | head -n1)
    [ -n "$port" ] || sleep 0.2  # poll interval; the deadline bounds the wait
  done
}

# A source's graph takes no input: served, its packets reach the file of its jsonl_file node.
# Then served again on the same state directory: every batch was done, so none is sent again.
run_source_graph() {
  mkdir -p served/graphs
  cp graph.yaml served/graphs/
  local output=served/var/data/$name.jsonl round
  trap '[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null' EXIT  # a subshell does not inherit the trap
  for round in first second; do
    : >"$work/serve-$kind.log"
    "$sluice" serve --listen 127.0.0.1:0 --graphs served/graphs --plugins build \
      </dev/null >>"$work/serve-$kind.log" 2>&1 &
    server_pid=$!
    wait_for_listening "$work/serve-$kind.log"
    local deadline=$((SECONDS + 60))
    until grep -qF "deployed graph '$name'" "$work/serve-$kind.log"; do
      [ "$SECONDS" -lt "$deadline" ] || { cat "$work/serve-$kind.log"; fail "source: the graph was not deployed"; }
      sleep 0.1
    done
    until [ -f served/var/sources/$name/$name/position ] && [ "$(cat served/var/sources/$name/$name/position)" = 5 ]; do
      [ "$SECONDS" -lt "$deadline" ] || { cat "$work/serve-$kind.log"; fail "source: the batches were not all done"; }
      sleep 0.1
    done
    kill "$server_pid"
    wait "$server_pid" || true
    server_pid=
    diff -u <(expected_run_output "$kind") "$output" || fail "source: unexpected file after the $round run"
  done
}

test_kinds() {
  cd "$work"
  for kind in "${kinds[@]}"; do
    name=t_$kind
    echo "== $kind"
    "$sluice" new component "$name" --kind "$kind" </dev/null >"$work/new-$kind.txt" ||
      fail "sluice new $kind: $(cat "$work/new-$kind.txt")"
    grep -qF "created $name/: $kind '$name'" "$work/new-$kind.txt" ||
      fail "unexpected output of sluice new: $(cat "$work/new-$kind.txt")"
    grep -qF "meson setup build" "$work/new-$kind.txt" || fail "no next steps printed"
    (
      cd "$name"
      # -Dwerror: the generated code must build warning-free at warning_level 2.
      meson setup build -Dwerror=true >setup.log 2>&1 || { cat setup.log; fail "$kind: meson setup"; }
      meson test -C build --print-errorlogs >test.log 2>&1 || { cat test.log; fail "$kind: meson test"; }
      # Both the doctest suite and the kernel's check of the module ran, finished in either order
      # (meson numbers the tests as they finish).
      grep -qE "^ *[12]/2 +$name +OK" test.log && grep -qE "^ *[12]/2 +loads in sluice +OK" test.log ||
        { cat test.log; fail "$kind: expected 2 passing tests"; }
      [ -f "build/lib$name.so" ] || fail "$kind: build/lib$name.so is missing"
      # The example in its descriptor is true, as the bundled components' are.
      python3 "$source_root/tests/cli/component_examples_test.py" "$sluice" --plugins build "$name" >examples.log 2>&1 ||
        { cat examples.log; fail "$kind: the descriptor's example"; }
      if [ "$kind" = source ]; then
        run_source_graph
        exit
      fi
      # The sluice run command the project's README gives (an adapter's reads a raw text file).
      local run_command
      run_command=$(grep '^sluice run graph.yaml ' README.md) || fail "$kind: README.md has no sluice run"
      bash -c "$run_command" >run.ndjson 2>run.log || { cat run.log; fail "$kind: $run_command"; }
      diff -u <(expected_run_output "$kind") run.ndjson || fail "$kind: unexpected output of the sample graph"
      if [ "$kind" = publisher ]; then
        diff -u <(expected_run_output "$kind") "var/$name.jsonl" || fail "publisher: unexpected file"
      fi
    )
  done
}

# ---- install -------------------------------------------------------------------------------

# `meson install` into a staging directory, then a component project built against the staged
# SDK (its sluice-sdk.pc, with pkg-config's sysroot pointing into the stage) and generated by the
# staged sluice, which finds its templates in share/ beside its bin/.
test_install() {
  local stage=$work/stage
  meson install -C "$build_root" --no-rebuild --destdir "$stage" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log"; fail "meson install"; }
  local found
  for path in bin/sluice include/sluice/component.hpp include/sluice/plugin.hpp \
      include/sluice/harness.hpp 'lib*/libsluice-sdk.so' 'lib*/pkgconfig/sluice-sdk.pc' \
      'lib*/sluice/plugins/libsluice-publish.so' share/sluice/templates/component/cookiecutter.json \
      share/sluice/templates/component/sluice-template.json \
      share/sluice/templates/component/hooks/post_gen_project.py \
      'share/sluice/templates/component/{{cookiecutter.name}}/kinds/adapter/sample.txt'; do
    found=$(find "$stage" -path "*/$path" | head -n1)
    [ -n "$found" ] || fail "meson install did not install $path"
  done
  local pc_dir sdk_lib_dir staged_sluice
  pc_dir=$(dirname "$(find "$stage" -name sluice-sdk.pc)")
  sdk_lib_dir=$(dirname "$(find "$stage" -name 'libsluice-sdk.so' | head -n1)")
  staged_sluice=$(find "$stage" -path '*/bin/sluice')
  cd "$work"
  LD_LIBRARY_PATH=$sdk_lib_dir "$staged_sluice" new component staged_filter --kind filter \
    </dev/null >new.txt 2>&1 || fail "the installed sluice new: $(cat new.txt)"
  cd staged_filter
  PKG_CONFIG_PATH=$pc_dir PKG_CONFIG_SYSROOT_DIR=$stage meson setup build -Dwerror=true >setup.log 2>&1 ||
    { cat setup.log; fail "meson setup against the installed SDK"; }
  grep -q "sluice-sdk found: YES" setup.log || { cat setup.log; fail "sluice-sdk not found"; }
  meson compile -C build -v >compile.log 2>&1 || { cat compile.log; fail "build against the installed SDK"; }
  grep -qF -- "-I$stage/" compile.log || fail "the build did not use the installed headers"
  meson test -C build --print-errorlogs >test.log 2>&1 || { cat test.log; fail "meson test"; }
  [ -f build/libstaged_filter.so ] || fail "build/libstaged_filter.so is missing"
}

# ---- errors --------------------------------------------------------------------------------

test_errors() {
  cd "$work"
  "$sluice" new component taken_dir </dev/null >/dev/null || fail "first generation failed"
  echo keep >taken_dir/marker
  before=$(ls -la taken_dir)
  expect_failure "$sluice" new component taken_dir
  expect_output "taken_dir already exists; nothing was written"
  [ "$status" -eq 1 ] || fail "exit code $status, expected 1"
  [ "$(ls -la taken_dir)" = "$before" ] || fail "the existing directory was changed"

  expect_failure "$sluice" new component word-count
  expect_output "name: '-' at position 5 is not allowed: use lowercase letters, digits and '_'"
  expect_failure "$sluice" new component WordCount
  expect_output "name: must start with a lowercase letter"
  expect_failure "$sluice" new component class
  expect_output "name: 'class' is a C++ keyword"
  expect_failure "$sluice" new component sluice
  expect_output "name: 'sluice' is a namespace of the SDK or its libraries"
  expect_failure "$sluice" new component
  expect_output "NAME is missing"
  expect_failure "$sluice" new component ok_name --kind sink
  expect_output "kind: 'sink' is not one of: transformer, filter, adapter, extractor, publisher, operator, source"
  expect_failure "$sluice" new component ok_name --set sumary=x
  expect_output "--set sumary: the template has no variable 'sumary' (did you mean 'summary'?)"
  expect_failure "$sluice" new component ok_name --set version=1.0
  expect_output "version: must be MAJOR.MINOR.PATCH"
  expect_failure "$sluice" new component ok_name --set 'summary=say "hi"'
  expect_output "summary: must not contain '\"' or '\\'"
  expect_failure "$sluice" new component ok_name --set 'author={{ cookiecutter.name }}'
  expect_output "author: must not contain '{{'"
  expect_failure "$sluice" new component collect --plugins "$build_root/plugins"
  expect_output "name: 'collect' is taken: plugin package 'publish'"
  expect_output "nothing was written"

  # A template may use {{cookiecutter.VAR}} and nothing else of Jinja: anything sluice would not
  # render as cookiecutter does is refused at its file:line:column, in every kind's files
  # whichever kind is chosen.
  cp -r "$source_root/templates" "$work/edited_templates"
  local graph="$work/edited_templates/component/{{cookiecutter.name}}/kinds/filter/graph.yaml"
  sed -i '3s/^/  {% if cookiecutter.kind == "filter" %}/' "$graph"
  expect_failure "$sluice" new component tag_check --templates "$work/edited_templates"
  expect_output "$graph:3:3: unsupported template syntax '{% if cookiecutter.kind == \"filter\" %}': sluice new substitutes only {{cookiecutter.VAR}}"
  sed -i '3s/.*/name: {{ cookiecutter.name }}/' "$graph"
  expect_failure "$sluice" new component tag_check --templates "$work/edited_templates"
  expect_output "$graph:3:7: unsupported template syntax '{{ cookiecutter.name }}'"
  sed -i '3s/.*/name: {{cookiecutter.nmae}}/' "$graph"
  expect_failure "$sluice" new component tag_check --templates "$work/edited_templates"
  expect_output "$graph:3:22: 'cookiecutter.nmae' is undefined here (did you mean 'name'?)"
  [ ! -e ok_name ] && [ ! -e collect ] && [ ! -e word-count ] && [ ! -e tag_check ] ||
    fail "a refused project was written"
  if ls -A | grep -q '^\.'; then fail "a staging directory was left behind: $(ls -A)"; fi

  # tools/sluice-new is `sluice new` from the source tree (built already: no setup runs).
  SLUICE_BUILD_DIR=$build_root "$source_root/tools/sluice-new" component via_wrapper --kind filter \
    --set author=Ada --dir "$work/out" </dev/null >wrapper.txt || fail "tools/sluice-new: $(cat wrapper.txt)"
  grep -q 'Ada' "$work/out/via_wrapper/README.md" || fail "--set author was not applied"
  grep -q 'class ViaWrapper final' "$work/out/via_wrapper/via_wrapper.hpp" || fail "no class ViaWrapper"

  # On a terminal it asks for what is missing, re-asking after an invalid answer.
  if command -v script >/dev/null; then
    printf 'Bad-Name\nasked_name\n2\n\n\n\n\n' |
      script -qec "$sluice new component --dir $work/asked" /dev/null >asked.txt 2>&1 || true
    grep -q "must start with a lowercase letter" asked.txt || fail "no re-prompt: $(cat asked.txt)"
    grep -q 'kind = sluice::ComponentKind::filter' "$work/asked/asked_name/asked_name.hpp" ||
      fail "interactive answers not applied: $(cat asked.txt)"
  fi
}

# ---- cookiecutter --------------------------------------------------------------------------

test_cookiecutter() {
  if ! command -v cookiecutter >/dev/null; then
    echo "cookiecutter is not installed (Debian: cookiecutter): skipped"
    exit 77
  fi
  cd "$work"
  local n=0
  compare() {  # VAR=VALUE...: the same variables for both renderers
    n=$((n + 1))
    mkdir -p "ours$n" "theirs$n"
    local sets=()
    for assignment in "$@"; do sets+=(--set "$assignment"); done
    "$sluice" new component --dir "ours$n" "${sets[@]}" </dev/null >/dev/null ||
      fail "sluice new $*"
    cookiecutter --no-input -o "theirs$n" "$source_root/templates/component" "$@" >/dev/null ||
      fail "cookiecutter $*"
    diff -r "theirs$n" "ours$n" || fail "cookiecutter and sluice new differ for: $*"
  }
  for kind in "${kinds[@]}"; do compare "name=cc_$kind" "kind=$kind"; done
  compare name=foo2_bar_baz kind=filter 'summary=Keeps what matters' 'author=Zoë Müller' version=2.3.4
  compare name=x class_name=Special_Name kind=operator
}

case $case_name in
  kinds) test_kinds ;;
  install) test_install ;;
  errors) test_errors ;;
  cookiecutter) test_cookiecutter ;;
  *) fail "unknown case '$case_name'" ;;
esac
echo "PASS: $case_name"
