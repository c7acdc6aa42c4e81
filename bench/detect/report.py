#!/usr/bin/env python3
"""The bench/detect summary: rates per CPU-second, peak RSS, ratios to
tshark and to the Suricata reference, and the planted-hit check.

    report.py DATA_DIR RESULTS_DIR [--load "1 5 15"] [--cores N]

Exit status 0 when every command ran and every planted hit was found, 1
when a planted hit was missed, 2 when a command failed.
"""

import argparse
import json
import os
import re
import sys

# The reference, measured on this machine class with the same kind
# of input (not measured here).
SURICATA_PACKETS_PER_CPU_S = 244_000
SURICATA_PEAK_MIB = 1750
TARGET_PACKETS_PER_CPU_S = 2_500_000
TARGET_LINES_PER_CPU_S = 1_000_000
# "0.5 GB" read as 500 MB (decimal), the stricter reading: 476.8 MiB.
TARGET_PEAK_BYTES = 500_000_000


def read_case(res, name):
    path = os.path.join(res, name + ".time")
    if not os.path.exists(path):
        return None
    text = open(path).read().split()
    # GNU time prints "Command exited with non-zero status N" first then.
    user, sys_, rss_kib, wall = (float(x) for x in text[-4:])
    err_path = os.path.join(res, name + ".err")
    load_path = os.path.join(res, name + ".load")
    rc_path = os.path.join(res, name + ".rc")
    return {
        "cpu": user + sys_,
        "user": user,
        "sys": sys_,
        "rss_mib": rss_kib / 1024,
        "wall": wall,
        "rc": int(open(rc_path).read().strip() or 0) if os.path.exists(rc_path) else 0,
        "err": open(err_path, errors="replace").read() if os.path.exists(err_path) else "",
        "load": float(open(load_path).read().strip()) if os.path.exists(load_path) else None,
    }


def si(x):
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= div:
            return "%.2f%s" % (x / div, unit) if x / div < 10 else "%.1f%s" % (x / div, unit)
    return "%.0f" % x


def ratio(a, b):
    return "%.2f×" % (a / b) if a and b else "-"


def expected_pairs(path):
    rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
    return rows


def alerts(path):
    """(victim, indicator) of the intel alerts; heuristic findings by rule."""
    pairs = {}
    findings = {}
    if not os.path.exists(path):
        return pairs, findings
    with open(path) as f:
        for line in f:
            a = json.loads(line)
            if a.get("rule") == "intel":
                pairs[(a["victim"], a["indicator"])] = a
            else:
                findings[a.get("rule", "?")] = findings.get(a.get("rule", "?"), 0) + 1
    return pairs, findings


