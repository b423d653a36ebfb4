//! The cost floor of a task walk: programs that visit every task and do
//! nothing (src/bpf/walk_floor.bpf.c), one per kind of walk. Benchmarks
//! compare bpftop's refresh with them.

use std::io::Read;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};

use anyhow::{anyhow, Context};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

use super::{run_program, walk_floor_skel, WalkKind};

enum Walker {
    Program(OwnedFd),
    Iterator(libbpf_rs::Link),
}

pub struct EmptyWalk {
    walker: Walker,
}

impl EmptyWalk {
    pub fn open(kind: WalkKind) -> anyhow::Result<EmptyWalk> {
        let mut storage = MaybeUninit::uninit();
        let mut open = walk_floor_skel::WalkFloorSkelBuilder::default()
            .open(&mut storage)
            .map_err(|e| anyhow!("opening the empty walk: {e}"))?;
        open.progs
            .visit_all_tasks
            .set_autoload(kind == WalkKind::OpenCoded);
        open.progs
            .visit_task
            .set_autoload(kind == WalkKind::TaskIterator);
        let loaded = open
            .load()
            .map_err(|e| anyhow!("loading the empty walk: {e}"))?;
        let walker = match kind {
            WalkKind::OpenCoded => Walker::Program(
                loaded
                    .progs
                    .visit_all_tasks
                    .as_fd()
                    .try_clone_to_owned()
                    .context("keeping the empty walk")?,
            ),
            WalkKind::TaskIterator => Walker::Iterator(
                loaded
                    .progs
                    .visit_task
                    .attach()
                    .map_err(|e| anyhow!("attaching the empty walk: {e}"))?,
            ),
        };
        let walk = EmptyWalk { walker };
        walk.walk()?;
        Ok(walk)
    }

    /// Walks every task once.
    pub fn walk(&self) -> anyhow::Result<()> {
        match &self.walker {
            Walker::Program(fd) => match run_program(fd.as_fd())? {
                0 => Ok(()),
                status => Err(anyhow!("the empty walk failed (returned {status})")),
            },
            Walker::Iterator(link) => {
                let mut iter = libbpf_rs::Iter::new(link).context("opening the empty walk")?;
                let mut buf = [0u8; 64];
                while iter.read(&mut buf).context("reading the empty walk")? > 0 {}
                Ok(())
            }
        }
    }
}
