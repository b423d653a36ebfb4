//! NVIDIA GPUs through NVML.
//!
//! [`NvmlApi`] is the handful of NVML queries bpftop makes, by device index;
//! [`SystemNvml`] answers them from libnvidia-ml.so.1 (loaded at run time
//! by nvml-wrapper, so nothing NVIDIA is needed to build), and the tests
//! answer them from a script. [`NvmlSource`] turns the answers into a
//! [`GpuSnapshot`] once per refresh.
//!
//! Without the library, [`open`] fails once with the reason and the caller
//! holds no source: nothing is attempted per refresh.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use nvml_wrapper::enums::device::UsedGpuMemory;
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::struct_wrappers::device::{MemoryInfo, ProcessInfo, ProcessUtilizationSample};
use nvml_wrapper::Nvml;

use super::{GpuDevice, GpuSnapshot, GpuVendor, ProcessGpu};

/// The NVML queries bpftop makes; devices are NVML indices `0..device_count()`.
pub trait NvmlApi {
    /// Number of NVIDIA GPUs NVML sees.
    fn device_count(&self) -> Result<u32, NvmlError>;
    /// Product name ("NVIDIA H100 80GB HBM3").
    fn name(&self, device: u32) -> Result<String, NvmlError>;
    /// Percent of the driver's last sample period a kernel was running.
    fn gpu_utilization(&self, device: u32) -> Result<u32, NvmlError>;
    /// Framebuffer memory used and total.
    fn memory(&self, device: u32) -> Result<MemoryInfo, NvmlError>;
    /// Processes holding a compute (CUDA) context.
    fn compute_processes(&self, device: u32) -> Result<Vec<ProcessInfo>, NvmlError>;
    /// Processes holding a graphics (OpenGL, Vulkan) context.
    fn graphics_processes(&self, device: u32) -> Result<Vec<ProcessInfo>, NvmlError>;
    /// Per-process utilisation samples taken after `last_seen_us` (CPU
    /// wall-clock microseconds); `NotFound` when there are none.
    fn process_utilization(
        &self,
        device: u32,
        last_seen_us: u64,
    ) -> Result<Vec<ProcessUtilizationSample>, NvmlError>;
}

/// The system's NVML, loaded from libnvidia-ml.so.1.
pub struct SystemNvml {
    nvml: Nvml,
}

/// Loads and initialises NVML once. The error is a sentence for
/// `bpftop --check` saying what is missing.
pub fn open() -> Result<SystemNvml, String> {
    let nvml = Nvml::init().map_err(|e| init_failure(&e))?;
    match nvml.device_count() {
        Ok(0) => Err("NVML found no NVIDIA GPU".to_string()),
        Ok(_) => Ok(SystemNvml { nvml }),
        Err(e) => Err(format!("NVML cannot count NVIDIA GPUs: {e}")),
    }
}

/// Why `nvmlInit` failed, in the terms a user can act on.
fn init_failure(e: &NvmlError) -> String {
    match e {
        NvmlError::LibloadingError(e) => {
            format!("libnvidia-ml.so.1 not found (no NVIDIA driver): {e}")
        }
        NvmlError::FailedToLoadSymbol(s) => {
            format!("libnvidia-ml.so.1 lacks nvmlInit_v2 (NVIDIA driver too old): {s}")
        }
        NvmlError::DriverNotLoaded => {
            "libnvidia-ml.so.1 loaded, but the NVIDIA kernel driver is not".to_string()
        }
        NvmlError::NoPermission => "no permission to talk to the NVIDIA driver".to_string(),
        NvmlError::LibRmVersionMismatch => {
            "NVIDIA library and kernel driver versions differ (reboot after an upgrade?)"
                .to_string()
        }
        e => format!("NVIDIA NVML initialisation failed: {e}"),
    }
}

impl SystemNvml {
    fn device(&self, index: u32) -> Result<nvml_wrapper::Device<'_>, NvmlError> {
        self.nvml.device_by_index(index)
    }
}

