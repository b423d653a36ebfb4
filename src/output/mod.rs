//! Batch output formats of a [`crate::model::Model`].

pub mod exited;
pub mod json;
pub mod text;
