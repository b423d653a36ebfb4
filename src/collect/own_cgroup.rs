//! The limits of bpftop's own cgroup (inside a container: the container's),
//! read each refresh from a handful of files found once at start: cgroup v2
//! where the controller is there, else the v1 hierarchy that holds it.

use std::fs;
use std::path::{Path, PathBuf};

use super::cgroup_stats::{parse_cpu_max, parse_keyed, parse_limit};
use super::sample::{Limit, OwnCgroup};

/// v1 "unlimited" is a huge page-aligned number: anything at or above this
/// is taken as no limit.
const V1_UNLIMITED: u64 = 1 << 62;

/// The directories of bpftop's own cgroup: v2, and v1 per controller.
#[derive(Debug, Default, Clone)]
pub struct OwnCgroupReader {
    v2: Option<PathBuf>,
    v1_cpu: Option<PathBuf>,
    v1_cpuacct: Option<PathBuf>,
    v1_memory: Option<PathBuf>,
}

/// (mount point, fstype, super options) of each cgroup mount.
fn cgroup_mounts(mountinfo: &str) -> Vec<(PathBuf, String, String)> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mut r = right.split_whitespace();
            let (fstype, _, options) = (r.next()?, r.next()?, r.next()?);
            let point = left.split_whitespace().nth(4)?;
            fstype
                .starts_with("cgroup")
                .then(|| (PathBuf::from(point), fstype.to_owned(), options.to_owned()))
        })
        .collect()
}

impl OwnCgroupReader {
    /// Finds the directories from `proc_root`'s self/cgroup and
    /// self/mountinfo.
    pub fn new(proc_root: &Path) -> Self {
        let cgroup = fs::read_to_string(proc_root.join("self/cgroup")).unwrap_or_default();
        let mountinfo = fs::read_to_string(proc_root.join("self/mountinfo")).unwrap_or_default();
        Self::from_texts(&cgroup, &mountinfo)
    }