impl NvmlApi for SystemNvml {
    fn device_count(&self) -> Result<u32, NvmlError> {
        self.nvml.device_count()
    }

    fn name(&self, device: u32) -> Result<String, NvmlError> {
        self.device(device)?.name()
    }

    fn gpu_utilization(&self, device: u32) -> Result<u32, NvmlError> {
        Ok(self.device(device)?.utilization_rates()?.gpu)
    }

    fn memory(&self, device: u32) -> Result<MemoryInfo, NvmlError> {
        self.device(device)?.memory_info()
    }

    fn compute_processes(&self, device: u32) -> Result<Vec<ProcessInfo>, NvmlError> {
        self.device(device)?.running_compute_processes()
    }

    fn graphics_processes(&self, device: u32) -> Result<Vec<ProcessInfo>, NvmlError> {
        self.device(device)?.running_graphics_processes()
    }

    fn process_utilization(
        &self,
        device: u32,
        last_seen_us: u64,
    ) -> Result<Vec<ProcessUtilizationSample>, NvmlError> {
        self.device(device)?.process_utilization_stats(last_seen_us)
    }
}

/// How far back the first process-utilisation query of a device looks.
/// NVML samples each process every 1/6 s to 1 s depending on the GPU, so
/// one second holds at least one sample of a busy process, while passing 0
/// ("everything buffered") would report a process that went idle long ago
/// at its last non-zero figure (NVML buffers only non-zero samples).
const FIRST_LOOKBACK_US: u64 = 1_000_000;

/// NVML's per-refresh reader: device meters and per-process use.
pub struct NvmlSource {
    api: Box<dyn NvmlApi + Send>,
    /// Per NVML index, the newest process-utilisation sample timestamp seen.
    /// Passing it back makes NVML return exactly the samples of the last
    /// interval, which is how NVML means the call to be used; the driver's
    /// own clock stamps the samples, so no clock of ours is compared with it
    /// after the first query.
    last_seen_us: HashMap<u32, u64>,
}

/// What one device said in one refresh.
struct DeviceReading {
    device: GpuDevice,
    /// Memory per pid on this device, bytes (0 when NVML cannot say).
    memory: HashMap<u32, u64>,
    /// SM busy percent per pid, from its latest sample of the interval.
    busy: HashMap<u32, f64>,
    /// Newest sample timestamp, for the next query; None without samples.
    newest_us: Option<u64>,
}

impl NvmlSource {
    /// A source reading `api` (usually [`open`]'s answer).
    pub fn new(api: Box<dyn NvmlApi + Send>) -> Self {
        Self {
            api,
            last_seen_us: HashMap::new(),
        }
    }

    /// Reads every device. A device that fails (fell off the bus, driver
    /// error) is left out of this snapshot; the others are kept, and their
    /// bpftop indices stay their NVML indices.
    pub fn refresh(&mut self) -> GpuSnapshot {
        let mut snapshot = GpuSnapshot::default();
        let Ok(count) = self.api.device_count() else {
            return snapshot;
        };
        for index in 0..count {
            if let Ok(reading) = self.read_device(index) {
                if let Some(newest) = reading.newest_us {
                    self.last_seen_us.insert(index, newest);
                }
                merge(&mut snapshot, reading);
            }
        }
        snapshot
    }

    fn read_device(&self, index: u32) -> Result<DeviceReading, NvmlError> {
        let api = &*self.api;
        let name = absent_as_none(api.name(index))?;
        let busy_percent = absent_as_none(api.gpu_utilization(index))?;
        let memory_info = absent_as_none(api.memory(index))?;
        let device = GpuDevice {
            index,
            name: name.unwrap_or_else(|| format!("NVIDIA GPU {index}")),
            vendor: GpuVendor::Nvidia,
            busy_percent: busy_percent.map(f64::from),
            mem_used_bytes: memory_info.as_ref().map(|m| m.used),
            mem_total_bytes: memory_info.as_ref().map(|m| m.total),
        };
        let compute = absent_as_none(api.compute_processes(index))?.unwrap_or_default();
        let graphics = absent_as_none(api.graphics_processes(index))?.unwrap_or_default();
        let since = self.since(index);
        let samples = absent_as_none(api.process_utilization(index, since))?.unwrap_or_default();
        let (busy, newest_us) = latest_busy(&samples, since);
        Ok(DeviceReading {
            device,
            memory: memory_per_pid(compute.iter().chain(&graphics)),
            busy,
            newest_us,
        })
    }

