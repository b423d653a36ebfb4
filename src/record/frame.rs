//! One recorded refresh: the raw sample and what the model reads beside it
//! (user names, the fallback reason), so that a replay builds the same
//! model without reading the machine it runs on.
//!
//! A frame is postcard-encoded, then zstd-compressed. A key frame holds
//! every process; a delta frame only the processes that differ from the
//! previous frame's and the pids that are gone, so an idle process costs
//! nothing after its key frame.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::Context;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::collect::gpu::GpuSnapshot;
use crate::collect::sample::{
    BackendKind, CgroupFacts, Exits, GpuStatus, NetworkStatus, ProcessSample, Sample, SystemSample,
};
use crate::model::Model;

/// zstd's level: 3 is its default; frames are small, so a higher level
/// buys little and costs CPU at every refresh.
const ZSTD_LEVEL: i32 = 3;

/// Whether a frame holds every process or only the changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Key,
    Delta,
}

/// The sample without its processes, borrowed for writing.
#[derive(Serialize)]
struct RestRef<'a> {
    backend: BackendKind,
    boottime_ns: u64,
    unix_time: f64,
    system: &'a SystemSample,
    user_threads: u64,
    kernel_threads: u64,
    running_threads: u64,
    cgroups: &'a HashMap<String, CgroupFacts>,
    network: &'a NetworkStatus,
    gpu: &'a GpuSnapshot,
    gpu_status: &'a GpuStatus,
    exits: &'a Exits,
}

/// The same, owned: read back, or copied to be encoded later (the
/// interface's rewind encodes after the refresh is shown).
#[derive(Serialize, Deserialize, Clone)]
pub struct Rest {
    backend: BackendKind,
    boottime_ns: u64,
    unix_time: f64,
    system: SystemSample,
    user_threads: u64,
    kernel_threads: u64,
    running_threads: u64,
    cgroups: HashMap<String, CgroupFacts>,
    network: NetworkStatus,
    gpu: GpuSnapshot,
    gpu_status: GpuStatus,
    exits: Exits,
}

#[derive(Serialize)]
enum ProcessesRef<'a> {
    Key(Vec<&'a ProcessSample>),
    Delta {
        removed: Vec<u32>,
        changed: Vec<&'a ProcessSample>,
    },
}

#[derive(Deserialize)]
enum Processes {
    Key(Vec<ProcessSample>),
    Delta {
        removed: Vec<u32>,
        changed: Vec<ProcessSample>,
    },
}

/// What the model reads besides the sample: the user name of every uid
/// it shows, and why the backend fell back.
#[derive(Serialize, Deserialize, Default)]
struct Beside {
    fallback_reason: Option<String>,
    users: Vec<(u32, String)>,
}

/// A sample encoded, waiting for its model (for the user names).
pub struct Pending {
    kind: Kind,
    bytes: Vec<u8>,
}

impl Rest {
    /// What a frame holds of `sample` besides its processes.
    pub fn of(sample: &Sample) -> Rest {
        Rest {
            backend: sample.backend,
            boottime_ns: sample.boottime_ns,
            unix_time: sample.unix_time,
            system: sample.system.clone(),
            user_threads: sample.user_threads,
            kernel_threads: sample.kernel_threads,
            running_threads: sample.running_threads,
            cgroups: sample.cgroups.clone(),
            network: sample.network.clone(),
            gpu: sample.gpu.clone(),
            gpu_status: sample.gpu_status.clone(),
            exits: sample.exits.clone(),
        }
    }

    pub fn unix_time(&self) -> f64 {
        self.unix_time
    }
}

impl Pending {
    pub fn kind(&self) -> Kind {
        self.kind
    }
}

/// Turns refreshes into frames: a key frame every `key_every` frames (and
/// first), delta frames against the previous frame in between.
pub struct Encoder {
    key_every: u32,
    /// The previous frame's processes, as (pid, fingerprint) by pid: what
    /// the next delta is taken against. 12 bytes a process, rather than
    /// the samples themselves.
    prev: Option<Vec<(u32, u64)>>,
    /// The fingerprints of the frame encoded last, until it is stored.
    staged: Vec<(u32, u64)>,
    since_key: u32,
}

