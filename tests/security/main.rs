//! Security regressions, each a reproduction of an attack by an ordinary
//! local user against a bpftop carrying the README's file capabilities (or
//! run by root with the user's environment). As root only: the user and the
//! capability-carrying copy are created here and removed afterwards. The
//! exporter's floods need no privilege.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;
mod config;
mod escape;
mod exporter;
mod flags;
mod freeze;
mod inspect;
mod support;
mod tmux;
