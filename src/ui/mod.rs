//! The interactive interface: ratatui widgets over a view state that is
//! rebuilt from each model. Rendering is a pure function of the view state;
//! key handling returns what must happen instead of doing it.

pub mod app;
pub mod columns;
pub mod dialogs;
pub mod freezer;
pub mod gpuview;
pub mod header;
pub mod keys;
pub mod launch;
pub mod netview;
pub mod render;
pub mod rows;
pub mod safe_backend;
pub mod settings;
pub mod terminal;
#[cfg(test)]
mod test_support;
pub mod text;
pub mod theme;
pub mod view;
