//! User names (work in progress).
