#!/usr/bin/env python3
"""Prints bench/intel's table from the `key value` files of one run.

    report.py RESULTS_DIR

RESULTS_DIR holds one folder per data set (`mixed-1M`, …) with `anbao.txt`,
`python.txt` and `store.txt` (the store import).
"""

import os
import sys


def read(path):
    d = {}
    if os.path.exists(path):
        for line in open(path):
            k, _, v = line.strip().partition(" ")
            try:
                d[k] = float(v)
            except ValueError:
                pass
    return d


def fmt_rate(x):
    if x is None:
        return "—"
    return "%.2fM" % (x / 1e6) if x >= 1e5 else "%.0fk" % (x / 1e3)


def fmt(x, spec="%.2f"):
    return "—" if x is None else spec % x


def ratio(a, p, higher_is_better=True):
    if not a or not p:
        return "—"
    r = a / p if higher_is_better else p / a
    return "%.1f×" % r


# Issue #4's targets: import over 200k indicators/s; over 20M domain
# lookups/s per core with parent-domain matching; 10M domains indexed in
# under 3 s into under 0.5 GB.
IMPORT_TARGET = 200e3
LOOKUP_TARGET = 20e6
INDEX_TARGET_S = 3.0
RESIDENT_TARGET_MIB = 500e6 / 2**20


def targets(lines, a, s):
    """One line per target: the measured figure and its share of the target."""
    def share(x, target, higher_is_better=True):
        r = x / target if higher_is_better else target / x
        return "%.2f× (%s)" % (r, "met" if r > 1 else "not met")

    out = []
    for backend, key in (("SQLite", "import_sqlite_s"), ("PostgreSQL", "import_postgres_s")):
        if s.get(key):
            rate = lines / s[key]
            out.append("import into %s: %s/s, %s" % (backend, fmt_rate(rate), share(rate, IMPORT_TARGET)))
    for case, label in (("domain_hits", "hits"), ("domain_misses", "misses")):
        rate = a.get(case + "_batch_per_cpu_s")
        if rate:
            out.append("domain %s, batched: %s/CPU-s, %s" % (label, fmt_rate(rate), share(rate, LOOKUP_TARGET)))
    if lines >= 10e6 and a.get("index_cpu_s"):
        out.append("index of %.0fM: %.2f CPU-s, %s" % (lines / 1e6, a["index_cpu_s"], share(a["index_cpu_s"], INDEX_TARGET_S, False)))
        mib = a.get("rss_kib", 0) / 1024
        if mib:
            out.append("resident: %.0f MiB, %s" % (mib, share(mib, RESIDENT_TARGET_MIB, False)))
    return out


def main():
    root = sys.argv[1]
    for name in sorted(os.listdir(root), key=lambda n: (n.split("-")[1].rjust(4), n)):
        d = os.path.join(root, name)
        if not os.path.isdir(d):
            continue
        a, p, s = read(os.path.join(d, "anbao.txt")), read(os.path.join(d, "python.txt")), read(os.path.join(d, "store.txt"))
        if not a:
            continue
        lines = a.get("lines", 0)
        per_m = lines / 1e6 if lines else 1
        print()
        print("%s: %d indicators, %d distinct values" % (name, lines, a.get("entries", 0)))
        print("  %-40s %12s %12s %10s" % ("", "anbao", "python", "ratio"))

        def row(label, av, pv, text=fmt, better=True, **kw):
            print("  %-40s %12s %12s %10s" % (label, text(av, **kw) if av is not None else "—",
                                               text(pv, **kw) if pv is not None else "—",
                                               ratio(av, pv, better) if av is not None and pv is not None else ""))

        # Store import (anbao intel import, end to end, one process).
        row("import into SQLite, s", s.get("import_sqlite_s"), None)
        if s.get("import_sqlite_s"):
            row("  indicators/s", lines / s["import_sqlite_s"], None, fmt_rate)
        row("import into PostgreSQL, s", s.get("import_postgres_s"), None)
        if s.get("import_postgres_s"):
            row("  indicators/s", lines / s["import_postgres_s"], None, fmt_rate)
        if s.get("import_postgres_copy_s"):
            # The server alone: its COPY of the rows the import wrote.
            row("  PostgreSQL's own COPY of them, s", s["import_postgres_copy_s"], None)
            row("    indicators/s", lines / s["import_postgres_copy_s"], None, fmt_rate)
        row("load from file, CPU s", a.get("load_cpu_s"), p.get("load_cpu_s"), better=False)
        row("  wall s", a.get("load_s"), p.get("load_s"), better=False)
        row("  index (add+build), CPU s", a.get("index_cpu_s"), None)
        row("  of which build(), wall s", a.get("build_s"), None)
        a_mib = a.get("rss_kib", 0) / 1024
        p_mib = p.get("rss_kib", 0) / 1024 if p else None
        row("resident MiB", a_mib, p_mib, fmt, better=False, spec="%.0f")
        row("resident MiB per 1M indicators", a_mib / per_m, p_mib / per_m if p_mib else None, fmt, better=False, spec="%.1f")
        row("  heap_bytes() MiB", a.get("heap_bytes", 0) / 2**20, None, fmt, spec="%.0f")
        for case, label in [("domain_hits", "domain hits"), ("domain_misses", "domain misses"), ("ip_hits", "IP hits"), ("ip_misses", "IP misses")]:
            key = case + "_per_cpu_s"
            if key not in a:
                continue
            row(label + " /CPU-s, one by one", a.get(key), p.get(key), fmt_rate)
            if case + "_batch_per_cpu_s" in a:
                row(label + " /CPU-s, visit_domains", a.get(case + "_batch_per_cpu_s"), p.get(key), fmt_rate)
            if case + "_vec_per_cpu_s" in a:
                row(label + " /CPU-s, lookup_domain (Vec)", a.get(case + "_vec_per_cpu_s"), p.get(key), fmt_rate)
        for line in targets(lines, a, s):
            print("  target: " + line)
        for case in ["domain_hits", "domain_misses", "ip_hits", "ip_misses"]:
            for who, r in (("anbao", a), ("python", p)):
                m = r.get(case + "_matched")
                want = 1.0 if case.endswith("hits") else 0.0
                if m is not None and abs(m - want) > 1e-9:
                    print("  WARNING: %s %s matched %.4f of the queries, expected %.0f" % (who, case, m, want))
    print()
    print("ratio: how many times anbao is faster or smaller (python / anbao for times")
    print("and memory, anbao / python for rates). Rates are per CPU-second of the")
    print("measuring thread (wall-clock rates are in the raw files, KEEP=1).")


if __name__ == "__main__":
    main()
