#!/usr/bin/env python3
"""Synthetic indicators and queries for bench/intel (deterministic).

    gen.py SET COUNT OUTDIR [--queries N] [--seed S]

SET is `mixed` (80% domains, 8% URLs, 5% IPv4, 1% IPv6, 2% CIDRs, 2% MD5,
2% SHA-256) or `domains` (domains only). Writes to OUTDIR:

  indicators.tsv    COUNT lines `kind<TAB>value`, values in normal form
  domain-hits.txt   N names that match: a listed domain (30%) or a name
                    one or two labels below one (70%)
  domain-misses.txt N names of the same shapes that match nothing: under
                    the listed TLDs, with names no listed domain has
  ip-hits.txt       N addresses: listed ones and addresses inside listed
                    networks (mixed set only)
  ip-misses.txt     N addresses outside everything listed (mixed set only)

Listed addresses and networks are drawn from 1.0.0.0–126.255.255.255 (and
2001:db8::/32), misses from 128.0.0.0–223.255.255.255 (and 2001:db9::/32),
so a miss never falls into a listed network.
"""

import argparse
import ipaddress
import os
import random
import socket

SYLLABLES = [
    a + b
    for a in ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"]
    for b in ["a", "e", "i", "o", "u", "ai", "ou", "an", "er", "in", "on", "ar", "el", "or", "ex", "y"]
]
assert len(SYLLABLES) == 256
LISTED_TLDS = ["com", "net", "org", "info", "xyz", "top", "ru", "cn", "io", "biz", "online", "site",
               "club", "shop", "pw", "cc", "me", "tk", "ml", "ga", "cf", "gq", "co", "us", "live",
               "icu", "vip", "win", "work", "link", "space", "fun"]
SUBS = ["www", "mail", "cdn", "api", "login", "m", "static", "img", "secure", "update", "dl", "ns1"]


def base_domain(r, tlds, miss=False):
    x = r.getrandbits(64)
    n = (x & 3) % 3  # 3–5 syllables
    x >>= 2
    S = SYLLABLES
    word = S[x & 255] + S[(x >> 8) & 255] + S[(x >> 16) & 255]
    if n:
        word += S[(x >> 24) & 255] + (S[(x >> 32) & 255] if n == 2 else "")
    x >>= 40
    if x & 7 == 0:
        word += str((x >> 3) & 255)
    x >>= 11
    if miss:
        word = "q" + word  # no syllable starts with q: never listed
    name = word + "." + tlds[x & 31]
    if (x >> 5) & 3 == 0:  # a quarter are listed one label down
        name = SUBS[(x >> 7) % len(SUBS)] + "-" + str((x >> 11) & 63) + "." + name
    return name


def below(r, name):
    """`name` itself (30%) or one or two labels below it."""
    x = r.getrandbits(16)
    if x % 10 < 3:
        return name
    name = SUBS[(x >> 4) % len(SUBS)] + "." + name
    if (x >> 8) & 1:
        name = "a" + str((x >> 9) & 127) + "." + name
    return name


def v4(x):
    return socket.inet_ntoa(x.to_bytes(4, "big"))


def listed_v4(r):
    return ((1 + int(r.random() * 126)) << 24) | r.getrandbits(24)


def url(r, domain):
    x = r.getrandbits(32)
    path = "/".join(SYLLABLES[(x >> (8 * i)) & 255] for i in range(1 + x % 3))
    scheme = "https" if x & 1 else "http"
    q = "?id=%d" % (x >> 20) if (x >> 16) & 3 == 0 else ""
    return "%s://%s/%s%s" % (scheme, domain, path, q)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("set", choices=["mixed", "domains"])
    ap.add_argument("count", type=int)
    ap.add_argument("outdir")
    ap.add_argument("--queries", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=4)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    r = random.Random(a.seed)
    domains = []
    ips = []
    nets = []  # (int, prefix length) IPv4
    with open(os.path.join(a.outdir, "indicators.tsv"), "w") as out:
        w = out.write
        for _ in range(a.count):
            k = int(r.random() * 100) if a.set == "mixed" else 0
            if k < 80:
                d = base_domain(r, LISTED_TLDS)
                domains.append(d)
                w("domain\t%s\n" % d)
            elif k < 88:
                w("url\t%s\n" % url(r, base_domain(r, LISTED_TLDS)))
            elif k < 93:
                x = listed_v4(r)
                ips.append(x)
                w("ipv4\t%s\n" % v4(x))
            elif k < 94:
                w("ipv6\t%s\n" % ipaddress.IPv6Address((0x20010DB8 << 96) | r.getrandbits(96)))
            elif k < 96:
                if r.randrange(10) == 0:
                    plen = r.choice([32, 40, 48, 56, 64])
                    net = (0x20010DB8 << 96) | (r.getrandbits(96) >> (128 - plen) << (128 - plen))
                    w("cidr\t%s/%d\n" % (ipaddress.IPv6Address(net), plen))
                else:
                    plen = r.choice([16, 20, 22, 24, 24, 24, 28, 32])
                    x = listed_v4(r) >> (32 - plen) << (32 - plen)
                    nets.append((x, plen))
                    w("cidr\t%s/%d\n" % (v4(x), plen))
            elif k < 98:
                w("md5\t%032x\n" % r.getrandbits(128))
            else:
                w("sha256\t%064x\n" % r.getrandbits(256))

    q = random.Random(a.seed + 1)
    with open(os.path.join(a.outdir, "domain-hits.txt"), "w") as out:
        out.writelines(below(q, domains[int(q.random() * len(domains))]) + "\n" for _ in range(a.queries))
    with open(os.path.join(a.outdir, "domain-misses.txt"), "w") as out:
        out.writelines(below(q, base_domain(q, LISTED_TLDS, miss=True)) + "\n" for _ in range(a.queries))
    if ips or nets:
        with open(os.path.join(a.outdir, "ip-hits.txt"), "w") as out:
            for _ in range(a.queries):
                if not nets or (ips and q.randrange(2) == 0):
                    x = ips[int(q.random() * len(ips))]
                else:
                    n, plen = nets[int(q.random() * len(nets))]
                    x = n | (q.getrandbits(32) & ((1 << (32 - plen)) - 1))
                out.write(v4(x) + "\n")
        with open(os.path.join(a.outdir, "ip-misses.txt"), "w") as out:
            out.writelines(v4(((128 + int(q.random() * 96)) << 24) | q.getrandbits(24)) + "\n" for _ in range(a.queries))


if __name__ == "__main__":
    main()
