#!/usr/bin/env python3
"""bench/flow driver: replays one NetFlow v9 (or IPFIX) stream, 30 records
per datagram from many exporters, on loopback to `anbao flow collect` and
to nfcapd at increasing rates; prints flows/s offered and ingested, loss and
CPU seconds per million flows for each, then anbao's detection latency for a
synthetic SYN flood. See bench/README.md ("bench/flow").
"""
import json, os, re, signal, socket, struct, subprocess, sys, tempfile, threading, time

ANBAO = os.environ.get("ANBAO_BIN", "target/release/anbao")
RATES = [int(r) for r in os.environ.get("RATES", "250000,500000,1000000,2000000,3000000").split(",")]
SECONDS = float(os.environ.get("SECONDS_PER_RATE", "3"))
EXPORTERS = int(os.environ.get("EXPORTERS", "16"))
FORMAT = os.environ.get("FORMAT", "v9")  # v9 | ipfix
RCVBUF = int(os.environ.get("RCVBUF", str(8 << 20)))
PEERS = os.environ.get("PEERS", "anbao,nfcapd").split(",")
RECORDS = 30
HZ = os.sysconf("SC_CLK_TCK")

FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (5, 1), (10, 4), (14, 4),
          (2, 4), (1, 4), (22, 4), (21, 4)]
REC = struct.Struct("!4s4sHHBBBIIIIII")


def template_set():
    body = struct.pack("!HH", 256, len(FIELDS)) + b"".join(struct.pack("!HH", t, l) for t, l in FIELDS)
    return struct.pack("!HH", 0 if FORMAT == "v9" else 2, len(body) + 4) + body


def datagrams(exporter, count):
    """`count` export datagrams of one exporter, each with the template."""
    out = []
    tmpl = template_set()
    for seq in range(count):
        recs = []
        for i in range(RECORDS):
            n = seq * RECORDS + i
            src = bytes([198, 18, (n >> 8) & 255, n & 255])
            dst = bytes([10, exporter & 255, (n >> 8) & 15, n & 255])
            recs.append(REC.pack(src, dst, 1024 + n % 50000, 443, 6, 0x1b, 0, 1, 2,
                                 10 + n % 7, 1500 + n % 9000, 3_000_000, 3_599_000))
        out.append(packet(tmpl, b"".join(recs), seq, exporter))
    return out


def packet(tmpl, data, seq, exporter):
    """One export datagram of FORMAT: the template and one data set."""
    body = tmpl + struct.pack("!HH", 256, len(data) + 4) + data
    now = int(time.time())
    if FORMAT == "v9":
        return struct.pack("!HHIIII", 9, RECORDS + 1, 3_600_000, now, seq, exporter) + body
    return struct.pack("!HHIII", 10, 16 + len(body), now, seq * RECORDS, exporter) + body


def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / HZ


