//! One refresh of GPU usage from every source this machine has: NVML for
//! NVIDIA GPUs, DRM fdinfo for the others.
//!
//! DRM clients are found by looking at every open file of the system for
//! DRM device files (a BPF `iter/task_file` walk, or /proc/PID/fd without
//! BPF). That is far more work than reading the few fdinfo files it finds,
//! so it runs every [`RESCAN_NS`], while the fdinfo files found are read at
//! every refresh. A process that opens a GPU is therefore shown within
//! that interval; one that closes it disappears at the next refresh (its
//! fdinfo no longer names a DRM driver).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::discovery::{DrmFd, DrmFdScan};
use super::fdinfo::{self, DrmUsage, FdReading};
use super::nvml::NvmlSource;
use super::GpuSnapshot;
use crate::collect::sample::GpuStatus;

/// How often the system's open files are searched for DRM devices.
pub const RESCAN_NS: u64 = 5_000_000_000;

/// The DRM side: where clients are found and how their readings add up.
struct DrmSource {
    scan: Box<dyn DrmFdScan + Send>,
    usage: DrmUsage,
    fds: Vec<DrmFd>,
    last_scan_ns: Option<u64>,
}

pub struct GpuCollector {
    proc_root: PathBuf,
    nvml: Option<NvmlSource>,
    drm: Option<DrmSource>,
    /// Indices NVML devices may take (DRM devices are numbered after them).
    nvml_slots: u32,
    status: GpuStatus,
}

/// Whether sysfs lists any DRM device node (card* or renderD*).
pub fn has_drm_devices(sys_root: &Path) -> bool {
    fs::read_dir(sys_root.join("class/drm"))
        .map(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                (name.starts_with("card") && !name.contains('-')) || name.starts_with("renderD")
            })
        })
        .unwrap_or(false)
}

impl GpuCollector {
    /// `nvml`: the opened library or why not; `scan`: how to find DRM files
    /// (with a description), or None when GPUs are not wanted at all.
    pub fn new(
        proc_root: &Path,
        sys_root: &Path,
        nvml: Result<NvmlSource, String>,
        scan: Option<(Box<dyn DrmFdScan + Send>, String)>,
    ) -> GpuCollector {
        let (nvml, nvml_status) = match nvml {
            Ok(source) => (Some(source), Ok("NVIDIA GPUs through NVML".to_owned())),
            Err(reason) => (None, Err(reason)),
        };
        let (drm, drm_status) = match scan {
            None => (None, Err("turned off".to_owned())),
            Some(_) if !has_drm_devices(sys_root) => (
                None,
                Err(format!(
                    "no DRM devices ({} lists no card or render node)",
                    sys_root.join("class/drm").display()
                )),
            ),
            Some((scan, how)) => (
                Some(DrmSource {
                    scan,
                    usage: DrmUsage::default(),
                    fds: Vec::new(),
                    last_scan_ns: None,
                }),
                Ok(how),
            ),
        };
        GpuCollector {
            proc_root: proc_root.to_path_buf(),
            nvml,
            drm,
            nvml_slots: 0,
            status: GpuStatus {
                nvml: nvml_status,
                drm: drm_status,
            },
        }
    }

    /// A collector that never reports a GPU (tests, fake data).
    pub fn off(reason: &str) -> GpuCollector {
        GpuCollector {
            proc_root: PathBuf::new(),
            nvml: None,
            drm: None,
            nvml_slots: 0,
            status: GpuStatus {
                nvml: Err(reason.to_owned()),
                drm: Err(reason.to_owned()),
            },
        }
    }

    pub fn status(&self) -> &GpuStatus {
        &self.status
    }

    /// Usage since the previous call, at monotonic time `now_ns`.
    pub fn collect(&mut self, now_ns: u64) -> GpuSnapshot {
        let mut snapshot = match &mut self.nvml {
            Some(nvml) => nvml.refresh(),
            None => GpuSnapshot::default(),
        };
        if let Some(last) = snapshot.devices.iter().map(|d| d.index).max() {
            self.nvml_slots = self.nvml_slots.max(last + 1);
        }
        let skip_nvidia = self.nvml.is_some();
        if let Some(drm) = &mut self.drm {
            let readings = drm.read(&self.proc_root, now_ns, skip_nvidia);
            let drm_snapshot = drm.usage.refresh(now_ns, self.nvml_slots, &readings);
            merge(&mut snapshot, drm_snapshot);
        }
        snapshot
    }
}

impl DrmSource {
    /// The fdinfo readings of every known DRM file, searching for files
    /// again when the last search is old.
    fn read(&mut self, proc_root: &Path, now_ns: u64, skip_nvidia: bool) -> Vec<FdReading> {
        let stale = self
            .last_scan_ns
            .is_none_or(|t| now_ns.saturating_sub(t) >= RESCAN_NS);
        if stale {
            // A failed search keeps the files found before.
            if let Ok(fds) = self.scan.scan() {
                self.fds = fds;
            }
            self.last_scan_ns = Some(now_ns);
        }
        let mut readings = Vec::with_capacity(self.fds.len());
        let mut gone = BTreeSet::new();
        for f in &self.fds {
            let path = proc_root.join(format!("{}/fdinfo/{}", f.pid, f.fd));
            let Ok(bytes) = fs::read(&path) else {
                // The process exited or closed the file.
                gone.insert(*f);
                continue;
            };
            let Some(client) = fdinfo::parse(&String::from_utf8_lossy(&bytes)) else {
                // The fd number now names another file.
                gone.insert(*f);
                continue;
            };
            // NVIDIA's DRM node would count an NVML GPU a second time.
            if skip_nvidia && client.driver.starts_with("nvidia") {
                continue;
            }
            readings.push(FdReading {
                pid: f.pid,
                fd: f.fd,
                client,
            });
        }
        self.fds.retain(|f| !gone.contains(f));
        readings
    }
}

