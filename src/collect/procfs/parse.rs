//! Parsers of the /proc/PID files the procfs backend reads: bytes in,
//! fields out, no I/O. Each keeps the kernel's semantics exactly (the
//! backend is the oracle the eBPF one is tested against) and returns None
//! rather than a shifted or guessed value when a file is malformed.

use std::str::FromStr;

use crate::collect::sample::{IoCounters, MemoryParts, RunQueue};

/// The fields of /proc/PID/stat this backend uses; times in clock ticks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatFields {
    pub pid: u32,
    pub comm: Vec<u8>,
    pub state: char,
    pub ppid: u32,
    pub tty_nr: u32,
    pub flags: u32,
    pub minflt: u64,
    pub majflt: u64,
    pub utime: u64,
    pub stime: u64,
    pub priority: i32,
    pub nice: i32,
    pub num_threads: u32,
    pub starttime: u64,
    pub vsize: u64,
    pub processor: u32,
    /// Where argv lies in the process's memory (fields 48 and 49): new
    /// values after every exec. Zero where the kernel hides them (no
    /// ptrace access), for kernel threads, and on kernels before 3.5.
    pub arg_start: u64,
    pub arg_end: u64,
}

/// The fields of /proc/PID/status this backend uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusFields {
    pub uid: u32,
    pub euid: u32,
    pub nvcsw: u64,
    pub nivcsw: u64,
    /// RssAnon, RssFile, RssShmem and VmSwap in bytes; zero where the
    /// lines are absent (kernel threads, zombies).
    pub memory: MemoryParts,
    /// Whether the RssAnon, RssFile and RssShmem lines were all there (from
    /// kernel 4.5 on; never for kernel threads and zombies): only then do
    /// the parts add up to the resident set, as statm counts it.
    pub rss_parts: bool,
    /// VmRSS in bytes (zero where absent): the resident set, the sum of
    /// the three parts where they are there.
    pub rss_bytes: u64,
}

/// The fields of /proc/PID/statm this backend uses, in pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatmFields {
    pub resident: u64,
    pub shared: u64,
}

fn parse_num<T: FromStr>(bytes: &[u8]) -> Option<T> {
    std::str::from_utf8(bytes).ok()?.trim().parse().ok()
}

/// The last field of /proc/PID/stat that [`parse_stat`] reads (arg_end).
const STAT_FIELDS_USED: usize = 49;

/// Parses /proc/PID/stat (or /proc/PID/task/TID/stat). None when the line
/// is malformed or truncated before the processor field.
pub fn parse_stat(line: &[u8]) -> Option<StatFields> {
    // comm may hold any byte, ')' included, so it ends at the LAST ')'.
    let open = line.iter().position(|&b| b == b'(')?;
    let close = line.iter().rposition(|&b| b == b')')?;
    let comm = line.get(open + 1..close)?.to_vec();
    let pid = parse_num(line.get(..open)?)?;
    // The kernel separates fields by exactly one space; splitting strictly
    // turns a missing field into a parse error rather than a shift.
    let tail = line.get(close + 1..)?.strip_prefix(b" ")?;
    let tail = tail.strip_suffix(b"\n").unwrap_or(tail);
    // On the stack: this runs for every process and thread at every
    // refresh. Fields past the last one used are not kept.
    let mut rest: [&[u8]; STAT_FIELDS_USED - 2] = [&[]; STAT_FIELDS_USED - 2];
    let mut count = 0;
    for (slot, f) in rest.iter_mut().zip(tail.split(|&b| b == b' ')) {
        *slot = f;
        count += 1;
    }
    // Fields by their proc(5) number; the first after comm is field 3.
    let field = |n: usize| rest.get(..count)?.get(n - 3).copied();
    let num = |n: usize| field(n).and_then(parse_num::<u64>);
    let int = |n: usize| field(n).and_then(parse_num::<i64>);
    let &[state] = field(3)? else {
        return None;
    };
    Some(StatFields {
        pid,
        comm,
        state: char::from(state),
        ppid: u32::try_from(int(4)?).ok()?,
        // tty_nr is printed as a signed int; keep the device number's bits.
        tty_nr: field(7).and_then(parse_num::<i32>)? as u32,
        flags: u32::try_from(num(9)?).ok()?,
        minflt: num(10)?,
        majflt: num(12)?,
        utime: num(14)?,
        stime: num(15)?,
        priority: i32::try_from(int(18)?).ok()?,
        nice: i32::try_from(int(19)?).ok()?,
        num_threads: u32::try_from(int(20)?).ok()?,
        starttime: num(22)?,
        vsize: num(23)?,
        processor: u32::try_from(int(39)?).ok()?,
        arg_start: num(48).unwrap_or(0),
        arg_end: num(49).unwrap_or(0),
    })
}

