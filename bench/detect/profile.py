#!/usr/bin/env python3
"""Where `anbao scan`'s CPU time goes once the indicators are loaded:
runs the command under `perf record` (cpu-clock sampling, which works in
VMs without hardware counters), notes the moment scan prints "matching
against N indicators" on stderr, and prints perf's flat profile (self time
per function) of the samples after that moment.

    profile.py PERF_DATA_FILE -- anbao scan ... FILE

Prints nothing (and exits 0) when perf or the mark is missing.
"""

import re
import subprocess
import sys
import time


def main():
    out = sys.argv[1]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    record = ["perf", "record", "-q", "-k", "CLOCK_MONOTONIC", "-e", "cpu-clock", "-F", "499", "-o", out, "--"]
    try:
        p = subprocess.Popen(record + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    except FileNotFoundError:
        return
    mark = None
    for line in p.stderr:
        if mark is None and "matching against" in line:
            mark = time.clock_gettime(time.CLOCK_MONOTONIC)
    p.wait()
    if mark is None:
        return
    report = ["perf", "report", "-i", out, "--stdio", "--no-children", "--time", "%.6f," % mark,
              "--sort", "dso,symbol", "--percent-limit", "1"]
    text = subprocess.run(report, capture_output=True, text=True).stdout
    # perf pads with empty columns ("-"); symbols never end in one.
    lines = [re.sub(r"[\s-]+$", "", line) for line in text.splitlines() if line.strip() and not line.startswith("#")]
    print("\n".join(lines[:30]))


if __name__ == "__main__":
    main()