/// Adds `more` (devices and per-process use) into `into`.
fn merge(into: &mut GpuSnapshot, more: GpuSnapshot) {
    into.devices.extend(more.devices);
    for (pid, usage) in more.processes {
        let entry = into.processes.entry(pid).or_default();
        entry.busy_percent += usage.busy_percent;
        entry.mem_bytes = entry.mem_bytes.saturating_add(usage.mem_bytes);
        entry.devices.extend(usage.devices);
        entry.devices.sort_unstable();
        entry.devices.dedup();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::collect::gpu::ProcessGpu;
    use crate::test_support::TempDir;
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    /// Always finds the same files; counts its searches.
    struct FixedScan(Vec<DrmFd>, Arc<AtomicU32>);

    impl DrmFdScan for FixedScan {
        fn scan(&mut self) -> anyhow::Result<Vec<DrmFd>> {
            self.1.fetch_add(1, Ordering::Relaxed);
            Ok(self.0.clone())
        }
    }

    /// A /proc with one process holding one amdgpu client, and a /sys
    /// with one render node.
    fn fixture(engine_ns: u64) -> (TempDir, PathBuf, PathBuf) {
        let dir = TempDir::new("gpu");
        let proc_root = dir.path().join("proc");
        let sys_root = dir.path().join("sys");
        fs::create_dir_all(proc_root.join("42/fdinfo")).unwrap();
        fs::create_dir_all(sys_root.join("class/drm/renderD128")).unwrap();
        write_client(&proc_root, engine_ns);
        (dir, proc_root, sys_root)
    }

    fn write_client(proc_root: &Path, engine_ns: u64) {
        let text = format!(
            "pos:\t0\nflags:\t02100002\ndrm-driver:\tamdgpu\ndrm-pdev:\t0000:03:00.0\n\
             drm-client-id:\t7\ndrm-engine-gfx:\t{engine_ns} ns\ndrm-resident-vram:\t1024 KiB\n"
        );
        fs::write(proc_root.join("42/fdinfo/5"), text).unwrap();
    }

    const SEC: u64 = 1_000_000_000;

    #[test]
    fn drm_clients_are_read_every_refresh_and_searched_for_rarely() {
        let (_dir, proc_root, sys_root) = fixture(0);
        let scans = Arc::new(AtomicU32::new(0));
        let fd = DrmFd {
            pid: 42,
            fd: 5,
            minor: 128,
        };
        let scan = FixedScan(vec![fd], scans.clone());
        let mut gpu = GpuCollector::new(
            &proc_root,
            &sys_root,
            Err("no NVIDIA library".into()),
            Some((Box::new(scan), "test".into())),
        );
        assert!(gpu.status().drm.is_ok());
        gpu.collect(SEC);
        // 300 ms of gfx in one second.
        write_client(&proc_root, 300_000_000);
        let snapshot = gpu.collect(2 * SEC);
        assert_eq!(
            scans.load(Ordering::Relaxed),
            1,
            "no second search within the interval"
        );
        let usage = &snapshot.processes[&42];
        assert!((usage.busy_percent - 30.0).abs() < 1e-9, "{usage:?}");
        assert_eq!(usage.mem_bytes, 1 << 20);
        assert_eq!(usage.devices, vec![0], "no NVML device: DRM starts at 0");

        gpu.collect(2 * SEC + RESCAN_NS);
        assert_eq!(
            scans.load(Ordering::Relaxed),
            2,
            "searched again after the interval"
        );

        // The process closed the file: it goes at the next refresh.
        fs::remove_file(proc_root.join("42/fdinfo/5")).unwrap();
        let snapshot = gpu.collect(3 * SEC + RESCAN_NS);
        assert!(!snapshot.processes.contains_key(&42));
    }

    #[test]
    fn no_drm_device_means_no_search() {
        let (_dir, proc_root, sys_root) = fixture(0);
        fs::remove_dir_all(sys_root.join("class/drm/renderD128")).unwrap();
        let scans = Arc::new(AtomicU32::new(0));
        let scan = FixedScan(Vec::new(), scans.clone());
        let mut gpu = GpuCollector::new(
            &proc_root,
            &sys_root,
            Err("no NVIDIA library".into()),
            Some((Box::new(scan), "test".into())),
        );
        assert!(gpu
            .status()
            .drm
            .as_ref()
            .unwrap_err()
            .contains("no DRM devices"));
        assert_eq!(gpu.collect(SEC), GpuSnapshot::default());
        assert_eq!(scans.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn sources_merge_per_process() {
        let mut a = GpuSnapshot::default();
        a.processes.insert(
            1,
            ProcessGpu {
                busy_percent: 10.0,
                mem_bytes: 100,
                devices: vec![0],
            },
        );
        let mut b = GpuSnapshot {
            devices: Vec::new(),
            processes: HashMap::new(),
        };
        b.processes.insert(
            1,
            ProcessGpu {
                busy_percent: 5.0,
                mem_bytes: 50,
                devices: vec![2, 0],
            },
        );
        merge(&mut a, b);
        assert_eq!(
            a.processes[&1],
            ProcessGpu {
                busy_percent: 15.0,
                mem_bytes: 150,
                devices: vec![0, 2],
            }
        );
    }
}
