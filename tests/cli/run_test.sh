#!/usr/bin/env bash
# `sluice run` as a Unix pipe, with the bundled plugins: output in input order at 1 and 2
# workers, bad input lines named by line:column and skipped, failed packets counted, exit codes,
# other content types (--content-type) through an adapter.
set -euo pipefail
sluice=$(realpath "$1")
plugins=$(realpath "$2")
graphs_doc=$(realpath "$3")  # docs/graphs.md
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export SLUICE_PLUGIN_PATH=  # only the plugins named here
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > stamp.yaml <<'YAML'
name: stamp
pipeline: [positive, stamp, out]
nodes:
  positive: {component: keep, params: {if: "n > 0"}}
  stamp: {component: set_field, params: {field: seen, value: true}}
  out:   {component: collect}
YAML
for i in $(seq 1 5000); do echo "{\"n\": $i}"; done > in.ndjson
for workers in 1 2; do
  "$sluice" run stamp.yaml --plugins "$plugins" --workers "$workers" --batch 128 \
    --input in.ndjson --output out.ndjson 2>err.txt || fail "exit $? at $workers workers: $(cat err.txt)"
  [ "$(wc -l < out.ndjson)" = 5000 ] || fail "expected 5000 lines at $workers workers"
  # In input order, each stamped.
  expected=$(for i in $(seq 1 5000); do echo "{\"n\":$i,\"seen\":true}"; done | sha256sum)
  [ "$(sha256sum < out.ndjson)" = "$expected" ] || fail "output differs at $workers workers"
  grep -q "5000 packets in, 5000 out, 0 failed" err.txt || fail "summary: $(cat err.txt)"
done

# stdin → stdout; a bad line is reported with its line and column, skipped, and exit is 1.
printf '{"n": 1}\n{"n": oops}\n\n[1]\n{"n": 2}\n' > bad.ndjson
status=0
"$sluice" run stamp.yaml --plugins "$plugins" < bad.ndjson > out.ndjson 2>err.txt || status=$?
[ "$status" = 1 ] || fail "bad input: exit $status"
[ "$(wc -l < out.ndjson)" = 2 ] || fail "bad input: $(cat out.ndjson)"
grep -q "<stdin>:2:7: " err.txt || fail "bad line not named: $(cat err.txt)"
grep -q "<stdin>:4: a packet must be a JSON object" err.txt || fail "non-object not named: $(cat err.txt)"
grep -q "2 bad input lines skipped" err.txt || fail "summary: $(cat err.txt)"

# Input is read in blocks of 1 MiB: lines that cross a block's end, bad lines after the first
# block, a line longer than a block, CRLF endings and a last line without a newline keep their
# line numbers and their order.
awk 'BEGIN {
  pad = sprintf("%090d", 0)
  for (i = 1; i <= 30000; i++) {
    if (i == 12000) print "{\"n\": 12000, oops}"
    else if (i == 25000) print "[25000]"
    else if (i == 20000) { printf "{\"n\": 20000, \"long\": \""; for (k = 0; k < 1500; k++) printf "%01000d", 0; print "\"}" }
    else if (i == 30000) printf "{\"n\": 30000, \"pad\": \"%s\"}", pad
    else if (i % 7 == 0) printf "{\"n\": %d, \"pad\": \"%s\"}\r\n", i, pad
    else printf "{\"n\": %d, \"pad\": \"%s\"}\n", i, pad
  }
}' > blocks.ndjson
status=0
"$sluice" run stamp.yaml --plugins "$plugins" --input blocks.ndjson > out.ndjson 2>err.txt || status=$?
[ "$status" = 1 ] || fail "blocks: exit $status: $(cat err.txt)"
grep -q "blocks.ndjson:12000:[0-9]*: " err.txt || fail "blocks: bad line not named as line 12000: $(cat err.txt)"
grep -q "blocks.ndjson:25000: a packet must be a JSON object" err.txt || fail "blocks: line 25000: $(cat err.txt)"
grep -q "29998 packets in, 29998 out, 0 failed, 0 dropped, 2 bad input lines skipped" err.txt ||
  fail "blocks: summary: $(cat err.txt)"
expected=$(seq 1 30000 | grep -vx -e 12000 -e 25000 | sha256sum)
[ "$(sed 's/^{"n":\([0-9]*\),.*/\1/' out.ndjson | sha256sum)" = "$expected" ] || fail "blocks: output order or content"

# A packet that fails in a node: counted, reported with graph/node, exit 1.
cat > parse.yaml <<'YAML'
name: parse
pipeline: [parse, out]
nodes:
  parse: {component: json_parse, params: {field: raw}}
  out:   {component: collect}
YAML
printf '{"raw": "{\\"a\\": 1}"}\n{"raw": "{broken"}\n' > raw.ndjson
status=0
"$sluice" run parse.yaml --plugins "$plugins" --input raw.ndjson > out.ndjson 2>err.txt || status=$?
[ "$status" = 1 ] || fail "failed packet: exit $status ($(cat err.txt))"
[ "$(wc -l < out.ndjson)" = 1 ] || fail "failed packet: $(cat out.ndjson)"
grep -q "error: parse/parse: " err.txt || fail "failure not named: $(cat err.txt)"
grep -q "1 failed" err.txt || fail "summary: $(cat err.txt)"

