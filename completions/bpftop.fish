complete -c bpftop -s n -l count -d 'Number of refreshes to print in batch mode (default: until killed)' -r
complete -c bpftop -s d -l delay -d 'Delay between refreshes, in milliseconds (default: 1000 in batch mode, 5000 with --serve, the configured delay — 1500 — interactively)' -r
complete -c bpftop -s u -l user -d 'Show only the processes of USER (name or uid)' -r
complete -c bpftop -s p -l pid -d 'Show only these processes' -r
complete -c bpftop -s s -l sort-key -d 'Sort by this column (e.g. PID, CPU%, MEM%, TIME+, RES; the ids of the setup screen, in any case)' -r -f -a "PID\t''
PPID\t''
USER\t''
PRI\t''
NI\t''
VIRT\t''
RES\t''
SHR\t''
SWAP\t''
RSS_ANON\t''
RSS_FILE\t''
RSS_SHMEM\t''
PSS\t''
USS\t''
S\t''
CPU%\t''
MEM%\t''
TIME+\t''
Command\t''
START\t''
NLWP\t''
PROCESSOR\t''
TTY\t''
IO_READ_RATE\t''
IO_WRITE_RATE\t''
MINFLT\t''
MAJFLT\t''
CTXT\t''
CGROUP\t''
UNIT\t''
SLICE\t''
CONTAINER\t''
FROZEN\t''
NET_RX_RATE\t''
NET_TX_RATE\t''
NET_RATE\t''
NET_TOTAL\t''
IFACE\t''
GPU_PERCENT\t''
GPU_MEM\t''
GPU_INDEX\t''"
complete -c bpftop -l theme -d 'Colour theme: default or mono (the interface only)' -r -f -a "default\t''
mono\t''"
complete -c bpftop -l format -d 'Batch output format' -r -f -a "json\t'One JSON object per line per refresh (schema in docs/batch-schema.md)'
text\t'A `top -b`-like table per refresh'"
complete -c bpftop -l backend -d 'Where per-process data comes from' -r -f -a "auto\t'bpf when it loads, else procfs (the reason is recorded)'
bpf\t''
procfs\t''"
complete -c bpftop -l bpf-walk -d 'How the bpf backend walks the tasks: `open-coded` (one program run per walk, kernel >= 6.7) or `iter` (iter/task, kernel >= 5.8); `auto` takes the first that loads, in that order' -r -f -a "auto\t'The open-coded task iterator where the kernel has it (6.7), else iter/task'
open-coded\t'The open-coded task iterator only'
iter\t'iter/task only (kernel >= 5.8)'"
complete -c bpftop -l net-hooks -d 'Which kernel hooks count network bytes: `tracepoints` (kernel >= 6.3), `fexit` or `kprobes` (on inet_sendmsg/inet_recvmsg); `auto` takes the first that attaches, in that order. A named kind that cannot attach leaves the counters off, saying why (--check)' -r -f -a "auto\t'The socket tracepoints (6.3), else fexit, else kprobes: the first that attaches'
tracepoints\t'tp_btf/sock_send_length and sock_recv_length only'
fexit\t'fexit on inet_sendmsg/inet_recvmsg (and IPv6) only'
kprobes\t'kprobes on the same functions only'"
complete -c bpftop -l serve -d 'Serve metrics for Prometheus over HTTP at ADDR:PORT (/metrics and /healthz) instead of running interactively. A bare PORT binds 127.0.0.1: any other address must be written out' -r
complete -c bpftop -l serve-top -d 'With --serve: per-process series only for the top K processes by CPU and the top K by resident memory (0: none). Units and containers are always all exported' -r
complete -c bpftop -l proc-root -d 'Root of the proc filesystem (for tests on fixture trees; refused under file capabilities)' -r -F
complete -c bpftop -l sys-root -d 'Root of the sys filesystem (for tests on fixture trees)' -r -F
complete -c bpftop -l passwd -d 'passwd file that user names come from' -r -F
complete -c bpftop -l batch -d 'Print snapshots to stdout instead of running interactively'
complete -c bpftop -s t -l tree -d 'Start in tree view (the interface only)'
complete -c bpftop -l no-mouse -d 'Do not capture the mouse (the interface only)'
complete -c bpftop -l no-color -d 'No colours (also when the NO_COLOR environment variable is set)'
complete -c bpftop -l threads -d 'Include each process\'s threads (JSON: "thread_list")'
complete -c bpftop -l pss -d 'With --batch --format json: read each printed process\'s PSS and USS from /proc/PID/smaps_rollup (JSON "pss_bytes", "uss_bytes"). Costs a page-table walk per process, so combine it with -p or -u'
complete -c bpftop -l no-net -d 'Do not count per-process network bytes (no socket hooks attached)'
complete -c bpftop -l net-all-families -d 'Count network bytes of every socket family (AF_UNIX, netlink, ...), not only IPv4 and IPv6. Needs the socket tracepoints (kernel >= 6.3)'
complete -c bpftop -l no-gpu -d 'Do not look for GPUs (NVML, DRM fdinfo)'
complete -c bpftop -l check -d 'Report what works on this kernel and why, then exit'
complete -c bpftop -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bpftop -s V -l version -d 'Print version'
