//! The terminal-safety rules, kept under their old path: they live in the
//! presentation leaf so that collectors may use them without importing
//! `output`.

pub use crate::present::sanitize::{is_unsafe, printable, printable_str};
