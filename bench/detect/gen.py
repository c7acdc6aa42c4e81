#!/usr/bin/env python3
"""Synthetic DNS-heavy traffic, indicators and planted hits for bench/detect
(deterministic: a fixed seed, the standard library only).

    gen.py OUTDIR [--packets N] [--indicators N] [--planted N]
                  [--log-lines N] [--log-planted N] [--small N] [--seed S]

Writes to OUTDIR:

  traffic.pcap        N packets (Ethernet; IPv4, ~10% IPv6): 90% DNS over UDP
                      (queries and their responses; A/AAAA/HTTPS; CNAMEs,
                      NXDOMAIN, NODATA, EDNS), 5% HTTP/1.1 over TCP
                      (handshake, GET with Host, response, FINs), 5% TLS over
                      TCP (handshake, ClientHello with SNI, a fifth of them
                      split across two segments inside the SNI, server
                      flight, FINs), interleaved as on a link at ~20k packets/s
  traffic-small.pcap  the first --small packets of it (memory growth check)
  empty.pcap          a pcap header and no packets (the indicator load alone)
  indicators.txt      --indicators domains, one per line; none of them is,
                      or is a parent of, a name of the background traffic
  expected-pcap.tsv   planted hits: victim, listed indicator, where, observed
  eve.json            --log-lines Suricata EVE lines (dns queries and
                      answers, tls, http, flow), with planted hits
  expected-eve.tsv
  zeek-dns.log        --log-lines Zeek dns.log (TSV) lines, with planted hits
  expected-zeek.tsv
  meta.json           counts: packets by kind, wire bytes, file sizes

A planted hit is a (client, listed domain) pair: the client queries the
listed domain or a name below it (qname), is answered with a CNAME to one
(answer), sends a ClientHello with it as SNI (some split across segments),
or an HTTP request with it as Host. Half of them use a name below the listed
one (parent-domain match).
"""

import argparse
import bisect
import heapq
import json
import os
import random
import struct
import time
import zlib

SEED = 20250505
PPS = 20_000  # capture rate: packet index -> time

# Pronounceable labels: consonant+vowel syllables (real names look like
# this more than like random letters, and the DGA heuristic knows it).
ONSETS = ["b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
          "br", "ch", "cl", "cr", "dr", "fl", "gr", "pl", "pr", "sh", "sl", "sp", "st", "tr"]
NUCLEI = ["a", "e", "i", "o", "u", "ai", "ea", "oo", "ou", "ie"]
CODAS = ["", "", "", "n", "r", "s", "t", "l", "m", "x", "ck", "ng"]
SYLLABLES = sorted({o + n + c for o in ONSETS for n in NUCLEI for c in CODAS})

BG_TLDS = [("com", 40), ("net", 8), ("org", 6), ("cn", 8), ("com.cn", 5), ("io", 2), ("de", 3),
           ("co.uk", 3), ("ru", 3), ("jp", 2), ("fr", 2), ("info", 1), ("app", 1), ("dev", 1),
           ("me", 1), ("tv", 1), ("edu.cn", 1), ("gov.cn", 1), ("co", 1), ("us", 1)]
BAD_TLDS = [("com", 20), ("net", 6), ("org", 3), ("info", 4), ("xyz", 6), ("top", 6), ("ru", 5),
            ("cn", 5), ("com.cn", 2), ("io", 2), ("biz", 2), ("online", 3), ("site", 3), ("club", 2),
            ("shop", 2), ("pw", 2), ("cc", 2), ("tk", 2), ("live", 2), ("icu", 2), ("vip", 2), ("link", 1)]
BG_SUBS = ["", "", "", "www", "www", "www", "api", "cdn", "img", "static", "m", "mail", "login",
           "accounts", "update", "ads", "track", "video", "s1", "app", "news", "push", "graph"]
DEEP_SUBS = ["edge", "eu", "us", "cn", "prod", "v2", "gw", "lb"]
BAD_SUBS = ["www", "cdn", "api", "login", "update", "dl", "panel", "gate", "secure", "c2"]
CDN_DOMAINS = ["akamaiedge.net", "edgekey.net", "cloudfront.net", "fastly.net", "cdn77.org",
               "kunlunca.com", "alikunlun.com", "wscdns.com", "cdngslb.com", "qcloudcdn.com"]
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "curl/8.5.0",
    "okhttp/4.12.0",
    "Dalvik/2.1.0 (Linux; U; Android 13; V2227A Build/TP1A.220624.014)",
]
PATHS = ["/", "/index.html", "/api/v1/config", "/favicon.ico", "/static/app.js", "/update/check?v=3",
         "/img/logo.png", "/news/today", "/login", "/gate.php"]

QTYPE_A, QTYPE_AAAA, QTYPE_HTTPS, QTYPE_CNAME = 1, 28, 65, 5