/// A process's fingerprint: a hash of every field. FxHash turns a change
/// of any one word into a different hash (each step is a bijection of the
/// state); unrelated changes of several words collide with a chance of
/// about 2^-64.
fn fingerprint(p: &ProcessSample) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = rustc_hash::FxHasher::default();
    p.hash(&mut hasher);
    hasher.finish()
}

impl Encoder {
    pub fn new(key_every: u32) -> Encoder {
        Encoder {
            key_every: key_every.max(1),
            prev: None,
            staged: Vec::new(),
            since_key: 0,
        }
    }

    /// The next frame is a key frame (after a frame that was not stored).
    pub fn reset(&mut self) {
        self.prev = None;
    }

    /// Encodes `sample`: the first half of a frame.
    pub fn encode(&mut self, sample: &Sample) -> anyhow::Result<Pending> {
        let mut order: Vec<&ProcessSample> = sample.processes.iter().collect();
        if !order.is_sorted_by_key(|p| p.pid) {
            order.sort_unstable_by_key(|p| p.pid);
        }
        let rest = RestRef {
            backend: sample.backend,
            boottime_ns: sample.boottime_ns,
            unix_time: sample.unix_time,
            system: &sample.system,
            user_threads: sample.user_threads,
            kernel_threads: sample.kernel_threads,
            running_threads: sample.running_threads,
            cgroups: &sample.cgroups,
            network: &sample.network,
            gpu: &sample.gpu,
            gpu_status: &sample.gpu_status,
            exits: &sample.exits,
        };
        self.encode_parts(&rest, order)
    }

    /// Encodes a refresh after its model was built: `rest` copied from its
    /// sample, the processes from the model (which holds their samples).
    pub fn encode_later(&mut self, rest: &Rest, model: &Model) -> anyhow::Result<Pending> {
        let mut order: Vec<&ProcessSample> = model.processes.iter().map(|v| &v.sample).collect();
        if !order.is_sorted_by_key(|p| p.pid) {
            order.sort_unstable_by_key(|p| p.pid);
        }
        self.encode_parts(rest, order)
    }

    fn encode_parts(
        &mut self,
        rest: &impl Serialize,
        order: Vec<&ProcessSample>,
    ) -> anyhow::Result<Pending> {
        self.staged.clear();
        self.staged
            .extend(order.iter().map(|p| (p.pid, fingerprint(p))));
        let (kind, processes) = match &self.prev {
            Some(prev) if self.since_key < self.key_every => {
                let (removed, changed) = delta(prev, &self.staged, &order);
                (Kind::Delta, ProcessesRef::Delta { removed, changed })
            }
            _ => (Kind::Key, ProcessesRef::Key(order)),
        };
        let bytes = postcard::to_stdvec(rest)?;
        let bytes = postcard::to_extend(&processes, bytes)?;
        Ok(Pending { kind, bytes })
    }

    /// Completes the frame with what `model` (built from that sample) read
    /// beside it, and compresses it: its kind and bytes.
    pub fn finish(&self, pending: Pending, model: &Model) -> anyhow::Result<(Kind, Vec<u8>)> {
        // A name per distinct uid (a few), not per process (thousands).
        let mut names: FxHashMap<u32, &Arc<str>> = FxHashMap::default();
        let shown = model.processes.iter().map(|p| (p.sample.uid, &p.user));
        let exited = model
            .exits
            .processes
            .iter()
            .map(|e| (e.process.uid, &e.user));
        for (uid, name) in shown.chain(exited) {
            names.entry(uid).or_insert(name);
        }
        let mut users: Vec<(u32, String)> = names
            .into_iter()
            .map(|(uid, name)| (uid, name.to_string()))
            .collect();
        users.sort_unstable();
        let beside = Beside {
            fallback_reason: model.fallback_reason.clone(),
            users,
        };
        let bytes = postcard::to_extend(&beside, pending.bytes)?;
        // zstd hands back a buffer of the input's size (its bound): a frame
        // kept for rewinding would hold that, not its compressed bytes.
        let mut frame = zstd::bulk::compress(&bytes, ZSTD_LEVEL)?;
        frame.shrink_to_fit();
        Ok((pending.kind, frame))
    }