/// The value after `key` on a "Key:\tvalue" line, if the line has that key.
fn line_value<'a>(line: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    line.strip_prefix(key)?.strip_prefix(b":")
}

/// A "   1234 kB" value in bytes; None unless it has that unit, or when
/// it overflows.
pub(crate) fn parse_kib(value: &[u8]) -> Option<u64> {
    let value = value.trim_ascii().strip_suffix(b"kB")?;
    parse_num::<u64>(value)?.checked_mul(1024)
}

/// Parses /proc/PID/status (bytes: its Name line may be invalid UTF-8).
/// None without a Uid line.
pub fn parse_status(text: &[u8]) -> Option<StatusFields> {
    let mut ids = None;
    // Context-switch lines exist on every supported kernel; 0 if missing.
    let mut fields = StatusFields::default();
    let mut parts = 0;
    for line in text.split(|&b| b == b'\n') {
        // Most of the ~60 lines are none of ours: one comparison skips them.
        if !matches!(line.first(), Some(b'U' | b'v' | b'n' | b'R' | b'V')) {
            continue;
        }
        if let Some(v) = line_value(line, b"Uid") {
            let mut nums = v
                .split(u8::is_ascii_whitespace)
                .filter(|f| !f.is_empty())
                .map(parse_num::<u32>);
            ids = Some((nums.next()??, nums.next()??));
        } else if let Some(v) = line_value(line, b"voluntary_ctxt_switches") {
            fields.nvcsw = parse_num(v)?;
        } else if let Some(v) = line_value(line, b"nonvoluntary_ctxt_switches") {
            fields.nivcsw = parse_num(v)?;
        } else if let Some(v) = line_value(line, b"RssAnon") {
            fields.memory.anon_bytes = parse_kib(v)?;
            parts += 1;
        } else if let Some(v) = line_value(line, b"RssFile") {
            fields.memory.file_bytes = parse_kib(v)?;
            parts += 1;
        } else if let Some(v) = line_value(line, b"RssShmem") {
            fields.memory.shmem_bytes = parse_kib(v)?;
            parts += 1;
        } else if let Some(v) = line_value(line, b"VmSwap") {
            fields.memory.swap_bytes = parse_kib(v)?;
        } else if let Some(v) = line_value(line, b"VmRSS") {
            fields.rss_bytes = parse_kib(v)?;
        }
    }
    let (uid, euid) = ids?;
    Some(StatusFields {
        uid,
        euid,
        rss_parts: parts == 3,
        ..fields
    })
}

/// Parses /proc/PID/statm: "size resident shared text lib data dt" (pages).
pub fn parse_statm(text: &[u8]) -> Option<StatmFields> {
    let mut nums = text
        .split(u8::is_ascii_whitespace)
        .filter(|f| !f.is_empty())
        .map(parse_num::<u64>);
    let _size = nums.next()??;
    Some(StatmFields {
        resident: nums.next()??,
        shared: nums.next()??,
    })
}

