//! The flight recorder: `bpftop record` writes every refresh's raw sample
//! to disk ([`store`], [`frame`]); `bpftop replay` builds the models again
//! through the same pipeline and prints them as batch mode printed them
//! ([`replay`]).

pub mod frame;
pub mod player;
pub mod replay;
pub mod ring;
pub mod store;
pub mod when;

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::batch::{self, pace::Pacer, Format, Selection};
use crate::monitor::Monitor;
use crate::privileges::with_user_rights;
use frame::Encoder;
use store::Store;

/// Where frames are kept: a recording on disk or the rewind ring.
pub trait Frames {
    /// The last frame taken at or before `time`, else the first frame.
    fn frame_at(&self, time: f64) -> anyhow::Result<Option<store::FrameInfo>>;
    /// The frame right after (`later`) or before frame `id`.
    fn neighbour(&self, id: i64, later: bool) -> anyhow::Result<Option<store::FrameInfo>>;
    /// The frames `from` to `to` (ids, inclusive), in order.
    fn each_frame(
        &self,
        from: i64,
        to: i64,
        each: &mut dyn FnMut(store::FrameInfo, &[u8]) -> anyhow::Result<()>,
    ) -> anyhow::Result<()>;
}

impl Frames for Store {
    fn frame_at(&self, time: f64) -> anyhow::Result<Option<store::FrameInfo>> {
        Store::frame_at(self, time)
    }

    fn neighbour(&self, id: i64, later: bool) -> anyhow::Result<Option<store::FrameInfo>> {
        Store::neighbour(self, id, later)
    }

    fn each_frame(
        &self,
        from: i64,
        to: i64,
        each: &mut dyn FnMut(store::FrameInfo, &[u8]) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        Store::each_frame(self, from, to, each)
    }
}

/// A key frame every this many frames: what opening at a time decodes at
/// most, and what retention deletes at least.
pub const KEY_EVERY: u32 = 60;

/// Retention when `--retain` does not say.
pub const DEFAULT_MAX_AGE_SECS: f64 = 7.0 * 86_400.0;
pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;

/// What the command line asks of `bpftop record`.
pub struct RecordOptions {
    pub dir: PathBuf,
    pub delay: Duration,
    /// Stop after this many refreshes (default: until killed).
    pub count: Option<u64>,
    /// Delete frames older than this (seconds) or beyond this size.
    pub max_age: Option<f64>,
    pub max_bytes: Option<u64>,
    pub threads: bool,
    /// Also print each recorded refresh (but the first, which has no
    /// rates) here, as `--batch --format json` would with `tee_selection`
    /// (-p, -u, -s); every process is recorded whatever it selects.
    pub tee_json: Option<PathBuf>,
    pub tee_selection: Selection,
    pub key_every: u32,
}

/// The recording directory when `--dir` is not given: /var/lib/bpftop for
/// root, the user's state directory otherwise.
pub fn default_dir() -> PathBuf {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return PathBuf::from("/var/lib/bpftop");
    }
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/state")));
    state.unwrap_or_else(|| PathBuf::from(".")).join("bpftop")
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Records until `count` refreshes were stored (or forever).
pub fn run(monitor: &mut Monitor, options: &RecordOptions) -> anyhow::Result<()> {
    // Files named by the user are opened with the user's rights.
    let mut store = with_user_rights(|| Store::open_for_writing(&options.dir))
        .map_err(anyhow::Error::msg)??;
    let mut tee = match &options.tee_json {
        Some(path) => Some(BufWriter::new(
            with_user_rights(|| File::create(path))
                .map_err(anyhow::Error::msg)?
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => None,
    };
    store.enforce(options.max_age.map(|age| now() - age), options.max_bytes)?;
    let session = store.begin_session(now(), options.delay.as_millis() as u64, options.threads)?;
    let encoder = RefCell::new(Encoder::new(options.key_every));
    let selection = &options.tee_selection;
    let mut pacer = Pacer::new(options.delay);
    let mut stored = 0u64;
    while options.count.is_none_or(|c| stored < c) {
        let result = monitor.refresh_with(
            |sample| (encoder.borrow_mut().encode(sample), sample.unix_time),
            |model, (pending, time)| {
                let mut encoder = encoder.borrow_mut();
                let (kind, blob) = encoder.finish(pending?, model)?;
                store.append(session, time, kind, &blob)?;
                encoder.stored(kind);
                if kind == frame::Kind::Key {
                    store.enforce(options.max_age.map(|age| now() - age), options.max_bytes)?;
                }
                if let Some(tee) = tee.as_mut().filter(|_| stored > 0) {
                    batch::write_refresh(
                        tee,
                        model,
                        selection,
                        Format::Json,
                        options.threads,
                        None,
                    )
                    .and_then(|()| tee.flush())
                    .context("cannot write the JSON copy")?;
                }
                Ok(())
            },
        );
        if let Err(e) = result {
            // The frame was not stored: the next one must not build on it.
            encoder.borrow_mut().reset();
            return Err(e);
        }
        stored += 1;
        if options.count.is_some_and(|c| stored >= c) {
            break;
        }
        pacer.wait_for_next();
    }
    Ok(())
}