ETH_V4 = bytes.fromhex("00163e0a0b0c" "5254000a0001" "0800")
ETH_V6 = bytes.fromhex("00163e0a0b0c" "5254000a0001" "86dd")
ETH_V4_R = bytes.fromhex("5254000a0001" "00163e0a0b0c" "0800")
ETH_V6_R = bytes.fromhex("5254000a0001" "00163e0a0b0c" "86dd")

pack = struct.pack
unpack = struct.unpack


def weighted(pairs):
    names = [p[0] for p in pairs]
    cum = []
    t = 0
    for _, w in pairs:
        t += w
        cum.append(t)
    return names, cum


class Names:
    """Background names (with popularity) and listed (bad) names, disjoint."""

    def __init__(self, r, registrable=120_000, fqdns=300_000):
        self.r = r
        tlds, cum = weighted(BG_TLDS)
        regs = set()
        while len(regs) < registrable:
            n = 1 + (r.random() < 0.55) + (r.random() < 0.2)
            label = "".join(r.choice(SYLLABLES) for _ in range(n))
            if len(label) < 3:
                continue
            regs.add(label + "." + tlds[bisect.bisect(cum, r.random() * cum[-1])])
        regs.update(CDN_DOMAINS)
        self.background_registrable = regs
        regs = sorted(regs)
        r.shuffle(regs)
        self.registrable = regs
        names = set()
        order = []
        while len(order) < fqdns:
            reg = regs[min(int(r.paretovariate(0.9)) - 1, len(regs) - 1)] if r.random() < 0.5 else r.choice(regs)
            sub = r.choice(BG_SUBS)
            name = (sub + "." + reg) if sub else reg
            if sub and r.random() < 0.12:
                name = r.choice(DEEP_SUBS) + "." + name
            if name not in names:
                names.add(name)
                order.append(name)
        self.fqdns = order
        # Zipf-like popularity over the FQDNs, in their (random) order.
        cw = []
        t = 0.0
        for rank in range(1, len(order) + 1):
            t += 1.0 / rank ** 0.85
            cw.append(t)
        self.cum = cw

    def popular(self, k):
        return self.r.choices(self.fqdns, cum_weights=self.cum, k=k)

    def indicators(self, count):
        """`count` listed domains, none of whose registrable part the background uses."""
        r = self.r
        tlds, cum = weighted(BAD_TLDS)
        bg = self.background_registrable
        out = set()
        total = cum[-1]
        while len(out) < count:
            n = 2 + (r.random() < 0.5) + (r.random() < 0.25)
            label = "".join(r.choice(SYLLABLES) for _ in range(n))
            x = r.random()
            if x < 0.15:
                label += str(r.randrange(100))
            elif x < 0.25:
                label += "-" + r.choice(["secure", "update", "login", "cdn", "pay", "app", "service"])
            reg = label + "." + tlds[bisect.bisect(cum, r.random() * total)]
            if reg in bg:
                continue
            if r.random() < 0.1:
                reg = r.choice(BAD_SUBS) + "." + reg
            out.add(reg)
        out = sorted(out)
        r.shuffle(out)
        return out


def encode_name(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


def address_of(name, v6=False):
    h = zlib.crc32(name.encode())
    if v6:
        return pack("!HHII", 0x2400, 0xcb00 + (h & 0xff), 0, h) + pack("!I", 1 + (h >> 24))
    first = h % 200 + 13
    if first in (100, 127, 169, 172, 192):  # shared, loopback, link-local, private
        first += 1
    return pack("!I", (first << 24) | (h & 0xffffff | 1))


def ipv4_header(src, dst, proto, length, ident):
    hdr = pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, ident & 0xffff, 0x4000, 64, proto, 0, src, dst)
    s = sum(unpack("!10H", hdr))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    return hdr[:10] + pack("!H", ~s & 0xffff) + hdr[12:]


def ip_frame(src, dst, proto, payload, ident, to_client):
    if len(src) == 4:
        return (ETH_V4_R if to_client else ETH_V4) + ipv4_header(src, dst, proto, len(payload), ident) + payload
    return (ETH_V6_R if to_client else ETH_V6) + pack("!IHBB16s16s", 0x60000000, len(payload), proto, 64, src, dst) + payload


