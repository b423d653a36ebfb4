//! PSS and USS from /proc/PID/smaps_rollup. The kernel walks every page
//! table of the process to produce that file (mmap_lock held), which costs
//! far more than the rest of a process's sample: it is read on demand only,
//! for the processes asked about, never for every process every refresh.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::procfs::parse_kib;
pub use super::sample::SmapsRollup;

/// Parses smaps_rollup. None without a Pss line (a kernel thread's file is
/// empty) or when a needed value is malformed; a missing Private_* line
/// counts as zero.
pub fn parse_smaps_rollup(text: &[u8]) -> Option<SmapsRollup> {
    let mut pss = None;
    let mut private = 0u64;
    for line in text.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (key, value) = (&line[..colon], &line[colon + 1..]);
        match key {
            b"Pss" => pss = Some(parse_kib(value)?),
            b"Private_Clean" | b"Private_Dirty" => {
                private = private.checked_add(parse_kib(value)?)?;
            }
            _ => {}
        }
    }
    Some(SmapsRollup {
        pss_bytes: pss?,
        uss_bytes: private,
    })
}

/// Reads `proc_root`/PID/smaps_rollup; None when the process is gone, is a
/// kernel thread, or may not be read (ptrace access is required).
pub fn read_smaps_rollup(proc_root: &Path, pid: u32) -> Option<SmapsRollup> {
    let mut text = Vec::with_capacity(1024);
    File::open(proc_root.join(pid.to_string()).join("smaps_rollup"))
        .and_then(|mut f| f.read_to_end(&mut text))
        .ok()?;
    parse_smaps_rollup(&text)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ROLLUP: &[u8] =
        b"55d0c0a2b000-7ffd5e3f9000 ---p 00000000 00:00 0                          [rollup]
Rss:               70124 kB
Pss:               41234 kB
Pss_Dirty:         30000 kB
Pss_Anon:          30000 kB
Pss_File:          10210 kB
Pss_Shmem:          1024 kB
Shared_Clean:       8000 kB
Shared_Dirty:       2048 kB
Private_Clean:       512 kB
Private_Dirty:     59564 kB
Referenced:        70124 kB
Anonymous:         65536 kB
Swap:              32768 kB
SwapPss:           32768 kB
Locked:                0 kB
";

    #[test]
    fn pss_and_private_pages() {
        assert_eq!(
            parse_smaps_rollup(ROLLUP),
            Some(SmapsRollup {
                pss_bytes: 41234 << 10,
                uss_bytes: (512 + 59564) << 10,
            })
        );
    }

    #[test]
    fn a_kernel_thread_or_malformed_file_has_none() {
        assert_eq!(parse_smaps_rollup(b""), None);
        assert_eq!(parse_smaps_rollup(b"Pss:  12\n"), None, "no unit");
        assert_eq!(
            parse_smaps_rollup(b"Pss: 1 kB\nPrivate_Dirty: x kB\n"),
            None
        );
        // Pss_Anon and the like are not Pss.
        assert_eq!(parse_smaps_rollup(b"Pss_Anon: 4 kB\n"), None);
        assert_eq!(
            parse_smaps_rollup(b"Pss: 4 kB"),
            Some(SmapsRollup {
                pss_bytes: 4096,
                uss_bytes: 0
            })
        );
    }

    #[test]
    fn own_rollup_is_readable() {
        let own = read_smaps_rollup(Path::new("/proc"), std::process::id()).unwrap();
        assert!(own.pss_bytes > 0 && own.uss_bytes > 0, "{own:?}");
        assert_eq!(read_smaps_rollup(Path::new("/nonexistent"), 1), None);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse_smaps_rollup(&raw);
        }

        #[test]
        fn values_round_trip(pss in 0u64..1 << 40, clean in 0u64..1 << 40, dirty in 0u64..1 << 40) {
            let text = format!(
                "Rss: 1 kB\nPss:{pss:>12} kB\nPrivate_Clean:{clean:>8} kB\nPrivate_Dirty:{dirty:>8} kB\n"
            );
            prop_assert_eq!(
                parse_smaps_rollup(text.as_bytes()),
                Some(SmapsRollup { pss_bytes: pss << 10, uss_bytes: (clean + dirty) << 10 })
            );
        }
    }
}
