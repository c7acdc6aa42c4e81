#!/usr/bin/env python3
"""Writes the asset CSV for bench/assets-import: ROWS assets, deterministic
(the same ROWS and COMPONENT_EVERY give the same bytes on every run).

Usage: gen-csv.py ROWS COMPONENT_EVERY OUT.csv

Every asset sits in the root unit (id 1, which `anbao init` creates) and has
an external_id, so a second import of the same file matches every row and
finds it unchanged. Every COMPONENT_EVERY-th asset carries one inventory line
(component.* columns on the asset's own line); 0 for none. Names and people
are partly Chinese, so the file is real UTF-8, not ASCII. Lifecycle is only
`planned` or `live` (new assets may be created live; planned→live later is
gated). Prints "bytes assets components" on stdout.
"""

import csv
import os
import random
import sys

HEADER = [
    "external_id", "name", "asset_type", "identifier", "org_unit", "responsible_department",
    "responsible_person", "operator_contact", "oncall_phone", "lifecycle", "criticality",
    "component.vendor", "component.product", "component.version", "component.cpe",
]

# asset_type, name stem, identifier pattern (i = asset number)
TYPES = [
    ("device", "核心交换机", lambda i: f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"),
    ("terminal", "办公终端", lambda i: f"172.{16 + i // 65536 % 16}.{i // 256 % 256}.{i % 256}"),
    ("website", "门户网站", lambda i: f"https://www{i}.bench.example.cn/"),
    ("business_system", "业务系统", lambda i: f"BS-{i:07d}"),
    ("network", "接入网", lambda i: f"192.168.{i % 256}.0/24"),
    ("domain_name", "域名", lambda i: f"d{i}.bench.example.cn"),
    ("dns_service", "DNS 服务", lambda i: f"ns{i}.bench.example.cn"),
    ("cloud_tenant", "云租户", lambda i: f"tenant-{i:07d}"),
    ("iot_platform", "物联网平台", lambda i: f"iot-{i:07d}"),
]

PEOPLE = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴霞"]
CONTACTS = ["网络运维组", "安全运营中心", "应用运维组", "Ops Team A", "Ops Team B"]
CRITICALITY = ["low", "medium", "medium", "high", "critical"]
SOFTWARE = [
    ("isc", "bind", ["9.16.1", "9.18.24", "9.18.28"]),
    ("nginx", "nginx", ["1.18.0", "1.24.0", "1.26.1"]),
    ("openssl", "openssl", ["1.1.1k", "3.0.13", "3.2.1"]),
    ("apache", "http_server", ["2.4.48", "2.4.58", "2.4.62"]),
    ("microsoft", "windows_10", ["21h2", "22h2"]),
    ("oracle", "mysql", ["5.7.44", "8.0.36"]),
]


def main() -> None:
    rows, every, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = random.Random(20240601)
    components = 0
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        for n in range(1, rows + 1):
            kind, stem, ident = TYPES[n % len(TYPES)]
            person = PEOPLE[rng.randrange(len(PEOPLE))]
            phone = f"139{rng.randrange(10**8):08d}" if n % 2 == 0 else ""
            lifecycle = "planned" if rng.random() < 0.3 else "live"
            row = [
                f"BENCH-{n:07d}", f"{stem} {n:07d}", kind, ident(n), "1", "1",
                person, CONTACTS[n % len(CONTACTS)], phone, lifecycle,
                CRITICALITY[rng.randrange(len(CRITICALITY))],
            ]
            if every > 0 and n % every == 0:
                vendor, product, versions = SOFTWARE[rng.randrange(len(SOFTWARE))]
                version = versions[rng.randrange(len(versions))]
                cpe = f"cpe:2.3:a:{vendor}:{product}:{version}:*:*:*:*:*:*:*"
                row += [vendor, product, version, cpe]
                components += 1
            else:
                row += ["", "", "", ""]
            w.writerow(row)
    print(os.path.getsize(out), rows, components)


if __name__ == "__main__":
    main()
