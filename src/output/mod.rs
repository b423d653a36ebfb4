//! Batch output formats of a [`crate::model::Model`].

pub mod json;
pub mod text;
