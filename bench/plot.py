#!/usr/bin/env python3
"""Plots bench/compare's results.csv.

    plot.py RESULTS.CSV OUTDIR

writes OUTDIR/cpu_per_refresh.png (total CPU ms per refresh, log y) and
OUTDIR/syscalls_per_refresh.png (syscalls per refresh, log y) against the
number of idle processes, one line per tool. The threads variant, if it
ran, is drawn as a star per tool at its thread count (it is not on the
same curve: many threads in few processes, not many processes).
"""

import csv
import sys

import matplotlib

matplotlib.use("Agg")  # no display
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "bpftop-bpf": "bpftop (bpf)",
    "bpftop-procfs": "bpftop (procfs)",
    "htop": "htop",
    "btop": "btop",
}
ORDER = ["bpftop-bpf", "bpftop-procfs", "htop", "btop"]


def number(text):
    try:
        return float(text)
    except ValueError:
        return None


def plot(rows, column, ylabel, title, path):
    fig, ax = plt.subplots(figsize=(8, 5))
    tools = [t for t in ORDER if any(r["tool"] == t for r in rows)]
    tools += sorted({r["tool"] for r in rows} - set(tools))
    starred = False
    for i, tool in enumerate(tools):
        color = "C%d" % i
        mine = [r for r in rows if r["tool"] == tool]
        line = sorted(
            (int(r["tasks"]), number(r[column]))
            for r in mine
            if r["threads_per_process"] == "1" and number(r[column])
        )
        if line:
            xs, ys = zip(*line)
            ax.plot(xs, ys, marker="o", color=color, label=LABELS.get(tool, tool))
        for r in mine:
            y = number(r[column])
            if r["threads_per_process"] != "1" and y:
                ax.plot(int(r["tasks"]), y, marker="*", markersize=14,
                        color=color, linestyle="none",
                        label=None if line else LABELS.get(tool, tool))
                starred = True
    if starred:
        shapes = sorted({(r["processes"], r["threads_per_process"]) for r in rows
                         if r["threads_per_process"] != "1"})
        text = ", ".join("%s processes x %s threads" % s for s in shapes)
        ax.plot([], [], marker="*", markersize=14, color="gray",
                linestyle="none", label="threads variant (%s)" % text)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("idle tasks spawned (processes; threads for ★)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], newline="") as f:
        rows = list(csv.DictReader(f))
    plot(rows, "total_ms_per_refresh", "CPU ms per refresh (user + system)",
         "CPU time per refresh (1 s refresh interval)",
         argv[2] + "/cpu_per_refresh.png")
    plot(rows, "syscalls_per_refresh", "syscalls per refresh",
         "Syscalls per refresh (strace -f -c)",
         argv[2] + "/syscalls_per_refresh.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
