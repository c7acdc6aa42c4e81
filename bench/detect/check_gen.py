#!/usr/bin/env python3
"""Checks gen.py's capture with an independent decoder (tshark): every
planted hit of expected-pcap.tsv must be visible to tshark as the expected
observed name, from or to the expected victim, and tshark must report no
malformed packet. Slow (tshark decodes everything): meant for small
captures (`gen.py DIR --packets 200000`).

    check_gen.py DIR

Exit status 0 when all planted hits are visible, 1 otherwise.
"""

import os
import subprocess
import sys


def main():
    d = sys.argv[1]
    fields = ["ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "dns.flags.response", "dns.qry.name", "dns.cname",
              "tls.handshake.extensions_server_name", "http.host", "_ws.malformed"]
    cmd = ["tshark", "-r", os.path.join(d, "traffic.pcap"), "-T", "fields", "-E", "occurrence=a"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    seen = set()
    malformed = 0
    for line in out.splitlines():
        r = line.split("\t")
        src, dst = r[0] or r[1], r[2] or r[3]
        victim = dst if r[4] in ("1", "True") else src
        for col in (5, 6, 7, 8):
            for v in r[col].split(","):
                if v:
                    seen.add((victim, v.rsplit(":", 1)[0] if col == 8 else v))
        if r[9]:
            malformed += 1
    # tshark's warnings and errors (not its notes on ordinary TCP handshakes).
    warnings = {}
    cmd = ["tshark", "-r", os.path.join(d, "traffic.pcap"), "-Y", "_ws.expert.severity >= warning",
           "-T", "fields", "-e", "_ws.expert.message"]
    for line in subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines():
        warnings[line] = warnings.get(line, 0) + 1
    expected = [line.rstrip("\n").split("\t") for line in open(os.path.join(d, "expected-pcap.tsv"))]
    missing = [e for e in expected if (e[0], e[3]) not in seen]
    print("frames %d, planted %d, visible to tshark %d, malformed frames %d"
          % (len(out.splitlines()), len(expected), len(expected) - len(missing), malformed))
    for w, n in sorted(warnings.items(), key=lambda x: -x[1])[:10]:
        print("  tshark warning x%d: %s" % (n, w))
    for e in missing[:10]:
        print("  not visible:", "\t".join(e))
    sys.exit(1 if missing or malformed else 0)


if __name__ == "__main__":
    main()