# An invalid graph: compiler-style errors, exit 2, nothing run.
printf 'name: broken\npipeline: [a]\nnodes:\n  a: {component: colect}\n' > broken.yaml
status=0
"$sluice" run broken.yaml --plugins "$plugins" < /dev/null 2>err.txt || status=$?
[ "$status" = 2 ] || fail "invalid graph: exit $status"
grep -q "broken.yaml:4:.*did you mean 'collect'" err.txt || fail "invalid graph: $(cat err.txt)"
# File params are the operator's: relative to the working directory, `..` included.
mkdir -p sub
printf 'name: files\nnodes:\n  a: {component: jsonl_file, params: {path: here.jsonl}}\n  b: {component: jsonl_file, params: {path: ../up.jsonl}}\n' > sub/files.yaml
(cd sub && echo '{"n": 1}' | "$sluice" run files.yaml --plugins "$plugins" >/dev/null 2>err.txt) || fail "file paths: $(cat sub/err.txt)"
[ "$(cat sub/here.jsonl)" = '{"n":1}' ] || fail "relative path not in the working directory"
[ "$(cat up.jsonl)" = '{"n":1}' ] || fail "'..' not taken as the operator wrote it"

# --content-type: a CSV file through an adapter, as one raw packet (whole input) or per line.
cat > csv.yaml <<'YAML'
name: csv
pipeline: [parse, out]
nodes:
  parse: {component: csv_adapter, params: {infer_types: true}}
  out:   {component: collect}
YAML
printf 'name,n\nada,1\nbob,2\n' > people.csv
"$sluice" run csv.yaml --plugins "$plugins" --content-type text/csv --input people.csv > out.ndjson 2>err.txt ||
  fail "--content-type: $(cat err.txt)"
[ "$(cat out.ndjson)" = "$(printf '{"name":"ada","n":1}\n{"name":"bob","n":2}')" ] || fail "--content-type: $(cat out.ndjson)"
grep -q "1 packets in, 2 out" err.txt || fail "--content-type summary: $(cat err.txt)"
printf 'header_a\nheader_b\n' | "$sluice" run csv.yaml --plugins "$plugins" --content-type text/csv --per-line \
  > out.ndjson 2>err.txt || fail "--per-line: $(cat err.txt)"
grep -q "2 packets in, 0 out" err.txt || fail "--per-line: each line is a CSV of its own (a header only): $(cat err.txt)"
status=0
"$sluice" run csv.yaml --plugins "$plugins" --per-line < people.csv > /dev/null 2>err.txt || status=$?
[ "$status" = 2 ] || fail "--per-line without --content-type: exit $status"

# Constant memory: the peak RSS of 1 M packets through `collect` is that of 200 k (each batch
# is written and forgotten). The peak is read while sluice still waits for the end of its input.
peak_rss_kib() {
  rm -f feed && mkfifo feed
  "$sluice" run stamp.yaml --plugins "$plugins" --input feed > /dev/null 2>err.txt &
  local pid=$!
  exec 3> feed
  seq 1 "$1" | sed 's/.*/{"n":&}/' >&3
  sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status"
  exec 3>&-
  wait "$pid" || fail "rss run of $1: $(cat err.txt)"
}
small=$(peak_rss_kib 200000)
large=$(peak_rss_kib 1000000)
[ "$large" -le $((small * 5 / 4 + 16384)) ] || fail "peak RSS grows with input: $small KiB at 200k, $large KiB at 1M"

# The example graph of docs/graphs.md, as printed there, on NDJSON lines (parsed as they are
# read, as the REST ingress parses JSON bodies): json_adapter passes them on, and every packet
# reaches enrich.jsonl with its password gone and its e-mail addresses pulled out.
awk '/^```yaml$/ { inside = 1; next } /^```$/ { if (inside) exit } inside' "$graphs_doc" > enrich.yaml
printf '%s\n' '{"body":"write to ada@example.org","password":"x"}' '{"body":"no address here","ssn":"1"}' > docs.ndjson
"$sluice" run enrich.yaml --plugins "$plugins" --input docs.ndjson > /dev/null 2>err.txt || fail "docs/graphs.md's graph: $(cat err.txt)"
[ "$(wc -l < enrich.jsonl)" = 2 ] || fail "docs/graphs.md's graph wrote $(wc -l < enrich.jsonl) lines: $(cat err.txt)"
grep -q '"emails":\["ada@example.org"\]' enrich.jsonl || fail "docs/graphs.md's graph: $(cat enrich.jsonl)"
! grep -q 'password\|ssn' enrich.jsonl || fail "docs/graphs.md's graph kept the secrets: $(cat enrich.jsonl)"