    /// The frame of `kind` encoded last was stored: it is the next delta's
    /// base.
    pub fn stored(&mut self, kind: Kind) {
        self.since_key = match kind {
            Kind::Key => 1,
            Kind::Delta => self.since_key + 1,
        };
        let prev = self.prev.get_or_insert_with(Vec::new);
        std::mem::swap(prev, &mut self.staged);
    }
}

/// The pids of `before` not in `now`, and the processes of `now` that are
/// new or whose fingerprint changed; both by increasing pid. `prints` are
/// `now`'s fingerprints, in its order.
fn delta<'a>(
    before: &[(u32, u64)],
    prints: &[(u32, u64)],
    now: &[&'a ProcessSample],
) -> (Vec<u32>, Vec<&'a ProcessSample>) {
    let mut removed = Vec::new();
    let mut changed = Vec::new();
    let mut old = before.iter().peekable();
    for (&(pid, print), &p) in prints.iter().zip(now) {
        while let Some(&(gone, _)) = old.next_if(|(o, _)| *o < pid) {
            removed.push(gone);
        }
        match old.next_if(|(o, _)| *o == pid) {
            Some(&(_, was)) if was == print => {}
            _ => changed.push(p),
        }
    }
    removed.extend(old.map(|&(pid, _)| pid));
    (removed, changed)
}

/// A frame read back: the sample, and how the model it was recorded with
/// named users and the backend's fallback.
pub struct Decoded {
    pub kind: Kind,
    pub sample: Sample,
    pub fallback_reason: Option<String>,
    pub users: HashMap<u32, Arc<str>>,
}

impl Decoded {
    /// The recorded name of `uid` (its number where none was recorded).
    pub fn user_name(&self, uid: u32) -> String {
        self.users
            .get(&uid)
            .map_or_else(|| uid.to_string(), |name| name.to_string())
    }
}

/// Turns frames back into samples; a delta frame applies to the previous
/// frame's processes.
#[derive(Default)]
pub struct Decoder {
    /// The last frame's processes, by pid (a delta changes a few of them in
    /// place); None before a key frame.
    processes: Option<BTreeMap<u32, ProcessSample>>,
}

