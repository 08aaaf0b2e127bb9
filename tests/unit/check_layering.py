#!/usr/bin/python3
"""Checks the layering of ARCHITECTURE.md section 1 from #include lines:
data flows down, a protocol never includes SQLite, and protocols never
include each other (except the shared HTTP core and the ROP/NSPI engines
that the MAPI transports carry). Prints TAP: one case per source file."""
import os
import re
import sys

SRC = sys.argv[1]

ALLOWED = {
    "core": {"core"},
    "net": {"core", "net"},
    "directory": {"core", "directory"},
    "mapi": {"core", "mapi"},
    "store": {"core", "mapi", "store"},
    "convert": {"core", "mapi", "convert"},
    "transport": {"core", "mapi", "store", "convert", "directory", "transport"},
}
PROTO_BASE = {"core", "net", "mapi", "store", "convert", "directory", "transport"}
# Protocols carried inside another protocol's transport.
PROTO_EXTRA = {
    "mapihttp": {"proto/http", "proto/rop", "proto/nspi"},
    "rpch": {"proto/http", "proto/rop", "proto/nspi"},
    "ews": {"proto/http"},
    "autodiscover": {"proto/http"},
    "eas": {"proto/http"},
    "webdav": {"proto/http"},
}
SQL_OK = {"store", "directory", "transport", "cmd"}

inc_re = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]', re.M)


def module_of(path):
    rel = os.path.relpath(path, SRC).split(os.sep)
    if rel[0] == "proto" and len(rel) > 2:
        return "proto/" + rel[1]
    return rel[0]


def target_module(inc):
    parts = inc.split("/")
    if parts[0] == "proto" and len(parts) > 2:
        return "proto/" + parts[1]
    if len(parts) > 1 and parts[0] in ALLOWED.keys() | {"cmd", "proto"}:
        return parts[0]
    return None  # system or generated header


files = []
for root, _, names in os.walk(SRC):
    for n in sorted(names):
        if n.endswith((".c", ".h")):
            files.append(os.path.join(root, n))
files.sort()
print(f"1..{len(files)}")
bad_total = 0
for i, f in enumerate(files, 1):
    mod = module_of(f)
    if mod == "cmd":
        allowed = None
    elif mod.startswith("proto/"):
        allowed = PROTO_BASE | {mod} | PROTO_EXTRA.get(mod.split("/")[1], set())
    else:
        allowed = ALLOWED.get(mod, set())
    text = open(f, encoding="utf-8", errors="replace").read()
    problems = []
    for inc in inc_re.findall(text):
        if inc in ("sqlite3.h",) and mod.split("/")[0] not in SQL_OK:
            problems.append(f"{inc} outside the store/directory/queue")
        t = target_module(inc)
        if t is None or allowed is None:
            continue
        if t not in allowed:
            problems.append(f"includes {inc} ({mod} may not depend on {t})")
    rel = os.path.relpath(f, SRC)
    if problems:
        bad_total += 1
        print(f"not ok {i} - {rel}")
        for p in problems:
            print(f"# {p}")
    else:
        print(f"ok {i} - {rel}")
sys.exit(1 if bad_total else 0)
