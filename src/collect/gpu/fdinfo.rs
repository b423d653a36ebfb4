//! DRM client usage stats: what the kernel prints in `/proc/PID/fdinfo/FD`
//! for an open DRM device file, and the per-process and per-device GPU usage
//! that successive readings give: amdgpu, i915, xe, msm, panfrost, panthor,
//! v3d and any other driver that follows the spec (NVIDIA's come through
//! NVML).
//!
//! The format is the kernel's `Documentation/gpu/drm-usage-stats.rst`: one
//! `key: value` per line, the standard keys prefixed `drm-`, numbers
//! optionally followed by a unit. The VFS prepends `pos:`, `flags:`,
//! `mnt_id:` and `ino:`, drivers add keys of their own (`pasid:`, `amd-*`,
//! `v3d-jobs-*`) and the spec has more than this module needs
//! (`drm-shared-*`, `drm-maxfreq-*`, ...): all of that is ignored.
//!
//! The caller reads the file as bytes and passes
//! `String::from_utf8_lossy(&bytes)`: the kernel's keys are ASCII, but
//! `drm-client-name` is chosen by userspace, and one bad byte must not cost
//! the whole reading; a line it spoils is skipped like any malformed line.
//!
//! Counters that go backwards: the spec asks readers to hold the larger,
//! older value until the driver catches up. This module restarts the
//! baseline instead, because here the usual cause is a different client
//! under the same key (a reused fd number for a driver without
//! `drm-client-id`): holding the old value would hide the new client's
//! usage until it overtook the old one's. A genuine dip costs one refresh
//! over-reporting by the size of the dip, bounded by the 100 % clamp per
//! engine class.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{GpuDevice, GpuSnapshot, GpuVendor, ProcessGpu};

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;

/// One open DRM file description (a "client"), as one fdinfo text shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrmClient {
    /// `drm-driver`: the kernel driver's name ("amdgpu", "xe", ...).
    pub driver: String,
    /// `drm-pdev`: the PCI address; absent for platform devices (msm,
    /// panfrost, panthor, v3d).
    pub pdev: Option<String>,
    /// `drm-client-id`: the same for every fd, in every process, that refers
    /// to this client; unique per `pdev` (or globally when `pdev` is absent).
    pub client_id: Option<u64>,
    /// Per engine (class) name, e.g. "gfx", "render", "rcs".
    pub engines: BTreeMap<String, DrmEngine>,
    pub memory: DrmMemory,
}

/// What a client reports about one engine class; every field is cumulative
/// except `capacity`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrmEngine {
    /// `drm-engine-<name>`: time the class spent on this client, ns.
    pub busy_ns: Option<u64>,
    /// `drm-cycles-<name>`: GPU cycles the class spent on this client.
    pub cycles: Option<u64>,
    /// `drm-total-cycles-<name>`: GPU cycles elapsed (xe), the denominator
    /// for `cycles`.
    pub total_cycles: Option<u64>,
    /// `drm-engine-capacity-<name>`: identical engines in the class; None
    /// means one.
    pub capacity: Option<u64>,
}

/// Memory a client holds, in bytes per region name ("vram", "gtt",
/// "system0", "memory", ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrmMemory {
    /// `drm-resident-<region>`: buffers that have backing store right now.
    pub resident: BTreeMap<String, u64>,
    /// `drm-total-<region>`: every buffer the client created, backed or not
    /// (i915 even counts a buffer in each region it may be placed in).
    pub total: BTreeMap<String, u64>,
    /// `drm-memory-<region>`: the older name for `drm-resident-<region>`,
    /// still printed next to it by amdgpu.
    pub legacy: BTreeMap<String, u64>,
}

impl DrmClient {
    /// Bytes of memory the client holds, summed over regions (VRAM and the
    /// system memory the GPU maps alike). Per region the resident figure is
    /// preferred: it is memory actually taken, whereas total also counts
    /// buffers not yet backed. The legacy key comes next (the spec defines
    /// it as resident under its old name) and total last, for drivers whose
    /// buffers cannot say whether they are backed. Choosing per region
    /// rather than per client keeps a driver that prints both the new and
    /// the legacy key (amdgpu) from being counted twice.
    pub fn mem_bytes(&self) -> u64 {
        let m = &self.memory;
        let regions: BTreeSet<&String> = m
            .resident
            .keys()
            .chain(m.legacy.keys())
            .chain(m.total.keys())
            .collect();
        regions
            .into_iter()
            .filter_map(|r| {
                m.resident
                    .get(r)
                    .or_else(|| m.legacy.get(r))
                    .or_else(|| m.total.get(r))
            })
            .fold(0, |sum, bytes| sum.saturating_add(*bytes))
    }

    /// Whether the driver reports any usage at all. Drivers without usage
    /// stats (display-only ones, for instance) still print the common
    /// `drm-driver`/`drm-client-id` header; counting them would invent idle
    /// GPUs.
    fn has_stats(&self) -> bool {
        let m = &self.memory;
        !(self.engines.is_empty()
            && m.resident.is_empty()
            && m.total.is_empty()
            && m.legacy.is_empty())
    }
}

/// Parses one `/proc/PID/fdinfo/FD` text. None when it has no `drm-driver`
/// key (not a DRM fd, or a kernel without usage stats). Unknown keys are
/// ignored; malformed lines and values that overflow are skipped.
pub fn parse(text: &str) -> Option<DrmClient> {
    let mut client = DrmClient::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if let Some(field) = classify(key.trim()) {
            apply(&mut client, field, value.trim());
        }
    }
    (!client.driver.is_empty()).then_some(client)
}