def check(label, expected, found, out):
    """Prints the planted-hit check; returns the number missed."""
    missed = [e for e in expected if (e[0], e[1]) not in found]
    wanted = {(e[0], e[1]) for e in expected}
    unexpected = [k for k in found if k not in wanted]
    by_where = {}
    for e in expected:
        total, miss = by_where.get(e[2], (0, 0))
        by_where[e[2]] = (total + 1, miss + ((e[0], e[1]) not in found))
    detail = ", ".join("%s %d/%d" % (w, t - m, t) for w, (t, m) in sorted(by_where.items()))
    print("  %-28s %d/%d found (%s); %d alert(s) not planted"
          % (label, len(expected) - len(missed), len(expected), detail, len(unexpected)), file=out)
    for e in missed[:10]:
        print("    missed: victim %s indicator %s (%s, observed %s)" % tuple(e), file=out)
    for k in unexpected[:5]:
        print("    not planted: victim %s indicator %s" % k, file=out)
    return len(missed)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("res")
    p.add_argument("--load", default="")
    p.add_argument("--cores", type=int, default=0)
    args = p.parse_args()
    out = sys.stdout
    meta = json.load(open(os.path.join(args.data, "meta.json")))
    cases = {name: read_case(args.res, name) for name in
             ("cat", "read_only", "decode", "extract_json", "load", "scan", "scan_small", "scan_heuristics", "tshark",
              "eve", "zeek", "gen")}
    status = 0
    for name, c in cases.items():
        if c is None or name == "gen":
            continue
        ok = {"scan": (1,), "scan_small": (0, 1), "scan_heuristics": (1,), "eve": (1,), "zeek": (1,),
              "load": (0,)}.get(name, (0,))
        if c["rc"] not in ok:
            last = c["err"].strip().splitlines()[-1:] or [""]
            print("bench/detect: %s exited %d: %s" % (name, c["rc"], last[0]), file=sys.stderr)
            status = 2 if c["rc"] not in (0, 1, 3) else max(status, 1)

    packets = meta["packets"]
    bits = meta["wire_bytes"] * 8
    kinds = meta["by_kind"]
    dns = kinds["dns_query"] + kinds["dns_response"]
    print("bench/detect: %s packets (%.0f MB on the wire, %.0f MB pcap file; DNS %.1f%%, HTTP %.1f%%, TLS %.1f%%, "
          "IPv6 %.1f%%), %s listed domains, %d planted hits"
          % (si(packets), meta["wire_bytes"] / 1e6, meta["file_bytes"] / 1e6, 100 * dns / packets,
             100 * kinds["http"] / packets, 100 * kinds["tls"] / packets, 100 * kinds["ipv6"] / packets,
             si(meta["indicators"]), meta["planted"]), file=out)
    loads = [c["load"] for c in cases.values() if c and c["load"] is not None]
    if loads:
        print("load average (1 min) at the start of each case: %.1f–%.1f%s; at the end: %s"
              % (min(loads), max(loads), " on %d cores" % args.cores if args.cores else "", args.load), file=out)
    print(file=out)

    load = cases["load"]
    load_cpu = load["cpu"] if load else 0.0
    tshark = cases["tshark"]
    tshark_rate = packets / tshark["cpu"] if tshark and tshark["cpu"] else None

    header = "%-44s %8s %14s %12s %9s %9s %10s" % (
        "capture", "CPU s", "packets/CPU-s", "Mbit/CPU-s", "peak MiB", "× tshark", "× Suricata")
    print(header, file=out)
    print("-" * len(header), file=out)

    def row(label, cpu, n=packets, b=bits, rss=None):
        rate = n / cpu if cpu > 0 else 0
        print("%-44s %8.2f %14s %12.0f %9s %9s %10s"
              % (label, cpu, si(rate), b / cpu / 1e6 if cpu > 0 else 0, "%.0f" % rss if rss is not None else "",
                 ratio(rate, tshark_rate), ratio(rate, SURICATA_PACKETS_PER_CPU_S)), file=out)
        return rate

    rates = {}
    if cases["cat"]:
        row("cat FILE > /dev/null", cases["cat"]["cpu"], rss=cases["cat"]["rss_mib"])
    if cases["read_only"]:
        rates["read_only"] = row("anbao net extract --read-only (no decoding)", cases["read_only"]["cpu"],
                                 rss=cases["read_only"]["rss_mib"])
    if cases["decode"]:
        rates["decode"] = row("anbao net extract, decoded, nothing printed", cases["decode"]["cpu"],
                              rss=cases["decode"]["rss_mib"])
    if cases["extract_json"]:
        row("anbao net extract --json > /dev/null", cases["extract_json"]["cpu"], rss=cases["extract_json"]["rss_mib"])
    for name, label in (("scan", "anbao scan --no-heuristics"), ("scan_heuristics", "anbao scan (heuristics on)")):
        c = cases[name]
        if not c:
            continue
        rates[name] = row(label + ", incl. load", c["cpu"], rss=c["rss_mib"])
        rates[name + "_excl"] = row(label + ", excl. load", max(c["cpu"] - load_cpu, 1e-9))
    c = cases["scan_small"]
    if c and meta.get("small_packets"):
        row("anbao scan --no-heuristics, first %s, excl." % si(meta["small_packets"]),
            max(c["cpu"] - load_cpu, 1e-9), meta["small_packets"], meta["small_wire_bytes"] * 8, c["rss_mib"])
    if tshark:
        row("tshark -T fields -e dns.qry.name", tshark["cpu"], rss=tshark["rss_mib"])
    print("%-44s %8s %14s %12s %9d %9s %10s" % ("Suricata 9, 1 worker (issue's reference)", "", si(
        SURICATA_PACKETS_PER_CPU_S), "", SURICATA_PEAK_MIB, ratio(SURICATA_PACKETS_PER_CPU_S, tshark_rate), "1.00×"),
        file=out)
    if load:
        print("loading %s indicators alone (empty capture): %.2f CPU-s, %.0f MiB peak"
              % (si(meta["indicators"]), load_cpu, load["rss_mib"]), file=out)
    c = cases["extract_json"]
    if c:
        m = re.search(r"from captures: dns (\d+), http (\d+), tls (\d+), quic (\d+)", c["err"])
        if m:
            print("decoded (net extract): dns %s of %s DNS packets, http %s of %d requests, tls %s of %d ClientHellos "
                  "(flows still open at the end of the capture: %d)"
                  % (m.group(1), dns, m.group(2), kinds["http_flows"], m.group(3), kinds["tls_flows"],
                     meta.get("flows_left_open_at_end", 0)), file=out)
    print(file=out)

    header = "%-44s %8s %10s %14s %14s %9s" % ("logs", "CPU s", "lines", "lines/CPU-s", "excl. load", "peak MiB")
    print(header, file=out)
    print("-" * len(header), file=out)
    for name, label, lines, size in (("eve", "anbao scan eve.json (Suricata EVE)", meta["eve_lines"], meta["eve_bytes"]),
                                     ("zeek", "anbao scan dns.log (Zeek TSV)", meta["zeek_lines"], meta["zeek_bytes"])):
        c = cases[name]
        if not c:
            continue
        excl = max(c["cpu"] - load_cpu, 1e-9)
        rates[name] = lines / excl
        print("%-44s %8.2f %10s %14s %14s %9.0f   (%.0f MB/CPU-s excl.)"
              % (label, c["cpu"], si(lines), si(lines / c["cpu"]), si(lines / excl), c["rss_mib"], size / excl / 1e6),
              file=out)
    print(file=out)

    print("planted hits (every expected (victim, listed indicator) pair must be an alert):", file=out)
    missed = 0
    expected = expected_pairs(os.path.join(args.data, "expected-pcap.tsv"))
    for name, label in (("scan", "capture, no heuristics"), ("scan_heuristics", "capture, heuristics on")):
        if cases[name]:
            found, findings = alerts(os.path.join(args.res, name + ".json"))
            missed += check(label, expected, found, out)
            if findings:
                print("    heuristic findings: %s" % ", ".join("%s %d" % kv for kv in sorted(findings.items())),
                      file=out)
    for name, label, path in (("eve", "EVE log", "expected-eve.tsv"), ("zeek", "Zeek dns.log", "expected-zeek.tsv")):
        if cases[name]:
            found, _ = alerts(os.path.join(args.res, name + ".json"))
            missed += check(label, expected_pairs(os.path.join(args.data, path)), found, out)
    print(file=out)

    print("targets:", file=out)

    def target(what, ok, detail):
        print("  %-52s %-8s %s" % (what, "met" if ok else "NOT MET", detail), file=out)

    if "scan_excl" in rates:
        r = rates["scan_excl"]
        target("decode+match >= 2.5M packets/CPU-s (excl. load)", r >= TARGET_PACKETS_PER_CPU_S,
               "%s packets/CPU-s = %.2f× the target, %.1f× Suricata" % (si(r), r / TARGET_PACKETS_PER_CPU_S,
                                                                     r / SURICATA_PACKETS_PER_CPU_S))
    if cases["scan"]:
        target("every planted hit found, default settings", missed == 0, "%d missed" % missed)
        peak = max(c["rss_mib"] for c in (cases["scan"], cases["scan_heuristics"], cases["eve"], cases["zeek"]) if c)
        target("under 0.5 GB resident", peak * 2 ** 20 < TARGET_PEAK_BYTES,
               "peak %.0f MiB = %.0f MB over the scans (%.0f MiB of it with the indicators loaded and nothing read)"
               % (peak, peak * 2 ** 20 / 1e6, load["rss_mib"] if load else 0))
    for name, label in (("eve", "EVE"), ("zeek", "Zeek dns.log")):
        if name in rates:
            r = rates[name]
            target(">= 1M log lines/CPU-s (%s, excl. load)" % label, r >= TARGET_LINES_PER_CPU_S,
                   "%s lines/CPU-s = %.2f× the target" % (si(r), r / TARGET_LINES_PER_CPU_S))
    if cases["scan"] and cases["scan_small"] and load:
        grow = cases["scan"]["rss_mib"] - cases["scan_small"]["rss_mib"]
        target("memory flat while the input grows", abs(grow) < 0.1 * cases["scan"]["rss_mib"] + 16,
               "%.0f MiB on the first %s packets, %.0f MiB on all %s (indicators alone: %.0f MiB)"
               % (cases["scan_small"]["rss_mib"], si(meta["small_packets"]), cases["scan"]["rss_mib"], si(packets),
                  load["rss_mib"]))
    if rates.get("read_only") and rates.get("decode") and cases["scan"]:
        scan_cpu = cases["scan"]["cpu"] - load_cpu
        read_cpu = cases["read_only"]["cpu"]
        decode_cpu = cases["decode"]["cpu"]
        print("  where the scan's %.2f CPU-s (excl. load) go: reading %.2f, decoding %.2f (= net extract with nothing "
              "printed, minus reading), matching and alert keeping %.2f (the rest)"
              % (scan_cpu, read_cpu, decode_cpu - read_cpu, scan_cpu - decode_cpu), file=out)
    for what, label in (("pcap", "traffic.pcap"), ("eve", "eve.json")):
        profile = os.path.join(args.res, "profile-%s.txt" % what)
        if os.path.exists(profile) and os.path.getsize(profile):
            print("\nprofile of the scan of %s after the indicator load (perf, cpu-clock, self time, >= 1%%):"
                  % label, file=out)
            for line in open(profile):
                print(re.sub(r"[\s-]+$", "", line), file=out)

    if status == 0 and missed:
        status = 1
    sys.exit(status)


if __name__ == "__main__":
    main()
