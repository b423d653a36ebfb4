//! The interactive interface: ratatui widgets over a view state that is
//! rebuilt from each model. Rendering is a pure function of the view state;
//! key handling returns what must happen instead of doing it.
//!
//! Layers, each importing only those below it (never the other way):
//! - [`app`] and [`launch`]: the event loop and its start, on top;
//! - [`input`]: keys and mouse → changes of the view state and effects;
//! - [`draw`]: the screen as a pure function of the view state;
//! - [`state`]: the view state and its intents, the dialogs' data, the
//!   temporary views, the screen layout and the saved settings;
//! - shared vocabulary used by all of them: [`columns`], [`rows`],
//!   [`header`], [`text`], [`theme`].

pub mod app;
pub mod columns;
pub mod draw;
pub mod freezer;
pub mod header;
pub mod input;
pub mod inspect;
pub mod launch;
pub mod rewind;
pub mod rows;
pub mod safe_backend;
pub mod scheduling;
pub mod state;
mod table;
pub mod terminal;
#[cfg(test)]
mod test_support;
pub mod text;
pub mod theme;
pub mod tracer;

// The paths the binary, the event loop and the tests have always used.
pub use draw::render;
pub use input::keys;
pub use state::{settings, view};

/// The dialogs' data and how each opens, under the path they always had.
pub mod dialogs {
    pub use super::state::dialog::*;
    pub use super::state::dialogs::*;
}