/// The keys this module reads, with the engine or region name they carry.
enum Field<'a> {
    Driver,
    Pdev,
    ClientId,
    Busy(&'a str),
    Capacity(&'a str),
    Cycles(&'a str),
    TotalCycles(&'a str),
    Resident(&'a str),
    Total(&'a str),
    Legacy(&'a str),
}

fn classify(key: &str) -> Option<Field<'_>> {
    match key {
        "drm-driver" => return Some(Field::Driver),
        "drm-pdev" => return Some(Field::Pdev),
        "drm-client-id" => return Some(Field::ClientId),
        _ => {}
    }
    // Longer prefixes first: a capacity key is also a "drm-engine-" key, and
    // a total-cycles key a "drm-total-" one.
    let named = |prefix: &str| {
        key.strip_prefix(prefix)
            .filter(|name| !name.is_empty() && !name.contains(char::is_whitespace))
    };
    if let Some(name) = named("drm-engine-capacity-") {
        Some(Field::Capacity(name))
    } else if let Some(name) = named("drm-engine-") {
        Some(Field::Busy(name))
    } else if let Some(name) = named("drm-total-cycles-") {
        Some(Field::TotalCycles(name))
    } else if let Some(name) = named("drm-cycles-") {
        Some(Field::Cycles(name))
    } else if let Some(name) = named("drm-total-") {
        Some(Field::Total(name))
    } else if let Some(name) = named("drm-resident-") {
        Some(Field::Resident(name))
    } else {
        named("drm-memory-").map(Field::Legacy)
    }
}

/// Stores one field's value; a value that does not parse leaves the client
/// as it was.
fn apply(client: &mut DrmClient, field: Field<'_>, value: &str) {
    match field {
        Field::Driver => {
            if !value.is_empty() {
                client.driver = value.to_owned();
            }
        }
        Field::Pdev => {
            if !value.is_empty() && !value.contains(char::is_whitespace) {
                client.pdev = Some(value.to_owned());
            }
        }
        Field::ClientId => client.client_id = count(value).or(client.client_id),
        Field::Busy(name) => {
            if let Some(ns) = nanoseconds(value) {
                // Summed, not replaced: amdgpu names two hardware blocks
                // "dec" (UVD and VCN) and two "enc", one line each.
                let busy = &mut engine(client, name).busy_ns;
                if let Some(sum) = busy.map_or(Some(ns), |old| old.checked_add(ns)) {
                    *busy = Some(sum);
                }
            }
        }
        Field::Capacity(name) => {
            // The spec forbids zero; such a line is malformed.
            if let Some(n) = count(value).filter(|n| *n > 0) {
                engine(client, name).capacity = Some(n);
            }
        }
        Field::Cycles(name) => {
            if let Some(n) = count(value) {
                engine(client, name).cycles = Some(n);
            }
        }
        Field::TotalCycles(name) => {
            if let Some(n) = count(value) {
                engine(client, name).total_cycles = Some(n);
            }
        }
        Field::Resident(region) => store_size(&mut client.memory.resident, region, value),
        Field::Total(region) => store_size(&mut client.memory.total, region, value),
        Field::Legacy(region) => store_size(&mut client.memory.legacy, region, value),
    }
}

fn engine<'c>(client: &'c mut DrmClient, name: &str) -> &'c mut DrmEngine {
    client.engines.entry(name.to_owned()).or_default()
}

fn store_size(regions: &mut BTreeMap<String, u64>, region: &str, value: &str) {
    if let Some(bytes) = size(value) {
        regions.insert(region.to_owned(), bytes);
    }
}

/// A number and at most one unit word after it.
fn number_and_unit(value: &str) -> Option<(u64, Option<&str>)> {
    let mut words = value.split_whitespace();
    let number = words.next()?.parse().ok()?;
    let unit = words.next();
    match words.next() {
        Some(_) => None,
        None => Some((number, unit)),
    }
}

/// A bare number.
fn count(value: &str) -> Option<u64> {
    match number_and_unit(value)? {
        (n, None) => Some(n),
        _ => None,
    }
}

/// A busy time, which the spec always gives in ns.
fn nanoseconds(value: &str) -> Option<u64> {
    match number_and_unit(value)? {
        (n, Some("ns")) => Some(n),
        _ => None,
    }
}

/// A memory size: bytes without a unit, else KiB or MiB (the only units the
/// spec allows).
fn size(value: &str) -> Option<u64> {
    match number_and_unit(value)? {
        (n, None) => Some(n),
        (n, Some("KiB")) => n.checked_mul(KIB),
        (n, Some("MiB")) => n.checked_mul(MIB),
        _ => None,
    }
}

/// One DRM fd read at a refresh: whose it is and what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdReading {
    pub pid: u32,
    /// The fd number: tells clients apart when the driver prints no
    /// `drm-client-id`.
    pub fd: u32,
    pub client: DrmClient,
}

/// Turns each refresh's fdinfo readings into GPU usage. Keeps the previous
/// reading of every client (rates need two) and every device ever seen (so
/// that device indices do not shift when a GPU's last client closes).
///
/// A client is counted once per refresh however many fds and processes
/// hold it (dup, fork, fd passing): clients are keyed by device and
/// `drm-client-id` (or by pid and fd when the driver prints no id), and a
/// shared client is attributed to the lowest pid holding it, usually the
/// process that opened it before forking.
///
/// Only clients whose fdinfo this process may read are seen; without
/// privileges that is the user's own processes.
#[derive(Debug, Default)]
pub struct DrmUsage {
    baselines: HashMap<ClientKey, Baseline>,
    /// Every device seen so far, with its driver's name.
    devices: BTreeMap<DeviceKey, String>,
}

/// How fdinfo tells GPUs apart: by PCI address, else only by driver (two
/// platform GPUs with the same driver are indistinguishable). PCI devices
/// sort first, by address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum DeviceKey {
    Pci(String),
    Driver(String),
}

impl DeviceKey {
    fn of(client: &DrmClient) -> Self {
        match &client.pdev {
            Some(pdev) => DeviceKey::Pci(pdev.clone()),
            None => DeviceKey::Driver(client.driver.clone()),
        }
    }

    fn name(&self, driver: &str) -> String {
        match self {
            DeviceKey::Pci(pdev) => format!("{driver} {pdev}"),
            DeviceKey::Driver(driver) => driver.clone(),
        }
    }
}

/// One client: by its id on its device, else by the fd holding it. The
/// device is part of both because ids may be unique only per device.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum ClientKey {
    Id(DeviceKey, u64),
    Fd(DeviceKey, u32, u32),
}

