//! What the flight recorder costs, measured on this machine's processes
//! (not criterion: each figure is one run over real refreshes):
//!
//! - bytes per refresh: the key frame, the delta frames, and the average
//!   over a group (a key frame every 60 frames), for every process the
//!   machine has and for the first 1 000 of them (the same refreshes,
//!   fewer processes);
//! - bytes per changed process: each delta frame's size against the
//!   processes it carries (new or changed since the refresh before; gone
//!   ones by pid), fitted by least squares over the deltas: the slope is
//!   what a process that changed costs, the intercept the system part;
//! - CPU per refresh: what encoding, compressing and storing a frame adds
//!   to a refresh (sample + model), in thread CPU time;
//! - seek: opening a recording of a day at 1 Hz at a time in its middle,
//!   until the model of that refresh is built.
//!
//!     cargo bench --bench recorder            # BPFTOP_BENCH_REFRESHES=20
//!
//! Run as root for the eBPF backend (procfs otherwise). Idle processes to
//! measure at: bench/spawn_idle.c.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bpftop::collect::sampler::Sampler;
use bpftop::collect::{BackendChoice, CollectOptions, Sample};
use bpftop::model::Model;
use bpftop::monitor::Monitor;
use bpftop::record::frame::{Decoder, Encoder, Kind};
use bpftop::record::store::Store;
use bpftop::record::KEY_EVERY;

fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn names(uid: u32) -> String {
    format!("u{uid}")
}

/// Frame sizes of one stream of samples.
#[derive(Default)]
struct Sizes {
    /// The key frame of the last refresh, encoded on its own.
    key: Vec<usize>,
    /// Delta frames taken while the number of processes stayed within 1 %
    /// (other work on the machine starting or stopping thousands of
    /// processes is not what an idle machine costs).
    delta: Vec<usize>,
    /// Delta frames left out for that reason.
    unsteady: usize,
    last_count: usize,
}

impl Sizes {
    fn add(&mut self, kind: Kind, bytes: usize, processes: usize) {
        let steady = processes.abs_diff(self.last_count) * 100 <= self.last_count;
        self.last_count = processes;
        match kind {
            Kind::Key => {}
            Kind::Delta if steady => self.delta.push(bytes),
            Kind::Delta => self.unsteady += 1,
        }
    }

    /// Encodes `sample` as a key frame of its own.
    fn key_of(&mut self, sample: &Sample) {
        let mut stream = Stream::new(KEY_EVERY);
        stream.push(sample.clone());
        self.key.push(stream.blobs[0].1.len());
    }

    fn report(&self, label: &str, processes: usize) {
        let mean = |v: &[usize]| v.iter().sum::<usize>() as f64 / v.len().max(1) as f64;
        if self.unsteady > 0 {
            println!(
                "{label}: {} delta frames left out: the number of processes changed by more \
                 than 1 % (other work on the machine)",
                self.unsteady
            );
        }
        let key = mean(&self.key);
        let delta = mean(&self.delta);
        let max_delta = self.delta.iter().max().copied().unwrap_or(0);
        let group = (key + delta * f64::from(KEY_EVERY - 1)) / f64::from(KEY_EVERY);
        println!(
            "{label}: {processes} processes: key frame {:.1} KB, delta frame mean {:.2} KB \
             (max {:.2} KB over {} deltas), {:.2} KB per refresh with a key frame every {KEY_EVERY} \
             -> {:.2} GiB/day at 1 Hz",
            key / 1e3,
            delta / 1e3,
            max_delta as f64 / 1e3,
            self.delta.len(),
            group / 1e3,
            group * 86_400.0 / f64::from(1u32 << 30)
        );
    }
}

/// The processes of `now` that are new or differ from `before`'s, and
/// those of `before` that are gone: what a delta frame carries.
fn changed(before: &Sample, now: &Sample) -> usize {
    let old: std::collections::HashMap<u32, &bpftop::collect::sample::ProcessSample> =
        before.processes.iter().map(|p| (p.pid, p)).collect();
    let pids: std::collections::HashSet<u32> = now.processes.iter().map(|p| p.pid).collect();
    let differ = now
        .processes
        .iter()
        .filter(|p| old.get(&p.pid).is_none_or(|o| *o != *p))
        .count();
    differ + old.keys().filter(|pid| !pids.contains(pid)).count()
}

