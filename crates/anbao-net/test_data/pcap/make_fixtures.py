#!/usr/bin/env python3
"""Builds the small capture fixtures of this folder from one real capture of
the corpus (Suricata-Verify dns-udp-eve-log-answer-only: three DNS queries
for google.com and their answers, 8.8.8.8 <-> 10.16.1.11), re-framed in the
formats and link layers the corpus lacks. Run from this folder:

    ./make_fixtures.py [path of the source capture]

Then ./make_fixture_tables.sh records what tshark reads in each fixture.

  dns-be.pcap          the source, as a big-endian microsecond pcap
  dns-nsec.pcap        the source, as a nanosecond pcap (editcap -F nsecpcap)
  dns.pcapng           the source, as pcapng (editcap -F pcapng)
  links.pcapng         two sections (little- then big-endian) with twelve
                       interfaces: Ethernet, raw IP, Linux SLL and SLL2,
                       NULL, LOOP, IPV4, Ethernet with QinQ tags, IPV6
                       (once with hop-by-hop and destination-options
                       headers), NULL with AF_INET6 (Darwin's 30); timestamp
                       resolutions of 10^-6, 10^-9 and 2^-20 s and an
                       if_tsoffset; Enhanced, Simple and obsolete Packet
                       Blocks; name-resolution, statistics and unknown blocks
                       to skip
  fragments.pcap       IPv4 DNS answers in fragments (out of order, one
                       repeated, one overlapping with the same bytes) and an
                       IPv6 DNS answer in fragments; raw IP link type
  truncated.pcap       the source cut 10 bytes before its end
  corrupt-block.pcapng links.pcapng with the 4th packet block's trailing
                       length damaged
"""
import os
import struct
import subprocess
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else \
    "../../../../../shared/data/pcap/suricata-verify/dns__dns-udp-eve-log-answer-only__dns-udp-google.com-a-aaaa-mx.pcap"


def read_pcap(path):
    data = open(path, "rb").read()
    assert data[:4] == b"\xd4\xc3\xb2\xa1", "little-endian microsecond pcap expected"
    frames, at = [], 24
    while at + 16 <= len(data):
        sec, usec, caplen, origlen = struct.unpack_from("<IIII", data, at)
        frames.append((sec, usec, data[at + 16:at + 16 + caplen]))
        at += 16 + caplen
    return data, frames


