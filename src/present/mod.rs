//! Presentation helpers shared by every layer that shows data (ui, output,
//! serve) and by the collectors that build display labels once per cgroup.
//! A leaf: it imports nothing from the crate.

pub mod format;
pub mod sanitize;
