//! Rewind in the live interface: the last minutes of refreshes kept in
//! memory as frames (the recorder's encoding: an idle process costs nothing
//! after its key frame), and the model of a past refresh on demand. Runs on
//! the collector thread.

use std::cell::RefCell;
use std::sync::Arc;

use crate::model::Model;
use crate::monitor::Monitor;
use crate::record::frame::{Encoder, Rest};
use crate::record::player::{Move, Player};
use crate::record::ring::Ring;
use crate::record::KEY_EVERY;
use crate::ui::state::keymap::Travel;

pub struct Rewind {
    /// Seconds kept; 0: rewinding is off.
    keep_secs: f64,
    encoder: RefCell<Encoder>,
    ring: Ring,
    /// While a past refresh is shown: where it is.
    player: Option<Player>,
}

impl Rewind {
    /// Keeps `keep_secs` of refreshes (0: none, at no cost).
    pub fn new(keep_secs: f64) -> Rewind {
        Rewind {
            keep_secs,
            encoder: RefCell::new(Encoder::new(KEY_EVERY)),
            ring: Ring::new(keep_secs),
            player: None,
        }
    }

    /// A live refresh, and what keeping it for rewinding needs besides its
    /// model (None while rewinding is off): the model is shown first, then
    /// [`Rewind::keep`] encodes it, so rewinding never delays a refresh.
    pub fn refresh(&mut self, monitor: &mut Monitor) -> anyhow::Result<(Arc<Model>, Option<Rest>)> {
        if self.keep_secs <= 0.0 {
            return monitor.refresh().map(|model| (model, None));
        }
        monitor.refresh_with(Rest::of, |model, rest| Ok((Arc::clone(model), Some(rest))))
    }

    /// Keeps the refresh `model` was built from (`rest`: the rest of its
    /// sample). One that cannot be kept is skipped (the next one kept is a
    /// key frame).
    pub fn keep(&mut self, model: &Model, rest: &Rest) {
        let encoder = self.encoder.get_mut();
        match encoder
            .encode_later(rest, model)
            .and_then(|p| encoder.finish(p, model))
        {
            Ok((kind, blob)) => {
                self.ring.push(rest.unix_time(), kind, blob);
                encoder.stored(kind);
            }
            Err(_) => encoder.reset(),
        }
    }

    /// Whether a past refresh is shown (live refreshes wait meanwhile).
    pub fn is_back(&self) -> bool {
        self.player.is_some()
    }

    /// Bytes the kept refreshes take.
    pub fn bytes(&self) -> usize {
        self.ring.bytes()
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
            _ if self.keep_secs <= 0.0 => {
                return Some(Err(anyhow::anyhow!(
                    "rewinding is off (rewind_minutes = 0 in the config file)"
                )))
            }
            Travel::Refreshes(n) => Move::Refreshes(n),
            Travel::Seconds(s) => Move::Seconds(s),
        };
        let forward = matches!(step, Move::Refreshes(n) | Move::Seconds(n) if n > 0);
        let Some(player) = self.player.as_mut() else {
            if forward {
                return Some(Err(anyhow::anyhow!("this is the live refresh")));
            }
            let newest = self.ring.newest()?;
            let mut player = Player::new();
            let moved = player
                .load(&self.ring, newest)
                .and_then(|_| player.go(&self.ring, step));
            if moved.is_ok() {
                self.player = Some(player);
            }
            return Some(moved);
        };
        match player.go(&self.ring, step) {
            Err(_) if forward => {
                self.player = None;
                None
            }
            moved => Some(moved),
        }
    }
}