def pcap(frames, endian="<", link=101):
    out = struct.pack(endian + "IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, link)
    for sec, usec, b in frames:
        out += struct.pack(endian + "IIII", sec, usec, len(b), len(b)) + b
    return out


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def block(e, kind, body):
    body = pad4(body)
    n = 12 + len(body)
    return struct.pack(e + "II", kind, n) + body + struct.pack(e + "I", n)


def option(e, code, value):
    return struct.pack(e + "HH", code, len(value)) + pad4(value)


def options(e, *opts):
    return b"".join(opts) + option(e, 0, b"") if opts else b""


def shb(e):
    return block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(e, link, tsresol=None, tsoffset=None):
    opts = []
    if tsresol is not None:
        opts.append(option(e, 9, bytes([tsresol])))
    if tsoffset is not None:
        opts.append(option(e, 14, struct.pack(e + "q", tsoffset)))
    return block(e, 1, struct.pack(e + "HHI", link, 0, 0) + options(e, *opts))


def ticks(sec, usec, units):
    return (sec * 1_000_000 + usec) * units // 1_000_000


def epb(e, iface, t, b):
    return block(e, 6, struct.pack(e + "IIIII", iface, t >> 32, t & 0xFFFFFFFF, len(b), len(b)) + b)


def spb(e, b):
    return block(e, 3, struct.pack(e + "I", len(b)) + b)


def obsolete_pb(e, iface, t, b):
    return block(e, 2, struct.pack(e + "HHIIII", iface, 0, t >> 32, t & 0xFFFFFFFF, len(b), len(b)) + b)


def checksum(b):
    b = pad4(b)[:len(b) + len(b) % 2]
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv6_udp(src, dst, sport, dport, payload):
    udp_len = 8 + len(payload)
    pseudo = src + dst + struct.pack("!IxxxB", udp_len, 17)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    c = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    return struct.pack("!IHBB", 0x60000000, len(udp), 17, 64) + src + dst + udp


def ipv6_fragments(packet, ident, cuts):
    header, payload = packet[:40], packet[40:]
    out = []
    bounds = [0] + cuts + [len(payload)]
    for i in range(len(bounds) - 1):
        part = payload[bounds[i]:bounds[i + 1]]
        more = 1 if i < len(bounds) - 2 else 0
        frag = struct.pack("!BBHI", 17, 0, bounds[i] | more, ident)
        h = header[:4] + struct.pack("!H", 8 + len(part)) + bytes([44]) + header[7:]
        out.append(h + frag + part)
    return out


def ipv4_fragment(packet, start, end, more):
    ihl = (packet[0] & 0x0F) * 4
    part = packet[ihl + start:ihl + end]
    flags = (0x2000 if more else 0) | (start // 8)
    h = bytearray(packet[:ihl])
    struct.pack_into("!H", h, 2, ihl + len(part))
    struct.pack_into("!H", h, 6, flags)
    struct.pack_into("!H", h, 10, 0)
    struct.pack_into("!H", h, 10, checksum(bytes(h)))
    return bytes(h) + part


def main():
    raw, frames = read_pcap(SRC)
    ip = [(s, u, f[14:]) for s, u, f in frames]  # strip Ethernet
    eth = frames

    open("dns-be.pcap", "wb").write(pcap(eth, ">", 1))
    subprocess.run(["editcap", "-F", "nsecpcap", SRC, "dns-nsec.pcap"], check=True)
    subprocess.run(["editcap", "-F", "pcapng", SRC, "dns.pcapng"], check=True)
    open("truncated.pcap", "wb").write(raw[:-10])

    # links.pcapng
    e = "<"
    out = shb(e)
    out += idb(e, 1)                     # 0 Ethernet, microseconds
    out += idb(e, 101, tsresol=9)        # 1 raw IP, nanoseconds
    out += idb(e, 113, tsresol=0x94)     # 2 Linux SLL, 2^-20 s
    out += idb(e, 276)                   # 3 Linux SLL2
    out += idb(e, 0)                     # 4 NULL
    out += idb(e, 108)                   # 5 LOOP
    out += idb(e, 228)                   # 6 IPV4
    s, u, f = eth[0]
    out += epb(e, 0, ticks(s, u, 10**6), f)
    s, u, p = ip[1]
    out += epb(e, 1, ticks(s, u, 10**9), p)
    out += block(e, 4, struct.pack(e + "HH", 0, 0))  # empty name resolution block
    s, u, p = ip[2]
    sll = struct.pack("!HHH8sH", 0, 1, 6, b"\x00\x11\x22\x33\x44\x55\x00\x00", 0x0800)
    out += epb(e, 2, ticks(s, u, 1 << 20), sll + p)
    s, u, p = ip[3]
    sll2 = struct.pack("!HHIHBB8s", 0x0800, 0, 2, 1, 4, 6, b"\x00\x11\x22\x33\x44\x55\x00\x00")
    out += epb(e, 3, ticks(s, u, 10**6), sll2 + p)
    out += block(e, 0x12345678, b"an unknown block type")
    s, u, p = ip[4]
    out += epb(e, 4, ticks(s, u, 10**6), struct.pack("<I", 2) + p)
    s, u, p = ip[5]
    out += epb(e, 5, ticks(s, u, 10**6), struct.pack(">I", 2) + p)
    s, u, p = ip[0]
    out += epb(e, 6, ticks(s, u, 10**6), p)
    out += spb(e, eth[1][2])  # no timestamp: interface 0, Ethernet
    s, u, p = ip[2]
    out += obsolete_pb(e, 1, ticks(s, u, 10**9), p)
    out += block(e, 5, struct.pack(e + "III", 0, 0, 0))  # interface statistics
    # Section 2, big-endian: a new set of interfaces.
    e = ">"
    out += shb(e)
    out += idb(e, 1, tsoffset=1000)      # 0 Ethernet, times offset by 1000 s
    out += idb(e, 229, tsresol=3)        # 1 IPV6, milliseconds
    out += idb(e, 0)                     # 2 NULL
    s, u, f = eth[3]
    qinq = f[:12] + b"\x88\xa8\x00\x64\x81\x00\x00\xc8" + f[12:]
    out += epb(e, 0, ticks(s - 1000, u, 10**6), qinq)
    dns_answer = ip[1][2][28:]
    v6 = ipv6_udp(bytes.fromhex("20014860486000000000000000008888"), bytes.fromhex("20010db8000000000000000000000011"),
                  53, 45421, dns_answer)
    s, u, _ = ip[1]
    out += epb(e, 1, ticks(s, u, 10**3), v6)
    out += epb(e, 2, ticks(s, u + 1000, 10**6), struct.pack(">I", 30) + v6)
    # The same with hop-by-hop and destination-options headers (PadN only).
    hop = bytes([60, 0, 1, 4, 0, 0, 0, 0])
    dst_opts = bytes([17, 0, 1, 4, 0, 0, 0, 0])
    v6_ext = v6[:4] + struct.pack("!H", len(v6) - 40 + 16) + bytes([0]) + v6[7:40] + hop + dst_opts + v6[40:]
    out += epb(e, 1, ticks(s, u + 2000, 10**3), v6_ext)
    open("links.pcapng", "wb").write(out)

    # corrupt-block.pcapng: damage the trailing length of the 4th packet block.
    data = bytearray(out)
    at, seen, le = 0, 0, True
    while at < len(data):
        kind = struct.unpack_from("<I", data, at)[0]
        if kind == 0x0A0D0D0A:
            le = data[at + 8:at + 12] == b"\x4d\x3c\x2b\x1a"
        n = struct.unpack_from("<I" if le else ">I", data, at + 4)[0]
        if kind in (2, 3, 6):
            seen += 1
            if seen == 4:
                struct.pack_into("<I" if le else ">I", data, at + n - 4, n + 4)
                break
        at += n
    open("corrupt-block.pcapng", "wb").write(bytes(data))

    # fragments.pcap (raw IP): the A answer in three IPv4 fragments, out of
    # order, then the AAAA answer whole, then the IPv6 answer in fragments.
    s, u, answer = ip[1]
    ihl = (answer[0] & 0x0F) * 4
    length = len(answer) - ihl
    f0 = ipv4_fragment(answer, 0, 96, True)
    f1 = ipv4_fragment(answer, 96, 192, True)
    f2 = ipv4_fragment(answer, 192, length, False)
    overlap = ipv4_fragment(answer, 88, 104, True)  # same bytes as f0/f1 there
    frag_frames = [(s, u, f1), (s, u + 1, f1), (s, u + 2, overlap), (s, u + 3, f2), (s, u + 4, f0)]
    s, u, whole = ip[3]
    frag_frames.append((s, u, whole))
    for i, part in enumerate(ipv6_fragments(v6, 0x01020304, [104])):
        frag_frames.append((s + 1, i, part))
    open("fragments.pcap", "wb").write(pcap(frag_frames, "<", 101))


if __name__ == "__main__":
    main()
