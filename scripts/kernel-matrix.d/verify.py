#!/usr/bin/env python3
"""Part of scripts/kernel-matrix: judges one workload.sh transcript.

    verify.py LABEL TRANSCRIPT ROWS     check, print findings, append a row to ROWS
    verify.py --table ROWS              print the summary table of all rows

Exit status 1 when anything differs from /proc (each difference is printed
with what was expected), 0 when everything matches.
"""

import json
import re
import sys

TRANSFER_TOLERANCE = 0.01  # net bytes: within 1 %
RSS_REL = 0.01  # RSS: within max(1 %, 256 KiB)
RSS_ABS = 256 * 1024


def sections(text):
    """{name: [lines]} for every @@KM-BEGIN name … @@KM-END name block."""
    out, name, lines = {}, None, []
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if line.startswith("@@KM-BEGIN "):
            name, lines = line[len("@@KM-BEGIN "):], []
        elif line.startswith("@@KM-END ") and name is not None:
            out[name] = lines
            name = None
        elif name is not None:
            lines.append(line)
    return out


def parse_stat(line):
    """(comm, state, ppid) from a /proc/PID/stat line; comm may hold spaces."""
    body = line[len("stat "):]
    lpar, rpar = body.find("("), body.rfind(")")
    if lpar < 0 or rpar < 0:
        return None
    rest = body[rpar + 2:].split()
    return body[lpar + 1:rpar], rest[0], int(rest[1])


def field(lines, key):
    for line in lines:
        if line.startswith(key + " "):
            return line[len(key) + 1:].strip()
    return None