/// Parses /proc/PID/io. None unless all four counters are present.
pub fn parse_io(text: &[u8]) -> Option<IoCounters> {
    let (mut rchar, mut wchar, mut read_bytes, mut write_bytes) = (None, None, None, None);
    for line in text.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (key, value) = line.split_at(colon);
        let slot = match key {
            b"rchar" => &mut rchar,
            b"wchar" => &mut wchar,
            b"read_bytes" => &mut read_bytes,
            b"write_bytes" => &mut write_bytes,
            _ => continue,
        };
        *slot = Some(parse_num(value.get(1..)?)?);
    }
    Some(IoCounters {
        rchar: rchar?,
        wchar: wchar?,
        read_bytes: read_bytes?,
        write_bytes: write_bytes?,
    })
}

/// Splits /proc/PID/cmdline into argv without losing anything: only the
/// terminating NUL is dropped, so empty arguments survive, and a buffer a
/// process rewrote without NULs (setproctitle) stays one argument.
pub fn split_cmdline(raw: &[u8]) -> Vec<Vec<u8>> {
    if raw.is_empty() {
        return Vec::new();
    }
    let body = raw.strip_suffix(b"\0").unwrap_or(raw);
    body.split(|&b| b == 0).map(<[u8]>::to_vec).collect()
}

/// The run-queue fields of /proc/PID/schedstat (or task/TID/schedstat):
/// "run_time run_delay pcount", ns, ns, count.
pub fn parse_schedstat(text: &[u8]) -> Option<RunQueue> {
    let text = std::str::from_utf8(text).ok()?;
    let mut fields = text.split_ascii_whitespace().skip(1);
    let delay_ns = fields.next()?.parse().ok()?;
    let count = fields.next()?.parse().ok()?;
    Some(RunQueue { delay_ns, count })
}

/// Clock ticks to ns, without overflow for any tick count.
pub fn ticks_to_ns(ticks: u64, ticks_per_second: u64) -> u64 {
    let ns = u128::from(ticks) * 1_000_000_000 / u128::from(ticks_per_second.max(1));
    u64::try_from(ns).unwrap_or(u64::MAX)
}

