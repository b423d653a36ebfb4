//! System-wide statistics: CPU times, memory, zram, load, uptime, PSI and
//! host network bytes.
//!
//! Every refresh reads the same fixed set of files (plus one mm_stat per zram
//! device), never anything per process. Parsers take the file's text so tests
//! can feed synthetic kernel output; they tolerate malformed input by skipping
//! or rejecting it, never by panicking.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::netdev::{parse_net_dev, InterfaceKinds};
use super::sample::{CpuTimes, MemInfo, Pressure, SystemSample, ZramStats};

/// Reads [`SystemSample`]s from a /proc and /sys tree.
pub struct SystemReader {
    proc_root: PathBuf,
    sys_root: PathBuf,
    /// Reused for every file so a refresh does not allocate per read.
    buf: String,
    files: KeptFiles,
    interfaces: InterfaceKinds,
}

/// Files kept open across refreshes and re-read with pread at offset 0,
/// which makes procfs and sysfs generate fresh contents: two syscalls per
/// file per refresh instead of open/read/read/close.
#[derive(Default)]
struct KeptFiles {
    open: HashMap<PathBuf, File>,
}

impl KeptFiles {
    fn read(&mut self, path: &Path, buf: &mut String) -> io::Result<()> {
        if let Some(file) = self.open.get(path) {
            if read_all_at_start(file, buf).is_ok() {
                return Ok(());
            }
            // The file went away (e.g. a zram device was removed): reopen.
            self.open.remove(path);
        }
        let file = File::open(path)?;
        read_all_at_start(&file, buf)?;
        self.open.insert(path.to_path_buf(), file);
        Ok(())
    }
}

fn read_all_at_start(file: &File, buf: &mut String) -> io::Result<()> {
    let mut bytes = std::mem::take(buf).into_bytes();
    bytes.clear();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = file.read_at(&mut chunk, bytes.len() as u64)?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
    *buf = String::from_utf8(bytes)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()))?;
    Ok(())
}

impl SystemReader {
    pub fn new(proc_root: &Path, sys_root: &Path) -> Self {
        SystemReader {
            proc_root: proc_root.to_path_buf(),
            sys_root: sys_root.to_path_buf(),
            buf: String::new(),
            files: KeptFiles::default(),
            interfaces: InterfaceKinds::new(sys_root),
        }
    }

    /// Takes one sample. Missing stat, meminfo, loadavg or uptime is an
    /// error (every kernel has them); missing pressure or zram files are not.
    pub fn read(&mut self) -> Result<SystemSample> {
        let (cpu_total, cpus) = self.required("stat", parse_stat)?;
        let mem = self.required("meminfo", parse_meminfo)?;
        let load = self.required("loadavg", |t| {
            parse_loadavg(t).context("expected three load averages")
        })?;
        let uptime_seconds =
            self.required("uptime", |t| parse_uptime(t).context("expected uptime"))?;
        let pressure = Pressure {
            cpu: self.pressure("cpu"),
            memory: self.pressure("memory"),
            io: self.pressure("io"),
        };
        let zram = self.zram();
        let swaps = self.proc_root.join("swaps");
        // No /proc/swaps (CONFIG_SWAP=n) means no swap at all.
        let swap_on_zram = self
            .optional(&swaps, |t| Some(parse_swaps_on_zram(t)))
            .unwrap_or(false);
        let net_dev_path = self.proc_root.join("net/dev");
        let net_dev = self
            .optional(&net_dev_path, |t| Some(parse_net_dev(t)))
            .map(|interfaces| self.interfaces.totals(&interfaces));
        let delayacct = self.proc_root.join("sys/kernel/task_delayacct");
        let delay_accounting = self.optional(&delayacct, |t| match t.trim() {
            "0" => Some(false),
            "1" => Some(true),
            _ => None,
        });
        Ok(SystemSample {
            cpu_total,
            cpus,
            mem,
            zram,
            swap_on_zram,
            load,
            uptime_seconds,
            pressure,
            net_dev,
            own_cgroup: Default::default(),
            delay_accounting,
        })
    }

