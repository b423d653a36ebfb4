# Part of scripts/kernel-matrix: the same workload runs as the guest's /init
# (under busybox sh, as PID 1's child script) and on the host (under the
# same busybox, so both kernels see the same programs). POSIX sh only.
#
#   sh workload.sh BPFTOP WORKDIR PORT DELAY_MS
#
# Spawns known processes, runs bpftop --check and a two-refresh JSON batch
# around a loopback TCP transfer, then prints what /proc says about each
# spawned process, then repeats the transfer (on PORT+1..PORT+3) under each
# kind of network hook forced in turn. Everything goes to stdout between "@@KM" marker lines,
# which the host's verify.py parses. It judges nothing itself: the checks
# are all on the host, where they can say clearly what differs.

BPFTOP=$1
W=$2
PORT=$3
DELAY_MS=$4
TRANSFER=1000000

begin() { echo "@@KM-BEGIN $1"; }
end() { echo "@@KM-END $1"; }

# Waits until TCP port $1 listens (state 0A in /proc/net/tcp*), up to 20 s.
wait_listening() {
    port_hex=$(printf '%04X' "$1")
    i=0
    while ! grep -q ":$port_hex 00000000:0000 0A\|:$port_hex 00000000000000000000000000000000:0000 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 200 ] && break
        sleep 0.1
    done
}

# Waits until file $1 has a line or process $2 ended, up to 120 s.
# (The file exists before the poll starts: the background shell may not
# have opened it yet, and a failing wc would end the wait at once.)
wait_first_line() {
    i=0
    while [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -lt 1 ] && kill -0 "$2" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 1200 ] && break
        sleep 0.1
    done
}

# Waits until file $1 holds $2 bytes, up to 30 s.
wait_size() {
    i=0
    while [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -lt "$2" ]; do
        i=$((i + 1))
        [ $i -gt 300 ] && break
        sleep 0.1
    done
}

cd "$W" || exit 1
# A FIFO nobody ever writes. Opened read-write (0<>) it never blocks the
# open and never reaches EOF, so a process reading it waits forever without
# spawning anything: that is how the processes below stay alive and idle.
mkfifo hold tx.fifo

begin info
echo "kernel $(uname -r)"
echo "machine $(uname -m)"
# The guest's page size, from the kernel itself rather than assumed.
echo "pagesize_kb $(grep -m1 KernelPageSize /proc/self/smaps | tr -s ' ' | cut -d' ' -f2)"
echo "workload_pid $$"
end info

# Two plain sleepers (state S, tiny RSS).
sleep 600 &
echo "sleep $!" >>pids
sleep 600 &
echo "sleep $!" >>pids
# A shell holding ~20 MB of heap, so RSS is compared on something that is
# not just the binary's pages. It has no child: `read` on the hold FIFO
# blocks in the shell itself.
sh -c 'x=$(yes aaaaaaaaaaaaaaa | head -c 20000000); echo "memhog $$" >>pids; read _ 0<>hold' &
# Loopback TCP: the receiver's stdin is the hold FIFO (busybox nc shuts its
# sending half when stdin ends, and the peer would then exit); the sender's
# stdin is a FIFO fed with 1 MB by a writer that then blocks, so neither nc
# sees EOF and both are still alive, with their counters, at the second
# refresh (bpftop drops a process's counters when it exits).
sh -c 'echo "nc_rx $$" >>pids; exec nc -l -p '"$PORT"' 0<>hold >rx' &
wait_listening "$PORT"

# Wait until the memory holder has filled its 20 MB (it writes its pid then).
i=0
while ! grep -q memhog pids; do
    i=$((i + 1))
    [ $i -gt 300 ] && break
    sleep 0.1
done

begin check
"$BPFTOP" --check 2>&1
echo "rc=$?"
end check

# The batch: network totals count from bpftop's start, so bpftop starts
# first; the transfer happens after its first refresh and before its second.
: >batch.json
"$BPFTOP" --batch -n 2 -d "$DELAY_MS" --format json --backend bpf >batch.json 2>batch.err &
bpftop_pid=$!
wait_first_line batch.json "$bpftop_pid"
# A known exit between the two refreshes: the second lists it.
sh -c 'exit 7'
sh -c 'echo "nc_tx $$" >>pids; exec nc 127.0.0.1 '"$PORT"' <tx.fifo' &
sh -c 'echo "nc_writer $$" >>pids; head -c '"$TRANSFER"' /dev/zero; exec cat 0<>hold' >tx.fifo &
wait_size rx "$TRANSFER"
received=$(stat -c %s rx 2>/dev/null || echo 0)
# Whether the transfer finished before bpftop's second refresh.
if kill -0 "$bpftop_pid" 2>/dev/null; then before_second=yes; else before_second=no; fi
wait "$bpftop_pid"
batch_rc=$?

