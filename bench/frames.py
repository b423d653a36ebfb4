#!/usr/bin/env python3
"""Counts a monitor's refreshes from what it writes to its terminal.

bench/compare runs every tool in a tmux pane and pipes the pane's output
(`tmux pipe-pane`) into `frames.py record FILE`, which appends one line
"UNIX_TIME BYTES" per chunk tmux hands over. A monitor that is left alone
writes only when it refreshes, and every refresh changes something on
screen (uptime seconds, CPU meters, graphs), so each refresh shows up as a
burst of writes followed by silence.

`frames.py count FILE T0 T1` groups the chunks into bursts (chunks less
than GAP seconds apart belong to the same burst), drops bursts smaller than
MIN_BYTES (btop, for one, writes a ~100-byte update a quarter of a second
after some frames), and estimates the number of refreshes in [T0, T1]:

  * with k >= 2 bursts starting in the window, from their rate:
    (T1 - T0) * (k - 1) / (last start - first start), which is not off by
    up to one refresh the way counting whole bursts is (bench/compare
    widens a window until it holds 3 bursts, so the rate comes from at
    least two intervals, unless the tool needs more than a minute or two
    per refresh);
  * with fewer, the plain count k.

It prints "REFRESHES MEAN_INTERVAL_S BURSTS" (interval "nan" when k < 2).
Only the standard library: this runs under the system python3.
"""

import math
import os
import sys
import time

GAP = 0.2  # seconds of silence that end a burst
MIN_BYTES = 400  # smaller bursts are not frames


def record(path):
    """stdin (the pane's output) -> one "time bytes" line per chunk."""
    with open(path, "w", buffering=1) as out:
        while True:
            chunk = os.read(0, 65536)
            if not chunk:
                return
            out.write("%.6f %d\n" % (time.time(), len(chunk)))


def bursts(path):
    """Start times of the bursts of at least MIN_BYTES, in order."""
    starts = []
    start = last = None
    size = 0
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 2:
                continue  # a line being written right now
            t, n = float(parts[0]), int(parts[1])
            if last is not None and t - last > GAP:
                if size >= MIN_BYTES:
                    starts.append(start)
                start, size = None, 0
            if start is None:
                start = t
            size += n
            last = t
    if start is not None and size >= MIN_BYTES:
        starts.append(start)
    return starts


def count(path, t0, t1):
    inside = [s for s in bursts(path) if t0 <= s <= t1]
    k = len(inside)
    if k >= 2 and inside[-1] > inside[0]:
        interval = (inside[-1] - inside[0]) / (k - 1)
        return (t1 - t0) / interval, interval, k
    return float(k), math.nan, k


def main(argv):
    if len(argv) == 3 and argv[1] == "record":
        record(argv[2])
        return 0
    if len(argv) == 5 and argv[1] == "count":
        if not os.path.exists(argv[2]):
            print("0 nan 0")
            return 0
        refreshes, interval, k = count(argv[2], float(argv[3]), float(argv[4]))
        print("%.3f %.4f %d" % (refreshes, interval, k))
        return 0
    print("usage: frames.py record FILE | frames.py count FILE T0 T1",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