/// Bytes per changed process: the least-squares line through the delta
/// frames' (processes carried, bytes).
fn report_changes(changes: &[(usize, usize)]) {
    if changes.len() < 2 {
        return;
    }
    let n = changes.len() as f64;
    let (sx, sy) = changes.iter().fold((0.0, 0.0), |(sx, sy), &(bytes, k)| {
        (sx + k as f64, sy + bytes as f64)
    });
    let (mx, my) = (sx / n, sy / n);
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for &(bytes, k) in changes {
        sxy += (k as f64 - mx) * (bytes as f64 - my);
        sxx += (k as f64 - mx) * (k as f64 - mx);
    }
    let (least, most) = changes
        .iter()
        .fold((usize::MAX, 0), |(lo, hi), &(_, k)| (lo.min(k), hi.max(k)));
    if sxx == 0.0 {
        println!("bytes per changed process: every delta carried {least} processes");
        return;
    }
    let slope = sxy / sxx;
    println!(
        "bytes per changed process: {slope:.1} (least squares over {} deltas carrying \
         {least}-{most} processes, mean {mx:.0}; {:.0} bytes at none)",
        changes.len(),
        my - slope * mx
    );
}

/// `sample` with only its first `n` processes by pid (the same refresh,
/// fewer processes).
fn first(sample: &Sample, n: usize) -> Sample {
    let mut s = sample.clone();
    s.processes.sort_by_key(|p| p.pid);
    s.processes.truncate(n);
    s
}

/// A stream of frames: encoder and the model it builds on.
struct Stream {
    encoder: Encoder,
    prev: Option<bpftop::model::Baselines>,
    sizes: Sizes,
    blobs: Vec<(Kind, Vec<u8>)>,
    count: usize,
}

impl Stream {
    fn new(key_every: u32) -> Stream {
        Stream {
            encoder: Encoder::new(key_every),
            prev: None,
            sizes: Sizes::default(),
            blobs: Vec::new(),
            count: 0,
        }
    }

    fn push(&mut self, sample: Sample) {
        self.count = sample.processes.len();
        let pending = self.encoder.encode(&sample).unwrap();
        let model = std::sync::Arc::new(Model::after(sample, self.prev.as_ref(), None, &names));
        let (kind, blob) = self.encoder.finish(pending, &model).unwrap();
        self.encoder.stored(kind);
        self.prev = Some(model.baselines());
        self.sizes.add(kind, blob.len(), self.count);
        self.blobs.push((kind, blob));
    }
}

/// Writes `frames` refreshes at 1 Hz made of `group` (a key frame and
/// its deltas, the last delta repeated to fill KEY_EVERY frames) into a
/// fresh recording in `dir`, then opens it in the middle: the time from
/// opening the file to the model of that refresh.
fn seek(dir: &std::path::Path, group: &[(Kind, Vec<u8>)], frames: u32) -> (Duration, u64) {
    let _ = std::fs::remove_dir_all(dir);
    {
        let mut store = Store::open_for_writing(dir).unwrap();
        let session = store.begin_session(1e9, 1000, false).unwrap();
        store
            .append_all((0..frames).map(|frame| {
                let i = (frame % KEY_EVERY) as usize;
                let (kind, blob) = &group[i.min(group.len() - 1)];
                (session, 1e9 + f64::from(frame), *kind, blob.as_slice())
            }))
            .unwrap();
    }
    let size = std::fs::metadata(dir.join(bpftop::record::store::FILE_NAME))
        .unwrap()
        .len();
    let start = Instant::now();
    let store = Store::open_for_reading(dir).unwrap();
    let at = store
        .frame_at(1e9 + f64::from(frames / 2) + 17.5)
        .unwrap()
        .unwrap();
    let before = store.neighbour(at.id, false).unwrap().unwrap();
    let mut decoder = Decoder::new();
    let mut prev = None;
    let mut built = None;
    store
        .each_frame(before.key, at.id, |info, data| {
            if info.id < before.id {
                return decoder.skip(data);
            }
            let decoded = decoder.decode(data)?;
            {
                let users = decoded.users;
                let model = Model::after(decoded.sample, prev.as_ref(), None, &|uid| {
                    users.get(&uid).map_or_else(String::new, |n| n.to_string())
                });
                prev = Some(model.baselines());
                built = Some(model);
            }
            Ok(())
        })
        .unwrap();
    let took = start.elapsed();
    assert!(built.is_some_and(|m| !m.processes.is_empty()));
    (took, size)
}

