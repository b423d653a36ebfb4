# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_bpftop_global_optspecs
    string join \n batch n/count= d/delay= t/tree u/user= p/pid= s/sort-key= no-mouse theme= no-color format= backend= bpf-walk= threads pss no-net net-all-families net-hooks= no-gpu check serve= serve-top= proc-root= sys-root= passwd= h/help V/version
end

function __fish_bpftop_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_bpftop_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_bpftop_using_subcommand
    set -l cmd (__fish_bpftop_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c bpftop -n "__fish_bpftop_needs_command" -s n -l count -d 'Number of refreshes to print in batch mode (default: until killed)' -r
complete -c bpftop -n "__fish_bpftop_needs_command" -s d -l delay -d 'Delay between refreshes, in milliseconds (default: 1000 in batch mode, 5000 with --serve, the configured delay — 1500 — interactively)' -r
complete -c bpftop -n "__fish_bpftop_needs_command" -s u -l user -d 'Show only the processes of USER (name or uid)' -r
complete -c bpftop -n "__fish_bpftop_needs_command" -s p -l pid -d 'Show only these processes' -r
complete -c bpftop -n "__fish_bpftop_needs_command" -s s -l sort-key -d 'Sort by this column (e.g. PID, CPU%, MEM%, TIME+, RES; the ids of the setup screen, in any case)' -r -f -a "PID\t''
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
IO_RATE\t''
IO_PRIORITY\t''
IO_READ\t''
IO_WRITE\t''
RCHAR\t''
WCHAR\t''
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
GPU_INDEX\t''
CHILD_EXITS\t''
CHILD_FORKS\t''
CHILD_EXECS\t''
CHILD_EXITED_CPU\t''
WAIT_PERCENT\t''
RUN_WAITS\t''
IOWAIT_PERCENT\t''
SWAPWAIT_PERCENT\t''
RECLAIM_PERCENT\t''
THRASH_PERCENT\t''
COMPACT_PERCENT\t''"
complete -c bpftop -n "__fish_bpftop_needs_command" -l theme -d 'Colour theme: default or mono (the interface only)' -r -f -a "default\t''
mono\t''"
complete -c bpftop -n "__fish_bpftop_needs_command" -l format -d 'Batch output format' -r -f -a "json\t'One JSON object per line per refresh (schema in docs/batch-schema.md)'
text\t'A `top -b`-like table per refresh'"
complete -c bpftop -n "__fish_bpftop_needs_command" -l backend -d 'Where per-process data comes from' -r -f -a "auto\t'bpf when it loads, else procfs (the reason is recorded)'
bpf\t''
procfs\t''"
complete -c bpftop -n "__fish_bpftop_needs_command" -l bpf-walk -d 'How the bpf backend walks the tasks: `open-coded` (one program run per walk, kernel >= 6.7) or `iter` (iter/task, kernel >= 5.8); `auto` takes the first that loads, in that order' -r -f -a "auto\t'The open-coded task iterator where the kernel has it (6.7), else iter/task'
open-coded\t'The open-coded task iterator only'
iter\t'iter/task only (kernel >= 5.8)'"
complete -c bpftop -n "__fish_bpftop_needs_command" -l net-hooks -d 'Which kernel hooks count network bytes: `tracepoints` (kernel >= 6.3), `fexit` or `kprobes` (on inet_sendmsg/inet_recvmsg); `auto` takes the first that attaches, in that order. A named kind that cannot attach leaves the counters off, saying why (--check)' -r -f -a "auto\t'The socket tracepoints (6.3), else fexit, else kprobes: the first that attaches'
tracepoints\t'tp_btf/sock_send_length and sock_recv_length only'
fexit\t'fexit on inet_sendmsg/inet_recvmsg (and IPv6) only'
kprobes\t'kprobes on the same functions only'"
complete -c bpftop -n "__fish_bpftop_needs_command" -l serve -d 'Serve metrics for Prometheus over HTTP at ADDR:PORT (/metrics and /healthz) instead of running interactively. A bare PORT binds 127.0.0.1: any other address must be written out' -r
complete -c bpftop -n "__fish_bpftop_needs_command" -l serve-top -d 'With --serve: per-process series only for the top K processes by CPU and the top K by resident memory (0: none). Units and containers are always all exported' -r
complete -c bpftop -n "__fish_bpftop_needs_command" -l proc-root -d 'Root of the proc filesystem (for tests on fixture trees; refused under file capabilities)' -r -F
complete -c bpftop -n "__fish_bpftop_needs_command" -l sys-root -d 'Root of the sys filesystem (for tests on fixture trees)' -r -F
complete -c bpftop -n "__fish_bpftop_needs_command" -l passwd -d 'passwd file that user names come from' -r -F
complete -c bpftop -n "__fish_bpftop_needs_command" -l batch -d 'Print snapshots to stdout instead of running interactively'
complete -c bpftop -n "__fish_bpftop_needs_command" -s t -l tree -d 'Start in tree view (the interface only)'
complete -c bpftop -n "__fish_bpftop_needs_command" -l no-mouse -d 'Do not capture the mouse (the interface only)'
complete -c bpftop -n "__fish_bpftop_needs_command" -l no-color -d 'No colours (also when the NO_COLOR environment variable is set)'
complete -c bpftop -n "__fish_bpftop_needs_command" -l threads -d 'Include each process\'s threads (JSON: "thread_list")'
complete -c bpftop -n "__fish_bpftop_needs_command" -l pss -d 'With --batch --format json: read each printed process\'s PSS and USS from /proc/PID/smaps_rollup (JSON "pss_bytes", "uss_bytes"). Costs a page-table walk per process, so combine it with -p or -u'
complete -c bpftop -n "__fish_bpftop_needs_command" -l no-net -d 'Do not count per-process network bytes (no socket hooks attached)'
complete -c bpftop -n "__fish_bpftop_needs_command" -l net-all-families -d 'Count network bytes of every socket family (AF_UNIX, netlink, ...), not only IPv4 and IPv6. Needs the socket tracepoints (kernel >= 6.3)'
complete -c bpftop -n "__fish_bpftop_needs_command" -l no-gpu -d 'Do not look for GPUs (NVML, DRM fdinfo)'
complete -c bpftop -n "__fish_bpftop_needs_command" -l check -d 'Report what works on this kernel and why, then exit'
complete -c bpftop -n "__fish_bpftop_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bpftop -n "__fish_bpftop_needs_command" -s V -l version -d 'Print version'
complete -c bpftop -n "__fish_bpftop_needs_command" -f -a "record" -d 'Record every refresh to disk, to be replayed later (runs until killed, or for -n refreshes). The options before `record` choose what is collected (--backend, --threads, --no-net, --no-gpu)'
complete -c bpftop -n "__fish_bpftop_needs_command" -f -a "replay" -d 'Open the interface on a recording (keys , . { } move through it), or with --batch print its refreshes as `--batch` printed them then. The interface\'s options go before `replay` (-t, -u, -p, -s, --theme), and so do batch mode\'s selection (-p, -u, -s, -n) with --batch; -u names users as the recording named them'
complete -c bpftop -n "__fish_bpftop_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bpftop -n "__fish_bpftop_using_subcommand record" -l dir -d 'Directory of the recording (default: /var/lib/bpftop as root, $XDG_STATE_HOME/bpftop or ~/.local/state/bpftop otherwise)' -r -F
complete -c bpftop -n "__fish_bpftop_using_subcommand record" -l retain -d 'Keep frames younger than an age (7d, 12h, 30m) and within a size (2GiB, 500MiB); give it twice for both. Older or excess frames are deleted while recording. Default: 7d and 2GiB' -r
complete -c bpftop -n "__fish_bpftop_using_subcommand record" -s d -l delay -d 'Delay between refreshes, in milliseconds (default: 1000)' -r
complete -c bpftop -n "__fish_bpftop_using_subcommand record" -s n -l count -d 'Stop after this many refreshes (default: until killed)' -r
complete -c bpftop -n "__fish_bpftop_using_subcommand record" -l tee-json -d 'Also write each recorded refresh (but the first) to FILE as `--batch --format json` prints it (for tests of the round trip)' -r -F
complete -c bpftop -n "__fish_bpftop_using_subcommand record" -l key-every -d 'A key frame every N frames (for tests and measurements)' -r
complete -c bpftop -n "__fish_bpftop_using_subcommand record" -s h -l help -d 'Print help'
complete -c bpftop -n "__fish_bpftop_using_subcommand replay" -l dir -d 'Directory of the recording (the default of `record`)' -r -F
complete -c bpftop -n "__fish_bpftop_using_subcommand replay" -l at -d 'In the interface: start at the refresh taken at TIME or last before it (the forms of --from). Default: the first refresh' -r
complete -c bpftop -n "__fish_bpftop_using_subcommand replay" -l format -d 'Output format, as with --batch' -r -f -a "json\t'One JSON object per line per refresh (schema in docs/batch-schema.md)'
text\t'A `top -b`-like table per refresh'"
complete -c bpftop -n "__fish_bpftop_using_subcommand replay" -l from -d 'First refresh to print: seconds since the epoch (as the JSON\'s "time"), a UTC date and time (2026-12-07T03:12:00Z) or a time ago (-10m). Default: the start of the recording' -r
complete -c bpftop -n "__fish_bpftop_using_subcommand replay" -l to -d 'Last refresh to print, in the same forms. Default: the end' -r
complete -c bpftop -n "__fish_bpftop_using_subcommand replay" -l batch -d 'Print the refreshes to stdout instead of opening the interface'
complete -c bpftop -n "__fish_bpftop_using_subcommand replay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c bpftop -n "__fish_bpftop_using_subcommand help; and not __fish_seen_subcommand_from record replay help" -f -a "record" -d 'Record every refresh to disk, to be replayed later (runs until killed, or for -n refreshes). The options before `record` choose what is collected (--backend, --threads, --no-net, --no-gpu)'
complete -c bpftop -n "__fish_bpftop_using_subcommand help; and not __fish_seen_subcommand_from record replay help" -f -a "replay" -d 'Open the interface on a recording (keys , . { } move through it), or with --batch print its refreshes as `--batch` printed them then. The interface\'s options go before `replay` (-t, -u, -p, -s, --theme), and so do batch mode\'s selection (-p, -u, -s, -n) with --batch; -u names users as the recording named them'
complete -c bpftop -n "__fish_bpftop_using_subcommand help; and not __fish_seen_subcommand_from record replay help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
