#!/usr/bin/env python3
"""The docs as tests: every shell block of README.md and docs/*.md runs as a reader would run it.

Usage: docs_test.py SOURCE_ROOT BUILD_ROOT [DOC...]
  (DOC relative to SOURCE_ROOT; default: README.md and docs/*.md)

A block is a fenced block tagged ```sh, ```bash or ```shell; other fences (```text, untagged
synopses and outputs) are not run, except ```yaml: a graph, or nodes of one (then checked inside
a `nodes:` map), which must pass `sluice check` where the doc stands at that point. Each block runs in a fresh `bash -euo pipefail` with
a clean environment: that of a user who installed sluice (its `sluice` on PATH, its SDK found by
pkg-config) with HOME in a scratch directory. From one block to the next of the same doc only
files, the working directory a block's `cd` leaves, and the variables a block `export`s pass on,
as in a reader's terminal. A doc runs in a scratch copy of the source tree (links to its files,
`build` to BUILD_ROOT), so that what it writes stays out of the tree.

By default a block must exit 0. An HTML comment on the line before the fence says otherwise,
with options separated by ';':
  <!-- doc-test: skip: REASON -->
      not run, for a block CI must not run (a package install, the full test run); the runner
      prints the block's place and the reason.
  <!-- doc-test: server -->
      the block starts `sluice serve` and stays in the foreground ("in another terminal"): it runs
      in the background until the doc's last block is done, and the next block starts once the
      server says where it listens (60 s deadline). The server listens on a free port: in this
      block 127.0.0.1:8080 becomes 127.0.0.1:0, in the doc's later blocks the port it got.
  <!-- doc-test: instead: COMMAND; why: REASON -->
      COMMAND runs in place of the block (with `server`: COMMAND is the server), for a block that
      does more than CI may (installs, builds) around what the rest of the doc needs.
  <!-- doc-test: retry: SECONDS -->
      for what the doc says happens "within a second": the block runs again until it succeeds or
      SECONDS have passed.
  <!-- doc-test: expect -->
      the block's output holds every line of the next fenced block (the output the doc shows).
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

SHELL_TAGS = {"sh", "bash", "shell"}
GRAPH_TAG = "yaml"
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
MARKER = re.compile(r"^\s*<!--\s*doc-test:(.*?)-->\s*$")
OPTIONS = {"skip", "server", "instead", "why", "retry", "expect"}
DOC_PORT = "127.0.0.1:8080"
LISTENING = re.compile(r"listening on https?://127\.0\.0\.1:(\d+)")
BLOCK_TIMEOUT = 600  # seconds; a block that builds a project takes about a minute
SERVER_START_TIMEOUT = 60
SERVER_STOP_TIMEOUT = 40  # above sluice serve's --drain-timeout of 30 s


class DocError(Exception):
    pass


@dataclass
class Block:
    doc: str
    line: int  # of the opening fence, 1-based
    text: str
    options: dict
    shown_output: str | None = None  # the next fenced block, for `expect`
    is_graph: bool = False  # a ```yaml block: checked with `sluice check`, not run

    @property
    def place(self):
        return f"{self.doc}:{self.line}"


def parse_options(doc, line, comment):
    options = {}
    for part in filter(None, (p.strip() for p in comment.split(";"))):
        key, _, value = part.partition(":")
        key = key.strip()
        if key not in OPTIONS:
            raise DocError(f"{doc}:{line}: doc-test option '{key}' is not one of: "
                           + ", ".join(sorted(OPTIONS)))
        options[key] = value.strip()
    if "skip" in options and not options["skip"]:
        raise DocError(f"{doc}:{line}: doc-test skip needs a reason (skip: REASON)")
    if "instead" in options and not options.get("why"):
        raise DocError(f"{doc}:{line}: doc-test instead needs a reason (why: REASON)")
    if "retry" in options and not options["retry"].isdigit():
        raise DocError(f"{doc}:{line}: doc-test retry needs a number of seconds")
    return options


def shell_blocks(source_root, doc):
    """The doc's shell and graph blocks, each with the options of the marker before it."""
    with open(os.path.join(source_root, doc), encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        indent, tag, start = fence.group(1), fence.group(2), i
        i += 1
        body = []
        while i < len(lines) and not lines[i].strip().startswith("```"):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        if i == len(lines):
            raise DocError(f"{doc}:{start + 1}: the fence is never closed")
        i += 1
        text = "\n".join(body) + "\n"
        previous = start - 1
        while previous >= 0 and not lines[previous].strip():
            previous -= 1
        marker = MARKER.match(lines[previous]) if previous >= 0 else None
        if tag not in SHELL_TAGS and tag != GRAPH_TAG:
            if marker:
                raise DocError(f"{doc}:{previous + 1}: a doc-test marker before a ```{tag} block,"
                               " which does not run")
            if blocks and blocks[-1].options.get("expect") == "" and blocks[-1].shown_output is None:
                blocks[-1].shown_output = text
            continue
        options = parse_options(doc, previous + 1, marker.group(1)) if marker else {}
        if tag == GRAPH_TAG and set(options) - {"skip"}:
            raise DocError(f"{doc}:{previous + 1}: a ```yaml block is checked, not run: only "
                           "skip applies to it")
        blocks.append(Block(doc, start + 1, text, options, is_graph=tag == GRAPH_TAG))
    for block in blocks:
        if "expect" in block.options and block.shown_output is None:
            raise DocError(f"{block.place}: doc-test expect, but no output block follows")
    return blocks


def clean_environment(build_root, scratch):
    home = os.path.join(scratch, "home")
    tmp = os.path.join(scratch, "tmp")
    os.makedirs(home)
    os.makedirs(tmp)
    env = {
        "PATH": f"{build_root}/kernel/cli:/usr/local/bin:/usr/bin:/bin",
        "PKG_CONFIG_PATH": f"{build_root}/meson-uninstalled",
        "HOME": home,
        "TMPDIR": tmp,
        "LANG": "C.UTF-8",
    }
    # A sanitized build's runtime options and the flags of the projects built against it
    # (tools/test-sanitizers sets them) belong to the build under test, not to a user: kept.
    for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"):
        if name in os.environ:
            env[name] = os.environ[name]
    if "-fsanitize" in os.environ.get("CXXFLAGS", ""):
        for name in ("CFLAGS", "CXXFLAGS", "LDFLAGS"):
            env[name] = os.environ.get(name, "")
    # Where ccache keeps its cache is no state of the doc's; keeping it makes the doc's builds fast.
    if shutil.which("ccache"):
        env["CCACHE_DIR"] = os.environ.get("CCACHE_DIR") or subprocess.run(
            ["ccache", "-k", "cache_dir"], capture_output=True, text=True).stdout.strip()
    return env


def scratch_checkout(source_root, build_root, scratch):
    """A directory that looks like the source tree, built, where the doc may write."""
    checkout = os.path.join(scratch, "checkout")
    os.makedirs(checkout)
    for name in os.listdir(source_root):
        if name not in {".git", "build", "var"}:
            os.symlink(os.path.join(source_root, name), os.path.join(checkout, name))
    os.symlink(build_root, os.path.join(checkout, "build"))
    return checkout


class DocRun:
    """One doc's blocks in order, with what passes from block to block."""

    def __init__(self, source_root, build_root, doc, scratch):
        self.doc = doc
        self.scratch = scratch
        self.base_env = clean_environment(build_root, scratch)
        self.exports = {}
        self.cwd = scratch_checkout(source_root, build_root, scratch)
        self.port = None
        self.servers = []  # (Popen, log path)
        self.count = 0

    def script(self, block):
        text = block.options.get("instead", block.text)
        if "server" in block.options:
            if DOC_PORT not in text:
                raise DocError(f"{block.place}: a server block must listen on {DOC_PORT}, "
                               "which becomes a free port (127.0.0.1:0)")
            return text.replace(DOC_PORT, "127.0.0.1:0")
        if self.port:
            return text.replace(DOC_PORT, f"127.0.0.1:{self.port}")
        return text

    def write_script(self, block):
        self.count += 1
        path = os.path.join(self.scratch, f"block-{self.count}.sh")
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.script(block))
        return path

    def check_graph(self, block):
        """A ```yaml block passes `sluice check`: a graph as it is (named if it is not), or
        nodes of one inside a `nodes:` map."""
        text = block.text
        if not re.search(r"^nodes:", text, re.MULTILINE):
            first = next(line for line in text.splitlines() if line.strip())
            nested = first.startswith(" ")
            text = "nodes:\n" + (text if nested else "".join("  " + line + "\n" for line in text.splitlines()))
        if not re.search(r"^name:", text, re.MULTILINE):
            text = "name: doc-graph\n" + text
        self.count += 1
        path = os.path.join(self.scratch, f"graph-{self.count}.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        result = subprocess.run(["sluice", "check", path], cwd=self.cwd,
                                env={**self.base_env, **self.exports}, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=BLOCK_TIMEOUT)
        sys.stdout.write(result.stdout + result.stderr)
        if result.returncode != 0:
            raise DocError(f"{block.place}: the graph does not pass sluice check (as checked:\n"
                           f"{text})")

    def run(self, block):
        if block.is_graph:
            self.check_graph(block)
            return
        if "server" in block.options:
            self.start_server(block)
            return
        path = self.write_script(block)
        state = os.path.join(self.scratch, f"block-{self.count}.state")
        # The block's last working directory and environment, for the blocks after it.
        wrapper = f'trap \'pwd >"{state}.cwd"; env -0 >"{state}.env"\' EXIT; source "{path}"'
        deadline = time.monotonic() + int(block.options.get("retry", "0"))
        while True:
            result = subprocess.run(["bash", "-euo", "pipefail", "-c", wrapper], cwd=self.cwd,
                                    env={**self.base_env, **self.exports}, stdin=subprocess.DEVNULL,
                                    capture_output=True, text=True, timeout=BLOCK_TIMEOUT)
            if result.returncode == 0 or time.monotonic() >= deadline:
                break
            time.sleep(0.2)  # poll interval; the retry deadline bounds the wait
        output = result.stdout + result.stderr
        sys.stdout.write(output if output.endswith("\n") or not output else output + "\n")
        if result.returncode != 0:
            raise DocError(f"{block.place}: the block exited {result.returncode}")
        if "expect" in block.options:
            missing = [line for line in block.shown_output.splitlines()
                       if line.strip() and line.strip() not in result.stdout]
            if missing:
                raise DocError(f"{block.place}: the output lacks what the doc shows: {missing}")
        with open(state + ".cwd", encoding="utf-8") as f:
            self.cwd = f.read().strip()
        with open(state + ".env", encoding="utf-8") as f:
            exported = dict(item.split("=", 1) for item in f.read().split("\0") if "=" in item)
        for name in ("PWD", "OLDPWD", "SHLVL", "_"):
            exported.pop(name, None)
        self.exports = {k: v for k, v in exported.items() if self.base_env.get(k) != v}

    def start_server(self, block):
        path = self.write_script(block)
        log = os.path.join(self.scratch, f"server-{self.count}.log")
        with open(log, "w", encoding="utf-8") as out:
            server = subprocess.Popen(["bash", "-euo", "pipefail", path], cwd=self.cwd,
                                      env={**self.base_env, **self.exports},
                                      stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        self.servers.append((server, log))
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            with open(log, encoding="utf-8", errors="replace") as f:
                listening = LISTENING.search(f.read())
            if listening:
                self.port = listening.group(1)
                print(f"(the server listens on 127.0.0.1:{self.port})")
                return
            if server.poll() is not None:
                raise DocError(f"{block.place}: the server exited {server.returncode}:\n"
                               + open(log, encoding="utf-8", errors="replace").read())
            if time.monotonic() >= deadline:
                raise DocError(f"{block.place}: the server did not listen within "
                               f"{SERVER_START_TIMEOUT} s")
            time.sleep(0.1)  # poll interval; the deadline bounds the wait

    def stop_servers(self):
        for server, log in self.servers:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                try:
                    server.wait(timeout=SERVER_STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait()
                    raise DocError(f"{self.doc}: the server did not stop on SIGTERM within "
                                   f"{SERVER_STOP_TIMEOUT} s:\n" + open(log, encoding="utf-8").read())


def run_doc(source_root, build_root, blocks, scratch):
    os.makedirs(scratch)
    run = DocRun(source_root, build_root, blocks[0].doc if blocks else "", scratch)
    try:
        for block in blocks:
            if "skip" in block.options:
                print(f"== {block.place}: not run: {block.options['skip']}")
                continue
            print(f"== {block.place}" + (" (server)" if "server" in block.options else "")
                  + (" (graph: sluice check)" if block.is_graph else ""))
            if "instead" in block.options:
                print(f"(instead of the block: {block.options['instead']}; "
                      f"why: {block.options['why']})")
            sys.stdout.write(block.text)
            sys.stdout.flush()
            run.run(block)
            sys.stdout.flush()
    finally:
        run.stop_servers()


def main(argv):
    source_root, build_root = (os.path.abspath(p) for p in argv[1:3])
    docs = argv[3:]
    if not docs:
        docs = ["README.md"] + sorted("docs/" + name for name in os.listdir(
            os.path.join(source_root, "docs")) if name.endswith(".md"))
    failures, ran, skipped = [], 0, []
    with tempfile.TemporaryDirectory(prefix="sluice-docs-test.") as work:
        for doc in docs:
            print(f"==== {doc}")
            try:
                blocks = shell_blocks(source_root, doc)
                skipped += [b for b in blocks if "skip" in b.options]
                ran += len([b for b in blocks if "skip" not in b.options])
                run_doc(source_root, build_root, blocks, os.path.join(work, doc.replace("/", "_")))
            except (DocError, subprocess.TimeoutExpired) as error:
                print(f"FAIL: {error}")
                failures.append(doc)
    print(f"{ran} block(s) run, {len(skipped)} not run:")
    for block in skipped:
        print(f"  {block.place}: {block.options['skip']}")
    if failures:
        print("FAIL: " + ", ".join(failures))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
