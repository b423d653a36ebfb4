//! Pressure, limits, throttling and memory events of the cgroups that hold
//! units and containers, read only for cgroups with visible processes. As in
//! `frozen.rs`, each file stays open and is re-read with one pread at offset
//! 0, so a refresh costs one read per file of a shown unit, whatever the
//! number of cgroups on the machine.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::cgroups::decode_path;
use super::sample::{CpuMax, Limit, UnitCgroupStats};

/// Every file read here is a few lines; cpu.stat is the longest.
const READ_BUF: usize = 1024;

/// Unit cgroups whose files stay open across refreshes (eight files each);
/// others are reopened each refresh.
const MAX_OPEN_CGROUPS: usize = 64;

/// "some avg10" of a PSI file ("some avg10=1.23 avg60=… total=…").
pub fn parse_pressure_some_avg10(text: &str) -> Option<f64> {
    let rest = text.lines().find_map(|l| l.strip_prefix("some "))?;
    rest.split_whitespace()
        .find_map(|f| f.strip_prefix("avg10="))?
        .parse()
        .ok()
}

/// The value of `key` in a flat keyed file ("key value" lines: cpu.stat,
/// memory.events).
pub fn parse_keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok())?
    })
}

/// memory.max / memory.high: "max" or bytes.
pub fn parse_limit(text: &str) -> Option<Limit> {
    match text.trim() {
        "max" => Some(Limit::Unlimited),
        n => n.parse().ok().map(Limit::Bytes),
    }
}

/// cpu.max: "<quota|max> <period>".
pub fn parse_cpu_max(text: &str) -> Option<CpuMax> {
    let mut fields = text.split_whitespace();
    let quota = match fields.next()? {
        "max" => None,
        n => Some(n.parse().ok()?),
    };
    let period_usec = fields.next()?.parse().ok()?;
    Some(CpuMax {
        quota_usec: quota,
        period_usec,
    })
}

/// The files read, in the order of `OpenFiles::files`.
const FILES: [&str; 8] = [
    "cpu.pressure",
    "memory.pressure",
    "io.pressure",
    "cpu.stat",
    "cpu.max",
    "memory.max",
    "memory.high",
    "memory.events",
];

/// One cgroup's files; None where a file does not exist (its controller is
/// not enabled for the cgroup), which is not asked again while it stays open.
#[derive(Debug)]
struct OpenFiles {
    files: [Option<File>; 8],
    unavailable: Option<Arc<str>>,
}

fn read_text(file: &File, buf: &mut [u8; READ_BUF]) -> Option<String> {
    let n = file.read_at(buf, 0).ok()?;
    Some(String::from_utf8_lossy(buf.get(..n)?).into_owned())
}

impl OpenFiles {
    fn open(dir: &Path, v1_note: Option<&Arc<str>>) -> Option<OpenFiles> {
        let open = |name: &str| {
            File::options()
                .read(true)
                .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
                .open(dir.join(name))
                .ok()
        };
        // cgroup.procs exists in every cgroup: its absence means the cgroup
        // is gone (or never was), not a missing controller.
        if !dir.join("cgroup.procs").exists() {
            return None;
        }
        let files = FILES.map(open);
        let [_, _, _, _, cpu_max, _, _, memory_events] = &files;
        let unavailable = (cpu_max.is_none() || memory_events.is_none()).then(|| {
            v1_note.cloned().unwrap_or_else(|| {
                let missing = match (cpu_max.is_none(), memory_events.is_none()) {
                    (true, true) => "cpu and memory controllers are",
                    (true, false) => "cpu controller is",
                    _ => "memory controller is",
                };
                Arc::from(format!("{missing} not enabled for this cgroup"))
            })
        });
        Some(OpenFiles { files, unavailable })
    }