begin batch
cat batch.json
end batch
begin batch-stderr
cat batch.err
echo "rc=$batch_rc"
end batch-stderr

begin transfer
echo "received $received"
echo "expected $TRANSFER"
echo "before_second_refresh $before_second"
end transfer

# /proc's view, read right after the last refresh (the processes are idle,
# so nothing moves in between).
begin pids
cat pids
end pids
while read -r role pid; do
    begin "proc $role $pid"
    echo "stat $(cat /proc/"$pid"/stat 2>/dev/null)"
    echo "statm $(cat /proc/"$pid"/statm 2>/dev/null)"
    # Arguments separated by 0x1f (a shell variable cannot hold a NUL).
    echo "cmdline $(tr '\0' '\037' <"/proc/$pid/cmdline" 2>/dev/null)"
    # RssAnon, RssFile, RssShmem and VmSwap, on one line.
    echo "status $(grep -E '^(RssAnon|RssFile|RssShmem|VmSwap):' /proc/"$pid"/status 2>/dev/null | tr -s ' \t\n' ' ')"
    end "proc $role $pid"
done <pids

# Every process /proc lists and no more (no PID 0), with the names /proc
# shows (kernel threads' full names): one refresh between two listings of
# /proc, "PID COMM" per line (the idle workload changes nothing in between
# but the listing itself and bpftop).
list_comms() {
    for d in /proc/[0-9]*; do
        c=$(cat "$d/comm" 2>/dev/null) && echo "${d#/proc/} $c"
    done
}
begin tgids-before
list_comms
end tgids-before
"$BPFTOP" --batch -n 1 --format json --backend bpf >tgids.json 2>/dev/null
begin tgids-after
list_comms
end tgids-after
begin tgids-batch
cat tgids.json
end tgids-batch
# Each kind of network hook forced in turn (--net-hooks), with a fresh
# pair moving the same payload between the batch's two refreshes as above;
# the host's verify.py decides which kinds this kernel must have.
hook_transfer() {
    kind=$1
    port=$2
    mkfifo "tx-$kind.fifo"
    sh -c 'echo "rx $$" >'"hook-$kind.pids"'; exec nc -l -p '"$port"' 0<>hold >'"rx-$kind" &
    wait_listening "$port"
    : >"hook-$kind.json"
    "$BPFTOP" --batch -n 2 -d "$DELAY_MS" --format json --backend bpf --net-hooks "$kind" \
        >"hook-$kind.json" 2>"hook-$kind.err" &
    hook_bpftop=$!
    wait_first_line "hook-$kind.json" "$hook_bpftop"
    sh -c 'echo "tx $$" >>'"hook-$kind.pids"'; exec nc 127.0.0.1 '"$port"' <'"tx-$kind.fifo" &
    sh -c 'echo "writer $$" >>'"hook-$kind.pids"'; head -c '"$TRANSFER"' /dev/zero; exec cat 0<>hold' >"tx-$kind.fifo" &
    wait_size "rx-$kind" "$TRANSFER"
    if kill -0 "$hook_bpftop" 2>/dev/null; then in_time=yes; else in_time=no; fi
    wait "$hook_bpftop"
    hook_rc=$?
    begin "hook $kind"
    echo "rc $hook_rc"
    echo "received $(stat -c %s "rx-$kind" 2>/dev/null || echo 0)"
    echo "before_second_refresh $in_time"
    echo "kprobe_pmu $([ -e /sys/bus/event_source/devices/kprobe ] && echo yes || echo no)"
    sed 's/^/pid /' "hook-$kind.pids"
    sed 's/^/stderr /' "hook-$kind.err"
    # sed, not tail: busybox's tail -n 1 keeps only the last ~1 MB of a
    # longer line (a host with 10 000 processes makes one).
    echo "last $(sed -n '$p' "hook-$kind.json")"
    end "hook $kind"
}
hook_transfer tracepoints $((PORT + 1))
hook_transfer fexit $((PORT + 2))
hook_transfer kprobes $((PORT + 3))

