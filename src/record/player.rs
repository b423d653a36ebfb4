//! Moving through a recording for the interface: the model of any recorded
//! refresh, one refresh or a minute before or after the one shown.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;

use super::frame::Decoder;
use super::store::FrameInfo;
use super::when::format_utc;
use super::Frames;
use crate::model::{Baselines, Model};

/// Where to go from the refresh shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// This many refreshes later (negative: earlier).
    Refreshes(i32),
    /// The refresh this many seconds later (negative: earlier).
    Seconds(i32),
}

/// The refresh shown and how to build the next one asked for; the frames
/// (a recording, the rewind ring) are passed to each call.
#[derive(Default)]
pub struct Player {
    decoder: Decoder,
    /// The refresh shown, and the baselines of its model (for the next
    /// refresh's rates, when it is the one after it).
    at: Option<(FrameInfo, Baselines)>,
    /// The user names of the refresh shown.
    users: HashMap<u32, Arc<str>>,
}

impl Player {
    pub fn new() -> Player {
        Player::default()
    }

    /// The refresh taken at or last before `time` (the first one when
    /// none was).
    pub fn seek(&mut self, frames: &dyn Frames, time: f64) -> anyhow::Result<Arc<Model>> {
        let frame = frames
            .frame_at(time)?
            .context("the recording holds no refresh")?;
        self.load(frames, frame)
    }

    /// The frame shown.
    pub fn at(&self) -> Option<FrameInfo> {
        self.at.as_ref().map(|(f, _)| *f)
    }

    /// The refresh `step` away from the one shown; Err (saying where the
    /// recording ends) when there is none.
    pub fn go(&mut self, frames: &dyn Frames, step: Move) -> anyhow::Result<Arc<Model>> {
        let Some((at, _)) = self.at.as_ref() else {
            return self.seek(frames, f64::MIN);
        };
        let at = *at;
        let target = match step {
            Move::Refreshes(n) => {
                let mut frame = Some(at);
                for _ in 0..n.unsigned_abs() {
                    frame = frame.and_then(|f| frames.neighbour(f.id, n > 0).ok().flatten());
                }
                frame
            }
            Move::Seconds(s) => {
                // The last refresh at or before the time asked for; at
                // least one refresh away from the one shown (a gap in the
                // recording longer than the jump).
                let near = frames.frame_at(at.time + f64::from(s))?;
                match near {
                    Some(f) if (s > 0 && f.id > at.id) || (s < 0 && f.id < at.id) => Some(f),
                    _ => frames.neighbour(at.id, s > 0)?,
                }
            }
        };
        match target {
            Some(frame) => self.load(frames, frame),
            None if matches!(step, Move::Refreshes(n) | Move::Seconds(n) if n < 0) => {
                anyhow::bail!("the recording starts at {} UTC", format_utc(at.time))
            }
            None => anyhow::bail!("the recording ends at {} UTC", format_utc(at.time)),
        }
    }

    /// The uid of a user name, as the refresh shown recorded it.
    pub fn uid_of(&self, name: &str) -> Option<u32> {
        self.users
            .iter()
            .find(|(_, n)| &***n == name)
            .map(|(uid, _)| *uid)
    }

    /// The time of the refresh shown, seconds since the epoch.
    pub fn time(&self) -> Option<f64> {
        self.at.as_ref().map(|(f, _)| f.time)
    }

    /// Builds the model of `frame`: after the refresh shown when it is the
    /// next one, else decoded from its key frame (at most a group).
    pub fn load(&mut self, frames: &dyn Frames, frame: FrameInfo) -> anyhow::Result<Arc<Model>> {
        let follows = self
            .at
            .as_ref()
            .is_some_and(|(at, _)| at.id + 1 == frame.id && at.session == frame.session);
        let mut prev: Option<Baselines> = None;
        let start = if follows {
            prev = self.at.take().map(|(_, b)| b);
            frame.id
        } else {
            self.decoder = Decoder::new();
            let before = frames
                .neighbour(frame.id, false)?
                .filter(|b| b.session == frame.session);
            before.map_or(frame.key, |b| b.key)
        };
        self.at = None;
        let mut built = None;
        let decoder = &mut self.decoder;
        let mut users = HashMap::new();
        frames.each_frame(start, frame.id, &mut |info, data| {
            let unreadable = || format!("frame {} cannot be read", info.id);
            // Only the frame before the one asked for and that one need a
            // model: the first for the second's rates.
            if info.id + 1 < frame.id {
                return decoder.skip(data).with_context(unreadable);
            }
            let decoded = decoder.decode(data).with_context(unreadable)?;
            let names = decoded.users;
            let model = Model::after(
                decoded.sample,
                prev.as_ref(),
                decoded.fallback_reason,
                &|uid| {
                    names
                        .get(&uid)
                        .map_or_else(|| uid.to_string(), |n| n.to_string())
                },
            );
            prev = Some(model.baselines());
            users = names;
            built = Some(model);
            Ok(())
        })?;
        let model = built.context("the refresh is not in the recording any more")?;
        self.at = prev.map(|b| (frame, b));
        self.users = users;
        Ok(Arc::new(model))
    }
}