    /// The timestamp to pass for `index`: the newest sample seen, or one
    /// lookback before now for a device not sampled yet.
    fn since(&self, index: u32) -> u64 {
        self.last_seen_us
            .get(&index)
            .copied()
            .unwrap_or_else(|| now_us().saturating_sub(FIRST_LOOKBACK_US))
    }
}

/// Turns NVML's "no answer to this query here" into `None`, keeping real
/// faults as errors (they make the caller skip the device).
fn absent_as_none<T>(result: Result<T, NvmlError>) -> Result<Option<T>, NvmlError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if is_absent(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Errors that mean a query has no answer rather than that the device is
/// broken: unsupported on this GPU or in MIG mode (`NotSupported`), no
/// sample since the timestamp (`NotFound`, `NoData`), hidden from this user
/// (`NoPermission`), missing from an older driver (`FunctionNotFound`,
/// `FailedToLoadSymbol`), or a list that grew between NVML's count and
/// fetch calls (`InsufficientSize`, answered at the next refresh).
fn is_absent(e: &NvmlError) -> bool {
    matches!(
        e,
        NvmlError::NotSupported
            | NvmlError::NotFound
            | NvmlError::NoData
            | NvmlError::NoPermission
            | NvmlError::FunctionNotFound
            | NvmlError::FailedToLoadSymbol(_)
            | NvmlError::InsufficientSize(_)
    )
}

/// Memory per pid on one device. NVML lists a process holding both a
/// compute and a graphics context in both lists ("C+G" in nvidia-smi) with
/// the same figure, which is the process's memory on the device, not a
/// per-context share; so the figures of one pid are combined by maximum,
/// never summed. "Not available" (WDDM, some vGPU setups) counts as 0
/// while still recording that the pid uses the device.
fn memory_per_pid<'a>(processes: impl Iterator<Item = &'a ProcessInfo>) -> HashMap<u32, u64> {
    let mut memory = HashMap::new();
    for process in processes {
        let bytes = match process.used_gpu_memory {
            UsedGpuMemory::Used(bytes) => bytes,
            UsedGpuMemory::Unavailable => 0,
        };
        let entry = memory.entry(process.pid).or_insert(0);
        *entry = (*entry).max(bytes);
    }
    memory
}

/// Each pid's SM percent from its latest sample newer than `since`, and the
/// newest timestamp among them. The latest rather than the mean: NVML only
/// returns samples of periods in which the process was busy, so a mean
/// over the returned samples would ignore its idle periods and overstate
/// it; the latest sample is what nvidia-smi pmon and nvtop show. Samples
/// over 100% are dropped: some drivers return garbage entries (nvtop #110).
fn latest_busy(
    samples: &[ProcessUtilizationSample],
    since: u64,
) -> (HashMap<u32, f64>, Option<u64>) {
    let mut latest: HashMap<u32, &ProcessUtilizationSample> = HashMap::new();
    for sample in samples
        .iter()
        .filter(|s| s.timestamp > since && s.sm_util <= 100)
    {
        let entry = latest.entry(sample.pid).or_insert(sample);
        if sample.timestamp > entry.timestamp {
            *entry = sample;
        }
    }
    let newest = latest.values().map(|s| s.timestamp).max();
    let busy = latest
        .into_iter()
        .map(|(pid, s)| (pid, f64::from(s.sm_util)))
        .collect();
    (busy, newest)
}