def send(port, rate, seconds, streams):
    """Sends at `rate` flows/s for `seconds`; returns flows sent."""
    per_sec = rate / RECORDS
    socks = []
    for e in range(EXPORTERS):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((f"127.0.1.{e + 1}", 0))
        socks.append(s)
    sent = 0
    start = time.perf_counter()
    i = 0
    total = int(per_sec * seconds)
    while sent < total:
        due = int((time.perf_counter() - start) * per_sec) + 1
        while sent < min(due, total):
            e = sent % EXPORTERS
            dg = streams[e][i % len(streams[e])]
            socks[e].sendto(dg, ("127.0.0.1", port))
            sent += 1
            if e == EXPORTERS - 1:
                i += 1
    elapsed = time.perf_counter() - start
    for s in socks:
        s.close()
    return sent * RECORDS, elapsed


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Anbao:
    def __init__(self, work, host_pps=100_000_000):
        groups = os.path.join(work, "groups.toml")
        with open(groups, "w") as f:
            f.write(f'[[group]]\nname = "bench"\nprefixes = ["10.0.0.0/8"]\nhost = {{ pps = {host_pps} }}\n'
                    'group = { pps = 1000000000000 }\n')
        self.groups = groups
        self.start()

    def start(self):
        self.port = free_port()
        self.proc = subprocess.Popen([ANBAO, "flow", "collect", "--json", "--stats", "1", "--listen",
                                      f"127.0.0.1:{self.port}", "--rcvbuf", str(RCVBUF), "--groups", self.groups],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stats = None
        self.listening = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        self.listening.wait(30)

    def _read(self):
        for line in self.proc.stderr:
            if "listening" in line:
                self.listening.set()
            elif line.startswith("{"):
                self.stats = json.loads(line)

    def flows(self):
        s = self.stats or {}
        return sum(h.get("flows", 0) for h in s.get("exporters", {}).values())

    def settle(self):
        last = -1
        while True:
            time.sleep(1.5)
            f = self.flows()
            if f == last:
                return f
            last = f

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(10)


class Nfcapd:
    def __init__(self, work):
        self.work = work
        self.start()

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="nfcapd.", dir=self.work)
        self.port = free_port()
        self.proc = subprocess.Popen(["nfcapd", "-b", "127.0.0.1", "-p", str(self.port), "-B", str(RCVBUF),
                                      "-w", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for line in self.proc.stderr:
            if line.startswith("Bound to"):
                break
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()

    def settle(self):
        time.sleep(1.5)
        return None

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)

    def flows(self):
        out = subprocess.run(["nfdump", "-R", self.dir, "-I"], capture_output=True, text=True).stdout
        m = re.search(r"^Flows:\s+(\d+)", out, re.M)
        return int(m.group(1)) if m else 0


def latency(work):
    """anbao's detection latency: SYN flood datagrams to a protected host."""
    a = Anbao(work, host_pps=20_000)
    lines = []
    got = threading.Event()

    def read():
        for line in a.proc.stdout:
            lines.append(line)
            got.set()
            return

    threading.Thread(target=read, daemon=True).start()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # 4 datagrams of 30 records × 1000 SYN packets: 120 000 packets to
    # one host whose threshold is 20 000 pps.
    tmpl = template_set()
    recs = b"".join(REC.pack(bytes([100, 64, 0, i]), bytes([10, 9, 9, 9]), 1024 + i, 80, 6, 0x02, 0, 1, 2,
                             1000, 60_000, 3_000_000, 3_599_000) for i in range(RECORDS))
    dgs = [packet(tmpl, recs, q, 99) for q in range(4)]
    t0 = time.perf_counter()
    for d in dgs:
        s.sendto(d, ("127.0.0.1", a.port))
    ok = got.wait(10)
    dt = time.perf_counter() - t0
    a.stop()
    if ok and '"syn_flood"' in lines[0]:
        return dt
    return None


def main():
    work = tempfile.mkdtemp(prefix="bench-flow.")
    streams = [datagrams(e + 1, 64) for e in range(EXPORTERS)]
    print(f"bench/flow: {FORMAT}, {RECORDS} records/datagram, {EXPORTERS} exporters, {SECONDS:g} s per rate, "
          f"receive buffer {RCVBUF} bytes", flush=True)
    print(f"{'peer':<8} {'offered/s':>12} {'sent/s':>12} {'ingested':>12} {'loss':>8} {'CPU-s/Mflow':>12}", flush=True)
    results = {}
    for peer in PEERS:
        for rate in RATES:
            p = Anbao(work) if peer == "anbao" else Nfcapd(work)
            c0 = cpu(p.proc.pid)
            sent, elapsed = send(p.port, rate, SECONDS, streams)
            if peer == "anbao":
                got = p.settle()
                c1 = cpu(p.proc.pid)
                p.stop()
            else:
                p.settle()
                c1 = cpu(p.proc.pid)
                p.stop()
                got = p.flows()
            loss = 1 - got / sent if sent else 0
            cpu_per_m = (c1 - c0) / (got / 1e6) if got else float("nan")
            results[(peer, rate)] = (sent / elapsed, got, loss, cpu_per_m)
            print(f"{peer:<8} {rate:>12,} {sent / elapsed:>12,.0f} {got:>12,} {loss:>8.2%} {cpu_per_m:>12.3f}",
                  flush=True)
    for peer in PEERS:
        clean = [r for r in RATES if results[(peer, r)][2] <= 0.0005]
        best = max(clean) if clean else 0
        print(f"{peer}: highest rate without loss (≤0.05%): {best:,} flows/s offered", flush=True)
    if "anbao" in PEERS and "nfcapd" in PEERS:
        for rate in RATES:
            a, n = results[("anbao", rate)], results[("nfcapd", rate)]
            if a[3] == a[3] and n[3] == n[3] and n[3] > 0:
                print(f"at {rate:,} flows/s: anbao's CPU per flow = {a[3] / n[3]:.2f} × nfcapd's "
                      f"(anbao decodes, aggregates and detects; nfcapd decodes and stores)", flush=True)
    if "anbao" in PEERS:
        d = latency(work)
        print(f"anbao detection latency (SYN flood, 4 datagrams): "
              f"{'not detected' if d is None else f'{d * 1e3:.1f} ms'}", flush=True)
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
