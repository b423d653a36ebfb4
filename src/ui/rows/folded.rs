//! A folded process shows its subtree's CPU% and MEM% (the aggregate); by
//! those columns it sorts among its siblings by that sum, the value the
//! user sees, not by its own.

use std::cmp::Ordering;

use super::{Forest, RowOptions};
use crate::model::ProcessView;
use crate::ui::columns::{compare_identity, Column};

/// The value a column sorts by that a fold replaces with its subtree's sum.
fn summed(column: Column) -> Option<fn(&ProcessView) -> f64> {
    match column {
        Column::CpuPercent => Some(|p| p.cpu_percent),
        Column::MemPercent => Some(|p| p.mem_percent),
        _ => None,
    }
}

/// Re-sorts the sibling groups (and the roots) that hold a folded process
/// with children, by the value each shows. Costs nothing without folds.
pub(super) fn sort_by_shown_value(procs: &[ProcessView], opts: &RowOptions, forest: &mut Forest) {
    if !opts.aggregate_folded || opts.folded.is_empty() {
        return;
    }
    let Some(value) = summed(opts.sort.column) else {
        return;
    };
    let n = procs.len();
    let mut parent_of: Vec<Option<usize>> = vec![None; n];
    for p in 0..n {
        for &c in forest.children(p) {
            if let Some(slot) = parent_of.get_mut(c) {
                *slot = Some(p);
            }
        }
    }
    // The sums of the folded processes; the groups to re-sort (None: the
    // roots).
    let mut shown: Vec<Option<f64>> = vec![None; n];
    let mut groups: Vec<Option<usize>> = Vec::new();
    let mut seen = vec![false; n];
    let mut members = Vec::new();
    for &i in &forest.order {
        let folded = procs
            .get(i)
            .is_some_and(|p| opts.folded.contains(&p.sample.key()));
        if !folded || forest.children(i).is_empty() {
            continue;
        }
        // The subtree's members, each once (parent cycles end here).
        let mut sum = 0.0;
        let mut pending = vec![i];
        while let Some(k) = pending.pop() {
            match seen.get_mut(k) {
                Some(s) if !*s => *s = true,
                _ => continue,
            }
            members.push(k);
            sum += procs.get(k).map_or(0.0, value);
            pending.extend_from_slice(forest.children(k));
        }
        for k in members.drain(..) {
            if let Some(s) = seen.get_mut(k) {
                *s = false;
            }
        }
        if let Some(slot) = shown.get_mut(i) {
            *slot = Some(sum);
        }
        groups.push(parent_of.get(i).copied().flatten());
    }
    groups.sort_unstable();
    groups.dedup();
    let key = |i: usize| {
        shown
            .get(i)
            .copied()
            .flatten()
            .or_else(|| procs.get(i).map(value))
            .unwrap_or(0.0)
    };
    let order = |a: &usize, b: &usize| -> Ordering {
        let by_value = key(*a).total_cmp(&key(*b));
        let by_value = if opts.sort.descending {
            by_value.reverse()
        } else {
            by_value
        };
        by_value.then_with(|| match (procs.get(*a), procs.get(*b)) {
            (Some(x), Some(y)) => compare_identity(x, y),
            _ => a.cmp(b),
        })
    };
    for group in groups {
        match group {
            None => forest.roots.sort_by(order),
            Some(p) => {
                if let Some(kids) = forest.children_mut(p) {
                    kids.sort_by(order);
                }
            }
        }
    }
}
