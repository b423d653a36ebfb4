//! The cost floor of a task walk: programs that visit every task and do
//! nothing (src/bpf/walk_floor.bpf.c), one per kind of walk. Benchmarks
//! compare bpftop's refresh with them.

use std::mem::MaybeUninit;

use anyhow::anyhow;
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

use super::skel::walk_floor as walk_floor_skel;
use super::walker::{WalkKind, Walker};

pub struct EmptyWalk {
    walker: Walker,
}

impl EmptyWalk {
    pub fn open(kind: WalkKind) -> anyhow::Result<EmptyWalk> {
        let mut storage = MaybeUninit::uninit();
        let mut open = walk_floor_skel::WalkFloorSkelBuilder::default()
            .open(&mut storage)
            .map_err(|e| anyhow!("opening the empty walk: {e}"))?;
        kind.enable(&mut open.progs.visit_all_tasks, &mut open.progs.visit_task);
        let loaded = open
            .load()
            .map_err(|e| anyhow!("loading the empty walk: {e}"))?;
        let walk = EmptyWalk {
            walker: Walker::new(
                kind,
                &loaded.progs.visit_all_tasks,
                &loaded.progs.visit_task,
            )?,
        };
        walk.walk()?;
        Ok(walk)
    }

    /// Walks every task once.
    pub fn walk(&self) -> anyhow::Result<()> {
        self.walker.walk()
    }
}
