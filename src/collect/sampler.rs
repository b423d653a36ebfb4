//! A sampler: the chosen process backend plus the system-wide readers and
//! the user table, producing one complete [`Sample`] per refresh.

use std::path::{Path, PathBuf};

use super::backend::open;
use super::bpf::drm_fds::BpfDrmScan;
use super::catalog::Catalog;
use super::cgroups::find_cgroup2_mount;
use super::frozen_v1::find_freezer_mount;
use super::gpu::collector::{has_drm_devices, GpuCollector, RESCAN_NS};
use super::gpu::discovery::{DrmFdScan, ProcfsDrmScan};
use super::gpu::nvml::{self, NvmlSource};
use super::own_cgroup::OwnCgroupReader;
use super::sample::{BackendKind, Sample};
use super::smaps::read_smaps_rollup;
use super::system::SystemReader;
use super::users::UserTable;
use super::{BackendChoice, CollectOptions, Collector};

pub struct Sampler {
    proc_root: PathBuf,
    collector: Box<dyn Collector + Send>,
    system: SystemReader,
    users: UserTable,
    catalog: Catalog,
    gpu: GpuCollector,
    fallback_reason: Option<String>,
    /// Processes whose smaps_rollup each sample reads (see `inspect`).
    inspected: Vec<u32>,
    /// bpftop's own cgroup, for meters scaled to its limits.
    own_cgroup: OwnCgroupReader,
    /// The processes on screen, ascending: the only ones whose I/O
    /// priority is read.
    on_screen: Vec<u32>,
}

/// The GPU sources for a sampler whose process backend is `backend`.
pub fn open_gpu(options: &CollectOptions, backend: BackendKind) -> GpuCollector {
    if !options.gpu {
        return GpuCollector::off("turned off (--no-gpu)");
    }
    let nvml = nvml::open().map(|api| NvmlSource::new(Box::new(api)));
    let every = RESCAN_NS / 1_000_000_000;
    let procfs_scan = || -> (Box<dyn DrmFdScan + Send>, String) {
        (
            Box::new(ProcfsDrmScan::new(options.proc_root.clone())),
            format!("DRM files found through /proc/PID/fd every {every} s"),
        )
    };
    // Without DRM devices nothing will be searched: no BPF program to load.
    let use_bpf = backend == BackendKind::Bpf && has_drm_devices(&options.sys_root);
    let scan = if use_bpf {
        match BpfDrmScan::open() {
            Ok(scan) => (
                Box::new(scan) as Box<dyn DrmFdScan + Send>,
                format!("DRM files found by a BPF task_file walk every {every} s"),
            ),
            Err(_) => procfs_scan(),
        }
    } else {
        procfs_scan()
    };
    GpuCollector::new(&options.proc_root, &options.sys_root, nvml, Some(scan))
}

impl Sampler {
    /// Opens the backend the user chose; `auto` records why it fell back.
    pub fn open(
        choice: BackendChoice,
        options: &CollectOptions,
        passwd: PathBuf,
    ) -> anyhow::Result<Self> {
        let opened = open(choice, options)?;
        let gpu = open_gpu(options, opened.collector.kind());
        let mut catalog = Catalog::new(
            Path::new("/"),
            find_cgroup2_mount(&options.proc_root).as_deref(),
        );
        if let Some(mount) = find_freezer_mount(&options.proc_root) {
            catalog.follow_v1_freezer(&options.proc_root, &mount);
        }
        Ok(Sampler {
            gpu,
            proc_root: options.proc_root.clone(),
            collector: opened.collector,
            system: SystemReader::new(&options.proc_root, &options.sys_root),
            users: UserTable::new(&passwd),
            catalog,
            fallback_reason: opened.fallback_reason,
            inspected: Vec::new(),
            own_cgroup: OwnCgroupReader::new(&options.proc_root),
            on_screen: Vec::new(),
        })
    }

    pub fn backend(&self) -> BackendKind {
        self.collector.kind()
    }

    /// Why `auto` did not get the bpf backend, if it did not.
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback_reason.as_deref()
    }

    /// Takes one complete sample.
    pub fn sample(&mut self) -> anyhow::Result<Sample> {
        let mut sample = self.collector.collect()?;
        sample.system = self.system.read()?;
        sample.system.own_cgroup = self.own_cgroup.read(sample.system.mem.total);
        sample.cgroups = self.catalog.describe(&sample.processes);
        // Exits, and processes of earlier exits whose final CPU came now.
        let exits = &sample.exits;
        let paths = (exits.processes.iter().map(|p| &p.cgroup))
            .chain(exits.late.iter().map(|l| &l.cgroup))
            .filter_map(|c| c.as_deref());
        self.catalog.describe_exited(paths, &mut sample.cgroups);
        sample.gpu = self.gpu.collect(sample.boottime_ns);
        sample.gpu_status = self.gpu.status().clone();
        self.read_io_priorities(&mut sample);
        self.users.refresh();
        for &pid in &self.inspected {
            if let Some(p) = sample.processes.iter_mut().find(|p| p.pid == pid) {
                p.rollup = read_smaps_rollup(&self.proc_root, pid).map(Box::new);
            }
        }
        Ok(sample)
    }

    /// Read these processes' PSS and USS (`ProcessSample::rollup`) at
    /// every sample from now on, replacing the previous set. The kernel
    /// walks a process's page tables for them: ask for a few processes
    /// (the one a user looks at), never for all.
    pub fn inspect(&mut self, pids: &[u32]) {
        self.inspected.clear();
        self.inspected.extend_from_slice(pids);
    }

    /// What each GPU source is doing.
    pub fn gpu_status(&self) -> &super::sample::GpuStatus {
        self.gpu.status()
    }

    pub fn proc_root(&self) -> &Path {
        &self.proc_root
    }

    pub fn set_threads(&mut self, threads: bool) {
        self.collector.set_threads(threads);
    }

    /// See `Collector::defer_cmdlines`.
    pub fn defer_cmdlines(&mut self, defer: bool) {
        self.collector.defer_cmdlines(defer);
    }

    /// See `Collector::set_extras`.
    pub fn set_extras(&mut self, extras: super::Extras) {
        self.collector.set_extras(extras);
    }

    /// See `Collector::watch_titles`.
    pub fn watch_titles(&mut self, pids: &[u32]) {
        self.collector.watch_titles(pids);
    }

    /// The processes on screen: their titles are read at every refresh
    /// (`watch_titles`), and their I/O priority (one syscall each, so a
    /// refresh costs the same at any number of processes).
    pub fn watch_on_screen(&mut self, pids: &[u32]) {
        self.watch_titles(pids);
        self.on_screen = pids.to_vec();
        self.on_screen.sort_unstable();
        self.on_screen.dedup();
    }

    fn read_io_priorities(&self, sample: &mut Sample) {
        if self.on_screen.is_empty() {
            return;
        }
        for p in &mut sample.processes {
            if self.on_screen.binary_search(&p.pid).is_ok() {
                p.io_priority = super::ioprio::io_priority(p.pid);
            }
        }
    }

    /// The uid of a user name, from the same passwd table.
    pub fn uid_of(&self, name: &str) -> Option<u32> {
        self.users.uid_of(name)
    }

    pub fn user_name(&self, uid: u32) -> String {
        self.users.name(uid)
    }
}