# Guests only: their cgroup2 holds the cpu controller (a hybrid host's is
# in v1). A busy loop in a service under cpu.max 20000/100000 (a fifth of
# a CPU): its unit must show about 80 % of the time throttled, and the
# loop about 20 % CPU.
if [ "${KM_GUEST:-}" = yes ]; then
    begin throttle
    cg=/sys/fs/cgroup/km.slice/km-busy.service
    echo +cpu >/sys/fs/cgroup/cgroup.subtree_control &&
        mkdir -p "$cg" &&
        echo +cpu >/sys/fs/cgroup/km.slice/cgroup.subtree_control &&
        echo "20000 100000" >"$cg/cpu.max"
    echo "setup_rc $?"
    sh -c 'echo $$ >'"$cg"'/cgroup.procs; while :; do :; done' &
    busy=$!
    echo "pid $busy"
    "$BPFTOP" --batch -n 3 -d 2000 --format json --backend bpf -p "$busy" >throttle.json 2>throttle.err
    echo "rc $?"
    kill "$busy"
    echo "last $(sed -n '$p' throttle.json)"
    sed 's/^/stderr /' throttle.err
    end throttle

    # An allocator under memory.high 16 MiB (no swap in the guest: the
    # kernel throttles it): its unit must show memory.high and its high
    # events rising.
    begin memhigh
    mg=/sys/fs/cgroup/km.slice/km-alloc.service
    echo +memory >/sys/fs/cgroup/cgroup.subtree_control &&
        echo +memory >/sys/fs/cgroup/km.slice/cgroup.subtree_control &&
        mkdir -p "$mg" &&
        echo 16M >"$mg/memory.high"
    echo "setup_rc $?"
    sh -c 'echo $$ >'"$mg"'/cgroup.procs; x=$(yes aaaaaaaaaaaaaaa | head -c 64000000); read _ 0<>hold' &
    alloc=$!
    echo "pid $alloc"
    "$BPFTOP" --batch -n 3 -d 2000 --format json --backend bpf -p "$alloc" >memhigh.json 2>memhigh.err
    echo "rc $?"
    echo "events $(tr '\n' ' ' <"$mg/memory.events")"
    echo "pressure $(tr '\n' ' ' <"$mg/memory.pressure" 2>/dev/null)"
    kill "$alloc"
    echo "first $(sed -n '1p' memhigh.json)"
    echo "last $(sed -n '$p' memhigh.json)"
    sed 's/^/stderr /' memhigh.err
    end memhigh

    # Run-queue waits on a machine with nothing else to run: two busy loops
    # pinned to CPU 0 each wait half the time; one alone on CPU 1, never.
    begin waits
    taskset -c 0 sh -c 'while :; do :; done' &
    w1=$!
    taskset -c 0 sh -c 'while :; do :; done' &
    w2=$!
    taskset -c 1 sh -c 'while :; do :; done' &
    w3=$!
    echo "pids $w1 $w2 $w3"
    "$BPFTOP" --batch -n 3 -d 2000 --format json --backend bpf -p "$w1,$w2,$w3" >waits.json 2>waits.err
    echo "rc $?"
    kill "$w1" "$w2" "$w3"
    echo "last $(sed -n '$p' waits.json)"
    sed 's/^/stderr /' waits.err
    end waits
fi

# Guests only (PID 1 can unmount cgroup2; a host cannot): a host with no
# cgroup v2 mount, only systemd's v1 named hierarchy. A sleeper moved into
# a service there must show that service in both backends.
if [ "${KM_GUEST:-}" = yes ]; then
    begin v1-only
    umount /sys/fs/cgroup &&
        mount -t tmpfs tmpfs /sys/fs/cgroup &&
        mkdir /sys/fs/cgroup/systemd &&
        mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd &&
        mkdir -p /sys/fs/cgroup/systemd/system.slice/km-v1.service
    echo "setup_rc $?"
    sleep 600 &
    v1_pid=$!
    echo "$v1_pid" >/sys/fs/cgroup/systemd/system.slice/km-v1.service/cgroup.procs
    echo "pid $v1_pid"
    echo "proc_cgroup $(tr '\n' ' ' <"/proc/$v1_pid/cgroup")"
    echo "check $("$BPFTOP" --check 2>&1 | grep '^cgroups:')"
    for backend in bpf procfs; do
        "$BPFTOP" --batch -n 1 --format json --backend "$backend" -p "$v1_pid" >"v1-$backend.json" 2>&1
        echo "$backend $(sed -n '$p' "v1-$backend.json")"
    done
    end v1-only
fi
echo "@@KM-DONE"