    pub fn from_texts(cgroup: &str, mountinfo: &str) -> Self {
        let mounts = cgroup_mounts(mountinfo);
        let mut reader = OwnCgroupReader::default();
        for line in cgroup.lines() {
            let mut f = line.splitn(3, ':');
            let (Some(_), Some(controllers), Some(path)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let relative = path.trim_start_matches('/');
            if controllers.is_empty() {
                reader.v2 = mounts
                    .iter()
                    .find(|(_, t, _)| t == "cgroup2")
                    .map(|(m, _, _)| m.join(relative));
                continue;
            }
            let dir_for = |name: &str| {
                mounts
                    .iter()
                    .find(|(_, t, o)| t == "cgroup" && o.split(',').any(|c| c == name))
                    .map(|(m, _, _)| m.join(relative))
            };
            let has = |name: &str| controllers.split(',').any(|c| c == name);
            if has("cpu") {
                reader.v1_cpu = dir_for("cpu");
            }
            if has("cpuacct") {
                reader.v1_cpuacct = dir_for("cpuacct");
            }
            if has("memory") {
                reader.v1_memory = dir_for("memory");
            }
        }
        reader
    }

    /// This refresh's limits and use; `mem_total`: the machine's memory (a
    /// limit at or above it limits nothing).
    pub fn read(&self, mem_total: u64) -> OwnCgroup {
        let text = |dir: &Option<PathBuf>, name: &str| {
            dir.as_ref()
                .and_then(|d| fs::read_to_string(d.join(name)).ok())
        };
        let v2 = |name: &str| text(&self.v2, name);
        let below_total = |b: u64| (b < mem_total && b < V1_UNLIMITED).then_some(b);
        let cpu_limit_cpus = match v2("cpu.max") {
            Some(t) => parse_cpu_max(&t).and_then(|m| m.cpus()),
            None => {
                let quota: Option<i64> =
                    text(&self.v1_cpu, "cpu.cfs_quota_us").and_then(|t| t.trim().parse().ok());
                let period: Option<u64> =
                    text(&self.v1_cpu, "cpu.cfs_period_us").and_then(|t| t.trim().parse().ok());
                match (quota, period) {
                    (Some(q), Some(p)) if q > 0 && p > 0 => Some(q as f64 / p as f64),
                    _ => None,
                }
            }
        };
        let cpu_usage_ns = v2("cpu.stat")
            .and_then(|t| parse_keyed(&t, "usage_usec"))
            .map(|us| us * 1000)
            .or_else(|| {
                text(&self.v1_cpuacct, "cpuacct.usage").and_then(|t| t.trim().parse().ok())
            });
        let (memory_limit_bytes, memory_usage_bytes, memory_cache_bytes) = match v2("memory.max") {
            Some(t) => (
                parse_limit(&t).and_then(Limit::bytes).and_then(below_total),
                v2("memory.current").and_then(|t| t.trim().parse().ok()),
                v2("memory.stat").and_then(|t| parse_keyed(&t, "file")),
            ),
            None => (
                text(&self.v1_memory, "memory.limit_in_bytes")
                    .and_then(|t| t.trim().parse().ok())
                    .and_then(below_total),
                text(&self.v1_memory, "memory.usage_in_bytes").and_then(|t| t.trim().parse().ok()),
                text(&self.v1_memory, "memory.stat").and_then(|t| parse_keyed(&t, "total_cache")),
            ),
        };
        OwnCgroup {
            cpu_limit_cpus,
            cpu_usage_ns,
            memory_limit_bytes,
            memory_usage_bytes,
            memory_cache_bytes,
            read_ns: super::clock::boottime_ns(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn hybrid_paths_per_controller() {
        let cgroup = "4:memory:/box\n2:cpuacct:/\n1:cpu:/box\n0::/box.scope\n";
        let r = OwnCgroupReader::from_texts(cgroup, MOUNTINFO);
        assert_eq!(
            r.v2.as_deref(),
            Some(Path::new("/sys/fs/cgroup/unified/box.scope"))
        );
        assert_eq!(
            r.v1_cpu.as_deref(),
            Some(Path::new("/sys/fs/cgroup/cpu/box"))
        );
        assert_eq!(
            r.v1_cpuacct.as_deref(),
            Some(Path::new("/sys/fs/cgroup/cpuacct"))
        );
        assert_eq!(
            r.v1_memory.as_deref(),
            Some(Path::new("/sys/fs/cgroup/memory/box"))
        );
    }

    #[test]
    fn v1_limits_are_read_and_unlimited_is_none() {
        let dir = std::env::temp_dir().join(format!("bpftop-own-cgroup-{}", std::process::id()));
        let cpu = dir.join("cpu");
        let memory = dir.join("memory");
        fs::create_dir_all(&cpu).unwrap();
        fs::create_dir_all(&memory).unwrap();
        fs::write(cpu.join("cpu.cfs_quota_us"), "150000\n").unwrap();
        fs::write(cpu.join("cpu.cfs_period_us"), "100000\n").unwrap();
        fs::write(memory.join("memory.limit_in_bytes"), "536870912\n").unwrap();
        fs::write(memory.join("memory.usage_in_bytes"), "104857600\n").unwrap();
        fs::write(memory.join("memory.stat"), "cache 1\ntotal_cache 4096\n").unwrap();
        let reader = OwnCgroupReader {
            v2: Some(dir.join("no-v2")),
            v1_cpu: Some(cpu.clone()),
            v1_cpuacct: None,
            v1_memory: Some(memory.clone()),
        };
        let own = reader.read(8 << 30);
        assert_eq!(own.cpu_limit_cpus, Some(1.5));
        assert_eq!(own.memory_limit_bytes, Some(512 << 20));
        assert_eq!(own.memory_usage_bytes, Some(100 << 20));
        assert_eq!(own.memory_cache_bytes, Some(4096));
        assert!(own.is_limited());
        fs::write(cpu.join("cpu.cfs_quota_us"), "-1\n").unwrap();
        fs::write(
            memory.join("memory.limit_in_bytes"),
            "9223372036854771712\n",
        )
        .unwrap();
        let own = reader.read(8 << 30);
        assert_eq!((own.cpu_limit_cpus, own.memory_limit_bytes), (None, None));
        assert!(!own.is_limited());
        fs::remove_dir_all(&dir).unwrap();
    }
}
