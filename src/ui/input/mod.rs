//! Keys and mouse → changes of the view state, and the [`Effect`]s the
//! event loop must carry out.
//!
//! [`Effect`]: crate::ui::state::view::Effect

pub mod actions;
pub mod dialogs;
pub mod keys;
pub mod tuning;
