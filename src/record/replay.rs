//! `bpftop replay --batch`: the recorded refreshes between two times, each
//! built into its model again (after the refresh before it, as live) and
//! printed as batch mode printed it.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::{bail, Context};

use super::frame::Decoder;
use super::store::Store;
use super::when::format_utc;
use crate::batch::{self, Format, Selection};
use crate::model::{Baselines, Model};

/// What the command line asks of `bpftop replay --batch`.
pub struct ReplayOptions {
    pub dir: PathBuf,
    /// Seconds since the epoch, inclusive.
    pub from: f64,
    pub to: f64,
    pub format: Format,
}

/// Prints the refreshes recorded from `from` to `to`. The first refresh of
/// each recording session is not printed: live batch mode takes it as the
/// baseline of the rates and prints none for it either.
pub fn run(options: &ReplayOptions) -> anyhow::Result<()> {
    let store = Store::open_for_reading(&options.dir)?;
    let frames = store.frames_between(options.from, options.to)?;
    let (Some(first), Some(last)) = (frames.first(), frames.last()) else {
        bail!(
            "nothing was recorded between {} and {} UTC",
            format_utc(options.from),
            format_utc(options.to)
        );
    };
    // Decoding starts at the key frame of the refresh before the first,
    // whose model is the first one's baseline.
    let before = store
        .neighbour(first.id, false)?
        .filter(|b| b.session == first.session);
    let start = before.map_or(first.key, |b| b.key);
    let models_from = before.map_or(first.id, |b| b.id);
    let mut wanted = frames.iter().map(|f| f.id).peekable();
    let mut decoder = Decoder::new();
    let mut prev: Option<(i64, Baselines)> = None;
    let selection = Selection::default();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut threads = None;
    let written = store.each_frame(start, last.id, |info, data| {
        let unreadable = || format!("frame {} cannot be read", info.id);
        if info.id < models_from {
            return decoder.skip(data).with_context(unreadable);
        }
        let decoded = decoder.decode(data).with_context(unreadable)?;
        let baseline = prev
            .take()
            .filter(|(session, _)| *session == info.session)
            .map(|(_, b)| b);
        let users = decoded.users;
        let model = Model::after(
            decoded.sample,
            baseline.as_ref(),
            decoded.fallback_reason,
            &|uid| {
                users
                    .get(&uid)
                    .map_or_else(|| uid.to_string(), |name| name.to_string())
            },
        );
        let is_wanted = wanted.next_if_eq(&info.id).is_some();
        if is_wanted && baseline.is_some() {
            let threads = match threads {
                Some((session, t)) if session == info.session => t,
                _ => {
                    let t = store.session(info.session)?.threads;
                    threads = Some((info.session, t));
                    t
                }
            };
            batch::write_refresh(&mut out, &model, &selection, options.format, threads, None)?;
        }
        prev = Some((info.session, model.baselines()));
        Ok(())
    });
    match written.and_then(|()| out.flush().map_err(anyhow::Error::from)) {
        // A closed stdout (`| head`) ends the replay quietly.
        Err(e)
            if e.root_cause()
                .downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}
