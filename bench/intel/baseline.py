#!/usr/bin/env python3
"""The baseline a user would write instead of anbao's index: Python sets,
a parent-domain loop, `ipaddress` for the networks.

    baseline.py DIR [--seconds S]

Reads DIR/indicators.tsv (`kind<TAB>value`, as gen.py writes it) line by
line into the sets, then times lookups of DIR/domain-hits.txt,
domain-misses.txt and, when present, ip-hits.txt and ip-misses.txt. Prints
`key value` lines (the same keys as the anbao side) for bench/intel/run;
`*_cpu_*` figures use the thread's CPU time, so that other load on the
machine does not count.
"""

import argparse
import ipaddress
import os
import time


def rss_kib(field="VmRSS"):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def load(path):
    domains, urls, ips, hashes = set(), set(), set(), set()
    nets = {}  # (version, prefix length) -> set of network addresses as int
    n = 0
    with open(path) as f:
        for line in f:
            kind, _, value = line.rstrip("\n").partition("\t")
            n += 1
            if kind == "domain":
                domains.add(value)
            elif kind == "url":
                urls.add(value)
            elif kind in ("ipv4", "ipv6"):
                ips.add(ipaddress.ip_address(value))
            elif kind == "cidr":
                net = ipaddress.ip_network(value)
                nets.setdefault((net.version, net.prefixlen), set()).add(int(net.network_address))
            else:
                hashes.add((kind, value))
    return n, domains, urls, ips, hashes, nets


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--seconds", type=float, default=1.0)
    a = ap.parse_args()

    rss0 = rss_kib()
    t0, c0 = time.perf_counter(), time.thread_time()
    n, domains, urls, ips, hashes, nets = load(os.path.join(a.dir, "indicators.tsv"))
    load_s, load_cpu_s = time.perf_counter() - t0, time.thread_time() - c0
    rss1 = rss_kib()
    print("lines", n)
    print("entries", len(domains) + len(urls) + len(ips) + len(hashes) + sum(map(len, nets.values())))
    print("load_s %.3f" % load_s)
    print("load_cpu_s %.3f" % load_cpu_s)
    print("rss_kib", rss1 - rss0)
    print("hwm_kib", rss_kib("VmHWM"))

    def match_domain(q):
        q = q.lower().rstrip(".")
        hits = []
        while True:
            if q in domains:
                hits.append(q)
            i = q.find(".")
            if i < 0:
                return hits
            q = q[i + 1 :]

    # Longest prefix first, masks precomputed: what a careful user writes.
    v4 = [(plen, s, (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF) for (ver, plen), s in nets.items() if ver == 4]
    v4.sort(reverse=True)

    def match_ip(q):
        a = ipaddress.ip_address(q)
        hits = []
        if a in ips:
            hits.append(a)
        if a.version == 4:
            x = int(a)
            for plen, s, mask in v4:
                if x & mask in s:
                    hits.append((x & mask, plen))
        return hits

    def bench(name, fn, path):
        if not os.path.exists(path):
            return
        with open(path) as f:
            qs = f.read().split()
        matched = sum(1 for q in qs if fn(q))
        done = 0
        t, c = time.perf_counter(), time.thread_time()
        while True:
            for q in qs:
                fn(q)
            done += len(qs)
            el = time.perf_counter() - t
            if el >= a.seconds:
                break
        cpu = max(time.thread_time() - c, 1e-9)
        print("%s_per_s %.0f" % (name, done / el))
        print("%s_per_cpu_s %.0f" % (name, done / cpu))
        print("%s_matched %.4f" % (name, matched / max(len(qs), 1)))

    bench("domain_hits", match_domain, os.path.join(a.dir, "domain-hits.txt"))
    bench("domain_misses", match_domain, os.path.join(a.dir, "domain-misses.txt"))
    bench("ip_hits", match_ip, os.path.join(a.dir, "ip-hits.txt"))
    bench("ip_misses", match_ip, os.path.join(a.dir, "ip-misses.txt"))


if __name__ == "__main__":
    main()
