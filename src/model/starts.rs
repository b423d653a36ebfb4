//! Processes started and programs executed during the interval, counted on
//! their parents' rows (FORK/s, EXEC/s) and per unit or container. Both
//! need the exit capture: a process born and gone between two walks is
//! known only by its exit record, and execs come through the same ring.
//!
//! A process counts as started once, when first seen: as a row the last
//! refresh did not have, or as an exit that neither refresh showed as a
//! row, born since the last sample (as the rates' zero baselines are).

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
/// by pid, as `before`, the last refresh's processes) and returns them
/// per unit. `since_ns` is the last sample's time (CLOCK_BOOTTIME).
pub(super) fn count(
    rows: &mut [ProcessView],
    before: &[(ProcessKey, Baseline)],
    since_ns: u64,
    exits: &Exits,
    cgroups: &HashMap<String, CgroupFacts>,
) -> StartsByUnit {
    let mut by_unit = StartsByUnit::default();
    // (parent, unit) of each process started.
    let mut started: Vec<(u32, Option<Arc<str>>)> = Vec::new();
    let mut old = before.iter().peekable();
    for row in rows.iter() {
        let key = row.sample.key();
        while old.next_if(|(k, _)| k.pid < key.pid).is_some() {}
        let seen = old.peek().is_some_and(|(k, _)| *k == key);
        if !seen && key.start_time_ns >= since_ns {
            let unit = row.cgroup.as_ref().and_then(|c| c.unit.as_ref());
            started.push((row.sample.ppid, unit.map(|u| Arc::clone(&u.path))));
        }
    }
    for e in &exits.processes {
        let key = ProcessKey {
            pid: e.pid,
            start_time_ns: e.start_time_ns,
        };
        if key.start_time_ns >= since_ns
            && !listed(before, key, |(k, _)| *k)
            && !listed(rows, key, |r| r.sample.key())
        {
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
    by_unit
}

fn row_mut(rows: &mut [ProcessView], pid: u32) -> Option<&mut ProcessView> {
    let i = rows.binary_search_by_key(&pid, |v| v.sample.pid).ok()?;
    rows.get_mut(i)
}
