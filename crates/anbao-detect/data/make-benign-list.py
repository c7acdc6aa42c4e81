#!/usr/bin/env python3
"""Rebuilds benign-domains.txt (see README.md in this folder).

Usage: make-benign-list.py HSTSPRELOAD_WHEEL PUBLIC_SUFFIX_LIST > benign-domains.txt

HSTSPRELOAD_WHEEL is the `hstspreload` wheel from PyPI (BSD-3; it carries
Chromium's HSTS preload list as a label table); PUBLIC_SUFFIX_LIST is
public_suffix_list.dat (Debian package `publicsuffix`). Prints the distinct
registrable domains (one label left of an ICANN public suffix), lowercase
ASCII letters, digits and hyphens only (IDN and other names left out),
sorted.
"""

import re
import sys
import zipfile

IS_LEAF = 0x80
NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def preload_hosts(wheel_path):
    with zipfile.ZipFile(wheel_path) as wheel:
        table = wheel.read("hstspreload/hstspreload.bin")
    # The table is a run of entries: flags (1 byte), label length (1 byte),
    # label. Leaf entries carry a whole host name.
    hosts = set()
    at = 0
    while at + 2 <= len(table):
        flags, size = table[at], table[at + 1]
        label = table[at + 2 : at + 2 + size]
        at += 2 + size
        if flags & IS_LEAF:
            hosts.add(label.decode("ascii", "replace").lower())
    return hosts


def icann_suffixes(psl_path):
    rules, exceptions, wildcards = set(), set(), set()
    with open(psl_path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("// ===END ICANN DOMAINS==="):
                break
            if not line or line.startswith("//"):
                continue
            rule = line.split()[0].encode("idna").decode("ascii") if not line.isascii() else line.split()[0]
            if rule.startswith("!"):
                exceptions.add(rule[1:])
            elif rule.startswith("*."):
                wildcards.add(rule[2:])
            else:
                rules.add(rule)
    return rules, exceptions, wildcards


def registrable(host, rules, exceptions, wildcards):
    labels = host.split(".")
    for i in range(len(labels)):
        candidate = ".".join(labels[i:])
        parent = ".".join(labels[i + 1 :])
        if candidate in exceptions:
            return candidate
        if candidate in rules or parent in wildcards:
            return ".".join(labels[i - 1 :]) if i > 0 else None
    return None


def main():
    hosts = preload_hosts(sys.argv[1])
    rules, exceptions, wildcards = icann_suffixes(sys.argv[2])
    out = set()
    for host in hosts:
        reg = registrable(host, rules, exceptions, wildcards)
        if reg and NAME.match(reg.split(".")[0]) and not reg.startswith("xn--"):
            out.add(reg)
    for name in sorted(out):
        print(name)


if __name__ == "__main__":
    main()
