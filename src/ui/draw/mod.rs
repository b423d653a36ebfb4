//! Drawing: the screen as a pure function of the view state.

pub mod dialogs;
pub mod exited;
pub mod panel;
pub mod render;
pub mod units;
