_bpftop() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="bpftop"
                ;;
            bpftop,help)
                cmd="bpftop__subcmd__help"
                ;;
            bpftop,record)
                cmd="bpftop__subcmd__record"
                ;;
            bpftop,replay)
                cmd="bpftop__subcmd__replay"
                ;;
            bpftop__subcmd__help,help)
                cmd="bpftop__subcmd__help__subcmd__help"
                ;;
            bpftop__subcmd__help,record)
                cmd="bpftop__subcmd__help__subcmd__record"
                ;;
            bpftop__subcmd__help,replay)
                cmd="bpftop__subcmd__help__subcmd__replay"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        bpftop)
            opts="-n -d -t -u -p -s -h -V --batch --count --delay --tree --user --pid --sort-key --no-mouse --theme --no-color --format --backend --bpf-walk --threads --pss --no-net --net-all-families --net-hooks --no-gpu --check --serve --serve-top --proc-root --sys-root --passwd --help --version record replay help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -n)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --delay)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -d)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -u)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pid)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -p)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sort-key)
                    COMPREPLY=($(compgen -W "PID PPID USER PRI NI VIRT RES SHR SWAP RSS_ANON RSS_FILE RSS_SHMEM PSS USS S CPU% MEM% TIME+ Command START NLWP PROCESSOR TTY IO_READ_RATE IO_WRITE_RATE IO_RATE IO_PRIORITY IO_READ IO_WRITE RCHAR WCHAR MINFLT MAJFLT CTXT CGROUP UNIT SLICE CONTAINER FROZEN NET_RX_RATE NET_TX_RATE NET_RATE NET_TOTAL IFACE GPU_PERCENT GPU_MEM GPU_INDEX CHILD_EXITS CHILD_FORKS CHILD_EXECS CHILD_EXITED_CPU WAIT_PERCENT RUN_WAITS IOWAIT_PERCENT SWAPWAIT_PERCENT RECLAIM_PERCENT THRASH_PERCENT COMPACT_PERCENT" -- "${cur}"))
                    return 0
                    ;;
                -s)
                    COMPREPLY=($(compgen -W "PID PPID USER PRI NI VIRT RES SHR SWAP RSS_ANON RSS_FILE RSS_SHMEM PSS USS S CPU% MEM% TIME+ Command START NLWP PROCESSOR TTY IO_READ_RATE IO_WRITE_RATE IO_RATE IO_PRIORITY IO_READ IO_WRITE RCHAR WCHAR MINFLT MAJFLT CTXT CGROUP UNIT SLICE CONTAINER FROZEN NET_RX_RATE NET_TX_RATE NET_RATE NET_TOTAL IFACE GPU_PERCENT GPU_MEM GPU_INDEX CHILD_EXITS CHILD_FORKS CHILD_EXECS CHILD_EXITED_CPU WAIT_PERCENT RUN_WAITS IOWAIT_PERCENT SWAPWAIT_PERCENT RECLAIM_PERCENT THRASH_PERCENT COMPACT_PERCENT" -- "${cur}"))
                    return 0
                    ;;
                --theme)
                    COMPREPLY=($(compgen -W "default mono" -- "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "json text" -- "${cur}"))
                    return 0
                    ;;
                --backend)
                    COMPREPLY=($(compgen -W "auto bpf procfs" -- "${cur}"))
                    return 0
                    ;;
                --bpf-walk)
                    COMPREPLY=($(compgen -W "auto open-coded iter" -- "${cur}"))
                    return 0
                    ;;
                --net-hooks)
                    COMPREPLY=($(compgen -W "auto tracepoints fexit kprobes" -- "${cur}"))
                    return 0
                    ;;
                --serve)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --serve-top)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --proc-root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sys-root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --passwd)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        bpftop__subcmd__help)
            opts="record replay help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        bpftop__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        bpftop__subcmd__help__subcmd__record)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        bpftop__subcmd__help__subcmd__replay)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        bpftop__subcmd__record)
            opts="-d -n -h --dir --retain --delay --count --tee-json --key-every --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retain)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --delay)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -d)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -n)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tee-json)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --key-every)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        bpftop__subcmd__replay)
            opts="-h --dir --batch --at --format --from --to --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --at)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "json text" -- "${cur}"))
                    return 0
                    ;;
                --from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --to)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _bpftop -o nosort -o bashdefault -o default bpftop
else
    complete -F _bpftop -o bashdefault -o default bpftop
fi