impl ClientKey {
    fn of(reading: &FdReading) -> Self {
        let device = DeviceKey::of(&reading.client);
        match reading.client.client_id {
            Some(id) => ClientKey::Id(device, id),
            None => ClientKey::Fd(device, reading.pid, reading.fd),
        }
    }

    fn device(&self) -> &DeviceKey {
        match self {
            ClientKey::Id(device, _) | ClientKey::Fd(device, _, _) => device,
        }
    }
}

/// A client's engine counters at the refresh that read them.
#[derive(Debug)]
struct Baseline {
    time_ns: u64,
    engines: BTreeMap<String, DrmEngine>,
}

impl Baseline {
    fn new(time_ns: u64, client: &DrmClient) -> Self {
        let engines = client.engines.clone();
        Baseline { time_ns, engines }
    }
}

/// One client's share of one refresh.
struct ClientUsage<'a> {
    device: &'a DeviceKey,
    pid: u32,
    /// None at the client's first sighting.
    busy_percent: Option<f64>,
    mem_bytes: u64,
}

impl DrmUsage {
    /// Takes one refresh's readings, read at monotonic time `now_ns`, and
    /// returns the GPU usage since the previous refresh. Devices are
    /// numbered from `first_index` (the NVML devices come before them).
    /// Baselines of clients absent from `readings` are forgotten.
    pub fn refresh(
        &mut self,
        now_ns: u64,
        first_index: u32,
        readings: &[FdReading],
    ) -> GpuSnapshot {
        let clients = unique_clients(readings);
        let usages = self.client_usages(&clients, now_ns);
        self.baselines = clients
            .iter()
            .map(|(key, reading)| (key.clone(), Baseline::new(now_ns, &reading.client)))
            .collect();
        let fresh = self.remember_devices(&clients);
        let indices: HashMap<&DeviceKey, u32> =
            self.devices.keys().zip(first_index..=u32::MAX).collect();
        GpuSnapshot {
            devices: self.device_entries(&indices, &fresh, &usages),
            processes: process_entries(&indices, &usages),
        }
    }

    fn client_usages<'k>(
        &self,
        clients: &'k BTreeMap<ClientKey, &FdReading>,
        now_ns: u64,
    ) -> Vec<ClientUsage<'k>> {
        clients
            .iter()
            .map(|(key, reading)| ClientUsage {
                device: key.device(),
                pid: reading.pid,
                busy_percent: self
                    .baselines
                    .get(key)
                    .map(|before| client_busy_percent(before, &reading.client.engines, now_ns)),
                mem_bytes: reading.client.mem_bytes(),
            })
            .collect()
    }

    /// Adds the clients' devices to those seen; returns the ones not seen
    /// before.
    fn remember_devices<'k>(
        &mut self,
        clients: &'k BTreeMap<ClientKey, &FdReading>,
    ) -> BTreeSet<&'k DeviceKey> {
        let mut fresh = BTreeSet::new();
        for (key, reading) in clients {
            let driver = reading.client.driver.clone();
            if self.devices.insert(key.device().clone(), driver).is_none() {
                fresh.insert(key.device());
            }
        }
        fresh
    }

    /// Every device seen so far, in index order. A device's busy share is
    /// the sum of its clients' (capped at 100), not the hardware's own
    /// utilisation, which fdinfo does not give; it is None for a device new
    /// in this refresh, whose clients have no rate yet. Memory is the sum of
    /// the clients' (a buffer shared between clients counts once for each);
    /// fdinfo gives no capacity, so `mem_total_bytes` is None.
    fn device_entries(
        &self,
        indices: &HashMap<&DeviceKey, u32>,
        fresh: &BTreeSet<&DeviceKey>,
        usages: &[ClientUsage<'_>],
    ) -> Vec<GpuDevice> {
        self.devices
            .iter()
            .filter_map(|(key, driver)| {
                let index = *indices.get(key)?;
                let clients = || usages.iter().filter(|usage| usage.device == key);
                let busy: f64 = clients().filter_map(|usage| usage.busy_percent).sum();
                let mem = clients().fold(0, |sum: u64, usage| sum.saturating_add(usage.mem_bytes));
                Some(GpuDevice {
                    index,
                    name: key.name(driver),
                    vendor: GpuVendor::Drm {
                        driver: driver.clone(),
                    },
                    busy_percent: (!fresh.contains(key)).then_some(busy.min(100.0)),
                    mem_used_bytes: Some(mem),
                    mem_total_bytes: None,
                })
            })
            .collect()
    }
}

