//! Rewind in the live interface: the last minutes of refreshes kept in
//! memory as frames (the recorder's encoding: an idle process costs nothing
//! after its key frame), and the model of a past refresh on demand. Runs on
//! the collector thread.

use std::cell::RefCell;
use std::sync::Arc;

use crate::model::Model;
use crate::monitor::Monitor;
use crate::record::frame::Encoder;
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

    /// A live refresh, kept for rewinding. A refresh that cannot be kept
    /// is shown all the same (the next one kept is a key frame).
    pub fn refresh(&mut self, monitor: &mut Monitor) -> anyhow::Result<Arc<Model>> {
        if self.keep_secs <= 0.0 {
            return monitor.refresh();
        }
        let (encoder, ring) = (&self.encoder, &mut self.ring);
        monitor.refresh_with(
            |sample| (encoder.borrow_mut().encode(sample), sample.unix_time),
            |model, (pending, time)| {
                let mut encoder = encoder.borrow_mut();
                match pending.and_then(|p| encoder.finish(p, model)) {
                    Ok((kind, blob)) => {
                        ring.push(time, kind, blob);
                        encoder.stored(kind);
                    }
                    Err(_) => encoder.reset(),
                }
                Ok(Arc::clone(model))
            },
        )
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