    /// None when the cgroup went away (a read fails).
    fn read(&self) -> Option<UnitCgroupStats> {
        let mut buf = [0u8; READ_BUF];
        let mut texts: [Option<String>; 8] = Default::default();
        for (file, text) in self.files.iter().zip(texts.iter_mut()) {
            if let Some(file) = file {
                *text = Some(read_text(file, &mut buf)?);
            }
        }
        let [cpu_p, mem_p, io_p, cpu_stat, cpu_max, mem_max, mem_high, mem_events] = &texts;
        let cpu_stat = cpu_stat.as_deref();
        let events = mem_events.as_deref();
        Some(UnitCgroupStats {
            cpu_some_avg10: cpu_p.as_deref().and_then(parse_pressure_some_avg10),
            memory_some_avg10: mem_p.as_deref().and_then(parse_pressure_some_avg10),
            io_some_avg10: io_p.as_deref().and_then(parse_pressure_some_avg10),
            usage_usec: cpu_stat.and_then(|t| parse_keyed(t, "usage_usec")),
            nr_throttled: cpu_stat.and_then(|t| parse_keyed(t, "nr_throttled")),
            throttled_usec: cpu_stat.and_then(|t| parse_keyed(t, "throttled_usec")),
            cpu_max: cpu_max.as_deref().and_then(parse_cpu_max),
            memory_max: mem_max.as_deref().and_then(parse_limit),
            memory_high: mem_high.as_deref().and_then(parse_limit),
            oom_kills: events.and_then(|t| parse_keyed(t, "oom_kill")),
            high_events: events.and_then(|t| parse_keyed(t, "high")),
            unavailable: self.unavailable.clone(),
            read_ns: super::clock::boottime_ns(),
        })
    }
}

/// Why cpu or memory limits cannot be read on cgroup v2 at all: the
/// controllers the v2 root offers (`cgroup.controllers`) lack them, and
/// /proc/cgroups says whether a v1 hierarchy holds them instead.
pub fn v1_note(mount: &Path, proc_root: &Path) -> Option<Arc<str>> {
    let offered = std::fs::read_to_string(mount.join("cgroup.controllers")).ok()?;
    let offered: Vec<&str> = offered.split_whitespace().collect();
    let cgroups = std::fs::read_to_string(proc_root.join("cgroups")).unwrap_or_default();
    note_from(&offered, &cgroups)
}

/// `offered`: the v2 root's controllers; `proc_cgroups`: /proc/cgroups.
pub fn note_from(offered: &[&str], proc_cgroups: &str) -> Option<Arc<str>> {
    let on_v1 = |name: &str| {
        proc_cgroups.lines().any(|l| {
            let mut f = l.split_whitespace();
            f.next() == Some(name) && f.next().is_some_and(|h| h != "0")
        })
    };
    let missing: Vec<&str> = ["cpu", "memory"]
        .into_iter()
        .filter(|c| !offered.contains(c))
        .collect();
    let (what, verb) = match missing.as_slice() {
        [] => return None,
        [one] => (format!("{one} controller"), "is"),
        _ => ("cpu and memory controllers".to_owned(), "are"),
    };
    let note = if missing.iter().all(|c| on_v1(c)) {
        format!("{what} {verb} on cgroup v1 here (hybrid): no limits or throttling on cgroup2")
    } else {
        format!("{what} {verb} not available on cgroup2")
    };
    Some(Arc::from(note))
}

#[derive(Debug)]
pub struct UnitStatsReader {
    mount: PathBuf,
    note: Option<Arc<str>>,
    open: HashMap<String, OpenFiles>,
}

impl UnitStatsReader {
    /// `mount`: where cgroup2 is mounted; `proc_root`: for /proc/cgroups.
    pub fn new(mount: &Path, proc_root: &Path) -> Self {
        UnitStatsReader {
            mount: mount.to_path_buf(),
            note: v1_note(mount, proc_root),
            open: HashMap::new(),
        }
    }

