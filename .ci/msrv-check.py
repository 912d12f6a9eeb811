#!/usr/bin/env python3
"""MSRV audit: only one toolchain exists on CI machines, so the MSRV is checked two ways.

1. Every crate our libraries depend on (normal dependencies of the published workspace crates,
   resolved as in Cargo.lock) declares a `rust-version` no newer than ours.
2. clippy's `incompatible_msrv` lint (denied in [workspace.lints]) rejects any std API stabilized
   after our `rust-version` while `cargo clippy` runs.
Language features newer than the MSRV are not caught by either; see docs/decisions/0002-msrv.md.
"""
import json
import subprocess
import sys


def version_tuple(v):
    return tuple(int(x) for x in (v.split(".") + ["0", "0"])[:3])


meta = json.loads(
    subprocess.check_output(["cargo", "metadata", "--format-version", "1"], text=True)
)
packages = {p["id"]: p for p in meta["packages"]}
members = set(meta["workspace_members"])
msrv = None
for pid in members:
    rv = packages[pid].get("rust_version")
    if rv:
        msrv = rv if msrv is None else min(msrv, rv, key=version_tuple)
if msrv is None:
    sys.exit("no rust-version declared in the workspace")

nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
# Walk normal (non-dev, non-build) dependencies from the library members (not the CLI binary,
# whose dependencies users do not compile into their own programs).
start = [pid for pid in members if not packages[pid]["name"].endswith("-cli")]
seen, stack = set(), list(start)
while stack:
    pid = stack.pop()
    if pid in seen:
        continue
    seen.add(pid)
    for dep in nodes[pid]["deps"]:
        kinds = {k["kind"] for k in dep["dep_kinds"]}
        if None in kinds:  # normal dependency
            stack.append(dep["pkg"])

bad = []
for pid in sorted(seen - members, key=lambda p: packages[p]["name"]):
    p = packages[pid]
    rv = p.get("rust_version")
    if rv and version_tuple(rv) > version_tuple(msrv):
        bad.append(f"{p['name']} {p['version']} needs Rust {rv}")
print(f"MSRV {msrv}: {len(seen - members)} library dependencies checked")
if bad:
    print("dependencies newer than the MSRV:\n  " + "\n  ".join(bad))
    sys.exit(1)
