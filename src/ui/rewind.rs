//! Rewind in the live interface: the last minutes of refreshes kept in
//! memory as frames (the recorder's encoding: an idle process costs nothing
//! after its key frame), and the model of a past refresh on demand. Runs on
//! the collector thread; the encoding on a thread of its own ([`keeper`]).

mod keeper;

use std::sync::Arc;
use std::time::Duration;

use crate::model::Model;
use crate::monitor::Monitor;
use crate::record::frame::Rest;
use crate::record::player::{Move, Player};
use crate::ui::state::keymap::Travel;
use keeper::Keeper;

/// How long a key that moves back from live waits for the refreshes
/// handed to the encoder to be kept (one encoding; a debug build's key
/// frame of many processes is the slowest).
const SETTLE: Duration = Duration::from_secs(5);

pub struct Rewind {
    /// Seconds kept; 0: rewinding is off.
    keep_secs: f64,
    /// The encoder thread's end; Err: why rewinding is off.
    keeper: Result<Keeper, String>,
    /// While a past refresh is shown: where it is.
    player: Option<Player>,
}

impl Rewind {
    /// Keeps `keep_secs` of refreshes (0: none, at no cost: no thread,
    /// nothing encoded).
    pub fn new(keep_secs: f64) -> Rewind {
        let keeper = if keep_secs > 0.0 {
            Keeper::start(keep_secs)
                .map_err(|e| format!("rewinding is off: its thread did not start ({e})"))
        } else {
            Err("rewinding is off (rewind_minutes = 0 in the config file)".to_owned())
        };
        Rewind {
            keep_secs,
            keeper,
            player: None,
        }
    }

    /// A live refresh, and what keeping it for rewinding needs besides its
    /// model (None while rewinding is off): the model is shown first, then
    /// [`Rewind::keep`] hands it to the encoder thread.
    pub fn refresh(&mut self, monitor: &mut Monitor) -> anyhow::Result<(Arc<Model>, Option<Rest>)> {
        if self.keep_secs <= 0.0 || self.keeper.is_err() {
            return monitor.refresh().map(|model| (model, None));
        }
        monitor.refresh_with(Rest::of, |model, rest| Ok((Arc::clone(model), Some(rest))))
    }

    /// Keeps the refresh `model` was built from (`rest`: the rest of its
    /// sample), encoded on the encoder thread; never waits for it. A
    /// refresh that finds the encoder busy, or that cannot be encoded, is
    /// skipped (after one that could not, the next one kept is a key
    /// frame).
    pub fn keep(&mut self, model: Arc<Model>, rest: Rest) {
        if let Ok(keeper) = self.keeper.as_mut() {
            keeper.offer(model, rest);
        }
    }

    /// Refreshes not kept because the encoder was still busy with earlier
    /// ones.
    pub fn dropped(&self) -> u64 {
        self.keeper.as_ref().map_or(0, Keeper::dropped)
    }

    /// Whether a past refresh is shown (live refreshes wait meanwhile).
    pub fn is_back(&self) -> bool {
        self.player.is_some()
    }

    /// Bytes the kept refreshes take.
    pub fn bytes(&self) -> usize {
        self.keeper.as_ref().map_or(0, |k| k.kept().ring.bytes())
    }

    /// The refresh `to` leads to from the one shown; None: back to live
    /// (past the newest kept refresh, or `Travel::Live`), the caller
    /// refreshes.
    pub fn travel(&mut self, to: Travel) -> Option<anyhow::Result<Arc<Model>>> {
        let step = match to {
            Travel::Live => {
                self.player = None;
                return None;
            }
            Travel::Refreshes(n) => Move::Refreshes(n),
            Travel::Seconds(s) => Move::Seconds(s),
        };
        let keeper = match self.keeper.as_ref() {
            Ok(keeper) => keeper,
            Err(why) => return Some(Err(anyhow::anyhow!("{why}"))),
        };
        let forward = matches!(step, Move::Refreshes(n) | Move::Seconds(n) if n > 0);
        let Some(player) = self.player.as_mut() else {
            if forward {
                return Some(Err(anyhow::anyhow!("this is the live refresh")));
            }
            // From live: the refresh shown is the newest handed over, so
            // the ring is to hold it before a step back is counted from it.
            let kept = keeper.settled(SETTLE);
            let newest = kept.ring.newest()?;
            let mut player = Player::new();
            let moved = player
                .load(&kept.ring, newest)
                .and_then(|_| player.go(&kept.ring, step));
            if moved.is_ok() {
                self.player = Some(player);
            }
            return Some(moved);
        };
        let kept = keeper.kept();
        match player.go(&kept.ring, step) {
            Err(_) if forward => {
                self.player = None;
                None
            }
            moved => Some(moved),
        }
    }
}