    /// The stats of cgroup `path` ("/system.slice/x.service"); None when
    /// it cannot be read (removed).
    pub fn read(&mut self, path: &str) -> Option<UnitCgroupStats> {
        if let Some(stats) = self.open.get(path).and_then(OpenFiles::read) {
            return Some(stats);
        }
        // Not open yet, or stale (a removed cgroup's files read ENODEV).
        self.open.remove(path);
        let relative = path.trim_start_matches('/');
        let dir = self.mount.join(OsStr::from_bytes(&decode_path(relative)));
        let files = OpenFiles::open(&dir, self.note.as_ref())?;
        let stats = files.read()?;
        if self.open.len() < MAX_OPEN_CGROUPS {
            self.open.insert(path.to_owned(), files);
        }
        Some(stats)
    }

    /// Closes the files of cgroups for which `live` is false.
    pub fn retain(&mut self, live: impl Fn(&str) -> bool) {
        self.open.retain(|path, _| live(path));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn pressure_some_avg10_not_full() {
        let text = "some avg10=12.50 avg60=3.00 avg300=1.00 total=123\n\
                    full avg10=99.00 avg60=0.00 avg300=0.00 total=0\n";
        assert_eq!(parse_pressure_some_avg10(text), Some(12.5));
        assert_eq!(parse_pressure_some_avg10("full avg10=1.00\n"), None);
        assert_eq!(parse_pressure_some_avg10("some avg10=x\n"), None);
        assert_eq!(parse_pressure_some_avg10(""), None);
    }

    #[test]
    fn keyed_files() {
        let stat = "usage_usec 100\nuser_usec 60\nsystem_usec 40\nnr_periods 7\n\
                    nr_throttled 5\nthrottled_usec 4000\nnr_bursts 0\n";
        assert_eq!(parse_keyed(stat, "nr_throttled"), Some(5));
        assert_eq!(parse_keyed(stat, "throttled_usec"), Some(4000));
        assert_eq!(parse_keyed(stat, "usage_usec"), Some(100));
        let events = "low 0\nhigh 17\nmax 2\noom 1\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(parse_keyed(events, "high"), Some(17));
        // "oom" must not be taken for "oom_kill", nor the reverse.
        assert_eq!(parse_keyed(events, "oom_kill"), Some(1));
        assert_eq!(parse_keyed("oom_kill_x 3\n", "oom_kill"), None);
    }

    #[test]
    fn limits() {
        assert_eq!(parse_limit("max\n"), Some(Limit::Unlimited));
        assert_eq!(parse_limit("1048576\n"), Some(Limit::Bytes(1 << 20)));
        assert_eq!(parse_limit("-1"), None);
        let half = parse_cpu_max("50000 100000\n").unwrap();
        assert_eq!(half.cpus(), Some(0.5));
        let none = parse_cpu_max("max 100000\n").unwrap();
        assert_eq!(none.quota_usec, None);
        assert_eq!(none.cpus(), None);
        assert_eq!(parse_cpu_max("20000"), None);
        assert_eq!(parse_cpu_max("x 100000"), None);
    }

    #[test]
    fn note_names_controllers_bound_to_v1() {
        let hybrid = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n\
                      cpu\t1\t5\t1\nmemory\t4\t22\t1\nhugetlb\t0\t5\t1\n";
        let note = note_from(&["hugetlb"], hybrid).unwrap();
        assert!(
            note.contains("cpu and memory controllers are on cgroup v1"),
            "{note}"
        );
        assert_eq!(note_from(&["cpu", "memory", "io"], hybrid), None);
        let cpu_only_v1 = "cpu\t1\t5\t1\nmemory\t0\t5\t1\n";
        let note = note_from(&["memory"], cpu_only_v1).unwrap();
        assert!(note.starts_with("cpu controller is on cgroup v1"), "{note}");
        let note = note_from(&["cpu"], "memory\t0\t1\t1\n").unwrap();
        assert!(note.contains("not available"), "{note}");
    }

    #[test]
    fn missing_cgroup_reads_none_and_opens_nothing() {
        let mut reader = UnitStatsReader::new(Path::new("/nonexistent-mount"), Path::new("/proc"));
        assert_eq!(reader.read("/a.service"), None);
        assert!(reader.open.is_empty());
    }
}
