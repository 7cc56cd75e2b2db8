#!/usr/bin/env python3
"""Every bundled component has an example in its descriptor, and every example is true.

Each example becomes a graph file of its own: the node (`example`) with the example's params
and, when the example shows output, a `collect` node on the component's first out port. The
graph must pass `sluice check`; where the example shows output, `sluice run` of its input must
print exactly that output (the same JSON objects in the same order).

It runs as a reader would: in a directory holding the directories the example's file params
name (a name with a dot or a wildcard is a file: its directory is made), with every
`${env:NAME}` the params refer to set.

usage: component_examples_test.py SLUICE [--plugins DIR] [COMPONENT...]
  (--plugins: a plugin directory besides the bundled ones, as for a generated project's
  component; COMPONENT...: only these)
"""
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml


def graph_yaml(component, example):
    lines = ["name: example", "nodes:", "  example:", f"    component: {json.dumps(component['name'])}"]
    if example["params"]:
        lines.append("    params:")
        lines += ["      " + line for line in example["params"].splitlines()]
    shows_output = bool(example["output"]) and component["outputs"]
    if shows_output:
        lines += ["  out: { component: collect }", "edges:",
                  f"  - example.{component['outputs'][0]['name']} -> out"]
    return "\n".join(lines) + "\n"


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def check(sluice, component, work, env, plugins):
    """The problems with one component's example (empty: it is true)."""
    name = component["name"]
    example = component.get("example")
    if not example:
        return [f"{name}: has no example (ComponentDescriptor::example)"]
    folder = work / name
    folder.mkdir()
    params = yaml.safe_load(example["params"]) or {}
    for spec in component["params"]:
        value = params.get(spec["name"])
        if spec.get("file_path") and isinstance(value, str):
            is_file = "." in Path(value).name or "*" in value
            directory = (folder / value).parent if is_file else folder / value
            directory.mkdir(parents=True, exist_ok=True)
    env = {**env, **{name: "example-secret" for name in re.findall(r"\$\{env:(\w+)\}", example["params"])}}
    graph = folder / "example.yaml"
    graph.write_text(graph_yaml(component, example))
    checked = subprocess.run([sluice, "check", str(graph)] + plugins, cwd=folder, env=env,
                             capture_output=True, text=True, timeout=60)
    if checked.returncode != 0:
        return [f"{name}: the example does not pass sluice check:\n{graph.read_text()}"
                f"{checked.stdout}{checked.stderr}"]
    if not example["output"]:
        return []
    command = [sluice, "run", str(graph), "--workers", "1"] + plugins
    if example["content_type"]:
        command += ["--content-type", example["content_type"]]
    ran = subprocess.run(command, cwd=folder, env=env, input=example["input"],
                         capture_output=True, text=True, timeout=60)
    try:
        got = json_lines(ran.stdout)
    except json.JSONDecodeError as e:
        return [f"{name}: sluice run printed what is not JSON lines ({e}):\n{ran.stdout}{ran.stderr}"]
    want = json_lines(example["output"])
    if got != want:
        printed = "\n".join(json.dumps(p) for p in got)
        return [f"{name}: sluice run of the example's input printed\n{printed}\ninstead of\n"
                f"{example['output']}\n(stderr: {ran.stderr.strip()})"]
    return []


def main():
    sluice = os.path.realpath(sys.argv[1])
    args = sys.argv[2:]
    plugins = []
    if args[:1] == ["--plugins"]:
        plugins = ["--plugins", os.path.realpath(args[1])]
        args = args[2:]
    only = set(args)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        # Only the bundled plugins, and a cache of their own.
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
        env["XDG_CACHE_HOME"] = str(work / ".cache")
        listing = subprocess.run([sluice, "plugins", "--json"] + plugins, env=env, capture_output=True,
                                 text=True, check=True, timeout=60)
        components = json.loads(listing.stdout)["components"]
        if only:
            components = [c for c in components if c["name"] in only]
            missing = only - {c["name"] for c in components}
            if missing:
                print("FAIL: no such component: " + ", ".join(sorted(missing)), file=sys.stderr)
                sys.exit(1)
        problems = []
        for component in components:
            problems += check(sluice, component, work, env, plugins)
        for problem in problems:
            print("FAIL:", problem, file=sys.stderr)
        print(f"{len(components)} component examples, {len(problems)} wrong or missing")
        sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