#[cfg(test)]
/// A complete 52-field stat line; `set` overrides fields by proc(5)
/// number (field 3 is the state, default S; all others default to 0).
pub(crate) fn stat_line(pid: u32, comm: &[u8], set: &[(usize, &str)]) -> Vec<u8> {
    let mut fields: Vec<String> = (3..=52).map(|_| "0".to_string()).collect();
    fields[0] = "S".to_string();
    for &(n, v) in set {
        fields[n - 3] = v.to_string();
    }
    let mut line = format!("{pid} (").into_bytes();
    line.extend_from_slice(comm);
    line.extend_from_slice(b") ");
    line.extend_from_slice(fields.join(" ").as_bytes());
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    // Tests may panic on failure; that is how they report it.
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn schedstat_gives_run_delay_and_count() {
        let r = parse_schedstat(b"123456 789012 34\n").expect("parsed");
        assert_eq!((r.delay_ns, r.count), (789012, 34));
        assert_eq!(parse_schedstat(b"1 2"), None);
        assert_eq!(parse_schedstat(b""), None);
    }

    #[test]
    fn stat_of_a_real_line() {
        let line = b"1 (systemd) S 0 1 1 34816 -1 4194560 12345 6789 100 20 300 400 \
            10 20 20 0 1 0 5 170000000 3000 18446744073709551615 1 1 0 0 0 0 \
            671173123 4096 1260 0 0 0 17 3 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
        let stat = parse_stat(line).unwrap();
        assert_eq!(
            stat,
            StatFields {
                pid: 1,
                comm: b"systemd".to_vec(),
                state: 'S',
                ppid: 0,
                tty_nr: 34816,
                flags: 4_194_560,
                minflt: 12345,
                majflt: 100,
                utime: 300,
                stime: 400,
                priority: 20,
                nice: 0,
                num_threads: 1,
                starttime: 5,
                vsize: 170_000_000,
                processor: 3,
                arg_start: 0,
                arg_end: 0,
            }
        );
    }

    #[test]
    fn stat_comm_may_hold_any_byte() {
        let comms: [&[u8]; 6] = [
            b"my prog",
            b"a) (b",
            b"x) S 1 2 (",
            b"\x1b[31mred",
            b"\xff\xfe bad utf8",
            b"123456789012345",
        ];
        for comm in comms {
            let line = stat_line(42, comm, &[(3, "R"), (4, "7"), (39, "5")]);
            let stat = parse_stat(&line).unwrap();
            assert_eq!(stat.comm, comm);
            assert_eq!((stat.pid, stat.state, stat.ppid), (42, 'R', 7));
            assert_eq!(stat.processor, 5);
        }
        assert_eq!(parse_stat(&stat_line(1, b"", &[])).unwrap().comm, b"");
    }

    #[test]
    fn stat_argv_bounds() {
        let set = [(48, "140737488347136"), (49, "140737488347200")];
        let stat = parse_stat(&stat_line(7, b"x", &set)).unwrap();
        assert_eq!(
            (stat.arg_start, stat.arg_end),
            (0x7fff_ffff_e000, 0x7fff_ffff_e040)
        );
        // Kernels before 3.5 end the line at field 44: no bounds, no error.
        let short = b"7 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 100 3 1 1 1 1 1 1 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n";
        let stat = parse_stat(short).unwrap();
        assert_eq!((stat.arg_start, stat.arg_end, stat.processor), (0, 0, 3));
    }

    #[test]
    fn stat_signed_fields() {
        let line = stat_line(9, b"rt", &[(7, "-1"), (18, "-51"), (19, "-20")]);
        let stat = parse_stat(&line).unwrap();
        assert_eq!((stat.priority, stat.nice), (-51, -20));
        assert_eq!(stat.tty_nr, u32::MAX);
    }

    #[test]
    fn stat_truncated_or_malformed_is_none() {
        let full = stat_line(42, b"sleep", &[]);
        let processor_end = full.len() - " 0".repeat(13).len() - 1;
        assert!(parse_stat(&full[..processor_end]).is_some());
        assert!(parse_stat(&full[..processor_end - 2]).is_none());
        assert!(parse_stat(&full[..20]).is_none());
        assert!(parse_stat(b"42 (sleep").is_none());
        assert!(parse_stat(b"").is_none());
        assert!(parse_stat(&stat_line(42, b"x", &[(4, "notanumber")])).is_none());
        assert!(parse_stat(&stat_line(42, b"x", &[(3, "")])).is_none());
    }

    #[test]
    fn status_ids_and_switches() {
        let text = b"Name:\t\xffodd\nUmask:\t0022\nState:\tS (sleeping)\n\
            Uid:\t1000\t0\t0\t0\nGid:\t100\t100\t100\t100\n\
            voluntary_ctxt_switches:\t17\nnonvoluntary_ctxt_switches:\t4\n";
        let status = parse_status(text).unwrap();
        assert_eq!(
            status,
            StatusFields {
                uid: 1000,
                euid: 0,
                nvcsw: 17,
                nivcsw: 4,
                memory: MemoryParts::default(),
                rss_parts: false,
                rss_bytes: 0,
            }
        );
        assert!(parse_status(b"Name:\tx\nState:\tZ (zombie)\n").is_none());
        assert!(
            parse_status(b"Uid:\t1\t2\t2\t2\nVmSwap:\t12\n").is_none(),
            "no unit"
        );
        assert!(parse_status(b"Uid:\t1000\n").is_none());
    }

    #[test]
    fn status_memory_parts_in_bytes() {
        let text = b"Name:\tworker\nUid:\t0\t0\t0\t0\n\
            VmRSS:\t   70124 kB\nRssAnon:\t   65536 kB\nRssFile:\t    3564 kB\n\
            RssShmem:\t    1024 kB\nVmData:\t  1000 kB\nVmSwap:\t   32768 kB\n";
        let status = parse_status(text).unwrap();
        assert_eq!(
            status.memory,
            MemoryParts {
                anon_bytes: 65536 << 10,
                file_bytes: 3564 << 10,
                shmem_bytes: 1024 << 10,
                swap_bytes: 32768 << 10,
            }
        );
        assert!(status.rss_parts);
        assert_eq!(status.rss_bytes, 70124 << 10);
        // A kernel thread's status has no memory lines at all.
        let kthread = parse_status(b"Name:\tkworker/0:1\nUid:\t0\t0\t0\t0\n").unwrap();
        assert_eq!(kthread.memory, MemoryParts::default());
        assert!(!kthread.rss_parts);
        assert_eq!(parse_kib(b" 18446744073709551615 kB"), None, "overflow");
        assert_eq!(parse_kib(b"\t0 kB"), Some(0));
    }

    #[test]
    fn statm_pages() {
        let statm = parse_statm(b"2000 300 120 10 0 500 0\n").unwrap();
        assert_eq!((statm.resident, statm.shared), (300, 120));
        assert!(parse_statm(b"2000 300\n").is_none());
    }

    #[test]
    fn io_counters() {
        let text = b"rchar: 6976\nwchar: 12\nsyscr: 10\nsyscw: 1\nread_bytes: 4096\n\
            write_bytes: 8192\ncancelled_write_bytes: 0\n";
        assert_eq!(
            parse_io(text),
            Some(IoCounters {
                rchar: 6976,
                wchar: 12,
                read_bytes: 4096,
                write_bytes: 8192,
            })
        );
        assert_eq!(parse_io(b"rchar: 1\nwchar: 2\n"), None);
        assert_eq!(parse_io(b""), None);
    }

    #[test]
    fn cmdline_is_split_losslessly() {
        let args = |v: &[&[u8]]| v.iter().map(|a| a.to_vec()).collect::<Vec<_>>();
        assert_eq!(split_cmdline(b""), args(&[]));
        assert_eq!(split_cmdline(b"sleep\x0030\x00"), args(&[b"sleep", b"30"]));
        assert_eq!(split_cmdline(b"a\0\0b\0"), args(&[b"a", b"", b"b"]));
        assert_eq!(split_cmdline(b"a\0\0"), args(&[b"a", b""]));
        assert_eq!(split_cmdline(b"\0"), args(&[b""]));
        assert_eq!(
            split_cmdline(b"postgres: writer process  "),
            args(&[b"postgres: writer process  "])
        );
        assert_eq!(split_cmdline(b"\xff\xfe\0"), args(&[b"\xff\xfe"]));
    }

    #[test]
    fn ticks_convert_without_overflow() {
        assert_eq!(ticks_to_ns(250, 100), 2_500_000_000);
        assert_eq!(ticks_to_ns(1, 1000), 1_000_000);
        assert_eq!(ticks_to_ns(u64::MAX, 100), u64::MAX);
    }

    /// Property tests: no input makes a parser panic, and what a parser
    /// accepts it reads exactly, whatever bytes a process put in its name
    /// or arguments.
    mod props {
        use super::*;
        use crate::collect::cgroups::parse_cgroup_v2;
        use proptest::prelude::*;

        use crate::test_support::proptest_config as config;

        fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
            prop::collection::vec(any::<u8>(), 0..max)
        }

        /// A comm built to fool a parser: parentheses, spaces, fake fields,
        /// newlines, escapes, NULs and arbitrary bytes.
        fn hostile_comm() -> impl Strategy<Value = Vec<u8>> {
            let piece = prop_oneof![
                Just(b")".to_vec()),
                Just(b"(".to_vec()),
                Just(b" ".to_vec()),
                Just(b") R 1 2 3 ".to_vec()),
                Just(b"\n".to_vec()),
                Just(b"\x1b]0;x\x07".to_vec()),
                Just(b"\0".to_vec()),
                Just(b"\xff".to_vec()),
                bytes(4),
            ];
            prop::collection::vec(piece, 0..8).prop_map(|p| p.concat())
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn arbitrary_bytes_never_panic(raw in bytes(2048)) {
                if let Some(stat) = parse_stat(&raw) {
                    let comm = stat.comm.as_slice();
                    prop_assert!(comm.is_empty() || raw.windows(comm.len()).any(|w| w == comm));
                }
                let _ = parse_status(&raw);
                let _ = parse_statm(&raw);
                let _ = parse_io(&raw);
                let v2 = parse_cgroup_v2(&raw);
                let has_v2 = raw.split(|&b| b == b'\n').any(|l| l.starts_with(b"0::"));
                prop_assert_eq!(v2.is_some(), has_v2);
            }

            #[test]
            fn split_cmdline_rejoins_to_its_input(raw in bytes(512)) {
                let args = split_cmdline(&raw);
                if raw.is_empty() {
                    prop_assert!(args.is_empty());
                } else {
                    // Rejoined with NULs, argv is the buffer less its final NUL.
                    let body = raw.strip_suffix(b"\0").unwrap_or(&raw);
                    prop_assert_eq!(args.join(&0u8), body.to_vec());
                    prop_assert_eq!(args.len(), body.iter().filter(|&&b| b == 0).count() + 1);
                }
            }

            #[test]
            fn stat_round_trips_any_comm_and_values(
                pid in any::<u32>(),
                comm in prop_oneof![hostile_comm(), bytes(64)],
                // Any byte but the separator and the ')' that ends comm (the
                // kernel prints a letter).
                state in any::<u8>().prop_filter("ambiguous", |&b| b != b' ' && b != b')'),
                ppid in any::<u32>(),
                tty_nr in any::<i32>(),
                flags in any::<u32>(),
                counters in prop::array::uniform6(any::<u64>()),
                priority in any::<i32>(),
                nice in any::<i32>(),
                num_threads in any::<u32>(),
                processor in any::<u32>(),
                newline in any::<bool>(),
            ) {
                let [minflt, majflt, utime, stime, starttime, vsize] = counters;
                let mut line = stat_line(pid, &comm, &[
                    (4, &ppid.to_string()),
                    (7, &tty_nr.to_string()),
                    (9, &flags.to_string()),
                    (10, &minflt.to_string()),
                    (12, &majflt.to_string()),
                    (14, &utime.to_string()),
                    (15, &stime.to_string()),
                    (18, &priority.to_string()),
                    (19, &nice.to_string()),
                    (20, &num_threads.to_string()),
                    (22, &starttime.to_string()),
                    (23, &vsize.to_string()),
                    (39, &processor.to_string()),
                ]);
                // The state byte goes in raw (it may be any byte).
                let at = line.iter().rposition(|&b| b == b')').unwrap_or(0) + 2;
                line[at] = state;
                if !newline {
                    line.pop();
                }
                let stat = parse_stat(&line);
                prop_assert_eq!(stat, Some(StatFields {
                    pid,
                    comm,
                    state: char::from(state),
                    ppid,
                    tty_nr: tty_nr as u32,
                    flags,
                    minflt,
                    majflt,
                    utime,
                    stime,
                    priority,
                    nice,
                    num_threads,
                    starttime,
                    vsize,
                    processor,
                    arg_start: 0,
                    arg_end: 0,
                }));
            }

            #[test]
            fn stat_with_a_field_mangled_never_panics(
                comm in hostile_comm(),
                field in 3usize..=52,
                token in prop_oneof![
                    bytes(12).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
                    Just(String::new()),
                    Just("-1".to_owned()),
                    Just("18446744073709551616".to_owned()),
                    Just("9".repeat(4096)),
                ],
                cut in any::<prop::sample::Index>(),
            ) {
                let line = stat_line(42, &comm, &[(field, &token)]);
                for text in [&line[..], &line[..cut.index(line.len() + 1)]] {
                    if let Some(stat) = parse_stat(text) {
                        prop_assert_eq!(stat.pid, 42);
                    }
                }
            }

            #[test]
            fn status_reads_ids_whatever_the_name(
                name in bytes(64).prop_map(|b| {
                    b.into_iter().filter(|&c| c != b'\n').collect::<Vec<u8>>()
                }),
                ids in prop::array::uniform4(any::<u32>()),
                switches in prop::option::of((any::<u64>(), any::<u64>())),
                kib in prop::option::of(prop::array::uniform4(0u64..1 << 40)),
                junk in prop::collection::vec("X[A-Za-z_]{0,20}:\t[^\n]{0,30}", 0..4),
            ) {
                let mut text = b"Name:\t".to_vec();
                text.extend_from_slice(&name);
                text.push(b'\n');
                for line in &junk {
                    text.extend_from_slice(line.as_bytes());
                    text.push(b'\n');
                }
                let [uid, euid, suid, fsuid] = ids;
                text.extend_from_slice(format!("Uid:\t{uid}\t{euid}\t{suid}\t{fsuid}\n").as_bytes());
                if let Some((v, n)) = switches {
                    text.extend_from_slice(
                        format!("voluntary_ctxt_switches:\t{v}\nnonvoluntary_ctxt_switches:\t{n}\n")
                            .as_bytes(),
                    );
                }
                if let Some([anon, file, shmem, swap]) = kib {
                    text.extend_from_slice(
                        format!(
                            "RssAnon:\t{anon:>8} kB\nRssFile:\t{file:>8} kB\n\
                             RssShmem:\t{shmem:>8} kB\nVmSwap:\t{swap:>8} kB\n"
                        )
                        .as_bytes(),
                    );
                }
                let (nvcsw, nivcsw) = switches.unwrap_or((0, 0));
                let [anon_bytes, file_bytes, shmem_bytes, swap_bytes] =
                    kib.unwrap_or_default().map(|k| k << 10);
                let memory = MemoryParts { anon_bytes, file_bytes, shmem_bytes, swap_bytes };
                prop_assert_eq!(
                    parse_status(&text),
                    Some(StatusFields {
                        uid,
                        euid,
                        nvcsw,
                        nivcsw,
                        memory,
                        rss_parts: kib.is_some(),
                        rss_bytes: 0,
                    })
                );
            }

            #[test]
            fn statm_and_io_round_trip(
                pages in prop::array::uniform7(any::<u64>()),
                io in prop::array::uniform4(any::<u64>()),
                extra in prop::collection::vec(("[a-z_]{1,24}", any::<u64>()), 0..4),
            ) {
                let statm: Vec<String> = pages.iter().map(u64::to_string).collect();
                prop_assert_eq!(
                    parse_statm(format!("{}\n", statm.join(" ")).as_bytes()),
                    Some(StatmFields { resident: pages[1], shared: pages[2] })
                );
                let [rchar, wchar, read_bytes, write_bytes] = io;
                let mut text = format!(
                    "rchar: {rchar}\nwchar: {wchar}\nsyscr: 1\nsyscw: 2\n\
                     read_bytes: {read_bytes}\nwrite_bytes: {write_bytes}\n"
                );
                for (key, value) in &extra {
                    // Keys the parser reads are not extras.
                    if !["rchar", "wchar", "read_bytes", "write_bytes"].contains(&key.as_str()) {
                        text.push_str(&format!("{key}: {value}\n"));
                    }
                }
                prop_assert_eq!(
                    parse_io(text.as_bytes()),
                    Some(IoCounters { rchar, wchar, read_bytes, write_bytes })
                );
            }

            #[test]
            fn cgroup_v2_path_is_kept_verbatim(
                v1 in prop::collection::vec(
                    (1u32..20, "[a-z_,=]{0,20}", bytes(40)),
                    0..5,
                ),
                path in bytes(200).prop_map(|b| {
                    b.into_iter().filter(|&c| c != b'\n').collect::<Vec<u8>>()
                }),
                with_v2 in any::<bool>(),
            ) {
                let mut text = Vec::new();
                for (n, controllers, p) in &v1 {
                    text.extend_from_slice(format!("{n}:{controllers}:").as_bytes());
                    text.extend(p.iter().filter(|&&c| c != b'\n'));
                    text.push(b'\n');
                }
                if with_v2 {
                    text.extend_from_slice(b"0::");
                    text.extend_from_slice(&path);
                    text.push(b'\n');
                }
                let expected = with_v2.then(|| crate::collect::cgroups::encode_path(&path));
                prop_assert_eq!(parse_cgroup_v2(&text), expected);
            }
        }
    }
}
