//! The terminal's bytes → key and mouse events (decode, reader); keys and
//! mouse → changes of the view state, and the [`Effect`]s the event loop
//! must carry out.
//!
//! [`Effect`]: crate::ui::state::view::Effect

pub mod actions;
pub mod decode;
pub mod dialogs;
pub mod doorbell;
pub mod exited;
pub mod keys;
mod lists;
pub mod panel;
pub mod reader;
pub mod tuning;
pub mod units;