/// A frame's parts, decompressed and decoded.
fn parts(blob: &[u8]) -> anyhow::Result<(Rest, Processes, Beside)> {
    let bytes = zstd::stream::decode_all(blob).context("the frame is not zstd data")?;
    let (rest, tail): (Rest, &[u8]) =
        postcard::take_from_bytes(&bytes).context("the frame's system part is damaged")?;
    let (processes, tail): (Processes, &[u8]) =
        postcard::take_from_bytes(tail).context("the frame's processes are damaged")?;
    let (beside, _): (Beside, &[u8]) =
        postcard::take_from_bytes(tail).context("the frame's user names are damaged")?;
    Ok((rest, processes, beside))
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Applies the frame's processes to the last frame's.
    fn advance(&mut self, processes: Processes) -> anyhow::Result<Kind> {
        match processes {
            Processes::Key(all) => {
                self.processes = Some(all.into_iter().map(|p| (p.pid, p)).collect());
                Ok(Kind::Key)
            }
            Processes::Delta { removed, changed } => {
                let before = self
                    .processes
                    .as_mut()
                    .context("a delta frame without the frame before it")?;
                for pid in removed {
                    before.remove(&pid);
                }
                for p in changed {
                    before.insert(p.pid, p);
                }
                Ok(Kind::Delta)
            }
        }
    }

    /// Reads the frame `blob` only as the base of the next one (no sample
    /// is built: seeking passes over up to a group of frames).
    pub fn skip(&mut self, blob: &[u8]) -> anyhow::Result<()> {
        let (_, processes, _) = parts(blob)?;
        self.advance(processes).map(drop)
    }

    /// Decodes the compressed frame `blob`. A delta frame needs the frame
    /// before it to have been decoded (or skipped) by this decoder.
    pub fn decode(&mut self, blob: &[u8]) -> anyhow::Result<Decoded> {
        let (rest, processes, beside) = parts(blob)?;
        let kind = self.advance(processes)?;
        let now: Vec<ProcessSample> = self
            .processes
            .as_ref()
            .map(|all| all.values().cloned().collect())
            .unwrap_or_default();
        let mut cgroups = rest.cgroups;
        share_units(&mut cgroups);
        let sample = Sample {
            backend: rest.backend,
            boottime_ns: rest.boottime_ns,
            unix_time: rest.unix_time,
            system: rest.system,
            processes: now,
            user_threads: rest.user_threads,
            kernel_threads: rest.kernel_threads,
            running_threads: rest.running_threads,
            cgroups,
            network: rest.network,
            gpu: rest.gpu,
            gpu_status: rest.gpu_status,
            exits: rest.exits,
        };
        Ok(Decoded {
            kind,
            sample,
            fallback_reason: beside.fallback_reason,
            users: beside
                .users
                .into_iter()
                .map(|(uid, name)| (uid, Arc::from(name)))
                .collect(),
        })
    }
}