def json_field(lines, key):
    """The JSON object on a section's `key` line; {} where absent or not JSON."""
    try:
        value = json.loads(field(lines, key) or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def verify(label, path):
    text = open(path, encoding="utf-8", errors="replace").read()
    sec = sections(text)
    problems = []
    row = {"kernel": label, "iter": "?", "argv": "?", "rss": "?", "rss_eq": "-", "net": "?",
           "forced": "?",
           "pids": "0/0",
           "tgids": "?", "kthreads": "?", "result": "FAIL"}

    if "@@KM-DONE" not in text:
        problems.append("the workload did not finish (no @@KM-DONE): see the transcript")
    info = sec.get("info", [])
    kernel = field(info, "kernel")
    if kernel:
        row["kernel"] = f"{label} {kernel}"
    page_kb = field(info, "pagesize_kb")
    page = int(page_kb) * 1024 if page_kb and page_kb.isdigit() else 4096

    # --check: the task walk, the RSS mode and the network hooks.
    check = sec.get("check")
    if check is None:
        problems.append("no --check output")
        check = []
    else:
        print("\n".join("    " + l for l in check))
    for line in check:
        s = line.strip()
        if s.startswith("task walk "):
            desc = s[len("task walk"):].strip()
            if desc.startswith("open-coded"):
                row["iter"] = "open-coded"
            elif desc.startswith("iter/task"):
                row["iter"] = "iter/task"
            else:
                row["iter"] = "FAILS"
                problems.append(f"--check: no task walk loads: {s}")
        elif s.startswith("RSS "):
            row["rss"] = "exact" if "exact" in s else "approx"
        elif s.startswith("network "):
            desc = s[len("network"):].strip()
            row["net"] = desc.split(" ")[0] if not desc.startswith("off") else "off"
            print(f"  network hooks: {desc}")
        elif s.startswith("exits "):
            desc = s[len("exits"):].strip()
            print(f"  exit hook: {desc}")
            if desc.startswith("off"):
                problems.append(f"--check: the exit hook does not load: {s}")
            elif "final CPU at sched_process_free" not in desc:
                problems.append(f"--check: no final CPU for exited processes: {s}")
        elif s.startswith("command lines "):
            row["argv"] = "walk" if "iter.s/task" in s else "proc"
            print(f"  command lines: {s[len('command lines'):].strip()}")
    # The walk and RSS mode are pinned: a kernel with the open-coded task
    # iterator (6.7) must get it, and every kernel here exact RSS, or a walk
    # that stopped loading would pass through the fallback unseen.
    version = tuple(int(x) for x in re.findall(r"\d+", kernel or "")[:2])
    wanted_walk = "open-coded" if version >= (6, 7) else "iter/task"
    if row["iter"] != wanted_walk:
        problems.append(f"task walk is {row['iter']}, expected {wanted_walk} on {kernel}")
    if row["rss"] != "exact":
        problems.append(f"RSS is {row['rss']}, expected exact")
    # Sleepable task iterators and bpf_copy_from_user_task came in 5.18.
    if version >= (5, 18) and row["argv"] != "walk":
        problems.append(f"command lines are not walked on {kernel}: {row['argv']}")
    rc = [l for l in check if l.startswith("rc=")]
    if rc != ["rc=0"]:
        problems.append(f"bpftop --check did not exit 0: {rc}")

    # The batch: every line is JSON; the last refresh is compared with /proc.
    batch = sec.get("batch", [])
    errs = sec.get("batch-stderr", [])
    if "rc=0" not in errs:
        problems.append("bpftop --batch failed: " + " | ".join(errs))
    snaps = []
    for n, line in enumerate(l for l in batch if l.strip()):
        try:
            snaps.append(json.loads(line))
        except json.JSONDecodeError as e:
            problems.append(f"batch line {n + 1} is not JSON: {e}")
    if len(snaps) != 2:
        problems.append(f"expected 2 JSON refreshes, got {len(snaps)}")
    last = snaps[-1] if snaps else {"processes": []}
    # The exit between the two refreshes, with its argv and code.
    if snaps and not any(e.get("cmdline") == ["sh", "-c", "exit 7"] and e.get("exit_code") == 7
                         for e in last.get("exited", [])):
        problems.append("the second refresh does not list the exit of `sh -c 'exit 7'` with code 7")
    if snaps and last.get("exits", {}).get("final_cpu") is not True:
        problems.append("exits.final_cpu is not true: exited processes keep the exit hook's CPU")
    if snaps and last.get("backend") != "bpf":
        problems.append(f"backend is {last.get('backend')!r}: {last.get('fallback_reason')}")
    procs = {p["pid"]: p for p in last.get("processes", [])}

    pids = [l.split() for l in sec.get("pids", []) if l.strip()]
    checked = equal = 0
    if not snaps:
        problems.append("no JSON refresh: the per-process and network checks were skipped")
        pids_to_check = []
    else:
        pids_to_check = pids
    for role, pid_s in pids_to_check:
        pid = int(pid_s)
        lines = sec.get(f"proc {role} {pid}", [])
        st = parse_stat(next((l for l in lines if l.startswith("stat ")), "stat "))
        statm = (field(lines, "statm") or "").split()
        if st is None or len(statm) < 2:
            problems.append(f"{role} {pid}: gone from /proc before it was read")
            continue
        comm, state, ppid = st
        rss_proc = int(statm[1]) * page
        p = procs.get(pid)
        if p is None:
            problems.append(f"{role} {pid}: in /proc but missing from bpftop's JSON")
            continue
        bad = []
        if p.get("ppid") != ppid:
            bad.append(f"ppid {p.get('ppid')} != /proc {ppid}")
        if p.get("state") != state:
            bad.append(f"state {p.get('state')} != /proc {state}")
        if p.get("comm") != comm:
            bad.append(f"comm {p.get('comm')!r} != /proc {comm!r}")
        # Those alive at bpftop's start got theirs from the command-line
        # walk, the others from /proc: both as /proc shows it.
        raw = field(lines, "cmdline")
        argv = (raw or "").rstrip("\x1f").split("\x1f") if raw else []
        if p.get("cmdline") != argv:
            bad.append(f"cmdline {p.get('cmdline')!r} != /proc {argv!r}")
        # Run-queue waits (sched_info) load where the kernel keeps them.
        if p.get("run_delay_seconds") is None or p.get("run_waits") is None:
            bad.append("run_delay_seconds/run_waits null: sched_info did not load")
        rss = p.get("rss_bytes")
        # With exact RSS (--check), an idle process's RSS is statm's to the
        # byte; the tolerance is for the approximate read only.
        tol = 0 if row["rss"] == "exact" else max(RSS_REL * rss_proc, RSS_ABS)
        equal += rss == rss_proc
        if rss is None or abs(rss - rss_proc) > tol:
            bad.append(f"rss_bytes {rss} != /proc statm {rss_proc} (tolerance {int(tol)})")
        # The parts of RES and swap, against /proc/PID/status (kB).
        status = dict((k, int(v) * 1024) for k, v in
                      re.findall(r"(\w+): (\d+) kB", field(lines, "status") or ""))
        for key, name in (("rss_anon_bytes", "RssAnon"), ("rss_file_bytes", "RssFile"),
                          ("rss_shmem_bytes", "RssShmem"), ("swap_bytes", "VmSwap")):
            want = status.get(name)
            if want is None:
                bad.append(f"no {name} in /proc/{pid}/status")
            elif p.get(key) is None or abs(p[key] - want) > tol:
                bad.append(f"{key} {p.get(key)} != /proc status {name} {want}")
        print(f"  {role:<9} pid {pid:<6} ppid {ppid:<6} state {state} "
              f"rss bpftop {rss} /proc {rss_proc}, anon/file/shmem/swap bpftop "
              f"{'/'.join(str(p.get(k)) for k in ('rss_anon_bytes', 'rss_file_bytes', 'rss_shmem_bytes', 'swap_bytes'))}"
              f" /proc {'/'.join(str(status.get(k)) for k in ('RssAnon', 'RssFile', 'RssShmem', 'VmSwap'))}"
              + ("" if not bad else "  MISMATCH"))
        if bad:
            problems.append(f"{role} {pid}: " + "; ".join(bad))
        else:
            checked += 1
    if not pids:
        problems.append("no spawned pids recorded")
    row["pids"] = f"{checked}/{len(pids)}"
    # --check's RSS line is what bpftop claims; this is what it measured.
    row["rss_eq"] = f"{equal}/{len(pids)} equal" if snaps else "-"

    # The loopback transfer, counted by whichever network hooks attached.
    net = last.get("network") or {}
    transfer = sec.get("transfer", [])
    expected = int(field(transfer, "expected") or 0)
    received = int(field(transfer, "received") or 0)
    if not snaps:
        row["net"] = "-"
    elif not net.get("enabled"):
        problems.append(f"network counters off: {net.get('reason')}")
        row["net"] = "off"
    else:
        row["net"] = net.get("hooks") or row["net"]
        if received != expected:
            problems.append(f"the transfer did not complete: received {received} of {expected}")
        elif field(transfer, "before_second_refresh") != "yes":
            problems.append("the transfer ended after bpftop's second refresh: "
                            "raise KERNEL_MATRIX_DELAY_MS")
        roles = {r: int(p) for r, p in pids}
        for role, key in (("nc_rx", "net_rx_bytes"), ("nc_tx", "net_tx_bytes")):
            p = procs.get(roles.get(role, -1))
            got = p.get(key) if p else None
            ok = got is not None and abs(got - expected) <= TRANSFER_TOLERANCE * expected
            print(f"  {role}: {key} = {got} (sent {expected})" + ("" if ok else "  MISMATCH"))
            if not ok:
                problems.append(f"{role}: {key} {got}, expected {expected} ± 1 %")
        row["net"] += " (1 MB ok)" if not any("net_" in p for p in problems) else " (WRONG)"

    # The set of processes: /proc's listings just before and after one
    # refresh bracket it (bpftop itself appears in neither listing).
    def comms(lines):
        listed = {}
        for l in lines:
            pid, _, comm = l.partition(" ")
            if pid.isdigit():
                listed[int(pid)] = comm
        return listed

    before_comm = comms(sec.get("tgids-before", []))
    after_comm = comms(sec.get("tgids-after", []))
    before, after = set(before_comm), set(after_comm)
    try:
        one = json.loads("".join(sec.get("tgids-batch", [])) or "{}")
    except json.JSONDecodeError as e:
        one = {}
        problems.append(f"the tgid refresh is not JSON: {e}")
    seen = {p["pid"]: p.get("comm") for p in one.get("processes", [])}
    kthreads = [p for p in one.get("processes", []) if p.get("kernel_thread")]
    missing = sorted((before & after) - seen.keys())
    # A process in neither listing lived only between them (a host starts
    # and ends processes of its own); it is reported, not failed. PID 0 is
    # never a process.
    passing = sorted(p for p in seen.keys() - (before | after) if seen[p] != "bpftop")
    row["tgids"] = f"{len(seen)} = /proc" if not missing and 0 not in seen and seen else "WRONG"
    print(f"  processes: {len(seen)} listed, /proc {len(before & after)} stable"
          f"; missing {missing}, short-lived (in neither listing) {passing}")
    if not seen:
        problems.append("the tgid refresh listed no process")
    if 0 in seen:
        problems.append("PID 0 listed")
    if missing:
        problems.append(f"process set differs from /proc: missing {missing}")
    # Kernel threads by the name /proc shows, where it held still.
    # A worker's "+desc"/"-desc" changes as it runs other work: one that ran
    # something else and back between the listings may differ there alone.
    def worker_parts(name):
        if not name.startswith("kworker/") or name.startswith("kworker/R-"):
            return name, ""
        cut = [i for i in (name.find("+"), name.find("-")) if i >= 0]
        at = min(cut) if cut else len(name)
        return name[:at], name[at:]

    stable = [p for p in kthreads if before_comm.get(p["pid"]) == after_comm.get(p["pid"]) is not None]
    wrong, moved, described = [], 0, 0
    for p in stable:
        shown = before_comm[p["pid"]]
        base, desc = worker_parts(shown)
        described += bool(desc)
        if p["comm"] == shown:
            continue
        if desc and worker_parts(p["comm"])[0] == base:
            moved += 1
            continue
        wrong.append(f'{p["pid"]}: {p["comm"]!r} != /proc {shown!r}')
    long = sum(len(before_comm[p["pid"]]) > 15 for p in stable)
    row["kthreads"] = f"{len(stable) - len(wrong)}/{len(stable)} ({long} long)"
    print(f"  kernel thread names: {len(stable)} compared, {long} longer than comm, "
          f"{described} workers described ({moved} changed meanwhile), {len(wrong)} wrong")
    if not stable:
        problems.append("no kernel thread name compared")
    if moved > max(described // 2, 1):
        problems.append(f"{moved} of {described} worker descriptions differ from /proc")
    for w in wrong:
        problems.append(f"kernel thread name: {w}")

    # Each kind of network hook forced in turn must count the payload where
    # the kernel has it: the socket tracepoints from 6.3; fexit and kprobes
    # in the guests (Debian's kernels have both); kprobes wherever the
    # kprobe PMU exists. Elsewhere a kind may be unavailable, with a reason.
    # fexit attaches through a BPF trampoline called from the function's
    # ftrace site: arm64 has those direct calls from 6.4 only
    # (DYNAMIC_FTRACE_WITH_DIRECT_CALLS); before, attaching fails with
    # ENOTSUPP, and bpftop must fall back to kprobes and say why.
    machine = field(info, "machine") or "x86_64"
    fexit_possible = machine != "aarch64" or version >= (6, 4)
    forced = []
    for kind in ("tracepoints", "fexit", "kprobes"):
        hook = sec.get(f"hook {kind}")
        if hook is None:
            problems.append(f"--net-hooks {kind}: no transcript section")
            continue
        required = ((kind == "tracepoints" and version >= (6, 3))
                    or (kind == "fexit" and label == "guest" and fexit_possible)
                    or (kind == "kprobes" and label == "guest")
                    or (kind == "kprobes" and field(hook, "kprobe_pmu") == "yes"))
        try:
            hook_last = json.loads(field(hook, "last") or "{}")
        except json.JSONDecodeError as e:
            hook_last = {}
            problems.append(f"--net-hooks {kind}: the batch is not JSON: {e}")
        status = hook_last.get("network") or {}
        if field(hook, "rc") != "0":
            problems.append(f"--net-hooks {kind}: bpftop exited {field(hook, 'rc')}: "
                            + " | ".join(l for l in hook if l.startswith("stderr ")))
            continue
        if not status.get("enabled"):
            why = status.get("reason")
            print(f"  --net-hooks {kind}: unavailable: {why}")
            if required:
                problems.append(f"--net-hooks {kind} does not attach on {kernel}: {why}")
            continue
        if status.get("hooks") != kind:
            problems.append(f"--net-hooks {kind}: counting with {status.get('hooks')}")
            continue
        if int(field(hook, "received") or 0) != expected:
            problems.append(f"--net-hooks {kind}: the transfer did not complete")
            continue
        if field(hook, "before_second_refresh") != "yes":
            problems.append(f"--net-hooks {kind}: the transfer ended after bpftop's second "
                            "refresh: raise KERNEL_MATRIX_DELAY_MS")
            continue
        hook_pids = {l.split()[1]: int(l.split()[2]) for l in hook if l.startswith("pid ")}
        hook_procs = {p["pid"]: p for p in hook_last.get("processes", [])}
        counted = True
        for role, key in (("rx", "net_rx_bytes"), ("tx", "net_tx_bytes")):
            p = hook_procs.get(hook_pids.get(role, -1))
            got = p.get(key) if p else None
            ok = got is not None and abs(got - expected) <= TRANSFER_TOLERANCE * expected
            print(f"  --net-hooks {kind}: {role} {key} = {got} (sent {expected})"
                  + ("" if ok else "  MISMATCH"))
            if not ok:
                counted = False
                problems.append(f"--net-hooks {kind}: {role} {key} {got}, expected {expected} ± 1 %")
        if counted:
            forced.append(kind)
    row["forced"] = " ".join(forced) or "none"

    # Guests: a busy loop under cpu.max 20000/100000 shows its unit
    # throttled about 80 % of the time and itself at about 20 % CPU.
    throttle = sec.get("throttle")
    if label != "host":
        if throttle is None:
            problems.append("no throttle section (the guest's cpu.max check did not run)")
        else:
            busy = field(throttle, "pid")
            last = json_field(throttle, "last")
            unit = next((u for u in last.get("units", [])
                         if u.get("cgroup") == "/km.slice/km-busy.service"), {})
            proc = next((p for p in last.get("processes", []) if str(p.get("pid")) == busy), {})
            throttled, cpu = unit.get("throttled_percent"), proc.get("cpu_percent")
            quota = (unit.get("cpu_quota_usec"), unit.get("cpu_period_usec"))
            print(f"  cpu.max {quota}: unit throttled {throttled} % of the time, loop CPU {cpu} %")
            if field(throttle, "setup_rc") != "0":
                problems.append(f"throttle: the cgroup could not be set up: {throttle}")
            elif quota != (20000, 100000):
                problems.append(f"throttle: cpu.max shows {quota}, set 20000 100000")
            elif throttled is None or not 65 <= throttled <= 95:
                problems.append(f"throttle: throttled {throttled} % of the time, expected about 80")
            elif cpu is None or not 12 <= cpu <= 28:
                problems.append(f"throttle: the loop shows {cpu} % CPU, expected about 20")

    # Guests: an allocator under memory.high shows the limit and its
    # high events rising (the kernel's memory.events is the truth).
    memhigh = sec.get("memhigh")
    if label != "host":
        if memhigh is None:
            problems.append("no memhigh section (the guest's memory.high check did not run)")
        else:
            def unit_of(key):
                line = json_field(memhigh, key)
                return next((u for u in line.get("units", [])
                             if u.get("cgroup") == "/km.slice/km-alloc.service"), {})
            first, last = unit_of("first"), unit_of("last")
            events = (field(memhigh, "events") or "").split()
            kernel_high = next((int(v) for k, v in zip(events, events[1:]) if k == "high"), None)
            seen = (last.get("memory_high_bytes"), first.get("memory_high_events"),
                    last.get("memory_high_events"), (last.get("pressure_some_avg10") or {}).get("memory"))
            print(f"  memory.high: limit {seen[0]}, high events {seen[1]} -> {seen[2]} "
                  f"(kernel after: {kernel_high}), memory pressure {seen[3]}")
            if field(memhigh, "setup_rc") != "0":
                problems.append(f"memhigh: the cgroup could not be set up: {memhigh}")
            elif seen[0] != 16 << 20:
                problems.append(f"memhigh: memory.high shows {seen[0]}, set 16 MiB")
            elif seen[2] is None or seen[1] is None or not seen[2] > seen[1]:
                problems.append(f"memhigh: high events {seen[1]} -> {seen[2]}, expected rising")
            elif kernel_high is None or seen[2] > kernel_high:
                problems.append(f"memhigh: {seen[2]} high events shown, the kernel counted {kernel_high}")
            elif field(memhigh, "pressure") and not (seen[3] or 0) > 0:
                problems.append(f"memhigh: memory pressure {seen[3]} under a throttled allocator")

    # Guests: two loops sharing CPU 0 wait about half the time, one alone
    # on CPU 1 next to nothing.
    waits = sec.get("waits")
    if label != "host":
        if waits is None:
            problems.append("no waits section (the guest's run-queue check did not run)")
        else:
            pids = (field(waits, "pids") or "").split()
            last = json_field(waits, "last")
            by_pid = {str(p.get("pid")): p.get("wait_percent") for p in last.get("processes", [])}
            got = [by_pid.get(p) for p in pids]
            print(f"  WAIT% of two loops on CPU 0 and one on CPU 1: {got}")
            if len(got) != 3 or None in got:
                problems.append(f"waits: WAIT% missing: {got}")
            elif not (38 <= got[0] <= 62 and 38 <= got[1] <= 62 and got[2] <= 10):
                problems.append(f"waits: WAIT% {got}, expected about 50, 50 and 0")

    # Guests: with only systemd's v1 hierarchy mounted, both backends name
    # the sleeper's service from there, and --check says where cgroups
    # come from.
    v1 = sec.get("v1-only")
    if label != "host":
        if v1 is None:
            problems.append("no v1-only section (the guest's cgroup v1 check did not run)")
        else:
            v1_pid = field(v1, "pid")
            if field(v1, "setup_rc") != "0":
                problems.append(f"v1-only: mounting systemd's v1 hierarchy failed: {v1}")
            if "systemd's v1 hierarchy" not in (field(v1, "check") or ""):
                problems.append(f"v1-only: --check does not name the v1 hierarchy: {field(v1, 'check')}")
            for backend in ("bpf", "procfs"):
                line = next((l for l in v1 if l.startswith(backend + " ")), "")
                try:
                    procs = json.loads(line[len(backend) + 1:]).get("processes", [])
                except ValueError:
                    procs = []
                p = next((p for p in procs if str(p.get("pid")) == v1_pid), None)
                got = (p or {}).get("cgroup"), (p or {}).get("unit")
                print(f"  v1 only, {backend}: cgroup {got[0]}, unit {got[1]}")
                if got != ("/system.slice/km-v1.service", "km-v1.service"):
                    problems.append(f"v1-only {backend}: pid {v1_pid} shows {got}, expected "
                                    "/system.slice/km-v1.service and km-v1.service")

    for p in problems:
        print(f"  FAIL [{label}]: {p}")
    row["result"] = "PASS" if not problems else "FAIL"
    return row, not problems


def table(rows_path):
    rows = [json.loads(l) for l in open(rows_path, encoding="utf-8") if l.strip()]
    cols = [("kernel", "kernel"), ("iter", "task walk"), ("argv", "first command lines"),
            ("rss", "RSS (--check)"),
            ("rss_eq", "RSS vs statm"),
            ("net", "network hooks"), ("forced", "each hook forced"), ("pids", "pids checked"),
            ("tgids", "processes"),
            ("kthreads", "kthread names"),
            ("result", "result")]
    widths = [max(len(h), *(len(str(r.get(k, ""))) for r in rows)) for k, h in cols]
    line = lambda vals: "| " + " | ".join(str(v).ljust(w) for v, w in zip(vals, widths)) + " |"
    print(line([h for _, h in cols]))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line([r.get(k, "") for k, _ in cols]))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--table":
        table(sys.argv[2])
        return 0
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    label, path, rows = sys.argv[1:]
    row, ok = verify(label, path)
    with open(rows, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
