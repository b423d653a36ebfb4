//! Processes started and programs executed during the interval, counted on
//! their parents' rows (FORK/s, EXEC/s) and per unit or container. Both
//! need the exit capture: a process born and gone between two walks is
//! known only by its exit record, and execs come through the same ring.
//!
//! A process counts as started once, when first seen: as a row the last
//! refresh did not have (born since the last sample, as the rates' zero
//! baselines are), or as an exit that no refresh showed as a row. The
//! walk runs after the drain of the exits, so a process can leave the walk
//! (exit before the walk reaches it) one refresh before its exit arrives:
//! such processes are remembered for one refresh ([`Seen`]), so that their
//! exits are not taken for new ones. Exits of processes born before the
//! first sample never count.

use std::collections::HashMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::collect::sample::{CgroupFacts, Exits, ProcessKey};

use super::{Baseline, ProcessView};

/// The processes started in one unit or container, and the execs made in
/// it, during the interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnitStarts {
    pub forks: u32,
    pub execs: u32,
}

/// Per unit cgroup path.
pub type StartsByUnit = FxHashMap<Arc<str>, UnitStarts>;

/// What a refresh keeps for the next one's count.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// The first sample's time: an exit of a process born before it may
    /// have been alive, unseen, before bpftop started.
    floor_ns: u64,
    /// Rows of the last refresh that this one's walk no longer found and
    /// whose exits have not arrived yet (they come with the next drain),
    /// sorted by pid.
    vanished: Vec<ProcessKey>,
}

impl Seen {
    /// The state before any count: starts are counted from `floor_ns`.
    pub fn first(floor_ns: u64) -> Seen {
        Seen {
            floor_ns,
            vanished: Vec::new(),
        }
    }

    pub fn floor_ns(&self) -> u64 {
        self.floor_ns
    }
}

/// Whether `key` is in `list` (sorted by pid).
fn listed<T>(list: &[T], key: ProcessKey, key_of: impl Fn(&T) -> ProcessKey) -> bool {
    let Ok(i) = list.binary_search_by_key(&key.pid, |x| key_of(x).pid) else {
        return false;
    };
    key_of(&list[i]) == key
}

/// The unit path of a cgroup the sample named.
fn unit_of(cgroups: &HashMap<String, CgroupFacts>, cgroup: Option<&Arc<str>>) -> Option<Arc<str>> {
    let facts = cgroups.get(&**cgroup?)?;
    Some(Arc::clone(&facts.unit.as_ref()?.path))
}

/// Counts the interval's starts and execs on the parents' `rows` (sorted
/// by pid, as `before`, the last refresh's processes) and returns them per
/// unit, with what the next count needs. `since_ns` is the last sample's
/// time (CLOCK_BOOTTIME), `seen` what the last count kept.
pub(super) fn count(
    rows: &mut [ProcessView],
    before: &[(ProcessKey, Baseline)],
    since_ns: u64,
    seen: &Seen,
    exits: &Exits,
    cgroups: &HashMap<String, CgroupFacts>,
) -> (StartsByUnit, Seen) {
    let mut by_unit = StartsByUnit::default();
    // (parent, unit) of each process started.
    let mut started: Vec<(u32, Option<Arc<str>>)> = Vec::new();
    let mut exited: Vec<ProcessKey> = exits.processes.iter().map(|e| e.key()).collect();
    exited.sort_unstable();
    // Rows new since the last refresh, and last refresh's rows gone from
    // this walk without an exit yet: both lists in pid order, merged.
    let mut vanished = Vec::new();
    let mut old = before.iter().peekable();
    for row in rows.iter() {
        let key = row.sample.key();
        while let Some((k, _)) = old.next_if(|(k, _)| k.pid < key.pid) {
            if exited.binary_search(k).is_err() {
                vanished.push(*k);
            }
        }
        let seen_before = old.next_if(|(k, _)| *k == key).is_some();
        if !seen_before && key.start_time_ns >= since_ns {
            let unit = row.cgroup.as_ref().and_then(|c| c.unit.as_ref());
            started.push((row.sample.ppid, unit.map(|u| Arc::clone(&u.path))));
        }
    }
    vanished.extend(
        old.map(|(k, _)| *k)
            .filter(|k| exited.binary_search(k).is_err()),
    );
    for e in &exits.processes {
        let key = e.key();
        let was_row = listed(before, key, |(k, _)| *k)
            || listed(rows, key, |r| r.sample.key())
            || listed(&seen.vanished, key, |k| *k);
        if !was_row && key.start_time_ns >= seen.floor_ns {
            started.push((e.ppid, unit_of(cgroups, e.cgroup.as_ref())));
        }
    }
    for (ppid, unit) in started {
        if let Some(parent) = row_mut(rows, ppid) {
            parent.children_forked += 1;
        }
        if let Some(unit) = unit {
            by_unit.entry(unit).or_default().forks += 1;
        }
    }
    for exec in &exits.execs {
        if let Some(parent) = row_mut(rows, exec.ppid) {
            parent.children_execs += 1;
        }
        if let Some(unit) = unit_of(cgroups, exec.cgroup.as_ref()) {
            by_unit.entry(unit).or_default().execs += 1;
        }
    }
    let next = Seen {
        floor_ns: seen.floor_ns,
        vanished,
    };
    (by_unit, next)
}

fn row_mut(rows: &mut [ProcessView], pid: u32) -> Option<&mut ProcessView> {
    let i = rows.binary_search_by_key(&pid, |v| v.sample.pid).ok()?;
    rows.get_mut(i)
}