/// Makes the cgroups of one unit share its `UnitCgroup`, as the
/// collector's catalog does (one per unit cgroup): the model counts a
/// unit's processes by that sharing. Decoding gives each cgroup its own.
fn share_units(cgroups: &mut HashMap<String, CgroupFacts>) {
    let mut units: HashMap<Arc<str>, crate::collect::sample::UnitCgroup> = HashMap::new();
    for facts in cgroups.values_mut() {
        if let Some(unit) = facts.unit.as_mut() {
            let shared = units
                .entry(Arc::clone(&unit.path))
                .or_insert_with(|| unit.clone());
            *unit = shared.clone();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::collect::fake::{demo_processes, FakeCollector};
    use crate::collect::sample::Comm;
    use crate::collect::Collector;

    fn demo_sample() -> Sample {
        FakeCollector::new(demo_processes()).collect().unwrap()
    }

    fn names(decoded: &Decoded) -> Vec<(u32, Vec<u8>)> {
        decoded
            .sample
            .processes
            .iter()
            .map(|p| (p.pid, p.comm.to_vec()))
            .collect()
    }

    fn model_of(sample: &Sample) -> Arc<Model> {
        Arc::new(Model::after(sample.clone(), None, None, &|uid| {
            format!("user{uid}")
        }))
    }

    /// Encodes and "stores" the next frame.
    fn frame(encoder: &mut Encoder, sample: &Sample) -> Vec<u8> {
        let pending = encoder.encode(sample).unwrap();
        let model = model_of(sample);
        let (kind, blob) = encoder.finish(pending, &model).unwrap();
        encoder.stored(kind);
        blob
    }

    #[test]
    fn delta_frames_carry_only_changes_and_decode_to_the_whole_sample() {
        let first = demo_sample();
        let mut second = first.clone();
        // One process changed, one gone, one new.
        second.processes[1].utime_ns += 5_000_000;
        let gone = second.processes.remove(2).pid;
        let mut born = second.processes[0].clone();
        born.pid = 999_999;
        born.comm = Comm::new(b"newcomer");
        second.processes.push(born);
        let mut encoder = Encoder::new(60);
        let mut decoder = Decoder::new();
        let key = frame(&mut encoder, &first);
        assert_eq!(encoder.encode(&second).unwrap().kind(), Kind::Delta);
        let delta = frame(&mut encoder, &second);
        assert!(delta.len() < key.len(), "{} >= {}", delta.len(), key.len());
        let a = decoder.decode(&key).unwrap();
        assert_eq!(a.kind, Kind::Key);
        let mut expected = first.processes.clone();
        expected.sort_by_key(|p| p.pid);
        assert_eq!(a.sample.processes, expected);
        assert_eq!(a.sample.system, first.system);
        let b = decoder.decode(&delta).unwrap();
        let mut expected = second.processes.clone();
        expected.sort_by_key(|p| p.pid);
        assert_eq!(b.sample.processes, expected);
        assert!(!names(&b).iter().any(|(pid, _)| *pid == gone));
        assert_eq!(
            b.user_name(first.processes[0].uid),
            format!("user{}", first.processes[0].uid)
        );
    }

    /// Frames are kept in memory for minutes (rewinding): each must hold
    /// its compressed bytes only, not the uncompressed size zstd's buffer
    /// was made for.
    #[test]
    fn a_frame_holds_only_its_bytes() {
        let sample = demo_sample();
        let mut encoder = Encoder::new(60);
        for blob in [frame(&mut encoder, &sample), frame(&mut encoder, &sample)] {
            assert_eq!(blob.capacity(), blob.len());
        }
    }

    #[test]
    fn a_delta_without_its_base_or_garbage_is_an_error() {
        let sample = demo_sample();
        let mut encoder = Encoder::new(60);
        frame(&mut encoder, &sample);
        let delta = frame(&mut encoder, &sample);
        let e = Decoder::new().decode(&delta).err().unwrap();
        assert!(
            format!("{e:#}").contains("without the frame before it"),
            "{e:#}"
        );
        let e = Decoder::new().decode(b"not a frame").err().unwrap();
        assert!(format!("{e:#}").contains("not zstd"), "{e:#}");
        let e = Decoder::new()
            .decode(&zstd::bulk::compress(b"\xff\xff\xff", 3).unwrap())
            .err()
            .unwrap();
        assert!(format!("{e:#}").contains("damaged"), "{e:#}");
    }

    #[test]
    fn the_cgroups_of_a_unit_share_it_again() {
        use crate::collect::sample::{CgroupFacts, UnitCgroup, UnitCgroupStats};
        let mut sample = demo_sample();
        let unit = UnitCgroup {
            path: Arc::from("/system.slice/a.service"),
            stats: Arc::new(UnitCgroupStats::default()),
        };
        for path in ["/system.slice/a.service/x", "/system.slice/a.service/y"] {
            let facts = CgroupFacts {
                info: Arc::default(),
                frozen: None,
                unit: Some(unit.clone()),
            };
            sample.cgroups.insert(path.to_owned(), facts);
        }
        let mut encoder = Encoder::new(60);
        let blob = frame(&mut encoder, &sample);
        let decoded = Decoder::new().decode(&blob).unwrap();
        let unit_of = |path: &str| decoded.sample.cgroups[path].unit.clone().unwrap();
        let (x, y) = (
            unit_of("/system.slice/a.service/x"),
            unit_of("/system.slice/a.service/y"),
        );
        assert!(Arc::ptr_eq(&x.path, &y.path));
        assert!(Arc::ptr_eq(&x.stats, &y.stats));
    }

    #[test]
    fn a_skipped_frame_is_a_base_as_a_decoded_one() {
        let first = demo_sample();
        let mut second = first.clone();
        second.processes[0].stime_ns += 1;
        second.processes.remove(1);
        let mut encoder = Encoder::new(60);
        let key = frame(&mut encoder, &first);
        let delta = frame(&mut encoder, &second);
        let mut decoding = Decoder::new();
        decoding.decode(&key).unwrap();
        let mut skipping = Decoder::new();
        skipping.skip(&key).unwrap();
        let a = decoding.decode(&delta).unwrap();
        let b = skipping.decode(&delta).unwrap();
        assert_eq!(a.sample.processes, b.sample.processes);
        assert_eq!(a.sample.processes.len(), first.processes.len() - 1);
    }
}
