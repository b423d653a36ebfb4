//! `bpftop replay --batch`: the recorded refreshes between two times, each
//! built into its model again (after the refresh before it, as live) and
//! printed as batch mode printed it.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

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
    /// -p and -s, as live batch mode selects.
    pub selection: Selection,
    /// -u: a uid, or a user name looked up in each refresh's recorded
    /// names (not this machine's).
    pub user: Option<String>,
    /// -n: at most this many refreshes.
    pub count: Option<u64>,
}

/// A uid no process has: the kernel reserves (uid_t)-1 ("no change" to
/// setresuid and chown), so a selection of it admits nothing.
const NO_UID: u32 = u32::MAX;

/// The uid `user` names in a refresh that recorded `names` (every uid
/// shown then): a number is a uid; a name recorded for no uid is no
/// process's, then.
fn uid_named(user: &str, names: &HashMap<u32, Arc<str>>) -> u32 {
    if let Ok(uid) = user.parse::<u32>() {
        return uid;
    }
    names
        .iter()
        .filter(|(_, name)| &***name == user)
        .map(|(uid, _)| *uid)
        .min()
        .unwrap_or(NO_UID)
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
    let mut selection = options.selection.clone();
    let mut printed = 0u64;
    let mut named = false;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut threads = None;
    let written = store.each_frame(start, last.id, |info, data| {
        if options.count.is_some_and(|c| printed >= c) {
            return Ok(());
        }
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
            if let Some(user) = &options.user {
                let uid = uid_named(user, &users);
                named |= uid != NO_UID;
                selection.uid = Some(uid);
            }
            batch::write_refresh(&mut out, &model, &selection, options.format, threads, None)?;
            printed += 1;
        }
        prev = Some((info.session, model.baselines()));
        Ok(())
    });
    let written = written.and_then(|()| out.flush().map_err(anyhow::Error::from));
    if written.is_ok() && printed > 0 && !named {
        if let Some(user) = &options.user {
            // As live batch mode refuses a user it does not know.
            bail!(
                "no process of user \"{}\" was recorded in the refreshes printed",
                crate::present::sanitize::printable(user.as_bytes())
            );
        }
    }
    match written {
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