fn main() {
    let refreshes: u32 = std::env::var("BPFTOP_BENCH_REFRESHES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let options = CollectOptions {
        gpu: false,
        ..CollectOptions::default()
    };
    let sampler = Sampler::open(BackendChoice::Auto, &options, "/etc/passwd".into()).unwrap();
    // What was measured: bench/recorder's report names it.
    println!(
        "build: bpftop {}, commit {}",
        env!("CARGO_PKG_VERSION"),
        bpftop::build_info::COMMIT
    );
    println!("backend: {}", sampler.backend().name());
    let mut monitor = Monitor::new(sampler);
    let dir = std::env::temp_dir().join(format!("bpftop-bench-rec-{}", std::process::id()));
    let mut store = Store::open_for_writing(&dir).unwrap();
    let session = store.begin_session(0.0, 1000, false).unwrap();
    let encoder = std::cell::RefCell::new(Encoder::new(KEY_EVERY));
    let mut all = Sizes::default();
    let mut subset = Stream::new(KEY_EVERY);
    let mut whole_group = Stream::new(KEY_EVERY);
    let (mut refresh_cpu, mut record_cpu) = (Vec::new(), Vec::new());
    let mut processes = 0;
    let mut last: Option<Sample> = None;
    // (bytes, processes changed) of each delta frame of every process.
    let mut changes: Vec<(usize, usize)> = Vec::new();
    // (encode, finish, store) of each refresh.
    let mut parts: Vec<(Duration, Duration, Duration)> = Vec::new();
    for _ in 0..refreshes {
        let next = Instant::now() + Duration::from_secs(1);
        let before = thread_cpu();
        let (kind, bytes, recording, copy) = monitor
            .refresh_with(
                |sample| {
                    let t = thread_cpu();
                    let pending = encoder.borrow_mut().encode(sample);
                    let spent = thread_cpu() - t;
                    // Not timed: copies for the other streams.
                    let t = thread_cpu();
                    let copy = sample.clone();
                    (pending, sample.unix_time, spent, copy, thread_cpu() - t)
                },
                |model, (pending, time, spent, copy, copying)| {
                    let t = thread_cpu();
                    let mut encoder = encoder.borrow_mut();
                    let (kind, blob) = encoder.finish(pending?, model)?;
                    let stored = thread_cpu();
                    store.append(session, time, kind, &blob)?;
                    parts.push((spent, stored - t, thread_cpu() - stored));
                    encoder.stored(kind);
                    Ok((
                        kind,
                        blob.len(),
                        spent + (thread_cpu() - t),
                        (copy, copying),
                    ))
                },
            )
            .unwrap();
        let total = thread_cpu() - before;
        let (copy, copying) = copy;
        processes = copy.processes.len();
        refresh_cpu.push(total - recording - copying);
        record_cpu.push((kind, recording));
        all.add(kind, bytes, processes);
        if let (Kind::Delta, Some(before)) = (kind, last.as_ref()) {
            changes.push((bytes, changed(before, &copy)));
        }
        subset.push(first(&copy, 1000));
        last = Some(copy.clone());
        whole_group.push(copy);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let ms = |v: &[Duration]| {
        v.iter().map(Duration::as_secs_f64).sum::<f64>() * 1e3 / v.len().max(1) as f64
    };
    // The first refresh reads every command line and writes the key
    // frame: both are counted apart, not in the means.
    let refresh_ms = ms(&refresh_cpu[1..]);
    let of = |kind: Kind| -> Vec<Duration> {
        record_cpu[1..]
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, d)| *d)
            .collect()
    };
    let delta_ms = ms(&of(Kind::Delta));
    let key_ms = record_cpu[0].1.as_secs_f64() * 1e3;
    let amortized = (key_ms + delta_ms * f64::from(KEY_EVERY - 1)) / f64::from(KEY_EVERY);
    let last = last.expect("at least one refresh");
    all.key_of(&last);
    subset.sizes.key.clear();
    subset.sizes.key_of(&first(&last, 1000));
    all.report("all", processes);
    report_changes(&changes);
    subset.sizes.report("first 1000", 1000.min(processes));
    println!(
        "CPU per refresh (thread CPU, {} refreshes after the first): sample + model {refresh_ms:.2} ms; \
         recording a delta frame {delta_ms:.2} ms, the key frame {key_ms:.2} ms: {amortized:.2} ms \
         per refresh with a key frame every {KEY_EVERY} ({:.1} %)",
        refresh_cpu.len() - 1,
        amortized / refresh_ms * 100.0
    );
    let part = |pick: fn(&(Duration, Duration, Duration)) -> Duration| {
        ms(&parts[1..].iter().map(pick).collect::<Vec<_>>())
    };
    println!(
        "  of which: encoding the sample {:.2} ms, names and compression {:.2} ms, \
         storing {:.2} ms",
        part(|p| p.0),
        part(|p| p.1),
        part(|p| p.2)
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    // A day of the first 1000 processes; two hours of all of them (a day
    // of 10 000 would write most of a gigabyte: the seek reads one group
    // however long the recording is).
    for (label, stream, frames) in [
        ("first 1000", &subset, 86_400),
        ("all", &whole_group, 7_200),
    ] {
        if std::env::var_os("BPFTOP_BENCH_NO_SEEK").is_some() {
            break;
        }
        let (took, size) = seek(&dir, &stream.blobs, frames);
        println!(
            "seek, {label}: {:.1} h at 1 Hz ({:.0} MB) opened in the middle in {:.0} ms",
            f64::from(frames) / 3600.0,
            size as f64 / 1e6,
            took.as_secs_f64() * 1e3
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    let _: PathBuf = dir;
}