def udp(src, dst, sport, dport, payload, ident, to_client):
    checksum = 0  # optional over IPv4; mandatory over IPv6
    if len(src) == 16:
        data = src + dst + pack("!HHHHHH", 17, 8 + len(payload), sport, dport, 8 + len(payload), 0) + payload
        if len(data) & 1:
            data += b"\0"
        s = sum(unpack("!%dH" % (len(data) // 2), data))
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        checksum = (~s & 0xffff) or 0xffff
    return ip_frame(src, dst, 17, pack("!HHHH", sport, dport, 8 + len(payload), checksum) + payload, ident, to_client)


SYN_OPTIONS = bytes.fromhex("020405b4" "0402" "080a00000000" "00000000" "01" "030307")  # MSS, SACK, TS, NOP, WS
SYNACK_OPTIONS = bytes.fromhex("020405b4" "0402" "080a00000000" "00000000" "01" "030307")


def tcp(src, dst, sport, dport, seq, ack, flags, payload, ident, to_client, options=b""):
    doff = (20 + len(options)) // 4
    seg = pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff, doff << 4, flags, 64240, 0, 0)
    return ip_frame(src, dst, 6, seg + options + payload, ident, to_client)


FIN, SYN, PSH, ACK = 0x01, 0x02, 0x08, 0x10
OPT_RR = b"\x00\x00\x29\x10\x00\x00\x00\x00\x00\x00\x00"  # EDNS OPT, 4096 bytes, no options


def dns_query(qid, qname_wire, qtype, edns):
    return pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1 if edns else 0) + qname_wire + pack("!HH", qtype, 1) + (
        OPT_RR if edns else b"")


def dns_response(r, qid, qname, qname_wire, qtype, edns, cname=None, rcode=0):
    """A recursive resolver's answer: `cname` (a name) first when given, then
    addresses of the final name (A/AAAA), or an HTTPS record."""
    question = qname_wire + pack("!HH", qtype, 1)
    answers = []
    if rcode == 0:
        target_ptr = 0xc00c
        final = qname
        if cname is not None:
            wire = encode_name(cname)
            answers.append(pack("!HHHIH", 0xc00c, QTYPE_CNAME, 1, r.randrange(60, 3600), len(wire)) + wire)
            target_ptr = 0xc000 | (12 + len(question) + 12)
            final = cname
        if qtype == QTYPE_A:
            base = address_of(final)
            for k in range(1 + (r.random() < 0.4) + (r.random() < 0.2)):
                addr = base[:3] + bytes([(base[3] + k) & 0xff])
                answers.append(pack("!HHHIH", target_ptr, QTYPE_A, 1, r.randrange(30, 600), 4) + addr)
        elif qtype == QTYPE_AAAA:
            answers.append(pack("!HHHIH", target_ptr, QTYPE_AAAA, 1, r.randrange(30, 600), 16) + address_of(final, True))
        elif qtype == QTYPE_HTTPS and r.random() < 0.5:
            # priority 1, target ".", alpn=h2,h3, ipv4hint
            rdata = b"\x00\x01\x00" + b"\x00\x01\x00\x06\x02h2\x02h3" + b"\x00\x04\x00\x04" + address_of(final)
            answers.append(pack("!HHHIH", target_ptr, QTYPE_HTTPS, 1, 300, len(rdata)) + rdata)
    flags = 0x8180 | rcode
    return pack("!HHHHHH", qid, flags, 1, len(answers), 0, 1 if edns else 0) + question + b"".join(answers) + (
        OPT_RR if edns else b"")


def client_hello(r, sni, template, blob):
    """A TLS 1.3-style ClientHello record; returns (record, offset of the SNI name in it)."""
    ciphers, ext_before, ext_after, pad_to = template
    host = sni.encode()
    sni_ext = pack("!HHHBH", 0, len(host) + 5, len(host) + 3, 0, len(host)) + host
    key_share = pack("!HHHHH", 51, 38, 36, 29, 32) + blob_slice(r, blob, 32)
    exts = ext_before + sni_ext + ext_after + key_share
    session = blob_slice(r, blob, 32)
    body_fixed = 2 + 32 + 1 + 32 + 2 + len(ciphers) + 2 + 2
    if pad_to:
        used = body_fixed + len(exts) + 4
        pad = pad_to - used - 4
        if pad > 0:
            exts += pack("!HH", 21, pad) + b"\0" * pad
    body = (b"\x03\x03" + blob_slice(r, blob, 32) + b"\x20" + session + pack("!H", len(ciphers)) + ciphers
            + b"\x01\x00" + pack("!H", len(exts)) + exts)
    hs = b"\x01" + pack("!I", len(body))[1:] + body
    record = b"\x16\x03\x01" + pack("!H", len(hs)) + hs
    sni_at = 5 + 4 + body_fixed + len(ext_before) + 9
    return record, sni_at


def tls_templates():
    def ext(t, data):
        return pack("!HH", t, len(data)) + data
    groups = ext(10, bytes.fromhex("0008001d001700180019"))
    points = ext(11, b"\x01\x00")
    sigalgs = ext(13, bytes.fromhex("0012040308040401050308050501080606010201"))
    alpn = ext(16, bytes.fromhex("000c02683208687474702f312e31"))
    versions = ext(43, bytes.fromhex("0403040303"))
    psk = ext(45, b"\x01\x01")
    ems = ext(23, b"")
    reneg = ext(0xff01, b"\x00")
    ticket = ext(35, b"")
    status = ext(5, bytes.fromhex("0100000000"))
    sct = ext(18, b"")
    compress = ext(27, bytes.fromhex("020002"))
    chrome_ciphers = bytes.fromhex("130113021303c02bc02fc02cc030cca9cca8c013c014009c009d002f0035")
    firefox_ciphers = bytes.fromhex("130113031302c02bc02fcca9cca8c02cc030c00ac009c013c014009c009d002f0035")
    curl_ciphers = bytes.fromhex("130213031301c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067")
    return [
        (chrome_ciphers, ems + reneg, groups + points + ticket + alpn + status + sigalgs + sct + psk + versions
         + compress, 512),
        (firefox_ciphers, b"", ems + reneg + groups + points + ticket + alpn + status + versions + sigalgs + psk,
         0),
        (curl_ciphers, b"", points + groups + ticket + alpn + ems + sigalgs + versions + psk, 0),
    ]


def blob_slice(r, blob, n):
    at = r.randrange(len(blob) - n)
    return blob[at:at + n]


class Writer:
    """pcap writer; the first `small` packets also go to a second file."""

    def __init__(self, path, small_path, small):
        self.f = open(path, "wb")
        self.small_f = open(small_path, "wb") if small else None
        self.small = small
        header = pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
        self.f.write(header)
        if self.small_f:
            self.small_f.write(header)
        self.buf = []
        self.size = 0
        self.count = 0
        self.wire_bytes = 0
        self.small_wire_bytes = 0

    def add(self, ts_us, frame):
        self.buf.append(pack("<IIII", ts_us // 1_000_000, ts_us % 1_000_000, len(frame), len(frame)))
        self.buf.append(frame)
        self.size += len(frame)
        self.count += 1
        self.wire_bytes += len(frame)
        if self.count == self.small:
            self.flush()
            self.small_wire_bytes = self.wire_bytes
            self.small_f.close()
            self.small_f = None
        elif self.size > 1 << 22:
            self.flush()

    def flush(self):
        data = b"".join(self.buf)
        self.f.write(data)
        if self.small_f:
            self.small_f.write(data)
        self.buf = []
        self.size = 0

    def close(self):
        self.flush()
        self.f.close()
        if self.small_f:
            self.small_f.close()


class Traffic:
    def __init__(self, r, names, args):
        self.r = r
        self.names = names
        self.n = args.packets
        self.blob = r.randbytes(1 << 16)
        self.templates = tls_templates()
        v4 = set()
        while len(v4) < 60_000:
            v4.add(bytes([10, r.randrange(1, 255), r.randrange(256), r.randrange(1, 255)]))
        v6 = set()
        while len(v6) < 6_000:
            v6.add(bytes.fromhex("fd12345600") + bytes([r.randrange(256)]) + bytes(6) + r.randbytes(4))
        self.clients4 = sorted(v4)
        self.clients6 = sorted(v6)
        self.resolvers4 = [bytes([10, 0, 0, 53]), bytes([10, 0, 0, 54]), bytes([10, 255, 0, 53]),
                           bytes([10, 255, 0, 54])]
        self.resolvers6 = [bytes.fromhex("fd123456000000000000000000000053"),
                           bytes.fromhex("fd123456000000000000000000000054")]
        self.heap = []
        self.seq = 0
        self.ident = 0
        self.count = {"dns_query": 0, "dns_response": 0, "http": 0, "tls": 0, "tls_split_hellos": 0,
                      "http_flows": 0, "tls_flows": 0, "ipv6": 0}
        self.pop_names = []
        self.response_delay = (PPS // 200, PPS // 20)  # 5–50 ms
        self.rtt = (PPS // 50, PPS // 10)  # 20–100 ms

    def later(self, due, frame, kind):
        self.seq += 1
        heapq.heappush(self.heap, (due, self.seq, frame, kind))

    def next_name(self):
        if not self.pop_names:
            self.pop_names = self.names.popular(100_000)
            self.pop_names.reverse()
        return self.pop_names.pop()

    def client(self, v6=None):
        r = self.r
        if v6 is None:
            v6 = r.random() < 0.1
        return r.choice(self.clients6) if v6 else r.choice(self.clients4)

    def dns(self, i, client=None, qname=None, cname=None):
        r = self.r
        client = client or self.client()
        v6 = len(client) == 16
        resolvers = self.resolvers6 if v6 else self.resolvers4
        resolver = resolvers[client[-1] % len(resolvers)]
        qname = qname or self.next_name()
        x = r.random()
        qtype = QTYPE_A if x < 0.6 else QTYPE_AAAA if x < 0.9 else QTYPE_HTTPS
        if cname is not None:
            qtype = QTYPE_A
        elif qtype != QTYPE_HTTPS:
            # A name's CDN (if any) is a property of the name, not of the query.
            h = zlib.crc32(qname.encode())
            if h % 100 < 15:
                cname = qname.split(".")[0] + "-%x.%s" % (h & 0xfff, CDN_DOMAINS[(h >> 8) % len(CDN_DOMAINS)])
        wire = encode_name(qname)
        qid = r.getrandbits(16)
        sport = r.randrange(1024, 65536)
        edns = r.random() < 0.6
        self.ident += 1
        query = udp(client, resolver, sport, 53, dns_query(qid, wire, qtype, edns), self.ident, False)
        if r.random() < 0.985 or cname is not None:
            rcode = 3 if (cname is None and r.random() < 0.04) else 0
            resp = dns_response(r, qid, qname, wire, qtype, edns, cname, rcode)
            self.later(i + r.randrange(*self.response_delay), udp(resolver, client, 53, sport, resp, self.ident, True),
                       "dns_response")
        return query, "dns_query"

    def tcp_flow(self, i, client, server_name, port, client_payloads, server_payload, kind):
        """Handshake, client payload segments, server payload, FINs; the
        first packet is returned, the rest scheduled."""
        r = self.r
        v6 = len(client) == 16
        server = address_of(server_name, v6)
        sport = r.randrange(1024, 65536)
        cseq = r.getrandbits(32)
        sseq = r.getrandbits(32)
        rtt = r.randrange(*self.rtt)
        t = i
        self.ident += 1
        ident = self.ident
        syn = tcp(client, server, sport, port, cseq, 0, SYN, b"", ident, False, SYN_OPTIONS)
        t += rtt // 2
        self.later(t, tcp(server, client, port, sport, sseq, cseq + 1, SYN | ACK, b"", ident, True, SYNACK_OPTIONS),
                   kind)
        t += rtt // 2
        self.later(t, tcp(client, server, sport, port, cseq + 1, sseq + 1, ACK, b"", ident + 1, False), kind)
        c = cseq + 1
        for k, payload in enumerate(client_payloads):
            t += 1 + (r.randrange(1, 40) if k else 0)
            self.later(t, tcp(client, server, sport, port, c, sseq + 1, PSH | ACK, payload, ident + 2 + k, False), kind)
            c += len(payload)
        t += rtt // 2 + r.randrange(1, PPS // 100)
        self.later(t, tcp(server, client, port, sport, sseq + 1, c, PSH | ACK, server_payload, ident, True), kind)
        s = sseq + 1 + len(server_payload)
        t += r.randrange(PPS // 100, PPS // 5)
        self.later(t, tcp(client, server, sport, port, c, s, FIN | ACK, b"", ident + 9, False), kind)
        t += rtt // 2
        self.later(t, tcp(server, client, port, sport, s, c + 1, FIN | ACK, b"", ident + 1, True), kind)
        self.ident += 10
        return syn, kind

    def http(self, i, client=None, host=None):
        r = self.r
        client = client or self.client()
        host = host or self.next_name()
        host_header = host if r.random() < 0.9 else host + ":80"
        req = ("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n"
               "Connection: keep-alive\r\n\r\n" % (r.choice(PATHS), host_header, r.choice(USER_AGENTS))).encode()
        body_len = r.randrange(100, 1200)
        resp = ("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html; charset=utf-8\r\n"
                "Content-Length: %d\r\nConnection: keep-alive\r\n\r\n" % body_len).encode() + b"x" * body_len
        self.count["http_flows"] += 1
        return self.tcp_flow(i, client, host, 80, [req], resp, "http")

    def tls(self, i, client=None, sni=None, split=None):
        r = self.r
        client = client or self.client()
        sni = sni or self.next_name()
        record, sni_at = client_hello(r, sni, r.choice(self.templates), self.blob)
        if split is None:
            split = r.random() < 0.2
        if split:
            cut = sni_at + max(1, len(sni) // 2)
            payloads = [record[:cut], record[cut:]]
            self.count["tls_split_hellos"] += 1
        else:
            payloads = [record]
        server_hello = (b"\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03" + blob_slice(r, self.blob, 32)
                        + b"\x20" + blob_slice(r, self.blob, 32) + b"\x13\x01\x00\x00\x2e\x00\x2b\x00\x02\x03\x04"
                        + b"\x00\x33\x00\x24\x00\x1d\x00\x20" + blob_slice(r, self.blob, 32)
                        + b"\x14\x03\x03\x00\x01\x01" + b"\x17\x03\x03" + pack("!H", 1100)
                        + blob_slice(r, self.blob, 1100))
        self.count["tls_flows"] += 1
        return self.tcp_flow(i, client, sni, 443, payloads, server_hello, "tls")


def write_pcap(args, r, names, listed, out):
    traffic = Traffic(r, names, args)
    n = args.packets
    # Planted hits: spread over the capture, each early enough to complete.
    planted_n = min(args.planted, max(1, n // 200))
    span = PPS // 3 + 200
    last_start = max(1, n - span)
    starts = sorted(r.randrange(0, last_start) for _ in range(planted_n))
    plants = []
    used = set()
    bad = iter(listed)
    for start in starts:
        indicator = next(bad)
        x = r.random()
        via = "dns.qname" if x < 0.6 else "dns.answer" if x < 0.7 else "tls.sni" if x < 0.85 else "http.host"
        observed = indicator if r.random() < 0.5 else r.choice(BAD_SUBS + BG_SUBS[3:]) + "." + indicator
        client = traffic.client(v6=(via.startswith("dns") and r.random() < 0.1) or (r.random() < 0.03))
        if (client, indicator) in used:
            continue
        used.add((client, indicator))
        plants.append((start, client, indicator, via, observed))

    x_dns = 0.90 / 1.99
    x_http = 0.05 / 7
    x_tls = 0.05 / 8.2
    p_dns = x_dns / (x_dns + x_http + x_tls)
    p_http = (x_dns + x_http) / (x_dns + x_http + x_tls)

    writer = Writer(os.path.join(out, "traffic.pcap"), os.path.join(out, "traffic-small.pcap"), args.small)
    heap = traffic.heap
    t0 = 1_735_725_600 * 1_000_000  # 2025-01-01 10:00 UTC
    us_per_packet = 1_000_000 / PPS
    count = traffic.count
    k = 0
    expected = []
    for i in range(n):
        if heap and heap[0][0] <= i:
            _, _, frame, kind = heapq.heappop(heap)
        elif k < len(plants) and plants[k][0] <= i:
            _, client, indicator, via, observed = plants[k]
            k += 1
            if via == "dns.qname":
                frame, kind = traffic.dns(i, client, observed)
            elif via == "dns.answer":
                # A name of its own (a compromised site pointing at the listed
                # one): a popular name answered with changing CNAMEs would look
                # like fast-flux, which is not what is planted here.
                alias = "%s-%d.%s" % (r.choice(BG_SUBS[3:]), k, r.choice(names.registrable))
                frame, kind = traffic.dns(i, client, alias, cname=observed)
            elif via == "tls.sni":
                frame, kind = traffic.tls(i, client, observed, split=r.random() < 0.5)
            else:
                frame, kind = traffic.http(i, client, observed)
            expected.append((client, indicator, via, observed))
        else:
            x = r.random()
            if x < p_dns:
                frame, kind = traffic.dns(i)
            elif x < p_http:
                frame, kind = traffic.http(i)
            else:
                frame, kind = traffic.tls(i)
        count[kind] += 1
        if frame[12:14] == b"\x86\xdd":
            count["ipv6"] += 1
        writer.add(t0 + int(i * us_per_packet), frame)
    writer.close()
    with open(os.path.join(out, "expected-pcap.tsv"), "w") as f:
        for client, indicator, via, observed in expected:
            f.write("%s\t%s\t%s\t%s\n" % (ip_text(client), indicator, via, observed))
    with open(os.path.join(out, "empty.pcap"), "wb") as f:
        f.write(pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    return {
        "packets": writer.count,
        "wire_bytes": writer.wire_bytes,
        "file_bytes": os.path.getsize(os.path.join(out, "traffic.pcap")),
        "small_packets": min(args.small, writer.count) if args.small else 0,
        "small_wire_bytes": writer.small_wire_bytes,
        "planted": len(expected),
        "flows_left_open_at_end": len(heap),
        "by_kind": count,
    }


def ip_text(b):
    if len(b) == 4:
        return "%d.%d.%d.%d" % tuple(b)
    words = unpack("!8H", b)
    # Compressed form, as Rust prints it (longest run of zeros, first wins).
    best, best_len, cur, cur_len = -1, 0, -1, 0
    for j, w in enumerate(words):
        if w == 0:
            if cur < 0:
                cur, cur_len = j, 0
            cur_len += 1
            if cur_len > best_len:
                best, best_len = cur, cur_len
        else:
            cur = -1
    parts = ["%x" % w for w in words]
    if best_len > 1:
        return ":".join(parts[:best]) + "::" + ":".join(parts[best + best_len:])
    return ":".join(parts)


def iso(ts_us):
    s = ts_us // 1_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%06d+0000" % (ts_us % 1_000_000)


def write_logs(args, r, names, listed, traffic_clients, out):
    n = args.log_lines
    t0 = 1_735_812_000 * 1_000_000
    us_per_line = 1_000_000 // 5_000
    resolvers = ["10.0.0.53", "10.0.0.54"]
    pop = names.popular(n)
    plants_at = {}
    listed = listed[::-1]
    planted_n = min(args.log_planted, max(1, n // 200))
    eve_expected, zeek_expected = [], []
    # EVE: ~78% dns (query + answer), 6% tls, 6% http, 10% flow.
    with open(os.path.join(out, "eve.json"), "w") as f:
        starts = sorted(r.sample(range(n - 2), planted_n))
        next_plant = 0
        lines = []
        i = 0
        while i < n:
            ts = iso(t0 + i * us_per_line)
            client = ip_text(r.choice(traffic_clients))
            sport = r.randrange(1024, 65536)
            name = pop[i]
            plant = next_plant < len(starts) and starts[next_plant] <= i and i < n - 1
            if plant:
                next_plant += 1
                indicator = listed.pop()
                observed = indicator if r.random() < 0.5 else "www." + indicator
                plants_at[i] = indicator
            x = r.random()
            if (plant and x < 0.5) or (not plant and x < 0.39):
                qid = r.getrandbits(16)
                resolver = resolvers[sport & 1]
                qname = observed if plant else name
                lines.append('{"timestamp":"%s","flow_id":%d,"in_iface":"eth0","event_type":"dns","src_ip":"%s",'
                             '"src_port":%d,"dest_ip":"%s","dest_port":53,"proto":"UDP","pkt_src":"wire/pcap",'
                             '"dns":{"type":"query","id":%d,"rrname":"%s","rrtype":"A","tx_id":0,"opcode":0}}\n'
                             % (ts, r.getrandbits(50), client, sport, resolver, qid, qname))
                addr = ip_text(address_of(qname))
                lines.append('{"timestamp":"%s","flow_id":%d,"in_iface":"eth0","event_type":"dns","src_ip":"%s",'
                             '"src_port":%d,"dest_ip":"%s","dest_port":53,"proto":"UDP","pkt_src":"wire/pcap",'
                             '"dns":{"version":2,"type":"answer","id":%d,"flags":"8180","qr":true,"rd":true,'
                             '"ra":true,"opcode":0,"rrname":"%s","rrtype":"A","rcode":"NOERROR","answers":'
                             '[{"rrname":"%s","rrtype":"A","ttl":300,"rdata":"%s"}],"grouped":{"A":["%s"]}}}\n'
                             % (ts, r.getrandbits(50), client, sport, resolver, qid, qname, qname, addr, addr))
                i += 2
                if plant:
                    eve_expected.append((client, indicator, "dns.qname", observed))
                continue
            if (plant and x < 0.75) or (not plant and x < 0.45):
                sni = observed if plant else name
                lines.append('{"timestamp":"%s","flow_id":%d,"in_iface":"eth0","event_type":"tls","src_ip":"%s",'
                             '"src_port":%d,"dest_ip":"%s","dest_port":443,"proto":"TCP","pkt_src":"wire/pcap",'
                             '"tls":{"sni":"%s","version":"TLSv1.3","ja3":{"hash":"%s"},"ja4":"t13d1516h2_8daaf6152771_e5627efa2ab1"}}\n'
                             % (ts, r.getrandbits(50), client, sport, ip_text(address_of(sni)), sni,
                                "%032x" % r.getrandbits(128)))
                if plant:
                    eve_expected.append((client, indicator, "tls.sni", observed))
            elif plant or x < 0.51:
                host = observed if plant else name
                lines.append('{"timestamp":"%s","flow_id":%d,"in_iface":"eth0","event_type":"http","src_ip":"%s",'
                             '"src_port":%d,"dest_ip":"%s","dest_port":80,"proto":"TCP","pkt_src":"wire/pcap",'
                             '"tx_id":0,"http":{"hostname":"%s","url":"%s","http_user_agent":"%s",'
                             '"http_content_type":"text/html","http_method":"GET","protocol":"HTTP/1.1",'
                             '"status":200,"length":%d}}\n'
                             % (ts, r.getrandbits(50), client, sport, ip_text(address_of(host)), host,
                                r.choice(PATHS), r.choice(USER_AGENTS).replace("/", "\\/"), r.randrange(100, 9000)))
                if plant:
                    eve_expected.append((client, indicator, "http.host", observed))
            else:
                lines.append('{"timestamp":"%s","flow_id":%d,"in_iface":"eth0","event_type":"flow","src_ip":"%s",'
                             '"src_port":%d,"dest_ip":"%s","dest_port":443,"proto":"TCP","app_proto":"tls",'
                             '"flow":{"pkts_toserver":%d,"pkts_toclient":%d,"bytes_toserver":%d,'
                             '"bytes_toclient":%d,"start":"%s","end":"%s","age":1,"state":"closed",'
                             '"reason":"timeout","alerted":false}}\n'
                             % (ts, r.getrandbits(50), client, sport, ip_text(address_of(name)),
                                12, 14, 1800, 9000, ts, ts))
            i += 1
            if len(lines) > 20_000:
                f.writelines(lines)
                lines = []
        f.writelines(lines)
    eve_lines = i

    # Zeek dns.log: one line per transaction.
    header = ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
              "#open\t2025-01-02-10-00-00\n"
              "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass"
              "\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected\n"
              "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount"
              "\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool\n")
    pop = names.popular(n)
    starts = set(r.sample(range(n), planted_n))
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    with open(os.path.join(out, "zeek-dns.log"), "w") as f:
        f.write(header)
        lines = []
        for i in range(n):
            ts_us = t0 + i * us_per_line
            x = r.getrandbits(102)
            uid = "C" + "".join(alphabet[(x >> 6 * j) % 62] for j in range(17))
            client = ip_text(r.choice(traffic_clients))
            name = pop[i]
            cname = None
            if i in starts:
                indicator = listed.pop()
                observed = indicator if r.random() < 0.5 else "cdn." + indicator
                if r.random() < 0.2:
                    cname, query = observed, "%s-%d.%s" % (r.choice(BG_SUBS[3:]), i, r.choice(names.registrable))
                    zeek_expected.append((client, indicator, "dns.answer", observed))
                else:
                    query = observed
                    zeek_expected.append((client, indicator, "dns.qname", observed))
            else:
                query = name
            x = r.random()
            qtype, qname_t = (1, "A") if x < 0.6 else (28, "AAAA") if x < 0.9 else (65, "HTTPS")
            if cname:
                qtype, qname_t = 1, "A"
            if x > 0.97 and not cname:
                answers, ttls, rcode, rname = "-", "-", 3, "NXDOMAIN"
            else:
                final = cname or query
                addr = ip_text(address_of(final, qtype == 28)) if qtype != 65 else None
                answers = ",".join(a for a in (cname, addr) if a) or "-"
                ttls = ",".join("%d.000000" % r.randrange(30, 600) for a in (cname, addr) if a) or "-"
                rcode, rname = 0, "NOERROR"
            lines.append("%d.%06d\t%s\t%s\t%d\t10.0.0.53\t53\tudp\t%d\t0.%06d\t%s\t1\tC_INTERNET\t%d\t%s\t%d\t%s\t"
                         "F\tF\tT\tT\t0\t%s\t%s\tF\n"
                         % (ts_us // 1_000_000, ts_us % 1_000_000, uid, client, r.randrange(1024, 65536),
                            r.getrandbits(16), r.randrange(1000, 90000), query, qtype, qname_t, rcode, rname,
                            answers, ttls))
            if len(lines) > 20_000:
                f.writelines(lines)
                lines = []
        f.writelines(lines)
        f.write("#close\t2025-01-02-12-00-00\n")
    for path, rows in (("expected-eve.tsv", eve_expected), ("expected-zeek.tsv", zeek_expected)):
        with open(os.path.join(out, path), "w") as f:
            for row in rows:
                f.write("\t".join(row) + "\n")
    return {"eve_lines": eve_lines, "zeek_lines": n, "eve_planted": len(eve_expected),
            "zeek_planted": len(zeek_expected),
            "eve_bytes": os.path.getsize(os.path.join(out, "eve.json")),
            "zeek_bytes": os.path.getsize(os.path.join(out, "zeek-dns.log"))}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out")
    p.add_argument("--packets", type=int, default=5_000_000)
    p.add_argument("--indicators", type=int, default=1_000_000)
    p.add_argument("--planted", type=int, default=3_000)
    p.add_argument("--log-lines", type=int, default=2_000_000)
    p.add_argument("--log-planted", type=int, default=2_000)
    p.add_argument("--small", type=int, default=None, help="packets in traffic-small.pcap (default: a fifth)")
    p.add_argument("--seed", type=int, default=SEED)
    args = p.parse_args()
    if args.small is None:
        args.small = args.packets // 5
    os.makedirs(args.out, exist_ok=True)
    r = random.Random(args.seed)
    names = Names(r)
    need = args.planted + 2 * args.log_planted
    listed = names.indicators(max(args.indicators, need))
    with open(os.path.join(args.out, "indicators.txt"), "w") as f:
        f.write("\n".join(listed))
        f.write("\n")
    # The planted hits take listed domains from a shuffled copy.
    order = list(listed)
    r.shuffle(order)
    meta = {"seed": args.seed, "indicators": len(listed), "pps": PPS}
    meta.update(write_pcap(args, r, names, order[:args.planted], args.out))
    meta.update(write_logs(args, r, names, order[args.planted:need], sample_clients(r), args.out))
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


def sample_clients(r):
    out = set()
    while len(out) < 60_000:
        out.add(bytes([10, r.randrange(1, 255), r.randrange(256), r.randrange(1, 255)]))
    return sorted(out)


if __name__ == "__main__":
    main()