/// The readings that carry usage stats, one per client: the one from the
/// lowest pid (then fd) holding it.
fn unique_clients(readings: &[FdReading]) -> BTreeMap<ClientKey, &FdReading> {
    let mut sorted: Vec<&FdReading> = readings.iter().filter(|r| r.client.has_stats()).collect();
    sorted.sort_by_key(|r| (r.pid, r.fd));
    let mut unique = BTreeMap::new();
    for reading in sorted {
        unique.entry(ClientKey::of(reading)).or_insert(reading);
    }
    unique
}

fn process_entries(
    indices: &HashMap<&DeviceKey, u32>,
    usages: &[ClientUsage<'_>],
) -> HashMap<u32, ProcessGpu> {
    let mut processes: HashMap<u32, ProcessGpu> = HashMap::new();
    for usage in usages {
        let process = processes.entry(usage.pid).or_default();
        process.busy_percent += usage.busy_percent.unwrap_or(0.0);
        process.mem_bytes = process.mem_bytes.saturating_add(usage.mem_bytes);
        process.devices.extend(indices.get(usage.device));
    }
    for process in processes.values_mut() {
        process.devices.sort_unstable();
        process.devices.dedup();
    }
    processes
}

/// Busy share of one client since `before`, summed over its engine classes.
fn client_busy_percent(
    before: &Baseline,
    engines: &BTreeMap<String, DrmEngine>,
    now_ns: u64,
) -> f64 {
    let wall_ns = now_ns.saturating_sub(before.time_ns);
    engines
        .iter()
        .filter_map(|(name, now)| Some(engine_percent(before.engines.get(name)?, now, wall_ns)))
        .sum()
}

/// One class's busy share in percent, 0–100. Cycle counts, where the driver
/// gives their total (xe), are preferred: both are read in the GPU's clock
/// domain at the same instant, so the share is exact whatever the delay
/// between reading the file and `now_ns`.
fn engine_percent(before: &DrmEngine, now: &DrmEngine, wall_ns: u64) -> f64 {
    let cycles = || {
        ratio(
            delta(before.cycles, now.cycles)?,
            delta(before.total_cycles, now.total_cycles)?,
        )
    };
    let time = || ratio(delta(before.busy_ns, now.busy_ns)?, wall_ns);
    let share = cycles().or_else(time).unwrap_or(0.0);
    // A class of n engines can be busy n times over; dividing by n keeps a
    // fully busy class at 100 %. The clamp covers drivers that run several
    // queues without printing a capacity (amdgpu's compute rings) and the
    // skew between reading the file and `now_ns`.
    let capacity = now.capacity.unwrap_or(1) as f64;
    (share / capacity * 100.0).min(100.0)
}

/// How far a counter advanced; None when either reading lacks it or it went
/// backwards.
fn delta(before: Option<u64>, now: Option<u64>) -> Option<u64> {
    now?.checked_sub(before?)
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    if whole == 0 {
        None
    } else {
        Some(part as f64 / whole as f64)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;
    const MS: u64 = 1_000_000;

    fn assert_close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
    }

    fn map(entries: &[(&str, u64)]) -> BTreeMap<String, u64> {
        entries.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn busy(ns: u64) -> DrmEngine {
        DrmEngine {
            busy_ns: Some(ns),
            ..DrmEngine::default()
        }
    }

    fn reading(pid: u32, fd: u32, text: &str) -> FdReading {
        FdReading {
            pid,
            fd,
            client: parse(text).unwrap(),
        }
    }

    /// An amdgpu client with 1 MiB of VRAM.
    fn amdgpu(id: u64, gfx_ns: u64, compute_ns: u64) -> String {
        format!(
            "drm-driver:\tamdgpu\ndrm-client-id:\t{id}\ndrm-pdev:\t0000:03:00.0\n\
             drm-resident-vram:\t1024 KiB\n\
             drm-engine-gfx:\t{gfx_ns} ns\ndrm-engine-compute:\t{compute_ns} ns\n"
        )
    }

    #[test]
    fn amdgpu_fixture() {
        let client = parse(include_str!("../../../tests/fixtures/drm_fdinfo/amdgpu")).unwrap();
        assert_eq!(client.driver, "amdgpu");
        assert_eq!(client.pdev.as_deref(), Some("0000:03:00.0"));
        assert_eq!(client.client_id, Some(2291));
        let engines = BTreeMap::from([
            ("compute".to_string(), busy(1_180_293)),
            ("dec".to_string(), busy(991_370_112)),
            ("dma".to_string(), busy(40_471_220)),
            ("gfx".to_string(), busy(73_019_845_213)),
        ]);
        assert_eq!(client.engines, engines);
        let resident = map(&[("cpu", 0), ("gtt", 2052 * KIB), ("vram", 412_004 * KIB)]);
        assert_eq!(client.memory.resident, resident);
        assert_eq!(
            client.memory.total,
            map(&[("cpu", 0), ("gtt", 2052 * KIB), ("vram", 513 * MIB)])
        );
        assert_eq!(client.memory.legacy, resident);
        // The legacy keys repeat the resident ones and are not added again.
        assert_eq!(client.mem_bytes(), (412_004 + 2052) * KIB);
    }

    #[test]
    fn amdgpu_legacy_fixture() {
        let client = parse(include_str!(
            "../../../tests/fixtures/drm_fdinfo/amdgpu_legacy"
        ))
        .unwrap();
        assert_eq!(client.driver, "amdgpu");
        assert_eq!(client.pdev.as_deref(), Some("0000:0c:00.0"));
        assert_eq!(client.client_id, Some(417));
        let engines = BTreeMap::from([
            ("enc".to_string(), busy(2_219_004)),
            ("gfx".to_string(), busy(8_512_006_731)),
        ]);
        assert_eq!(client.engines, engines);
        assert!(client.memory.resident.is_empty() && client.memory.total.is_empty());
        let legacy = map(&[("cpu", 0), ("gtt", 4224 * KIB), ("vram", 131_072 * KIB)]);
        assert_eq!(client.memory.legacy, legacy);
        assert_eq!(client.mem_bytes(), (131_072 + 4224) * KIB);
    }

    #[test]
    fn i915_fixture() {
        let client = parse(include_str!("../../../tests/fixtures/drm_fdinfo/i915")).unwrap();
        assert_eq!(client.driver, "i915");
        assert_eq!(client.pdev.as_deref(), Some("0000:00:02.0"));
        assert_eq!(client.client_id, Some(18));
        let video = DrmEngine {
            capacity: Some(2),
            ..busy(3_305_127)
        };
        let engines = BTreeMap::from([
            ("copy".to_string(), busy(0)),
            ("render".to_string(), busy(25_662_044_495)),
            ("video".to_string(), video),
            ("video-enhance".to_string(), busy(0)),
        ]);
        assert_eq!(client.engines, engines);
        assert_eq!(
            client.memory.resident,
            map(&[("stolen-system0", 0), ("system0", 90_116 * KIB)])
        );
        assert_eq!(
            client.memory.total,
            map(&[("stolen-system0", 0), ("system0", 98_308 * KIB)])
        );
        assert_eq!(client.mem_bytes(), 90_116 * KIB);
    }

    #[test]
    fn xe_fixture() {
        let client = parse(include_str!("../../../tests/fixtures/drm_fdinfo/xe")).unwrap();
        assert_eq!(client.driver, "xe");
        assert_eq!(client.pdev.as_deref(), Some("0000:03:00.0"));
        assert_eq!(client.client_id, Some(41));
        let class = |cycles, capacity| DrmEngine {
            busy_ns: None,
            cycles: Some(cycles),
            total_cycles: Some(9_034_512_711),
            capacity,
        };
        let engines = BTreeMap::from([
            ("bcs".to_string(), class(0, None)),
            ("ccs".to_string(), class(4471, Some(4))),
            ("rcs".to_string(), class(52_810_300, None)),
            ("vcs".to_string(), class(0, Some(2))),
            ("vecs".to_string(), class(0, Some(2))),
        ]);
        assert_eq!(client.engines, engines);
        let resident = map(&[
            ("gtt", 308 * KIB),
            ("stolen", 0),
            ("system", 0),
            ("vram0", 187_420 * KIB),
        ]);
        assert_eq!(client.memory.resident, resident);
        assert_eq!(client.mem_bytes(), (308 + 187_420) * KIB);
    }

    #[test]
    fn msm_fixture() {
        let client = parse(include_str!("../../../tests/fixtures/drm_fdinfo/msm")).unwrap();
        assert_eq!(client.driver, "msm");
        assert_eq!(client.pdev, None);
        assert_eq!(client.client_id, Some(7));
        let gpu = DrmEngine {
            cycles: Some(2_585_341_120),
            ..busy(4_310_527_310)
        };
        assert_eq!(client.engines, BTreeMap::from([("gpu".to_string(), gpu)]));
        assert_eq!(client.memory.resident, map(&[("memory", 47_228 * KIB)]));
        assert_eq!(client.mem_bytes(), 47_228 * KIB);
    }

    #[test]
    fn panfrost_fixture() {
        let client = parse(include_str!("../../../tests/fixtures/drm_fdinfo/panfrost")).unwrap();
        assert_eq!(client.driver, "panfrost");
        assert_eq!(client.pdev, None);
        assert_eq!(client.client_id, Some(12));
        let fragment = DrmEngine {
            cycles: Some(1_601_187_226),
            ..busy(2_093_741_108)
        };
        let vertex_tiler = DrmEngine {
            cycles: Some(60_998_120),
            ..busy(80_321_554)
        };
        let engines = BTreeMap::from([
            ("fragment".to_string(), fragment),
            ("vertex-tiler".to_string(), vertex_tiler),
        ]);
        assert_eq!(client.engines, engines);
        assert_eq!(client.memory.total, map(&[("memory", 301 * MIB)]));
        assert_eq!(client.mem_bytes(), 40_964 * KIB);
    }

    #[test]
    fn panthor_fixture() {
        let client = parse(include_str!("../../../tests/fixtures/drm_fdinfo/panthor")).unwrap();
        assert_eq!(client.driver, "panthor");
        assert_eq!(client.pdev, None);
        assert_eq!(client.client_id, Some(10));
        let panthor = DrmEngine {
            cycles: Some(98_422_901_715),
            ..busy(118_221_336_640)
        };
        assert_eq!(
            client.engines,
            BTreeMap::from([("panthor".to_string(), panthor)])
        );
        // The driver's own buffers ("internal") count with the client's.
        assert_eq!(client.mem_bytes(), (2144 + 16_484) * KIB);
    }

    #[test]
    fn v3d_fixture() {
        let client = parse(include_str!("../../../tests/fixtures/drm_fdinfo/v3d")).unwrap();
        assert_eq!(client.driver, "v3d");
        assert_eq!(client.pdev, None);
        assert_eq!(client.client_id, Some(5));
        // v3d puts a space before the tab; its v3d-jobs-* keys are ignored.
        let engines = BTreeMap::from([
            ("bin".to_string(), busy(1_371_281_053)),
            ("cache_clean".to_string(), busy(0)),
            ("cpu".to_string(), busy(0)),
            ("csd".to_string(), busy(0)),
            ("render".to_string(), busy(5_522_712_270)),
            ("tfu".to_string(), busy(0)),
        ]);
        assert_eq!(client.engines, engines);
        assert_eq!(client.mem_bytes(), 25_604 * KIB);
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let client = parse(include_str!("../../../tests/fixtures/drm_fdinfo/malformed")).unwrap();
        let expected = DrmClient {
            driver: "amdgpu".to_string(),
            pdev: None,
            client_id: None,
            engines: BTreeMap::from([("dec".to_string(), busy(42))]),
            memory: DrmMemory {
                legacy: map(&[("cpu", 4096)]),
                ..DrmMemory::default()
            },
        };
        assert_eq!(client, expected);
    }

    #[test]
    fn text_without_driver_is_not_a_client() {
        assert_eq!(parse(""), None);
        assert_eq!(
            parse("pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\n"),
            None
        );
        assert_eq!(parse("pos:\t0\neventfd-count:\t0\neventfd-id: 3\n"), None);
        assert_eq!(parse("drm-driver:\t\ndrm-engine-gfx:\t5 ns\n"), None);
        assert_eq!(
            parse("drm-driver:\tx\n").map(|c| c.driver),
            Some("x".to_string())
        );
    }

    #[test]
    fn busy_percent_from_two_readings() {
        let mut usage = DrmUsage::default();
        let first = usage.refresh(
            10 * SECOND,
            0,
            &[reading(100, 4, &amdgpu(1, 3 * SECOND, SECOND))],
        );
        // First sighting: no rate yet.
        assert_eq!(first.processes[&100].busy_percent, 0.0);
        assert_eq!(first.devices[0].busy_percent, None);
        let text = amdgpu(1, 3 * SECOND + 250 * MS, SECOND + 100 * MS);
        let second = usage.refresh(11 * SECOND, 0, &[reading(100, 4, &text)]);
        assert_close(second.processes[&100].busy_percent, 35.0);
        assert_close(second.devices[0].busy_percent.unwrap(), 35.0);
        assert_eq!(second.processes[&100].mem_bytes, MIB);
        assert_eq!(second.processes[&100].devices, vec![0]);
    }

    #[test]
    fn capacity_divides_a_class() {
        let text = |video_ns: u64| {
            format!(
                "drm-driver:\ti915\ndrm-client-id:\t3\ndrm-pdev:\t0000:00:02.0\n\
                 drm-engine-video:\t{video_ns} ns\ndrm-engine-capacity-video:\t2\n"
            )
        };
        let mut usage = DrmUsage::default();
        usage.refresh(SECOND, 0, &[reading(7, 3, &text(0))]);
        // One of the two video engines busy all along: half the class.
        let snapshot = usage.refresh(2 * SECOND, 0, &[reading(7, 3, &text(SECOND))]);
        assert_close(snapshot.processes[&7].busy_percent, 50.0);
        // Both busy all along, and a little more from read skew: capped.
        let snapshot = usage.refresh(3 * SECOND, 0, &[reading(7, 3, &text(3 * SECOND + 10 * MS))]);
        assert_close(snapshot.processes[&7].busy_percent, 100.0);
    }

    #[test]
    fn xe_cycles_use_their_own_total() {
        let text = |rcs: u64, ccs: u64, total: u64| {
            format!(
                "drm-driver:\txe\ndrm-client-id:\t9\ndrm-pdev:\t0000:03:00.0\n\
                 drm-cycles-rcs:\t{rcs}\ndrm-total-cycles-rcs:\t{total}\n\
                 drm-cycles-ccs:\t{ccs}\ndrm-total-cycles-ccs:\t{total}\ndrm-engine-capacity-ccs:\t4\n"
            )
        };
        let mut usage = DrmUsage::default();
        usage.refresh(SECOND, 0, &[reading(5, 3, &text(1000, 0, 50_000))]);
        // 300 of 1000 cycles on rcs (30 %), 2000 cycles across four ccs
        // engines in 1000 (50 %); the 7 s of wall time play no part.
        let snapshot = usage.refresh(8 * SECOND, 0, &[reading(5, 3, &text(1300, 2000, 51_000))]);
        assert_close(snapshot.processes[&5].busy_percent, 80.0);
    }

    #[test]
    fn shared_client_counts_once_for_the_lowest_pid() {
        let mut usage = DrmUsage::default();
        let readings = |gfx_ns| {
            vec![
                reading(200, 5, &amdgpu(1, gfx_ns, 0)),
                reading(100, 9, &amdgpu(1, gfx_ns, 0)),
                reading(100, 7, &amdgpu(1, gfx_ns, 0)),
            ]
        };
        usage.refresh(SECOND, 0, &readings(0));
        let snapshot = usage.refresh(2 * SECOND, 0, &readings(400 * MS));
        assert_eq!(snapshot.processes.len(), 1);
        assert_close(snapshot.processes[&100].busy_percent, 40.0);
        assert_eq!(snapshot.processes[&100].mem_bytes, MIB);
        assert_close(snapshot.devices[0].busy_percent.unwrap(), 40.0);
        assert_eq!(snapshot.devices[0].mem_used_bytes, Some(MIB));
    }

    #[test]
    fn clients_of_one_process_add_up() {
        let mut usage = DrmUsage::default();
        usage.refresh(
            SECOND,
            0,
            &[
                reading(100, 4, &amdgpu(1, 0, 0)),
                reading(100, 5, &amdgpu(2, 0, 0)),
            ],
        );
        let readings = [
            reading(100, 4, &amdgpu(1, 100 * MS, 0)),
            reading(100, 5, &amdgpu(2, 200 * MS, 50 * MS)),
        ];
        let snapshot = usage.refresh(2 * SECOND, 0, &readings);
        assert_close(snapshot.processes[&100].busy_percent, 35.0);
        assert_eq!(snapshot.processes[&100].mem_bytes, 2 * MIB);
    }

    #[test]
    fn clients_without_id_are_told_apart_by_fd() {
        let text = |ns: u64| format!("drm-driver:\tv3d\ndrm-engine-render: \t{ns} ns\n");
        let mut usage = DrmUsage::default();
        usage.refresh(
            SECOND,
            0,
            &[reading(100, 4, &text(0)), reading(100, 5, &text(0))],
        );
        let readings = [
            reading(100, 4, &text(100 * MS)),
            reading(100, 5, &text(100 * MS)),
        ];
        let snapshot = usage.refresh(2 * SECOND, 0, &readings);
        assert_close(snapshot.processes[&100].busy_percent, 20.0);
        assert_eq!(snapshot.devices[0].name, "v3d");
    }

    #[test]
    fn counter_going_backwards_restarts_the_baseline() {
        let mut usage = DrmUsage::default();
        let at = |usage: &mut DrmUsage, second: u64, gfx_ns: u64| {
            let snapshot = usage.refresh(
                second * SECOND,
                0,
                &[reading(100, 4, &amdgpu(1, gfx_ns, 0))],
            );
            snapshot.processes[&100].busy_percent
        };
        at(&mut usage, 1, 50 * SECOND);
        assert_eq!(at(&mut usage, 2, 100 * MS), 0.0);
        assert_close(at(&mut usage, 3, 400 * MS), 30.0);
    }

    #[test]
    fn forgotten_client_starts_over() {
        let mut usage = DrmUsage::default();
        usage.refresh(SECOND, 0, &[reading(100, 4, &amdgpu(1, 0, 0))]);
        let gone = usage.refresh(2 * SECOND, 0, &[]);
        assert!(gone.processes.is_empty());
        let back = usage.refresh(3 * SECOND, 0, &[reading(100, 4, &amdgpu(1, SECOND, 0))]);
        assert_eq!(back.processes[&100].busy_percent, 0.0);
        // The device was known, so its figure is a plain 0.
        assert_eq!(back.devices[0].busy_percent, Some(0.0));
    }

    #[test]
    fn devices_are_ordered_numbered_capped_and_kept() {
        let pci = |pdev: &str, id: u64, ns: u64| {
            format!("drm-driver:\tamdgpu\ndrm-client-id:\t{id}\ndrm-pdev:\t{pdev}\ndrm-engine-gfx:\t{ns} ns\n")
        };
        let panfrost = "drm-driver:\tpanfrost\ndrm-client-id:\t3\ndrm-resident-memory:\t4 KiB\n";
        let readings = |ns: u64| {
            vec![
                reading(300, 3, panfrost),
                reading(100, 3, &pci("0000:0c:00.0", 1, ns)),
                reading(200, 3, &pci("0000:0c:00.0", 2, ns)),
                reading(200, 4, &pci("0000:03:00.0", 1, ns)),
            ]
        };
        let mut usage = DrmUsage::default();
        usage.refresh(SECOND, 2, &readings(0));
        let snapshot = usage.refresh(2 * SECOND, 2, &readings(800 * MS));
        let names: Vec<(u32, &str)> = snapshot
            .devices
            .iter()
            .map(|d| (d.index, d.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                (2, "amdgpu 0000:03:00.0"),
                (3, "amdgpu 0000:0c:00.0"),
                (4, "panfrost")
            ]
        );
        assert_close(snapshot.devices[0].busy_percent.unwrap(), 80.0);
        // Two clients at 80 % each on one device: the sum is capped.
        assert_close(snapshot.devices[1].busy_percent.unwrap(), 100.0);
        assert_eq!(snapshot.devices[2].mem_used_bytes, Some(4 * KIB));
        assert_eq!(snapshot.devices[2].mem_total_bytes, None);
        assert_eq!(snapshot.processes[&200].devices, vec![2, 3]);
        assert_close(snapshot.processes[&200].busy_percent, 160.0);
        let vendor = GpuVendor::Drm {
            driver: "panfrost".to_string(),
        };
        assert_eq!(snapshot.devices[2].vendor, vendor);

        // The panfrost client closes: the device keeps its index, idle.
        let later = usage.refresh(3 * SECOND, 2, &readings(800 * MS)[1..]);
        assert_eq!(later.devices.len(), 3);
        assert_eq!(later.devices[2].busy_percent, Some(0.0));
        assert_eq!(later.devices[2].mem_used_bytes, Some(0));
    }

    #[test]
    fn clients_without_stats_are_ignored() {
        let header_only = "drm-driver:\tnvidia-drm\ndrm-client-id:\t4\ndrm-pdev:\t0000:01:00.0\n";
        let snapshot = DrmUsage::default().refresh(SECOND, 0, &[reading(100, 4, header_only)]);
        assert_eq!(snapshot, GpuSnapshot::default());
    }

    /// Property tests: no fdinfo text makes the parser or the usage arithmetic panic, usage
    /// stays within bounds, and well-formed keys are read exactly.
    mod props {
        use super::*;
        use proptest::prelude::*;

        use crate::test_support::proptest_config as config;

        /// fdinfo-like text: the pieces a DRM fdinfo is made of, shuffled,
        /// with arbitrary bytes among them.
        fn fdinfo_text() -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                prop::sample::select(vec![
                    "drm-driver:\tamdgpu\n",
                    "drm-driver:\t\n",
                    "drm-pdev:\t0000:03:00.0\n",
                    "drm-pdev:",
                    "drm-client-id:",
                    "drm-engine-",
                    "drm-engine-capacity-",
                    "drm-cycles-",
                    "drm-total-cycles-",
                    "drm-total-",
                    "drm-resident-",
                    "drm-memory-",
                    "gfx",
                    ":",
                    "\t",
                    " ",
                    "\n",
                    " ns",
                    " KiB",
                    " MiB",
                    " GiB",
                    "0",
                    "-1",
                    "18446744073709551615",
                    "18446744073709551616",
                ])
                .prop_map(str::to_owned),
                "[0-9]{1,20}",
                prop::collection::vec(any::<u8>(), 1..4)
                    .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
            ];
            (any::<bool>(), prop::collection::vec(piece, 0..40)).prop_map(|(header, pieces)| {
                let head = if header { "drm-driver:\tamdgpu\n" } else { "" };
                format!("{head}{}", pieces.concat())
            })
        }

        fn check_snapshot(snapshot: &GpuSnapshot, first_index: u32) -> Result<(), TestCaseError> {
            for device in &snapshot.devices {
                let busy = device.busy_percent.unwrap_or(0.0);
                prop_assert!((0.0..=100.0).contains(&busy), "device busy {}", busy);
                prop_assert!(device.index >= first_index);
            }
            for process in snapshot.processes.values() {
                prop_assert!(process.busy_percent.is_finite() && process.busy_percent >= 0.0);
                prop_assert!(process.devices.windows(2).all(|w| w[0] < w[1]));
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn arbitrary_text_never_panics(raw in prop::collection::vec(any::<u8>(), 0..2048)) {
                if let Some(client) = parse(&String::from_utf8_lossy(&raw)) {
                    prop_assert!(!client.driver.is_empty());
                    let _ = client.mem_bytes();
                }
            }

            #[test]
            fn usage_of_garbage_stays_in_bounds(
                refreshes in prop::collection::vec(
                    (
                        prop::collection::vec((0u32..4, 0u32..4, fdinfo_text()), 0..5),
                        any::<u64>(),
                        prop::sample::select(vec![0u32, 1, u32::MAX - 1, u32::MAX]),
                    ),
                    1..4,
                ),
            ) {
                let mut usage = DrmUsage::default();
                for (texts, now_ns, first_index) in refreshes {
                    let readings: Vec<FdReading> = texts
                        .iter()
                        .filter_map(|(pid, fd, text)| {
                            Some(FdReading { pid: *pid, fd: *fd, client: parse(text)? })
                        })
                        .collect();
                    let snapshot = usage.refresh(now_ns, first_index, &readings);
                    check_snapshot(&snapshot, first_index)?;
                }
            }

            #[test]
            fn well_formed_keys_are_read_exactly(
                engines in prop::collection::btree_map("[a-z][a-z0-9_]{0,8}", any::<u64>(), 0..5),
                capacity in prop::collection::btree_map("[a-z][a-z0-9_]{0,8}", 0u64..64, 0..3),
                regions in prop::collection::btree_map(
                    "[a-z][a-z0-9_]{0,8}",
                    (any::<u64>(), prop::sample::select(vec![("", 1u64), (" KiB", 1 << 10), (" MiB", 1 << 20)])),
                    0..4,
                ),
                client_id in prop::option::of(any::<u64>()),
                spaces in "[ \t]{0,3}",
            ) {
                let mut text = format!("pos:\t0\nflags:\t02100002\ndrm-driver:{spaces}i915\n");
                if let Some(id) = client_id {
                    text.push_str(&format!("drm-client-id:{spaces}{id}\n"));
                }
                for (name, ns) in &engines {
                    text.push_str(&format!("drm-engine-{name}:{spaces}{ns} ns\n"));
                }
                for (name, n) in &capacity {
                    text.push_str(&format!("drm-engine-capacity-{name}:\t{n}\n"));
                }
                for (name, (n, (unit, _))) in &regions {
                    text.push_str(&format!("drm-resident-{name}:\t{n}{unit}\n"));
                }
                let client = parse(&text).ok_or_else(|| TestCaseError::fail("not parsed"))?;
                prop_assert_eq!(client.driver.as_str(), "i915");
                prop_assert_eq!(client.client_id, client_id);
                for (name, ns) in &engines {
                    prop_assert_eq!(client.engines.get(name).and_then(|e| e.busy_ns), Some(*ns));
                }
                for (name, n) in &capacity {
                    // Zero engines is malformed and ignored.
                    let want = (*n > 0).then_some(*n);
                    prop_assert_eq!(client.engines.get(name).and_then(|e| e.capacity), want);
                }
                for (name, (n, (_, scale))) in &regions {
                    // A size that overflows as bytes is skipped.
                    prop_assert_eq!(client.memory.resident.get(name).copied(), n.checked_mul(*scale));
                }
            }
        }
    }
}