/// Adds one device's reading to the snapshot. Devices are read in
/// ascending order, so each pid's `devices` stays ascending.
fn merge(snapshot: &mut GpuSnapshot, reading: DeviceReading) {
    let index = reading.device.index;
    for (&pid, &bytes) in &reading.memory {
        use_of(snapshot, pid, index).mem_bytes += bytes;
    }
    for (&pid, &busy) in &reading.busy {
        use_of(snapshot, pid, index).busy_percent += busy;
    }
    snapshot.devices.push(reading.device);
}

/// The pid's entry, with `device` recorded once among its devices.
fn use_of(snapshot: &mut GpuSnapshot, pid: u32, device: u32) -> &mut ProcessGpu {
    let process = snapshot.processes.entry(pid).or_default();
    if process.devices.last() != Some(&device) {
        process.devices.push(device);
    }
    process
}

/// Wall-clock microseconds: NVML stamps samples with the CPU's time of day.
fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// One scripted GPU; `lost` makes every query fail as if it fell off
    /// the bus.
    #[derive(Clone, Default)]
    struct FakeDevice {
        name: String,
        utilization: u32,
        used: u64,
        total: u64,
        compute: Vec<ProcessInfo>,
        graphics: Vec<ProcessInfo>,
        samples: Vec<ProcessUtilizationSample>,
        lost: bool,
    }

    /// (device, last_seen_us) of each process-utilisation query, in order.
    type AskLog = Arc<Mutex<Vec<(u32, u64)>>>;

    /// Scripted NVML; records the timestamps it is asked for.
    struct FakeNvml {
        devices: Vec<FakeDevice>,
        asked: AskLog,
    }

    impl FakeNvml {
        fn device(&self, index: u32) -> Result<&FakeDevice, NvmlError> {
            match self.devices.get(index as usize) {
                Some(d) if d.lost => Err(NvmlError::GpuLost),
                Some(d) => Ok(d),
                None => Err(NvmlError::InvalidArg),
            }
        }
    }

    impl NvmlApi for FakeNvml {
        fn device_count(&self) -> Result<u32, NvmlError> {
            Ok(self.devices.len() as u32)
        }
        fn name(&self, device: u32) -> Result<String, NvmlError> {
            Ok(self.device(device)?.name.clone())
        }
        fn gpu_utilization(&self, device: u32) -> Result<u32, NvmlError> {
            Ok(self.device(device)?.utilization)
        }
        fn memory(&self, device: u32) -> Result<MemoryInfo, NvmlError> {
            let d = self.device(device)?;
            Ok(MemoryInfo {
                free: d.total - d.used,
                reserved: 0,
                total: d.total,
                used: d.used,
                version: 2,
            })
        }
        fn compute_processes(&self, device: u32) -> Result<Vec<ProcessInfo>, NvmlError> {
            Ok(self.device(device)?.compute.clone())
        }
        fn graphics_processes(&self, device: u32) -> Result<Vec<ProcessInfo>, NvmlError> {
            Ok(self.device(device)?.graphics.clone())
        }
        /// Like NVML: only samples after the timestamp, `NotFound` if none.
        fn process_utilization(
            &self,
            device: u32,
            last_seen_us: u64,
        ) -> Result<Vec<ProcessUtilizationSample>, NvmlError> {
            self.asked.lock().unwrap().push((device, last_seen_us));
            let samples: Vec<_> = (self.device(device)?.samples.iter())
                .filter(|s| s.timestamp > last_seen_us)
                .cloned()
                .collect();
            if samples.is_empty() {
                return Err(NvmlError::NotFound);
            }
            Ok(samples)
        }
    }

    fn process(pid: u32, bytes: Option<u64>) -> ProcessInfo {
        ProcessInfo {
            pid,
            used_gpu_memory: bytes.map_or(UsedGpuMemory::Unavailable, UsedGpuMemory::Used),
            gpu_instance_id: None,
            compute_instance_id: None,
        }
    }

    fn sample(pid: u32, timestamp: u64, sm_util: u32) -> ProcessUtilizationSample {
        ProcessUtilizationSample {
            pid,
            timestamp,
            sm_util,
            mem_util: 0,
            enc_util: 0,
            dec_util: 0,
        }
    }

    fn gpu(name: &str) -> FakeDevice {
        FakeDevice {
            name: name.to_string(),
            utilization: 40,
            used: 3 << 30,
            total: 16 << 30,
            ..FakeDevice::default()
        }
    }

    /// A source over the fake, and the log of timestamps it was asked for.
    fn source(devices: Vec<FakeDevice>) -> (NvmlSource, AskLog) {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let fake = FakeNvml {
            devices,
            asked: Arc::clone(&asked),
        };
        (NvmlSource::new(Box::new(fake)), asked)
    }

    #[test]
    fn two_gpus_and_a_process_on_both() {
        let t = now_us();
        let mut a = gpu("A");
        a.compute = vec![process(10, Some(100)), process(20, Some(5))];
        a.samples = vec![sample(10, t + 1, 30), sample(10, t + 2, 50)];
        let mut b = gpu("B");
        b.compute = vec![process(10, Some(200))];
        b.samples = vec![sample(10, t + 3, 25)];
        let (mut source, _) = source(vec![a, b]);

        let snap = source.refresh();
        let indices: Vec<u32> = snap.devices.iter().map(|d| d.index).collect();
        assert_eq!(indices, [0, 1]);
        assert_eq!(snap.devices[1].name, "B");
        assert_eq!(snap.devices[0].vendor, GpuVendor::Nvidia);
        assert_eq!(snap.devices[0].busy_percent, Some(40.0));
        assert_eq!(snap.devices[0].mem_used_bytes, Some(3 << 30));
        assert_eq!(snap.devices[0].mem_total_bytes, Some(16 << 30));
        // Latest sample on GPU 0 (50, not 30) plus GPU 1's 25.
        let p = &snap.processes[&10];
        assert_eq!((p.mem_bytes, p.busy_percent), (300, 75.0));
        assert_eq!(p.devices, [0, 1]);
        let idle = &snap.processes[&20];
        assert_eq!((idle.mem_bytes, idle.busy_percent), (5, 0.0));
        assert_eq!(idle.devices, [0]);
    }

    #[test]
    fn compute_and_graphics_entries_of_one_pid_count_once() {
        let mut a = gpu("A");
        a.compute = vec![process(7, Some(512))];
        a.graphics = vec![process(7, Some(512)), process(8, Some(64))];
        let (mut source, _) = source(vec![a]);

        let snap = source.refresh();
        assert_eq!(snap.processes[&7].mem_bytes, 512);
        assert_eq!(snap.processes[&7].devices, [0]);
        assert_eq!(snap.processes[&8].mem_bytes, 64);
    }

    #[test]
    fn unavailable_memory_counts_zero_but_keeps_the_device() {
        let mut a = gpu("A");
        a.graphics = vec![process(9, None)];
        let mut b = gpu("B");
        b.compute = vec![process(9, Some(1000))];
        let (mut source, _) = source(vec![a, b]);

        let p = &source.refresh().processes[&9];
        assert_eq!(p.mem_bytes, 1000);
        assert_eq!(p.devices, [0, 1]);
    }

    #[test]
    fn each_query_starts_at_the_newest_sample_seen() {
        let t = now_us();
        let mut a = gpu("A");
        a.samples = vec![
            sample(1, t + 5, 10),
            sample(2, t + 9, 20),
            sample(1, t + 7, 30),
        ];
        let (mut source, asked) = source(vec![a]);

        let first = source.refresh();
        let after = now_us();
        assert_eq!(first.processes[&1].busy_percent, 30.0);
        // Nothing newer: NVML says NotFound, which is no sample, not a fault.
        let second = source.refresh();
        assert!(second.processes.is_empty());
        assert_eq!(second.devices.len(), 1);

        let asked = asked.lock().unwrap();
        let (device, first_since) = asked[0];
        assert_eq!(device, 0);
        // The first query looks one lookback before the refresh.
        assert!(first_since >= t - FIRST_LOOKBACK_US && first_since <= after - FIRST_LOOKBACK_US);
        assert_eq!(asked[1], (0, t + 9));
    }

    #[test]
    fn old_and_garbage_samples_are_ignored() {
        let t = now_us();
        let mut a = gpu("A");
        a.samples = vec![
            sample(1, t - 10 * FIRST_LOOKBACK_US, 90),
            sample(2, t + 1, 4000),
        ];
        let (mut source, _) = source(vec![a]);

        assert!(source.refresh().processes.is_empty());
    }

    #[test]
    fn a_failing_gpu_is_skipped_and_the_others_kept() {
        let mut a = gpu("A");
        a.compute = vec![process(1, Some(10))];
        let mut lost = gpu("lost");
        lost.compute = vec![process(1, Some(99))];
        lost.lost = true;
        let mut c = gpu("C");
        c.compute = vec![process(1, Some(20))];
        let (mut source, _) = source(vec![a, lost, c]);

        let snap = source.refresh();
        let indices: Vec<u32> = snap.devices.iter().map(|d| d.index).collect();
        assert_eq!(indices, [0, 2]);
        assert_eq!(snap.processes[&1].mem_bytes, 30);
        assert_eq!(snap.processes[&1].devices, [0, 2]);
    }

    #[test]
    fn unsupported_queries_leave_fields_unknown() {
        struct NoMeters(FakeNvml);
        impl NvmlApi for NoMeters {
            fn device_count(&self) -> Result<u32, NvmlError> {
                self.0.device_count()
            }
            fn name(&self, device: u32) -> Result<String, NvmlError> {
                self.0.name(device)
            }
            fn gpu_utilization(&self, _: u32) -> Result<u32, NvmlError> {
                Err(NvmlError::NotSupported)
            }
            fn memory(&self, _: u32) -> Result<MemoryInfo, NvmlError> {
                Err(NvmlError::FailedToLoadSymbol(
                    "nvmlDeviceGetMemoryInfo_v2".into(),
                ))
            }
            fn compute_processes(&self, device: u32) -> Result<Vec<ProcessInfo>, NvmlError> {
                self.0.compute_processes(device)
            }
            fn graphics_processes(&self, _: u32) -> Result<Vec<ProcessInfo>, NvmlError> {
                Err(NvmlError::NoPermission)
            }
            fn process_utilization(
                &self,
                _: u32,
                _: u64,
            ) -> Result<Vec<ProcessUtilizationSample>, NvmlError> {
                Err(NvmlError::NotSupported)
            }
        }
        let mut a = gpu("A");
        a.compute = vec![process(3, Some(8))];
        let fake = FakeNvml {
            devices: vec![a],
            asked: Arc::default(),
        };
        let mut source = NvmlSource::new(Box::new(NoMeters(fake)));

        let snap = source.refresh();
        let device = &snap.devices[0];
        assert_eq!(device.busy_percent, None);
        assert_eq!(
            (device.mem_used_bytes, device.mem_total_bytes),
            (None, None)
        );
        assert_eq!(snap.processes[&3].mem_bytes, 8);
    }

    #[test]
    fn the_system_nvml_can_move_to_the_collector_thread() {
        fn boxed(api: SystemNvml) -> NvmlSource {
            NvmlSource::new(Box::new(api))
        }
        let _ = boxed;
    }

    #[test]
    fn open_without_the_library_explains_why() {
        // Machines running the tests usually have no NVIDIA driver; where
        // one is installed, opening may succeed, which is fine too.
        if let Err(reason) = open() {
            assert!(
                reason.contains("NVIDIA") || reason.contains("libnvidia-ml"),
                "{reason}"
            );
        }
    }
}