    /// Reads and parses a file under proc_root; errors name the file.
    fn required<T>(&mut self, name: &str, parse: impl FnOnce(&str) -> Result<T>) -> Result<T> {
        let path = self.proc_root.join(name);
        self.files
            .read(&path, &mut self.buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        parse(&self.buf).with_context(|| format!("cannot parse {}", path.display()))
    }

    /// Reads and parses a file that may legitimately be absent.
    fn optional<T>(&mut self, path: &Path, parse: impl FnOnce(&str) -> Option<T>) -> Option<T> {
        self.files.read(path, &mut self.buf).ok()?;
        parse(&self.buf)
    }

    /// PSI is absent on kernels without CONFIG_PSI, and reads fail with
    /// EOPNOTSUPP when it is disabled at boot (psi=0).
    fn pressure(&mut self, resource: &str) -> Option<f64> {
        let path = self.proc_root.join("pressure").join(resource);
        self.optional(&path, parse_pressure)
    }

    /// Sums mm_stat over /sys/block/zram*. The directory is listed on every
    /// refresh because zram devices can be hot-added and removed.
    fn zram(&mut self) -> Option<ZramStats> {
        let entries = fs::read_dir(self.sys_root.join("block")).ok()?;
        let mut total: Option<ZramStats> = None;
        for entry in entries.flatten() {
            if !entry.file_name().as_encoded_bytes().starts_with(b"zram") {
                continue;
            }
            // Skip a device with no readable mm_stat (kernels before 4.1, or
            // one removed mid-walk): it holds no data we could count.
            let Some(dev) = self.optional(&entry.path().join("mm_stat"), parse_mm_stat) else {
                continue;
            };
            let sum = total.get_or_insert_with(ZramStats::default);
            sum.orig_bytes = sum.orig_bytes.saturating_add(dev.orig_bytes);
            sum.compr_bytes = sum.compr_bytes.saturating_add(dev.compr_bytes);
            sum.used_bytes = sum.used_bytes.saturating_add(dev.used_bytes);
        }
        total
    }
}

/// Parses /proc/stat's `cpu` line and its `cpuN` lines (in file order, which
/// lists online CPUs only). Malformed `cpuN` lines are skipped; a missing or
/// malformed `cpu` total line is an error.
pub fn parse_stat(text: &str) -> Result<(CpuTimes, Vec<(u32, CpuTimes)>)> {
    let mut total = None;
    let mut cpus = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let Some(id) = fields.next().and_then(|label| label.strip_prefix("cpu")) else {
            continue;
        };
        let Some(times) = parse_cpu_times(fields) else {
            continue;
        };
        if id.is_empty() {
            total = Some(times);
        } else if let Ok(n) = id.parse() {
            cpus.push((n, times));
        }
    }
    let total = total.context("no valid \"cpu\" line")?;
    Ok((total, cpus))
}

/// Parses the numbers after a cpu label. Kernels before 2.6.33 print fewer
/// than ten (the missing ones count as 0); fewer than four (user nice system
/// idle, present since 2.4) means the line is truncated.
fn parse_cpu_times<'a>(fields: impl Iterator<Item = &'a str>) -> Option<CpuTimes> {
    let mut values = [0u64; 10];
    let mut count = 0;
    for (slot, field) in values.iter_mut().zip(fields) {
        *slot = field.parse().ok()?;
        count += 1;
    }
    if count < 4 {
        return None;
    }
    Some(cpu_times(values))
}

/// The ten /proc/stat time columns, in the kernel's order.
fn cpu_times(values: [u64; 10]) -> CpuTimes {
    let [user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice] = values;
    CpuTimes {
        user,
        nice,
        system,
        idle,
        iowait,
        irq,
        softirq,
        steal,
        guest,
        guest_nice,
    }
}

/// Parses /proc/meminfo into bytes. Malformed lines are skipped and missing
/// fields read 0, but a text without MemTotal is an error: it is not
/// meminfo. Kernels before 3.14 lack MemAvailable; free + buffers + cached
/// then stands in for it (an overestimate, as it counts unreclaimable cache).
pub fn parse_meminfo(text: &str) -> Result<MemInfo> {
    let mut mem = MemInfo::default();
    let mut total = None;
    let mut available = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let Some(bytes) = parse_kb(value) else {
            continue;
        };
        match key {
            "MemTotal" => total = Some(bytes),
            "MemFree" => mem.free = bytes,
            "MemAvailable" => available = Some(bytes),
            "Buffers" => mem.buffers = bytes,
            "Cached" => mem.cached = bytes,
            "Shmem" => mem.shmem = bytes,
            "SReclaimable" => mem.sreclaimable = bytes,
            "SwapTotal" => mem.swap_total = bytes,
            "SwapFree" => mem.swap_free = bytes,
            "SwapCached" => mem.swap_cached = bytes,
            "Zswap" => mem.zswap = Some(bytes),
            "Zswapped" => mem.zswapped = Some(bytes),
            _ => {}
        }
    }
    mem.total = total.context("no MemTotal line")?;
    mem.available = available.unwrap_or_else(|| {
        mem.free
            .saturating_add(mem.buffers)
            .saturating_add(mem.cached)
    });
    Ok(mem)
}

