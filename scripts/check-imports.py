#!/usr/bin/env python3
"""The server's import rules (docs/architecture.md, "Rooms and layers").

    scripts/check-imports.py            check, print the folder graph, exit 1 on a violation
    scripts/check-imports.py --graph    print every cross-folder include, then check

A folder of server/src is a room, and each room sits on a layer:

    0 base/                              configuration, log, clock, pool, the server context
    1 store/ bus/ blobs/ mail/ auth/     the backends and building blocks, behind interfaces
    2 net/                               loop, HTTP, WebSocket, static files, metrics
    3 api/                               the REST and WebSocket plumbing
    4 accounts/ keys/ messaging/ ...     the domains
    5 server/src itself                  main.c, which builds the house

An include names a header by its path from server/src (or from the including file, or by a
file name that exists once in server/src). The rules:
  1. includes run down or sideways, never up a layer;
  2. a domain reaches the network layer only through its interfaces (the request, net/http.h;
     the route table, net/router.h; the WebSocket connection, net/ws.h), never its internals;
  3. a domain reaches another domain only through that domain's public header, never an
     internal one (a name with "internal" in it);
  4. no circle of includes spans two folders.
ALLOWED lists known exceptions, each with its reason and plan; the check fails on any other,
and also on an ALLOWED entry that is no longer needed, so the list only ever shrinks.
"""
import collections
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server", "src")

# (including file, included file), both relative to server/src.
ALLOWED = {}

LAYERS = {"base": 0, "store": 1, "bus": 1, "blobs": 1, "mail": 1, "auth": 1, "net": 2, "api": 3, ".": 5}
DOMAIN = 4  # every other folder
NET_INTERFACE = {"net/http.h", "net/router.h", "net/ws.h"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources():
    out = {}
    for d, _, names in os.walk(ROOT):
        for n in names:
            if n.endswith((".c", ".h")):
                p = os.path.relpath(os.path.join(d, n), ROOT)
                with open(os.path.join(ROOT, p), encoding="utf-8") as f:
                    out[os.path.normpath(p)] = f.read()
    return out


def folder(p):
    return os.path.dirname(p) or "."


def cross_edges(files):
    by_name = collections.defaultdict(list)
    for p in files:
        by_name[os.path.basename(p)].append(p)
    edges = []
    for p, text in sorted(files.items()):
        for inc in INCLUDE.findall(text):
            t = os.path.normpath(os.path.join(os.path.dirname(p), inc))
            if t not in files:
                found = by_name.get(os.path.basename(inc), [])
                t = found[0] if len(found) == 1 else None
            if t and folder(t) != folder(p):
                edges.append((p, t))
    return edges


def layer(f):
    return LAYERS.get(f, DOMAIN)


def rule_breaks(edges):
    """Rules 1 to 3 for each cross-folder include: a list of (edge, why)."""
    out = []
    for p, t in edges:
        fp, ft = folder(p), folder(t)
        if layer(ft) > layer(fp):
            out.append(((p, t), f"up from layer {layer(fp)} ({fp}) to {layer(ft)} ({ft})"))
        elif layer(fp) == DOMAIN and ft == "net" and t not in NET_INTERFACE:
            out.append(((p, t), "a domain may use only net/http.h, net/router.h and net/ws.h of net/"))
        elif layer(fp) == DOMAIN and layer(ft) == DOMAIN and "internal" in os.path.basename(t):
            out.append(((p, t), f"another domain's internal header"))
    return out


def cycles(graph):
    """Strongly connected components with more than one folder (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def main():
    files = sources()
    edges = cross_edges(files)
    graph = collections.defaultdict(set)
    used = set()
    for p, t in edges:
        if (p, t) in ALLOWED:
            used.add((p, t))
            continue
        graph[folder(p)].add(folder(t))
    if "--graph" in sys.argv[1:]:
        for p, t in edges:
            print(f"  {p} -> {t}{'  (allowed)' if (p, t) in ALLOWED else ''}")
    for a in sorted(graph):
        print(f"check-imports: {a} -> {', '.join(sorted(graph[a]))}")
    bad = 0
    for e, why in rule_breaks(edges):
        if e in ALLOWED:
            continue
        bad += 1
        print(f"check-imports: {e[0]} includes {e[1]}: {why}", file=sys.stderr)
    for comp in cycles(graph):
        bad += 1
        print(f"check-imports: a circle spans folders {', '.join(comp)}:", file=sys.stderr)
        for p, t in edges:
            if folder(p) in comp and folder(t) in comp and (p, t) not in ALLOWED:
                print(f"  {p} includes {t}", file=sys.stderr)
    for stale in sorted(set(ALLOWED) - used):
        bad += 1
        print(f"check-imports: ALLOWED entry no longer needed, remove it: {stale}", file=sys.stderr)
    print(f"check-imports: {len(files)} files, {len(edges)} cross-folder includes, "
          f"{len(used)} allowed, {bad} problems: {'FAIL' if bad else 'ok'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