# Deep input parsed on a node's fiber: JSON and XML 512 levels deep go through, deeper XML is
# refused with a reason, HTML nested 20000 deep is walked (no recursion per level).
adapter_graph() { printf 'name: deep\npipeline: [parse, out]\nnodes:\n  parse: {component: %s%s}\n  out: {component: collect}\n' "$1" "$2" > deep.yaml; }
repeat() { printf "$1%.0s" $(seq "$2"); }
adapter_graph json_adapter ''
{ repeat '{"a":' 512; printf 0; repeat '}' 512; } > deep.json
"$sluice" run deep.yaml --plugins "$plugins" --content-type application/json --input deep.json > out.ndjson 2>err.txt ||
  fail "depth-512 JSON: $(cat err.txt)"
[ "$(cat out.ndjson)" = "$(cat deep.json)" ] || fail "depth-512 JSON came out as $(head -c 200 out.ndjson)"
adapter_graph xml_adapter ', params: {records: "/e"}'
{ repeat '<e>' 512; printf x; repeat '</e>' 512; } > deep.xml
"$sluice" run deep.yaml --plugins "$plugins" --content-type application/xml --input deep.xml > out.ndjson 2>err.txt ||
  fail "depth-512 XML: $(cat err.txt)"
grep -q "1 packets in, 1 out, 0 failed" err.txt || fail "depth-512 XML: $(cat err.txt)"
{ repeat '<e>' 100000; printf x; repeat '</e>' 100000; } > deeper.xml
status=0
"$sluice" run deep.yaml --plugins "$plugins" --content-type application/xml --input deeper.xml > out.ndjson 2>err.txt ||
  status=$?
[ "$status" = 1 ] || fail "XML 100000 deep: exit $status ($(tail -c 300 err.txt))"
grep -q "deep/parse: XML nested deeper than 512 elements" err.txt || fail "XML 100000 deep: $(tail -c 300 err.txt)"
adapter_graph html_adapter ''
{ repeat '<div>' 20000; printf deep; } > deep.html
"$sluice" run deep.yaml --plugins "$plugins" --content-type text/html --input deep.html > out.ndjson 2>err.txt ||
  fail "HTML 20000 deep: $(tail -c 300 err.txt)"
grep -q '"text":"deep"' out.ndjson || fail "HTML 20000 deep: $(head -c 300 out.ndjson)"

# A graph whose data comes from a source node takes no input and runs until the source has
# finished: what it made is written, and counted.
cat > generated.yaml <<'YAML'
name: generated
nodes:
  tick: {component: generate, params: {count: 250, batch: 50, interval_ms: 0, payload: {n: "{seq}"}}}
  out:  {component: collect}
edges: [tick -> out]
YAML
"$sluice" run generated.yaml --plugins "$plugins" --input in.ndjson > out.ndjson 2>err.txt ||
  fail "source graph: exit $? ($(cat err.txt))"
[ "$(sort -u out.ndjson | wc -l)" = 250 ] || fail "source graph: $(wc -l < out.ndjson) lines, $(head -3 out.ndjson)"
grep -q '"n":"250"' out.ndjson || fail "source graph: no packet 250"
grep -q "250 packets in, 250 out, 0 failed" err.txt || fail "source graph summary: $(cat err.txt)"
grep -q "takes no input" err.txt || fail "source graph: --input not said to be unread: $(cat err.txt)"

# Packets a batch keeps are passed on with it, not dropped, and its last, smaller batch is
# written when the input ends (max_wait_ms 0: only then), in input order. A filter's drops are
# named by node and cause.
cat > batched.yaml <<'YAML'
name: batched
pipeline: [odd, pairs, out]
nodes:
  odd:   {component: keep, params: {if: "n != 2 && n != 4"}}
  pairs: {component: batch, params: {size: 2, max_wait_ms: 0}}
  out:   {component: collect}
YAML
printf '{"n": 1}\n{"n": 2}\n{"n": 3}\n{"n": 4}\n{"n": 5}\n' |
  "$sluice" run batched.yaml --plugins "$plugins" --batch 2 --workers 1 > out.ndjson 2>err.txt || fail "batch: exit $? ($(cat err.txt))"
[ "$(cat out.ndjson)" = '{"packets":[{"n":1},{"n":3}]}
{"packets":[{"n":5}]}' ] || fail "batch: $(cat out.ndjson)"
grep -q "5 packets in, 2 out, 0 failed, 2 dropped (odd (filtered): 2)" err.txt || fail "batch summary: $(cat err.txt)"

# What components reach beyond their packets, and which params are file paths or secrets.
"$sluice" plugins --plugins "$plugins" > plugins.txt
grep -q "capabilities: fs_write" plugins.txt || fail "sluice plugins shows no capabilities"
"$sluice" plugins describe http --plugins "$plugins" > http.txt
grep -q "capabilities: net" http.txt || fail "describe http: $(cat http.txt)"
grep -q "headers (object, secret)" http.txt || fail "describe http: $(cat http.txt)"
"$sluice" plugins describe jsonl_file --plugins "$plugins" | grep -q "path (string, required, file path)" ||
  fail "describe jsonl_file shows no file path"
echo "sluice run: ok"