/// Parses a meminfo value such as "  16384 kB" into bytes.
fn parse_kb(value: &str) -> Option<u64> {
    let mut parts = value.split_ascii_whitespace();
    let kb: u64 = parts.next()?.parse().ok()?;
    if parts.next() != Some("kB") {
        return None;
    }
    kb.checked_mul(1024)
}

/// Parses a zram device's mm_stat: its first three fields are
/// orig_data_size, compr_data_size and mem_used_total, in bytes.
pub fn parse_mm_stat(text: &str) -> Option<ZramStats> {
    let mut fields = text.split_ascii_whitespace().map(str::parse::<u64>);
    Some(ZramStats {
        orig_bytes: fields.next()?.ok()?,
        compr_bytes: fields.next()?.ok()?,
        used_bytes: fields.next()?.ok()?,
    })
}

/// Whether /proc/swaps lists an active zram device (`/dev/zramN`). The
/// header line and malformed lines are skipped; they never name zram.
pub fn parse_swaps_on_zram(text: &str) -> bool {
    text.lines()
        .filter_map(|line| line.split_ascii_whitespace().next())
        .filter_map(|path| path.strip_prefix("/dev/zram"))
        .any(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Parses /proc/loadavg's 1, 5 and 15 minute averages.
pub fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut fields = text.split_ascii_whitespace().map(str::parse::<f64>);
    Some([
        fields.next()?.ok()?,
        fields.next()?.ok()?,
        fields.next()?.ok()?,
    ])
}

/// Parses /proc/uptime's first number: seconds since boot.
pub fn parse_uptime(text: &str) -> Option<f64> {
    text.split_ascii_whitespace().next()?.parse().ok()
}

/// Parses the `some avg10=` percentage of a /proc/pressure file.
pub fn parse_pressure(text: &str) -> Option<f64> {
    let line = text.lines().find_map(|l| l.strip_prefix("some "))?;
    line.split_ascii_whitespace()
        .find_map(|field| field.strip_prefix("avg10="))?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "\
cpu  8199 1 3336 61672 642 2 48 83 4 5
cpu0 3218 0 1315 32328 97 0 7 39 0 0
cpu1 4981 1 2020 29344 545 2 41 44 4 5
intr 1234 0 0 0
ctxt 987654
btime 1700000000
processes 4321
procs_running 2
procs_blocked 0
softirq 1 2 3
";

    #[test]
    fn stat_modern_kernel() -> Result<()> {
        let (total, cpus) = parse_stat(STAT)?;
        assert_eq!(
            total,
            cpu_times([8199, 1, 3336, 61672, 642, 2, 48, 83, 4, 5])
        );
        assert_eq!(
            cpus,
            vec![
                (0, cpu_times([3218, 0, 1315, 32328, 97, 0, 7, 39, 0, 0])),
                (1, cpu_times([4981, 1, 2020, 29344, 545, 2, 41, 44, 4, 5])),
            ]
        );
        Ok(())
    }

    #[test]
    fn stat_old_kernel_with_seven_fields() -> Result<()> {
        let text = "cpu  10 20 30 40 50 60 70\ncpu0 1 2 3 4 5 6 7\nintr 0\n";
        let (total, cpus) = parse_stat(text)?;
        assert_eq!(total, cpu_times([10, 20, 30, 40, 50, 60, 70, 0, 0, 0]));
        assert_eq!(cpus, vec![(0, cpu_times([1, 2, 3, 4, 5, 6, 7, 0, 0, 0]))]);
        Ok(())
    }

    #[test]
    fn stat_keeps_file_order_and_gaps_of_offline_cpus() -> Result<()> {
        let text = "cpu 1 1 1 1\ncpu3 1 1 1 1\ncpu1 2 2 2 2\n";
        let (_, cpus) = parse_stat(text)?;
        let ids: Vec<u32> = cpus.iter().map(|(n, _)| *n).collect();
        assert_eq!(ids, vec![3, 1]);
        Ok(())
    }

    #[test]
    fn stat_skips_malformed_and_truncated_cpu_lines() -> Result<()> {
        let text = "\
cpu  1 2 3 4 5 6 7 8 9 10
cpu0 1 2 3
cpu1 1 2 x 4
cpuX 1 2 3 4
cpu2 -1 2 3 4
cpu3 99999999999999999999999 2 3 4
cpu4 1 2 3 4 5 6 7 8 9 10 11
cpu5
";
        let (_, cpus) = parse_stat(text)?;
        assert_eq!(cpus, vec![(4, cpu_times([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))]);
        Ok(())
    }

    #[test]
    fn stat_without_total_line_is_an_error() {
        assert!(parse_stat("").is_err());
        assert!(parse_stat("cpu0 1 2 3 4\n").is_err());
        assert!(parse_stat("cpu 1 2\ncpu0 1 2 3 4\n").is_err());
        assert!(parse_stat("\u{0}\u{ffff} garbage\n\n").is_err());
    }

    const MEMINFO: &str = "\
MemTotal:       16384000 kB
MemFree:         1000000 kB
MemAvailable:    8000000 kB
Buffers:          200000 kB
Cached:          4000000 kB
SwapCached:         1000 kB
Active:          5000000 kB
Shmem:            300000 kB
SReclaimable:     400000 kB
SwapTotal:       2000000 kB
SwapFree:        1500000 kB
Zswap:             12345 kB
Zswapped:          54321 kB
HugePages_Total:       0
";

    #[test]
    fn meminfo_converts_kb_to_bytes() -> Result<()> {
        let mem = parse_meminfo(MEMINFO)?;
        assert_eq!(
            mem,
            MemInfo {
                total: 16384000 * 1024,
                free: 1000000 * 1024,
                available: 8000000 * 1024,
                buffers: 200000 * 1024,
                cached: 4000000 * 1024,
                shmem: 300000 * 1024,
                sreclaimable: 400000 * 1024,
                swap_total: 2000000 * 1024,
                swap_free: 1500000 * 1024,
                swap_cached: 1000 * 1024,
                zswap: Some(12345 * 1024),
                zswapped: Some(54321 * 1024),
            }
        );
        Ok(())
    }

    #[test]
    fn meminfo_without_zswap() -> Result<()> {
        let text: String = MEMINFO
            .lines()
            .filter(|l| !l.starts_with("Zswap"))
            .map(|l| format!("{l}\n"))
            .collect();
        let mem = parse_meminfo(&text)?;
        assert_eq!(mem.zswap, None);
        assert_eq!(mem.zswapped, None);
        assert_eq!(mem.total, 16384000 * 1024);
        Ok(())
    }

    #[test]
    fn meminfo_old_kernel_estimates_available() -> Result<()> {
        let text = "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\n";
        let mem = parse_meminfo(text)?;
        assert_eq!(mem.available, 420 * 1024);
        assert_eq!(mem.swap_total, 0);
        Ok(())
    }

    #[test]
    fn meminfo_skips_malformed_lines() -> Result<()> {
        let text = "\
MemTotal: 1000 kB
MemFree: lots kB
Buffers: 20
Cached:
SwapTotal 5 kB
Shmem: 99999999999999999999 kB
MemAvailable: 18446744073709551615 kB
SwapFree: 7 kB
";
        let mem = parse_meminfo(text)?;
        assert_eq!(mem.total, 1000 * 1024);
        assert_eq!((mem.free, mem.buffers, mem.cached), (0, 0, 0));
        assert_eq!((mem.swap_total, mem.shmem), (0, 0));
        // MemAvailable overflowed as bytes, so it is estimated instead.
        assert_eq!(mem.available, 0);
        assert_eq!(mem.swap_free, 7 * 1024);
        Ok(())
    }

    #[test]
    fn meminfo_without_total_is_an_error() {
        assert!(parse_meminfo("").is_err());
        assert!(parse_meminfo("MemFree: 1 kB\n").is_err());
        assert!(parse_meminfo("MemTotal: 12").is_err());
    }

    #[test]
    fn mm_stat() {
        let text =
            "  4096000  1024000  1200000        0  1300000       12        3        0        0\n";
        assert_eq!(
            parse_mm_stat(text),
            Some(ZramStats {
                orig_bytes: 4096000,
                compr_bytes: 1024000,
                used_bytes: 1200000,
            })
        );
        assert_eq!(parse_mm_stat(""), None);
        assert_eq!(parse_mm_stat("1 2"), None);
        assert_eq!(parse_mm_stat("1 x 3"), None);
    }

    #[test]
    fn loadavg() {
        assert_eq!(
            parse_loadavg("0.52 1.25 2.00 3/456 7890\n"),
            Some([0.52, 1.25, 2.0])
        );
        assert_eq!(parse_loadavg("0.52 1.25"), None);
        assert_eq!(parse_loadavg("0.52 nope 2.00"), None);
        assert_eq!(parse_loadavg(""), None);
    }

    #[test]
    fn uptime() {
        assert_eq!(parse_uptime("12345.67 45678.90\n"), Some(12345.67));
        assert_eq!(parse_uptime("12345.67"), Some(12345.67));
        assert_eq!(parse_uptime(""), None);
        assert_eq!(parse_uptime("up 3 days"), None);
    }

    #[test]
    fn pressure() {
        let text = "some avg10=1.63 avg60=1.50 avg300=1.66 total=10069190\n\
                    full avg10=0.25 avg60=0.00 avg300=0.00 total=0\n";
        assert_eq!(parse_pressure(text), Some(1.63));
        // Only the "some" line counts, wherever it is.
        let full_first =
            "full avg10=9.00 avg60=0 avg300=0 total=0\nsome avg10=0.00 avg60=0 avg300=0 total=0\n";
        assert_eq!(parse_pressure(full_first), Some(0.0));
        assert_eq!(
            parse_pressure("full avg10=1.00 avg60=0 avg300=0 total=0\n"),
            None
        );
        assert_eq!(parse_pressure("some avg10=abc avg60=0.00\n"), None);
        assert_eq!(parse_pressure("some avg60=1.00\n"), None);
        assert_eq!(parse_pressure("some avg1"), None);
        assert_eq!(parse_pressure(""), None);
    }

    #[test]
    fn swaps_on_zram() {
        let header = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";
        let zram = "/dev/zram0                              partition\t8388604\t\t0\t\t100\n";
        let disk = "/dev/nvme0n1p3                          partition\t16777212\t1024\t\t-2\n";
        assert!(parse_swaps_on_zram(&format!("{header}{zram}")));
        assert!(parse_swaps_on_zram(&format!("{header}{disk}{zram}")));
        assert!(!parse_swaps_on_zram(&format!("{header}{disk}")));
        // Only the header: swap is off.
        assert!(!parse_swaps_on_zram(header));
        assert!(!parse_swaps_on_zram(""));
        // A file merely named like zram, or a zram-ish name without a
        // device number, is not a zram device.
        assert!(!parse_swaps_on_zram("/swap/dev/zram0 file 100 0 -2\n"));
        assert!(!parse_swaps_on_zram("/dev/zram file 100 0 -2\n"));
        assert!(!parse_swaps_on_zram("/dev/zram0.img file 100 0 -2\n"));
        assert!(parse_swaps_on_zram("/dev/zram12 partition 100 0 5\n"));
    }

    /// A directory under the system temp dir, removed when dropped so a
    /// failing test leaves nothing behind.
    struct Fixture(PathBuf);

    impl Fixture {
        fn new(name: &str) -> Result<Self> {
            let dir = std::env::temp_dir().join(format!(
                "bpftop-system-{name}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir)?;
            Ok(Fixture(dir))
        }

        fn write(&self, rel: &str, text: &str) -> Result<()> {
            let path = self.0.join(rel);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::write(&path, text)?;
            Ok(())
        }

        fn reader(&self) -> SystemReader {
            SystemReader::new(&self.0.join("proc"), &self.0.join("sys"))
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn write_proc_basics(fx: &Fixture) -> Result<()> {
        fx.write("proc/stat", STAT)?;
        fx.write("proc/meminfo", MEMINFO)?;
        fx.write("proc/loadavg", "0.50 0.25 0.10 1/100 4242\n")?;
        fx.write("proc/uptime", "3600.25 7000.00\n")
    }

    #[test]
    fn reader_reads_fixture_tree_and_sums_zram() -> Result<()> {
        let fx = Fixture::new("full")?;
        write_proc_basics(&fx)?;
        fx.write(
            "proc/pressure/cpu",
            "some avg10=1.50 avg60=0 avg300=0 total=0\n",
        )?;
        fx.write(
            "proc/pressure/memory",
            "some avg10=0.75 avg60=0 avg300=0 total=0\nfull avg10=0.5 avg60=0 avg300=0 total=0\n",
        )?;
        fx.write("proc/pressure/io", "garbage\n")?;
        fx.write("sys/block/zram0/mm_stat", "100 40 50 0 60 0 0 0 0\n")?;
        fx.write("sys/block/zram1/mm_stat", "1000 400 500 0 600 0 0 0 0\n")?;
        // Not initialised: empty mm_stat, or none at all; both are skipped.
        fx.write("sys/block/zram2/mm_stat", "")?;
        fx.write("sys/block/zram3/disksize", "0\n")?;
        fx.write("sys/block/loop0/mm_stat", "9 9 9\n")?;
        fx.write(
            "proc/swaps",
            "Filename Type Size Used Priority\n/dev/zram0 partition 100 0 100\n",
        )?;

        let sample = fx.reader().read()?;
        assert_eq!(sample.cpu_total.user, 8199);
        assert_eq!(sample.cpus.len(), 2);
        assert_eq!(sample.mem, parse_meminfo(MEMINFO)?);
        assert_eq!(sample.load, [0.5, 0.25, 0.1]);
        assert_eq!(sample.uptime_seconds, 3600.25);
        assert_eq!(
            sample.pressure,
            Pressure {
                cpu: Some(1.5),
                memory: Some(0.75),
                io: None,
            }
        );
        assert_eq!(
            sample.zram,
            Some(ZramStats {
                orig_bytes: 1100,
                compr_bytes: 440,
                used_bytes: 550,
            })
        );
        assert!(sample.swap_on_zram);
        Ok(())
    }

    #[test]
    fn reader_rereads_swaps_when_swap_is_turned_on() -> Result<()> {
        let fx = Fixture::new("swaps")?;
        write_proc_basics(&fx)?;
        let header = "Filename Type Size Used Priority\n";
        fx.write("proc/swaps", header)?;
        let mut reader = fx.reader();
        assert!(!reader.read()?.swap_on_zram);
        // Same file, new contents: the kept-open file must be read afresh.
        fx.write(
            "proc/swaps",
            &format!("{header}/dev/zram0 partition 100 0 100\n"),
        )?;
        assert!(reader.read()?.swap_on_zram);
        Ok(())
    }

    #[test]
    fn reader_without_optional_files() -> Result<()> {
        let fx = Fixture::new("minimal")?;
        write_proc_basics(&fx)?;
        fx.write("sys/block/vda/size", "0\n")?;
        let sample = fx.reader().read()?;
        assert_eq!(sample.zram, None);
        assert!(!sample.swap_on_zram);
        assert_eq!(sample.pressure, Pressure::default());
        Ok(())
    }

    #[test]
    fn reader_errors_name_the_missing_file() -> Result<()> {
        let fx = Fixture::new("missing")?;
        write_proc_basics(&fx)?;
        fs::remove_file(fx.0.join("proc/meminfo"))?;
        let err = format!("{:#}", fx.reader().read().err().context("expected error")?);
        assert!(err.contains("proc/meminfo"), "{err}");

        fs::remove_file(fx.0.join("proc/stat"))?;
        let err = format!("{:#}", fx.reader().read().err().context("expected error")?);
        assert!(err.contains("proc/stat"), "{err}");
        Ok(())
    }

    #[test]
    fn reader_errors_name_the_unparsable_file() -> Result<()> {
        let fx = Fixture::new("garbled")?;
        write_proc_basics(&fx)?;
        fx.write("proc/uptime", "soon\n")?;
        let err = format!("{:#}", fx.reader().read().err().context("expected error")?);
        assert!(err.contains("proc/uptime"), "{err}");
        Ok(())
    }

    fn sysinfo() -> Result<libc::sysinfo> {
        // SAFETY: sysinfo is plain old data, so all-zero is a valid value,
        // and the kernel only writes into the struct we pass.
        let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
        // SAFETY: info is a valid, writable sysinfo struct.
        if unsafe { libc::sysinfo(&mut info) } != 0 {
            return Err(io::Error::last_os_error().into());
        }
        Ok(info)
    }

    #[test]
    fn reader_matches_the_running_kernel() -> Result<()> {
        let before = sysinfo()?;
        let sample = SystemReader::new(Path::new("/proc"), Path::new("/sys")).read()?;
        let after = sysinfo()?;

        let total = before.totalram as u64 * u64::from(before.mem_unit);
        let page = crate::collect::clock::page_size();
        assert!(
            sample.mem.total.abs_diff(total) <= page,
            "MemTotal {} vs sysinfo {total}",
            sample.mem.total
        );
        assert!(sample.mem.available <= sample.mem.total);

        // SAFETY: sysconf has no preconditions.
        let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
        assert_eq!(sample.cpus.len(), usize::try_from(online)?);

        // sysinfo rounds uptime up to whole seconds.
        let uptime = sample.uptime_seconds;
        assert!(
            before.uptime as f64 - 1.0 <= uptime && uptime <= after.uptime as f64,
            "uptime {uptime} vs sysinfo {}..{}",
            before.uptime,
            after.uptime
        );

        // The kept-open /proc/swaps gives what a fresh read gives.
        let swaps = fs::read_to_string("/proc/swaps").unwrap_or_default();
        assert_eq!(sample.swap_on_zram, parse_swaps_on_zram(&swaps));

        if fs::read("/proc/pressure/cpu").is_ok() {
            assert!(sample.pressure.cpu.is_some());
        }
        Ok(())
    }

    /// Property tests: no input makes a parser panic, and what a parser
    /// accepts it reads exactly.
    mod props {
        use super::*;
        use proptest::prelude::*;

        use crate::test_support::proptest_config as config;

        /// Arbitrary bytes as the lossy text the readers pass on.
        fn text() -> impl Strategy<Value = String> {
            prop::collection::vec(any::<u8>(), 0..2048)
                .prop_map(|b| String::from_utf8_lossy(&b).into_owned())
        }

        /// One whitespace-free token that is not a u64: what a corrupted or
        /// future kernel could print where a number is expected.
        fn bad_number() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("-1".to_owned()),
                Just("18446744073709551616".to_owned()),
                Just("99999999999999999999999999999999".to_owned()),
                Just("1e9".to_owned()),
                Just("0x10".to_owned()),
                Just("NaN".to_owned()),
                Just("\0".to_owned()),
                Just("\u{fffd}".to_owned()),
                "[a-z(),.:=\u{e9}]{1,8}",
                "[0-9]{1,5}[^0-9\\s]{1,3}",
            ]
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn arbitrary_text_never_panics(text in text()) {
                let _ = parse_stat(&text);
                if let Ok(mem) = parse_meminfo(&text) {
                    // Every value read is a kB count turned into bytes.
                    prop_assert_eq!(mem.total % 1024, 0);
                    prop_assert_eq!(mem.swap_free % 1024, 0);
                }
                let _ = parse_mm_stat(&text);
                let _ = parse_swaps_on_zram(&text);
                let _ = parse_loadavg(&text);
                let _ = parse_uptime(&text);
                let _ = parse_pressure(&text);
            }

            #[test]
            fn stat_lines_round_trip(
                values in prop::array::uniform10(any::<u64>()),
                count in 4usize..=10,
                cpu in any::<u32>(),
            ) {
                let shown: Vec<String> =
                    values.iter().take(count).map(u64::to_string).collect();
                let line = shown.join(" ");
                let (total, cpus) = parse_stat(&format!("cpu  {line}\ncpu{cpu} {line}\nintr 1\n"))
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let mut expected = [0u64; 10];
                expected[..count].copy_from_slice(&values[..count]);
                prop_assert_eq!(total, cpu_times(expected));
                prop_assert_eq!(cpus, vec![(cpu, cpu_times(expected))]);
            }

            #[test]
            fn stat_with_one_cpu_field_mangled_skips_only_that_line(
                field in 0usize..10,
                bad in bad_number(),
            ) {
                let mut fields: Vec<String> = (1..=10).map(|n: u32| n.to_string()).collect();
                fields[field] = bad;
                let text = format!(
                    "cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 {}\ncpu1 1 1 1 1\n",
                    fields.join(" ")
                );
                let (total, cpus) =
                    parse_stat(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(total, cpu_times([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
                prop_assert_eq!(cpus, vec![(1, cpu_times([1, 1, 1, 1, 0, 0, 0, 0, 0, 0]))]);
            }

            #[test]
            fn meminfo_reads_what_it_is_given(
                values in prop::collection::vec(prop::option::of(any::<u64>()), 12),
                junk in prop::collection::vec("[A-Za-z_()]{1,12}: [^\n]{0,20}", 0..4),
            ) {
                const KEYS: [&str; 12] = [
                    "MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "Shmem",
                    "SReclaimable", "SwapTotal", "SwapFree", "SwapCached", "Zswap", "Zswapped",
                ];
                let mut text = junk.join("\n");
                text.push('\n');
                for (key, value) in KEYS.iter().zip(&values) {
                    if let Some(v) = value {
                        text.push_str(&format!("{key}:   {v} kB\n"));
                    }
                }
                // A value that overflows as bytes is skipped like a missing one.
                let bytes = |i: usize| values[i].and_then(|v| v.checked_mul(1024));
                let parsed = parse_meminfo(&text);
                let junk_total = junk.iter().any(|l| l.starts_with("MemTotal:"));
                if junk_total {
                    return Ok(());
                }
                match bytes(0) {
                    None => prop_assert!(parsed.is_err()),
                    Some(total) => {
                        let mem = parsed.map_err(|e| TestCaseError::fail(e.to_string()))?;
                        prop_assert_eq!(mem.total, total);
                        prop_assert_eq!(mem.free, bytes(1).unwrap_or(0));
                        prop_assert_eq!(mem.buffers, bytes(3).unwrap_or(0));
                        prop_assert_eq!(mem.cached, bytes(4).unwrap_or(0));
                        prop_assert_eq!(mem.swap_free, bytes(8).unwrap_or(0));
                        prop_assert_eq!(mem.zswap, bytes(10));
                        prop_assert_eq!(mem.zswapped, bytes(11));
                        let estimate = mem
                            .free
                            .saturating_add(mem.buffers)
                            .saturating_add(mem.cached);
                        prop_assert_eq!(mem.available, bytes(2).unwrap_or(estimate));
                    }
                }
            }

            #[test]
            fn small_files_round_trip(
                a in any::<u64>(),
                b in any::<u64>(),
                c in any::<u64>(),
                load in prop::array::uniform3(0u32..100_000),
                some in 0u32..10_000,
            ) {
                prop_assert_eq!(
                    parse_mm_stat(&format!("{a:>9} {b:>9} {c} 0 7 1 2\n")),
                    Some(ZramStats { orig_bytes: a, compr_bytes: b, used_bytes: c })
                );
                let hundredths = |n: u32| format!("{}.{:02}", n / 100, n % 100);
                let want = |n: u32| f64::from(n) / 100.0;
                let text = format!(
                    "{} {} {} 3/456 7890\n",
                    hundredths(load[0]),
                    hundredths(load[1]),
                    hundredths(load[2])
                );
                prop_assert_eq!(
                    parse_loadavg(&text),
                    Some([want(load[0]), want(load[1]), want(load[2])])
                );
                prop_assert_eq!(
                    parse_uptime(&format!("{} 1.00\n", hundredths(some))),
                    Some(want(some))
                );
                let pressure = format!(
                    "full avg10=99.00 avg60=0 avg300=0 total=0\nsome avg10={} avg60=0 avg300=0 total=1\n",
                    hundredths(some)
                );
                prop_assert_eq!(parse_pressure(&pressure), Some(want(some)));
            }

            #[test]
            fn only_dev_zram_n_counts_as_zram_swap(
                name in "(/dev/zram[0-9]{0,3}|/dev/[a-z]{1,6}[0-9]?|[^\\s]{1,12})[^\\s]{0,4}",
                rest in "[ \t][^\n]{0,30}",
            ) {
                let text = format!("Filename Type Size Used Priority\n{name}{rest}\n");
                let zram = name
                    .strip_prefix("/dev/zram")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
                prop_assert_eq!(parse_swaps_on_zram(&text), zram);
            }
        }

        proptest! {
            // Long inputs are slow to build unoptimised: fewer cases.
            #![proptest_config(ProptestConfig { cases: 16, ..config() })]

            #[test]
            fn very_long_lines_never_panic(len in 0usize..100_000, digit in 0u8..10) {
                let digits = char::from(b'0' + digit).to_string().repeat(len);
                let _ = parse_stat(&format!("cpu {digits} {digits} {digits} {digits}\n"));
                let _ = parse_meminfo(&format!("MemTotal: {digits} kB\n"));
                let _ = parse_loadavg(&format!("{digits}.{digits} 0 0\n"));
                let _ = parse_pressure(&format!("some avg10={digits}\n"));
            }
        }
    }
}
