//! The cost floor of a task walk: an `iter/task` program that does nothing
//! (src/bpf/walk_floor.bpf.c). Benchmarks compare bpftop's refresh with it.

use std::io::Read;
use std::mem::MaybeUninit;

use anyhow::{anyhow, Context};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

use super::walk_floor_skel;

pub struct EmptyWalk {
    link: libbpf_rs::Link,
}

impl EmptyWalk {
    pub fn open() -> anyhow::Result<EmptyWalk> {
        let mut storage = MaybeUninit::uninit();
        let open = walk_floor_skel::WalkFloorSkelBuilder::default()
            .open(&mut storage)
            .map_err(|e| anyhow!("opening the empty walk: {e}"))?;
        let loaded = open
            .load()
            .map_err(|e| anyhow!("loading the empty walk: {e}"))?;
        let link = loaded
            .progs
            .visit_task
            .attach()
            .map_err(|e| anyhow!("attaching the empty walk: {e}"))?;
        Ok(EmptyWalk { link })
    }

    /// Walks every task once.
    pub fn walk(&self) -> anyhow::Result<()> {
        let mut iter = libbpf_rs::Iter::new(&self.link).context("opening the empty walk")?;
        let mut buf = [0u8; 64];
        while iter.read(&mut buf).context("reading the empty walk")? > 0 {}
        Ok(())
    }
}
