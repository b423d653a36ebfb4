//! The process table's rows: which processes (and threads) are shown, in
//! what order, and where they sit in the tree. Built once per refresh in
//! O(n log n); no cell text is formatted here except for filtering.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use super::columns::{command_bytes, compare_identity, Column};
use super::text::display_safe;
use crate::collect::sample::ProcessKey;
use crate::model::{Model, ProcessView};
use rustc_hash::FxHashMap;

mod folded;

/// A "filter" (F4) string: rows whose command, comm, user, pid or cgroup
/// contain the needle, ignoring case; with a leading '!', rows that don't.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    negate: bool,
    /// Lowercase.
    needle: String,
}

impl Filter {
    /// None for an empty filter (also "!" alone), which shows everything.
    pub fn parse(s: &str) -> Option<Filter> {
        let (negate, needle) = match s.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        (!needle.is_empty()).then(|| Filter {
            negate,
            needle: needle.to_lowercase(),
        })
    }

    pub fn matches(&self, p: &ProcessView) -> bool {
        let cgroup = p
            .sample
            .cgroup
            .as_deref()
            .is_some_and(|c| safe_contains(c.as_bytes(), &self.needle));
        // Container names are not in the path: match the CONTAINER label.
        let container = super::columns::container_label(p)
            .is_some_and(|c| contains_ignore_case(c, &self.needle));
        let hit = cgroup || container || row_contains(p, None, &self.needle);
        hit != self.negate
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortSpec {
    pub column: Column,
    pub descending: bool,
}

impl SortSpec {
    /// Process order: by value in the chosen direction; equal values by
    /// ascending pid either way (as htop), so the order is total.
    pub fn compare(self, a: &ProcessView, b: &ProcessView) -> Ordering {
        self.directed(self.column.compare_value(a, b))
            .then_with(|| compare_identity(a, b))
    }

    /// Order of two threads of `p` (indices into its thread list): by the
    /// thread's own value where the column has one, then ascending tid.
    pub fn compare_threads(self, p: &ProcessView, a: usize, b: usize) -> Ordering {
        let tid = |i: usize| p.sample.thread_list.get(i).map(|t| t.tid);
        self.directed(self.column.compare_thread_value(p, a, b))
            .then_with(|| tid(a).cmp(&tid(b)))
    }

    fn directed(self, o: Ordering) -> Ordering {
        if self.descending {
            o.reverse()
        } else {
            o
        }
    }
}

/// What the table shows.
#[derive(Debug, Clone, Copy)]
pub struct RowOptions<'a> {
    pub sort: SortSpec,
    pub tree: bool,
    /// Collapsed tree nodes.
    pub folded: &'a HashSet<ProcessKey>,
    pub filter: Option<&'a Filter>,
    pub show_kernel_threads: bool,
    pub show_threads: bool,
    /// Only processes of this (real) uid.
    pub user: Option<u32>,
    /// Only these pids.
    pub pids: Option<&'a HashSet<u32>>,
    /// Only the processes of one unit or container.
    pub group: Option<&'a Group>,
    /// Folded processes show (and sort by) their subtree's CPU% and MEM%.
    pub aggregate_folded: bool,
}

/// A systemd unit or a container, as the UNIT and CONTAINER columns name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Group {
    Unit(String),
    Container(String),
}

impl Group {
    pub fn contains(&self, p: &ProcessView) -> bool {
        match self {
            Group::Unit(name) => super::columns::unit_name(p).as_ref() == Some(name),
            Group::Container(label) => super::columns::container_text(p).as_ref() == Some(label),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Group::Unit(name) => format!("unit {name}"),
            Group::Container(label) => format!("container {label}"),
        }
    }
}

/// CPU% and MEM% of a folded subtree, the node included.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aggregate {
    pub cpu_percent: f64,
    pub mem_percent: f64,
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Index into `model.processes`.
    pub process: usize,
    /// Index into that process's `sample.thread_list` on a thread row.
    pub thread: Option<usize>,
    pub depth: u16,
    /// Bit d: draw a vertical guide at depth d (d < 64).
    pub guides: u64,
    pub last_child: bool,
    pub has_children: bool,
    pub folded: bool,
    /// False for ancestors shown only to keep a match's tree context.
    pub matched: bool,
    pub aggregate: Option<Aggregate>,
}

/// Where a row sits in the tree.
#[derive(Debug, Clone, Copy, Default)]
struct Place {
    depth: u16,
    guides: u64,
    last_child: bool,
}

impl Place {
    /// The place of this node's children: the guide at this node's
    /// connector column continues while siblings follow it.
    fn child(self, last_child: bool) -> Place {
        let mut guides = self.guides;
        if self.depth >= 1 && !self.last_child && self.depth <= 64 {
            guides |= 1 << (self.depth - 1);
        }
        Place {
            depth: self.depth.saturating_add(1),
            guides,
            last_child,
        }
    }
}

fn row(process: usize, thread: Option<usize>, place: Place, matched: bool) -> Row {
    Row {
        process,
        thread,
        depth: place.depth,
        guides: place.guides,
        last_child: place.last_child,
        has_children: false,
        folded: false,
        matched,
        aggregate: None,
    }
}

/// The rows for `model` under `opts`.
pub fn build_rows(model: &Model, opts: &RowOptions) -> Vec<Row> {
    let procs = &model.processes;
    if opts.tree {
        let base: Vec<bool> = procs.iter().map(|p| base_visible(p, opts)).collect();
        tree_rows(procs, opts, &base)
    } else {
        flat_rows(procs, opts)
    }
}

/// Visibility before the filter: kernel threads, user, pid set.
fn base_visible(p: &ProcessView, opts: &RowOptions) -> bool {
    (opts.show_kernel_threads || !p.sample.kernel_thread)
        && opts.user.is_none_or(|uid| p.sample.uid == uid)
        && opts.pids.is_none_or(|set| set.contains(&p.sample.pid))
        && opts.group.is_none_or(|g| g.contains(p))
}

fn passes_filter(p: &ProcessView, opts: &RowOptions) -> bool {
    opts.filter.is_none_or(|f| f.matches(p))
}

/// `indices` sorted by the sort spec.
fn sorted(
    procs: &[ProcessView],
    indices: impl Iterator<Item = usize>,
    sort: SortSpec,
) -> Vec<usize> {
    // A numeric column: each process's key is read once, and the sort
    // compares (key, pid, start time) tuples, the same order as
    // `SortSpec::compare` (flipping every bit of the key reverses its
    // order and keeps its ties).
    if let Some(key) = sort.column.sort_key() {
        let flip = if sort.descending { u64::MAX } else { 0 };
        // Key and index packed in one u128. When the indices come in
        // ascending order of both index and (pid, start time) (the model
        // keeps its processes in pid order), the index breaks ties exactly
        // as (pid, start time) would.
        let mut packed: Vec<u128> = Vec::with_capacity(indices.size_hint().0);
        let mut identity_order = true;
        let mut last: Option<(usize, (u32, u64))> = None;
        for i in indices {
            let Some(p) = procs.get(i) else {
                continue;
            };
            let id = (p.sample.pid, p.sample.start_time_ns);
            identity_order &= last.is_none_or(|(j, prev)| j < i && prev <= id);
            last = Some((i, id));
            packed.push(u128::from(key(p) ^ flip) << 64 | i as u128);
        }
        if identity_order {
            packed.sort_unstable();
            return packed.into_iter().map(|k| k as u64 as usize).collect();
        }
        let mut v: Vec<(u64, u32, u64, usize)> = packed
            .into_iter()
            .filter_map(|k| {
                let i = k as u64 as usize;
                let p = procs.get(i)?;
                Some(((k >> 64) as u64, p.sample.pid, p.sample.start_time_ns, i))
            })
            .collect();
        v.sort_unstable();
        return v.into_iter().map(|(.., i)| i).collect();
    }
    let mut v: Vec<(usize, &ProcessView)> = indices
        .filter_map(|i| procs.get(i).map(|p| (i, p)))
        .collect();
    v.sort_unstable_by(|a, b| sort.compare(a.1, b.1));
    v.into_iter().map(|(i, _)| i).collect()
}

/// Indices of `p`'s threads other than the leader, in sort order.
fn thread_indices(p: &ProcessView, sort: SortSpec) -> Vec<usize> {
    let mut v: Vec<usize> = (0..p.sample.thread_list.len())
        .filter(|&i| {
            p.sample
                .thread_list
                .get(i)
                .is_some_and(|t| t.tid != p.sample.pid)
        })
        .collect();
    v.sort_unstable_by(|&a, &b| sort.compare_threads(p, a, b));
    v
}

fn flat_rows(procs: &[ProcessView], opts: &RowOptions) -> Vec<Row> {
    // Lazy: each process is tested and given its sort key in one visit.
    let visible = procs
        .iter()
        .enumerate()
        .filter(|(_, p)| base_visible(p, opts) && passes_filter(p, opts))
        .map(|(i, _)| i);
    let order = sorted(procs, visible, opts.sort);
    let mut rows = Vec::with_capacity(order.len());
    for i in order {
        rows.push(row(i, None, Place::default(), true));
        if let (true, Some(p)) = (opts.show_threads, procs.get(i)) {
            let threads = thread_indices(p, opts.sort);
            rows.extend(
                threads
                    .into_iter()
                    .map(|t| row(i, Some(t), Place::default(), true)),
            );
        }
    }
    rows
}

/// The forest of shown processes: children lists in sort order.
struct Forest {
    /// Children of process i: `child_list[child_start[i]..child_start[i + 1]]`
    /// (one list for all, rather than a Vec per process).
    child_start: Vec<usize>,
    child_list: Vec<usize>,
    /// Processes whose parent is absent or hidden, in sort order.
    roots: Vec<usize>,
    /// Shown processes in sort order (cycle members are re-rooted from here).
    order: Vec<usize>,
    matched: Vec<bool>,
}

impl Forest {
    /// The children of process `i`, in sort order.
    fn children(&self, i: usize) -> &[usize] {
        match (self.child_start.get(i), self.child_start.get(i + 1)) {
            (Some(&from), Some(&to)) => self.child_list.get(from..to).unwrap_or_default(),
            _ => &[],
        }
    }

    fn children_mut(&mut self, i: usize) -> Option<&mut [usize]> {
        let (&from, &to) = (self.child_start.get(i)?, self.child_start.get(i + 1)?);
        self.child_list.get_mut(from..to)
    }
}

/// Parent index of each base-visible process (its ppid, when present and
/// base-visible).
fn parents(procs: &[ProcessView], base: &[bool]) -> Vec<Option<usize>> {
    // (pid, index) of the base-visible processes, in index order.
    let visible: Vec<(u32, usize)> = procs
        .iter()
        .enumerate()
        .filter(|&(i, _)| base.get(i).copied().unwrap_or(false))
        .map(|(i, p)| (p.sample.pid, i))
        .collect();
    // Where one pid has several processes, the last in index order is the
    // parent (both lookups below agree on that).
    let lookup: Box<dyn Fn(u32) -> Option<usize>> = if visible.is_sorted_by_key(|&(pid, _)| pid) {
        // The model's usual pid order: binary search in a compact list.
        Box::new(move |ppid| {
            let end = visible.partition_point(|&(pid, _)| pid <= ppid);
            let (pid, i) = *visible.get(end.checked_sub(1)?)?;
            (pid == ppid).then_some(i)
        })
    } else {
        let by_pid: FxHashMap<u32, usize> = visible.into_iter().collect();
        Box::new(move |ppid| by_pid.get(&ppid).copied())
    };
    // Siblings tend to sit together: the last answer is kept.
    let mut last: Option<(u32, Option<usize>)> = None;
    procs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if !base.get(i).copied().unwrap_or(false) {
                return None;
            }
            let ppid = p.sample.ppid;
            let parent = match last {
                Some((asked, answer)) if asked == ppid => answer,
                _ => {
                    let answer = lookup(ppid);
                    last = Some((ppid, answer));
                    answer
                }
            };
            parent.filter(|&q| q != i)
        })
        .collect()
}

fn forest(procs: &[ProcessView], opts: &RowOptions, base: &[bool]) -> Forest {
    let n = procs.len();
    let parent = parents(procs, base);
    let matched: Vec<bool> = procs
        .iter()
        .zip(base)
        .map(|(p, &b)| b && passes_filter(p, opts))
        .collect();
    // A match keeps its ancestors on screen; walking up stops at the first
    // ancestor already shown, so this is O(n) and ends on cycles.
    let mut shown = vec![false; n];
    for i in (0..n).filter(|&i| matched.get(i).copied().unwrap_or(false)) {
        let mut at = Some(i);
        while let Some(k) = at {
            match shown.get_mut(k) {
                Some(s) if !*s => *s = true,
                _ => break,
            }
            at = parent.get(k).copied().flatten();
        }
    }
    let order = sorted(
        procs,
        (0..n).filter(|&i| shown.get(i).copied().unwrap_or(false)),
        opts.sort,
    );
    // Children grouped by parent (a counting sort), each group in sort
    // order.
    let mut child_start = vec![0; n + 1];
    let mut roots = Vec::new();
    for &i in &order {
        match parent.get(i).copied().flatten() {
            Some(p) if p < n => {
                if let Some(count) = child_start.get_mut(p + 1) {
                    *count += 1;
                }
            }
            _ => roots.push(i),
        }
    }
    let mut total = 0;
    for start in &mut child_start {
        total += *start;
        *start = total;
    }
    let mut next = child_start.clone();
    let mut child_list = vec![0; total];
    for &i in &order {
        let p = parent.get(i).copied().flatten().filter(|&p| p < n);
        if let Some(at) = p.and_then(|p| next.get_mut(p)) {
            if let Some(slot) = child_list.get_mut(*at) {
                *slot = i;
            }
            *at += 1;
        }
    }
    let mut forest = Forest {
        child_start,
        child_list,
        roots,
        order,
        matched,
    };
    folded::sort_by_shown_value(procs, opts, &mut forest);
    forest
}

/// Depth-first walk of the forest, emitting rows.
struct TreeWalk<'a> {
    procs: &'a [ProcessView],
    opts: &'a RowOptions<'a>,
    forest: Forest,
    visited: Vec<bool>,
    rows: Vec<Row>,
}

fn tree_rows(procs: &[ProcessView], opts: &RowOptions, base: &[bool]) -> Vec<Row> {
    let forest = forest(procs, opts, base);
    let mut walk = TreeWalk {
        procs,
        opts,
        visited: vec![false; procs.len()],
        rows: Vec::with_capacity(forest.order.len()),
        forest,
    };
    let roots = std::mem::take(&mut walk.forest.roots);
    walk.walk_from(&roots);
    // Processes on a parent cycle have no root above them: the first of
    // each cycle in sort order becomes a root.
    let order = std::mem::take(&mut walk.forest.order);
    for i in order {
        if !walk.is_visited(i) {
            walk.walk_from(&[i]);
        }
    }
    walk.rows
}

impl TreeWalk<'_> {
    fn is_visited(&self, i: usize) -> bool {
        self.visited.get(i).copied().unwrap_or(true)
    }

    /// Marks `i` visited; false when it already was.
    fn visit(&mut self, i: usize) -> bool {
        match self.visited.get_mut(i) {
            Some(v) if !*v => {
                *v = true;
                true
            }
            _ => false,
        }
    }

    fn children(&self, i: usize) -> &[usize] {
        self.forest.children(i)
    }

    /// Appends `i`'s children not visited yet to `out`.
    fn unvisited_children(&self, i: usize, out: &mut Vec<usize>) {
        out.extend(
            self.children(i)
                .iter()
                .copied()
                .filter(|&k| !self.is_visited(k)),
        );
    }

    fn walk_from(&mut self, roots: &[usize]) {
        let count = roots.len();
        let mut stack: Vec<(usize, Place)> = roots
            .iter()
            .enumerate()
            .rev()
            .map(|(k, &i)| {
                let last_child = k + 1 == count;
                (
                    i,
                    Place {
                        depth: 0,
                        guides: 0,
                        last_child,
                    },
                )
            })
            .collect();
        let mut kids = Vec::new();
        while let Some((i, place)) = stack.pop() {
            if !self.visit(i) {
                continue;
            }
            // One buffer for every node's children.
            kids.clear();
            self.unvisited_children(i, &mut kids);
            self.emit(i, place, &kids, &mut stack);
        }
    }

    /// The row of process `i`, then (unless folded) its thread rows; its
    /// children go on the stack.
    fn emit(&mut self, i: usize, place: Place, kids: &[usize], stack: &mut Vec<(usize, Place)>) {
        let Some(p) = self.procs.get(i) else {
            return;
        };
        let threads = if self.opts.show_threads {
            thread_indices(p, self.opts.sort)
        } else {
            Vec::new()
        };
        let matched = self.forest.matched.get(i).copied().unwrap_or(false);
        let has_children = !kids.is_empty() || !threads.is_empty();
        let folded = has_children && self.opts.folded.contains(&p.sample.key());
        let mut r = row(i, None, place, matched);
        r.has_children = has_children;
        r.folded = folded;
        if folded {
            r.aggregate = Some(self.fold(i, kids));
            self.rows.push(r);
            return;
        }
        self.rows.push(r);
        let n_threads = threads.len();
        for (k, t) in threads.into_iter().enumerate() {
            let last = k + 1 == n_threads && kids.is_empty();
            self.rows.push(row(i, Some(t), place.child(last), matched));
        }
        let n_kids = kids.len();
        for (k, &c) in kids.iter().enumerate().rev() {
            stack.push((c, place.child(k + 1 == n_kids)));
        }
    }

    /// Sums the subtree under a folded node and marks it visited, so that
    /// its members are neither shown nor re-rooted.
    fn fold(&mut self, i: usize, kids: &[usize]) -> Aggregate {
        let mut members = vec![i];
        let mut pending: Vec<usize> = kids.to_vec();
        while let Some(k) = pending.pop() {
            if self.visit(k) {
                members.push(k);
                self.unvisited_children(k, &mut pending);
            }
        }
        let procs = self.procs;
        members.iter().filter_map(|&k| procs.get(k)).fold(
            Aggregate {
                cpu_percent: 0.0,
                mem_percent: 0.0,
            },
            |a, p| Aggregate {
                cpu_percent: a.cpu_percent + p.cpu_percent,
                mem_percent: a.mem_percent + p.mem_percent,
            },
        )
    }
}

/// The tree drawing before a row's command. Per ancestor level "│  " (a
/// guide) or "   "; then the connector "├─ " ("└─ " for the last child).
/// A folded node has '+' in place of '─' ("├+ ", "└+ "), as in htop; a
/// folded root, which has no connector, is marked "+ ". Roots and flat
/// rows get "".
pub fn tree_prefix(row: &Row) -> String {
    if row.depth == 0 {
        return if row.folded {
            "+ ".to_owned()
        } else {
            String::new()
        };
    }
    let levels = row.depth - 1;
    let mut s = String::with_capacity(usize::from(row.depth) * 8);
    for d in 0..levels {
        let guide = d < 64 && (row.guides >> d) & 1 == 1;
        s.push_str(if guide { "│  " } else { "   " });
    }
    s.push(if row.last_child { '└' } else { '├' });
    s.push(if row.folded { '+' } else { '─' });
    s.push(' ');
    s
}

/// The index of the process row (not a thread row) of `key`.
pub fn position_of(rows: &[Row], model: &Model, key: ProcessKey) -> Option<usize> {
    let procs = &model.processes;
    let has_key = |i: usize| procs.get(i).is_some_and(|p| p.sample.key() == key);
    // In the model's usual pid order, the processes that can have `key`
    // form one range of indices, found by binary search: the rows are then
    // scanned without visiting the process of each (in sort order, a
    // cache miss per row).
    if procs.is_sorted_by_key(|p| p.sample.pid) {
        let from = procs.partition_point(|p| p.sample.pid < key.pid);
        let to = procs.partition_point(|p| p.sample.pid <= key.pid);
        if !(from..to).any(has_key) {
            return None;
        }
        return rows.iter().position(|r| {
            r.thread.is_none() && (from..to).contains(&r.process) && has_key(r.process)
        });
    }
    rows.iter()
        .position(|r| r.thread.is_none() && has_key(r.process))
}

/// The next row (forward or backward, wrapping; `from` itself last) whose
/// command, comm, user or pid contains `needle`, ignoring case.
pub fn find_match(
    rows: &[Row],
    model: &Model,
    needle: &str,
    from: usize,
    forward: bool,
) -> Option<usize> {
    let n = rows.len();
    if n == 0 || needle.is_empty() {
        return None;
    }
    let needle = needle.to_lowercase();
    let from = from.min(n - 1);
    (1..=n)
        .map(|k| {
            if forward {
                (from + k) % n
            } else {
                (from + n - k) % n
            }
        })
        .find(|&i| {
            rows.get(i).is_some_and(|r| {
                model
                    .processes
                    .get(r.process)
                    .is_some_and(|p| row_contains(p, r.thread, &needle))
            })
        })
}

/// Whether a row's command, comm, user or pid (tid on thread rows)
/// contains the lowercase `needle`.
fn row_contains(p: &ProcessView, thread: Option<usize>, needle: &str) -> bool {
    let t = thread.and_then(|i| p.sample.thread_list.get(i));
    let id = t.map_or(p.sample.pid, |t| t.tid);
    let comm = t.map_or(&p.sample.comm, |t| &t.comm);
    let mut digits = [0; 10];
    // The command as `command_text` shows it.
    let command = || match t {
        Some(t) => safe_contains(&t.comm, needle),
        None => safe_contains(&command_bytes(p).collect::<Vec<u8>>(), needle),
    };
    contains_ignore_case(decimal(id, &mut digits), needle)
        || safe_contains(comm, needle)
        || safe_contains(p.user.as_bytes(), needle)
        || command()
}

/// `n` in decimal, written into `buf` (no allocation).
fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &str {
    let mut at = buf.len();
    while let Some(slot) = at.checked_sub(1).and_then(|k| buf.get_mut(k)) {
        *slot = b'0' + (n % 10) as u8;
        at -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(buf.get(at..).unwrap_or_default()).unwrap_or_default()
}

/// Whether `display_safe(bytes)` contains the lowercase `needle`. Printable
/// ASCII, which `display_safe` leaves as it is, is searched in place.
fn safe_contains(bytes: &[u8], needle: &str) -> bool {
    if bytes.iter().all(|b| (b' '..=b'~').contains(b)) {
        if let Ok(text) = std::str::from_utf8(bytes) {
            return contains_ignore_case(text, needle);
        }
    }
    contains_ignore_case(&display_safe(bytes), needle)
}

/// Substring test against an already lowercase needle; ASCII text (the
/// common case) is compared without allocating.
fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if haystack.is_ascii() && needle.is_ascii() {
        return haystack
            .as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()));
    }
    haystack.to_lowercase().contains(needle)
}

/// `key` and every process below it (by ppid), in breadth-first order; empty
/// when `key` is not in the model. O(n).
pub fn descendants(model: &Model, key: ProcessKey) -> Vec<ProcessKey> {
    let procs = &model.processes;
    let Some(start) = procs.iter().position(|p| p.sample.key() == key) else {
        return Vec::new();
    };
    let by_pid: HashMap<u32, usize> = procs
        .iter()
        .enumerate()
        .map(|(i, p)| (p.sample.pid, i))
        .collect();
    let mut children = vec![Vec::new(); procs.len()];
    for (i, p) in procs.iter().enumerate() {
        let parent = by_pid.get(&p.sample.ppid).copied().filter(|&q| q != i);
        if let Some(list) = parent.and_then(|q| children.get_mut(q)) {
            list.push(i);
        }
    }
    let mut seen = vec![false; procs.len()];
    let mut queue = std::collections::VecDeque::from([start]);
    let mut out = Vec::new();
    while let Some(i) = queue.pop_front() {
        match seen.get_mut(i) {
            Some(s) if !*s => *s = true,
            _ => continue,
        }
        if let Some(p) = procs.get(i) {
            out.push(p.sample.key());
        }
        queue.extend(children.get(i).into_iter().flatten().copied());
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::model::testing::demo_model;

    /// Owned options, so tests can tweak one field at a time.
    struct Opts {
        sort: SortSpec,
        tree: bool,
        folded: HashSet<ProcessKey>,
        filter: Option<Filter>,
        kernel: bool,
        threads: bool,
        user: Option<u32>,
        pids: Option<HashSet<u32>>,
        aggregate: bool,
    }

    impl Opts {
        fn flat() -> Opts {
            Opts {
                sort: SortSpec {
                    column: Column::Pid,
                    descending: false,
                },
                tree: false,
                folded: HashSet::new(),
                filter: None,
                kernel: false,
                threads: false,
                user: None,
                pids: None,
                aggregate: true,
            }
        }

        fn tree() -> Opts {
            Opts {
                tree: true,
                ..Opts::flat()
            }
        }

        fn rows(&self, m: &Model) -> Vec<Row> {
            build_rows(
                m,
                &RowOptions {
                    sort: self.sort,
                    tree: self.tree,
                    folded: &self.folded,
                    filter: self.filter.as_ref(),
                    show_kernel_threads: self.kernel,
                    show_threads: self.threads,
                    user: self.user,
                    pids: self.pids.as_ref(),
                    group: None,
                    aggregate_folded: self.aggregate,
                },
            )
        }
    }

    fn key(m: &Model, pid: u32) -> ProcessKey {
        m.processes
            .iter()
            .find(|p| p.sample.pid == pid)
            .unwrap()
            .sample
            .key()
    }

    fn index(m: &Model, pid: u32) -> usize {
        m.processes
            .iter()
            .position(|p| p.sample.pid == pid)
            .unwrap()
    }

    /// Pid of each row (tid on thread rows).
    fn ids(rows: &[Row], m: &Model) -> Vec<u32> {
        rows.iter()
            .map(|r| {
                let p = &m.processes[r.process].sample;
                r.thread.map_or(p.pid, |t| p.thread_list[t].tid)
            })
            .collect()
    }

    fn row_of<'r>(rows: &'r [Row], m: &Model, pid: u32) -> &'r Row {
        rows.iter()
            .find(|r| r.thread.is_none() && m.processes[r.process].sample.pid == pid)
            .unwrap()
    }

    /// Structural checks of a tree listing: each process row sits one level
    /// below its parent's row; last_child and guides agree with what follows.
    fn check_tree(rows: &[Row], m: &Model) {
        let mut ancestors: Vec<usize> = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let depth = usize::from(r.depth);
            assert!(depth <= ancestors.len(), "row {i} jumps a level");
            ancestors.truncate(depth);
            if let Some(&a) = ancestors.last() {
                let parent = &rows[a];
                assert_eq!(parent.process == r.process, r.thread.is_some());
                if r.thread.is_none() {
                    let ppid = m.processes[r.process].sample.ppid;
                    assert_eq!(m.processes[parent.process].sample.pid, ppid, "row {i}");
                }
            }
            // Last child: no later sibling before the level closes.
            let next_sibling = rows[i + 1..]
                .iter()
                .take_while(|n| n.depth >= r.depth)
                .any(|n| n.depth == r.depth);
            if depth > 0 {
                assert_eq!(r.last_child, !next_sibling, "row {i}");
            }
            for d in 0..depth.saturating_sub(1).min(64) {
                let ancestor = &rows[ancestors[d + 1]];
                let guide = (r.guides >> d) & 1 == 1;
                assert_eq!(guide, !ancestor.last_child, "row {i} level {d}");
            }
            ancestors.push(i);
        }
    }

    #[test]
    fn flat_sort_is_total_both_ways_for_every_column() {
        let m = demo_model();
        for &column in Column::ALL {
            for descending in [false, true] {
                let opts = Opts {
                    sort: SortSpec { column, descending },
                    kernel: true,
                    ..Opts::flat()
                };
                let rows = opts.rows(&m);
                assert_eq!(rows.len(), m.processes.len());
                let mut seen: Vec<usize> = rows.iter().map(|r| r.process).collect();
                seen.sort_unstable();
                seen.dedup();
                assert_eq!(seen.len(), m.processes.len());
                let spec = SortSpec { column, descending };
                for w in rows.windows(2) {
                    let (a, b) = (&m.processes[w[0].process], &m.processes[w[1].process]);
                    assert_eq!(spec.compare(a, b), Ordering::Less);
                    let by_value = column.compare_value(a, b);
                    let want = if descending {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    };
                    // Ties only between equal values, broken by pid.
                    assert_ne!(by_value, want.reverse(), "{column:?} {descending}");
                    if by_value == Ordering::Equal {
                        assert!(a.sample.pid < b.sample.pid);
                    } else {
                        assert_eq!(column.compare(a, b), want);
                    }
                }
                assert!(rows.iter().all(|r| r.depth == 0 && r.matched));
            }
        }
    }

    #[test]
    fn cpu_descending_puts_the_busy_first() {
        let m = demo_model();
        let opts = Opts {
            sort: SortSpec {
                column: Column::CpuPercent,
                descending: true,
            },
            ..Opts::flat()
        };
        // Then the idle ones by ascending pid.
        assert_eq!(ids(&opts.rows(&m), &m)[..4], [900, 1301, 1, 350]);
    }

    #[test]
    fn threads_sort_by_their_own_values() {
        let m = demo_model();
        let opts = |column, descending| Opts {
            sort: SortSpec { column, descending },
            threads: true,
            ..Opts::flat()
        };
        let after_java = |rows: Vec<Row>| {
            let all = ids(&rows, &m);
            let at = all.iter().position(|&id| id == 900).unwrap();
            all[at + 1..at + 3].to_vec()
        };
        // 902 has more CPU time than 901; equal CPU% keeps tid order.
        assert_eq!(after_java(opts(Column::Time, true).rows(&m)), [902, 901]);
        assert_eq!(after_java(opts(Column::Time, false).rows(&m)), [901, 902]);
        assert_eq!(
            after_java(opts(Column::CpuPercent, true).rows(&m)),
            [901, 902]
        );
    }

    #[test]
    fn kernel_threads_are_hidden_by_default() {
        let m = demo_model();
        let rows = Opts::flat().rows(&m);
        assert_eq!(rows.len(), 10);
        assert!(rows
            .iter()
            .all(|r| !m.processes[r.process].sample.kernel_thread));
        let tree = Opts::tree().rows(&m);
        assert_eq!(tree.len(), 10);
        let all = Opts {
            kernel: true,
            ..Opts::tree()
        };
        assert_eq!(all.rows(&m).len(), 13);
    }

    #[test]
    fn the_demo_tree_has_the_expected_shape() {
        let m = demo_model();
        let opts = Opts {
            kernel: true,
            ..Opts::tree()
        };
        let rows = opts.rows(&m);
        check_tree(&rows, &m);
        assert_eq!(
            ids(&rows, &m),
            [1, 350, 400, 1200, 1300, 1301, 1500, 1600, 700, 900, 2, 14, 15]
        );
        let depths: Vec<u16> = rows.iter().map(|r| r.depth).collect();
        assert_eq!(depths, [0, 1, 1, 2, 3, 3, 3, 3, 1, 1, 0, 1, 1]);
        let prefixes: Vec<String> = rows.iter().map(tree_prefix).collect();
        assert_eq!(
            prefixes,
            [
                "",
                "├─ ",
                "├─ ",
                "│  └─ ",
                "│     ├─ ",
                "│     ├─ ",
                "│     ├─ ",
                "│     └─ ",
                "├─ ",
                "└─ ",
                "",
                "├─ ",
                "└─ ",
            ]
        );
        let parents: Vec<u32> = rows
            .iter()
            .filter(|r| r.has_children)
            .map(|r| m.processes[r.process].sample.pid)
            .collect();
        assert_eq!(parents, [1, 400, 1200, 2]);
        assert!(rows
            .iter()
            .all(|r| r.matched && !r.folded && r.aggregate.is_none()));
    }

    #[test]
    fn siblings_follow_the_sort() {
        let m = demo_model();
        let opts = Opts {
            sort: SortSpec {
                column: Column::CpuPercent,
                descending: true,
            },
            ..Opts::tree()
        };
        let rows = opts.rows(&m);
        check_tree(&rows, &m);
        // java (100 %) leads init's children; top (50 %) leads bash's.
        assert_eq!(
            ids(&rows, &m),
            [1, 900, 350, 400, 1200, 1301, 1300, 1500, 1600, 700]
        );
    }

    #[test]
    fn thread_rows_follow_their_process() {
        let m = demo_model();
        let flat = Opts {
            threads: true,
            ..Opts::flat()
        };
        let rows = flat.rows(&m);
        let ids = ids(&rows, &m);
        let at = ids.iter().position(|&id| id == 900).unwrap();
        assert_eq!(ids[at..at + 4], [900, 901, 902, 1200]);
        assert_eq!(rows[at + 1].thread, Some(1));
        assert_eq!(rows[at + 1].process, index(&m, 900));
        assert_eq!(rows[at + 1].depth, 0);

        let tree = Opts {
            threads: true,
            ..Opts::tree()
        };
        let rows = tree.rows(&m);
        check_tree(&rows, &m);
        let java = rows
            .iter()
            .position(|r| r.process == index(&m, 900) && r.thread.is_none());
        let java = java.unwrap();
        assert!(rows[java].has_children);
        let threads = &rows[java + 1..java + 3];
        assert_eq!(threads.iter().map(|r| r.depth).collect::<Vec<_>>(), [2, 2]);
        assert_eq!(tree_prefix(&threads[0]), "   ├─ ");
        assert_eq!(tree_prefix(&threads[1]), "   └─ ");
    }

    #[test]
    fn threads_come_before_child_processes() {
        let mut m = demo_model();
        let cron = index(&m, 700);
        m.processes[cron].sample.ppid = 900;
        let opts = Opts {
            threads: true,
            ..Opts::tree()
        };
        let rows = opts.rows(&m);
        check_tree(&rows, &m);
        let all = ids(&rows, &m);
        let at = all.iter().position(|&id| id == 900).unwrap();
        assert_eq!(all[at..], [900, 901, 902, 700]);
        assert!(!rows[at + 2].last_child);
        assert!(rows[at + 3].last_child);
    }

    #[test]
    fn folding_hides_descendants_and_sums_them() {
        let m = demo_model();
        let mut opts = Opts::tree();
        opts.folded.insert(key(&m, 1200));
        // A leaf cannot fold.
        opts.folded.insert(key(&m, 700));
        let rows = opts.rows(&m);
        check_tree(&rows, &m);
        assert_eq!(ids(&rows, &m), [1, 350, 400, 1200, 700, 900]);
        let bash = row_of(&rows, &m, 1200);
        assert!(bash.folded && bash.has_children);
        assert_eq!(tree_prefix(bash), "│  └+ ");
        let agg = bash.aggregate.unwrap();
        let members = [1200, 1300, 1301, 1500, 1600];
        let mem: f64 = members
            .iter()
            .map(|&pid| m.processes[index(&m, pid)].mem_percent)
            .sum();
        assert!((agg.cpu_percent - 50.0).abs() < 1e-9);
        assert!((agg.mem_percent - mem).abs() < 1e-9);
        assert!(agg.mem_percent > m.processes[index(&m, 1200)].mem_percent);
        assert!(!row_of(&rows, &m, 700).folded);
    }

    /// Under init: java (100 %), then journald, sshd, cron (0 % each, by
    /// pid). Folded, sshd shows its subtree's 50 % (top, under bash), and
    /// sorts by it: right after java. Without the sums shown, by its own.
    #[test]
    fn folded_processes_sort_by_the_sum_they_show() {
        let m = demo_model();
        let mut opts = Opts {
            sort: SortSpec {
                column: Column::CpuPercent,
                descending: true,
            },
            ..Opts::tree()
        };
        let children_of_init = |opts: &Opts| -> Vec<u32> {
            let rows = opts.rows(&m);
            rows.iter()
                .filter(|r| r.depth == 1 && r.thread.is_none())
                .map(|r| m.processes[r.process].sample.pid)
                .collect()
        };
        assert_eq!(children_of_init(&opts), [900, 350, 400, 700]);
        opts.folded.insert(key(&m, 400));
        let rows = opts.rows(&m);
        check_tree(&rows, &m);
        let sshd = row_of(&rows, &m, 400);
        assert!((sshd.aggregate.unwrap().cpu_percent - 50.0).abs() < 1e-9);
        assert_eq!(children_of_init(&opts), [900, 400, 350, 700]);
        opts.sort.descending = false;
        assert_eq!(children_of_init(&opts), [350, 700, 400, 900]);
        opts.aggregate = false;
        opts.sort.descending = true;
        assert_eq!(children_of_init(&opts), [900, 350, 400, 700]);
        // By MEM%: bash's subtree (vim's 12 MiB among them) outweighs
        // journald's 40 MiB only when summed; folded, it shows the sum.
        opts.aggregate = true;
        opts.sort.column = Column::MemPercent;
        let rows = opts.rows(&m);
        let shown = |pid| {
            let r = row_of(&rows, &m, pid);
            r.aggregate
                .map_or(m.processes[r.process].mem_percent, |a| a.mem_percent)
        };
        let order = children_of_init(&opts);
        let values: Vec<f64> = order.iter().map(|&pid| shown(pid)).collect();
        assert!(
            values.windows(2).all(|w| w[0] >= w[1]),
            "{order:?} {values:?}"
        );
    }

    #[test]
    fn a_folded_root_keeps_only_itself() {
        let m = demo_model();
        let mut opts = Opts {
            threads: true,
            ..Opts::tree()
        };
        opts.folded.insert(key(&m, 1));
        let rows = opts.rows(&m);
        assert_eq!(ids(&rows, &m), [1]);
        assert_eq!(tree_prefix(&rows[0]), "+ ");
        // All user processes: 100 % java + 50 % top.
        assert!((rows[0].aggregate.unwrap().cpu_percent - 150.0).abs() < 1e-9);
    }

    #[test]
    fn a_filter_keeps_the_ancestors_of_matches() {
        let m = demo_model();
        let filter = Filter::parse("VIM");
        let tree = Opts {
            filter: filter.clone(),
            ..Opts::tree()
        };
        let rows = tree.rows(&m);
        check_tree(&rows, &m);
        assert_eq!(ids(&rows, &m), [1, 400, 1200, 1300]);
        let matched: Vec<bool> = rows.iter().map(|r| r.matched).collect();
        assert_eq!(matched, [false, false, false, true]);
        assert_eq!(tree_prefix(&rows[3]), "      └─ ");
        let flat = Opts {
            filter,
            ..Opts::flat()
        };
        assert_eq!(ids(&flat.rows(&m), &m), [1300]);
    }

    #[test]
    fn filters_look_at_every_field() {
        let m = demo_model();
        let flat = |s: &str| {
            Opts {
                filter: Filter::parse(s),
                ..Opts::flat()
            }
            .rows(&m)
        };
        assert_eq!(ids(&flat("ssh.service"), &m), [400]); // cgroup
        assert_eq!(ids(&flat("alice"), &m), [1200, 1300, 1301, 1500, 1600]); // user
        assert_eq!(ids(&flat("1301"), &m), [1301]); // pid
        assert_eq!(ids(&flat("defunct"), &m), [1600]); // comm
        assert_eq!(ids(&flat("NOTES.txt"), &m), [1300]); // command
        assert_eq!(ids(&flat("名前"), &m), [1500]);
        assert_eq!(ids(&flat("pwned"), &m), [1500]);
        assert!(flat("nothing-like-this").is_empty());
    }

    #[test]
    fn a_negated_filter_shows_the_rest() {
        let m = demo_model();
        let flat = Opts {
            filter: Filter::parse("!alice"),
            ..Opts::flat()
        };
        assert_eq!(ids(&flat.rows(&m), &m), [1, 350, 400, 700, 900]);
        // bash is not shown for itself, only as its children's parent.
        let tree = Opts {
            filter: Filter::parse("!bash"),
            ..Opts::tree()
        };
        let rows = tree.rows(&m);
        check_tree(&rows, &m);
        assert!(!row_of(&rows, &m, 1200).matched);
        assert!(row_of(&rows, &m, 1300).matched);
        assert_eq!(rows.len(), 10);
    }

    #[test]
    fn filter_parsing() {
        assert_eq!(Filter::parse(""), None);
        assert_eq!(Filter::parse("!"), None);
        let f = Filter::parse("!Foo").unwrap();
        assert!(f.negate);
        assert_eq!(f.needle, "foo");
        assert!(!Filter::parse("Foo").unwrap().negate);
    }

    #[test]
    fn user_and_pid_restrictions() {
        let m = demo_model();
        let mine = Opts {
            user: Some(1000),
            ..Opts::tree()
        };
        let rows = mine.rows(&m);
        check_tree(&rows, &m);
        // bash's parent (sshd, root) is hidden: bash becomes a root.
        assert_eq!(ids(&rows, &m), [1200, 1300, 1301, 1500, 1600]);
        assert_eq!(rows[0].depth, 0);
        let some = Opts {
            pids: Some(HashSet::from([1, 1301, 2])),
            ..Opts::flat()
        };
        // pid 2 is a kernel thread, still hidden.
        assert_eq!(ids(&some.rows(&m), &m), [1, 1301]);
    }

    #[test]
    fn parent_cycles_are_broken() {
        let mut m = demo_model();
        let (sshd, bash) = (index(&m, 400), index(&m, 1200));
        m.processes[sshd].sample.ppid = 1200;
        m.processes[bash].sample.ppid = 400;
        let rows = Opts::tree().rows(&m);
        check_tree_shape_only(&rows);
        let mut all = ids(&rows, &m);
        all.sort_unstable();
        assert_eq!(all, [1, 350, 400, 700, 900, 1200, 1300, 1301, 1500, 1600]);
        assert_eq!(row_of(&rows, &m, 400).depth, 0);
        assert_eq!(row_of(&rows, &m, 1200).depth, 1);
        assert_eq!(row_of(&rows, &m, 1300).depth, 2);
        // A self-parented process is a root.
        let mut m = demo_model();
        let vim = index(&m, 1300);
        m.processes[vim].sample.ppid = 1300;
        assert_eq!(row_of(&Opts::tree().rows(&m), &m, 1300).depth, 0);
    }

    /// Depth steps and last_child only (for forests with re-rooted cycles).
    fn check_tree_shape_only(rows: &[Row]) {
        let mut prev = 0u16;
        for (i, r) in rows.iter().enumerate() {
            assert!(r.depth <= prev + 1 || i == 0);
            prev = r.depth;
        }
    }

    #[test]
    fn find_match_wraps_and_checks_from_last() {
        let m = demo_model();
        let rows = Opts::flat().rows(&m);
        // [1, 350, 400, 700, 900, 1200, 1300, 1301, 1500, 1600]
        let find = |needle: &str, from, forward| find_match(&rows, &m, needle, from, forward);
        assert_eq!(find("BASH", 0, true), Some(5));
        assert_eq!(find("bash", 5, true), Some(5));
        // "sbin": init (0), sshd (2), cron (3).
        assert_eq!(find("sbin", 3, true), Some(0));
        assert_eq!(find("sbin", 0, true), Some(2));
        assert_eq!(find("sbin", 3, false), Some(2));
        assert_eq!(find("sbin", 0, false), Some(3));
        assert_eq!(find("www-data", 0, true), Some(4)); // user
        assert_eq!(find("1600", 99, true), Some(9)); // pid; from clamped
        assert_eq!(find("", 0, true), None);
        assert_eq!(find("absent", 0, true), None);
        assert_eq!(find_match(&[], &m, "bash", 0, true), None);
    }

    #[test]
    fn find_match_sees_thread_names() {
        let m = demo_model();
        let rows = Opts {
            threads: true,
            ..Opts::flat()
        }
        .rows(&m);
        let at = find_match(&rows, &m, "compiler", 0, true).unwrap();
        assert_eq!(rows[at].thread, Some(2));
    }

    #[test]
    fn position_of_finds_process_rows_only() {
        let m = demo_model();
        let rows = Opts {
            threads: true,
            ..Opts::flat()
        }
        .rows(&m);
        let at = position_of(&rows, &m, key(&m, 900)).unwrap();
        assert_eq!(rows[at].thread, None);
        assert_eq!(rows[at].process, index(&m, 900));
        assert_eq!(
            position_of(&rows, &m, key(&m, 1301)).map(|i| rows[i].process),
            Some(index(&m, 1301))
        );
        let stranger = ProcessKey {
            pid: 1301,
            start_time_ns: 1,
        };
        assert_eq!(position_of(&rows, &m, stranger), None);
    }

    #[test]
    fn descendants_cover_the_subtree() {
        let m = demo_model();
        let got = descendants(&m, key(&m, 400));
        assert_eq!(got[0], key(&m, 400));
        let mut pids: Vec<u32> = got.iter().map(|k| k.pid).collect();
        pids.sort_unstable();
        assert_eq!(pids, [400, 1200, 1300, 1301, 1500, 1600]);
        assert_eq!(descendants(&m, key(&m, 1300)), [key(&m, 1300)]);
        let stranger = ProcessKey {
            pid: 4242,
            start_time_ns: 0,
        };
        assert!(descendants(&m, stranger).is_empty());
        // A cycle ends the walk instead of looping.
        let mut m = m;
        let sshd = index(&m, 400);
        m.processes[sshd].sample.ppid = 1300;
        assert_eq!(descendants(&m, key(&m, 400)).len(), 6);
    }

    #[test]
    fn deep_trees_draw_without_guides_past_64_levels() {
        let r = Row {
            process: 0,
            thread: None,
            depth: 70,
            guides: u64::MAX,
            last_child: true,
            has_children: false,
            folded: false,
            matched: true,
            aggregate: None,
        };
        let prefix = tree_prefix(&r);
        assert_eq!(prefix.matches('│').count(), 64);
        assert!(prefix.ends_with("      └─ "));
    }

    /// `n` processes: pid i+2 under a pseudo-random earlier pid (or a chain).
    fn synthetic(n: u32, chain: bool) -> Model {
        let template = crate::collect::fake::demo_processes().remove(0);
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let processes = (0..n)
            .map(|i| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let pid = i + 2;
                let ppid = if chain || i == 0 {
                    pid - 1
                } else {
                    2 + (seed >> 33) as u32 % i
                };
                let mut sample = template.clone();
                sample.pid = pid;
                sample.ppid = ppid;
                sample.utime_ns = (seed >> 20) % 1_000_000;
                ProcessView {
                    sample,
                    user: "root".into(),
                    cpu_percent: (seed % 1000) as f64 / 10.0,
                    mem_percent: 0.1,
                    io_read_rate: 0.0,
                    io_write_rate: 0.0,
                    net_rx_rate: 0.0,
                    net_tx_rate: 0.0,
                    thread_rates: Vec::new(),
                    waits: Default::default(),
                    cgroup: None,
                    gpu: None,
                    exited_children_cpu_percent: 0.0,
                    exited_children: 0,
                    children_forked: 0,
                    children_execs: 0,
                }
            })
            .collect();
        crate::model::testing::model_of(processes)
    }

    /// The demo model with its processes in reverse pid order (a model
    /// built by hand need not be in pid order) and some values varied.
    fn shuffled_models() -> [Model; 2] {
        let mut m = demo_model();
        for (k, p) in m.processes.iter_mut().enumerate() {
            p.cpu_percent = (k % 4) as f64;
            if k % 5 == 0 {
                p.sample.io = None;
            }
        }
        let mut reversed = m.processes.clone();
        reversed.reverse();
        [m, crate::model::testing::model_of(reversed)]
    }

    #[test]
    fn sorting_by_keys_is_sorting_by_the_comparator() {
        for m in shuffled_models() {
            let procs = &m.processes;
            for &column in Column::ALL {
                for descending in [false, true] {
                    let sort = SortSpec { column, descending };
                    let mut want: Vec<usize> = (0..procs.len()).collect();
                    want.sort_by(|&a, &b| sort.compare(&procs[a], &procs[b]));
                    let got = sorted(procs, 0..procs.len(), sort);
                    assert_eq!(got, want, "{sort:?}");
                    // A subset, and indices out of pid order.
                    let subset = (0..procs.len()).rev().filter(|i| i % 3 != 1);
                    let mut want: Vec<usize> = subset.clone().collect();
                    want.sort_by(|&a, &b| sort.compare(&procs[a], &procs[b]));
                    assert_eq!(sorted(procs, subset, sort), want, "{sort:?}");
                }
            }
        }
    }

    #[test]
    fn the_tree_does_not_depend_on_the_models_order() {
        let [m, reversed] = shuffled_models();
        let shape = |m: &Model, rows: &[Row]| -> Vec<(u32, u16, u64, bool, bool)> {
            rows.iter()
                .map(|r| {
                    let pid = m.processes[r.process].sample.pid;
                    (pid, r.depth, r.guides, r.last_child, r.has_children)
                })
                .collect()
        };
        for column in [Column::CpuPercent, Column::Pid, Column::Command] {
            let opts = Opts {
                sort: SortSpec {
                    column,
                    descending: true,
                },
                ..Opts::tree()
            };
            let a = opts.rows(&m);
            let b = opts.rows(&reversed);
            assert_eq!(shape(&m, &a), shape(&reversed, &b));
            check_tree(&a, &m);
            // Every process row is found by its key, in either order.
            for (model, rows) in [(&m, &a), (&reversed, &b)] {
                for (at, r) in rows.iter().enumerate().filter(|(_, r)| r.thread.is_none()) {
                    let key = model.processes[r.process].sample.key();
                    assert_eq!(position_of(rows, model, key), Some(at));
                }
                let gone = ProcessKey {
                    pid: 1,
                    start_time_ns: u64::MAX,
                };
                assert_eq!(position_of(rows, model, gone), None);
            }
        }
    }

    #[test]
    fn matching_without_allocating_matches_the_shown_text() {
        for n in [0, 7, 10, 1000, 40_123, u32::MAX] {
            assert_eq!(decimal(n, &mut [0; 10]), n.to_string());
        }
        let texts: [&[u8]; 7] = [
            b"",
            b"Java -jar App.jar",
            b"tab\there",
            b"esc\x1b]0;x\x07",
            b"del\x7f",
            "café ß".as_bytes(),
            b"bad \xff utf8",
        ];
        let needles = ["", "java", "app.jar", "?", "t", "caf", "é", "\u{fffd}", "x"];
        for text in texts {
            for needle in needles {
                assert_eq!(
                    safe_contains(text, needle),
                    contains_ignore_case(&display_safe(text), needle),
                    "{text:?} {needle:?}"
                );
            }
        }
        // The whole row test against the texts the screen shows.
        let m = demo_model();
        for p in &m.processes {
            let threads = (0..p.sample.thread_list.len()).map(Some);
            for thread in std::iter::once(None).chain(threads) {
                for needle in ["1", "30", "root", "sshd", "[", "-", "java", "zzz"] {
                    let t = thread.and_then(|i| p.sample.thread_list.get(i));
                    let id = t.map_or(p.sample.pid, |t| t.tid);
                    let comm = t.map_or(&p.sample.comm, |t| &t.comm);
                    let shown = contains_ignore_case(&id.to_string(), needle)
                        || contains_ignore_case(&display_safe(comm), needle)
                        || contains_ignore_case(&display_safe(p.user.as_bytes()), needle)
                        || contains_ignore_case(
                            &crate::ui::columns::command_text(p, thread),
                            needle,
                        );
                    assert_eq!(row_contains(p, thread, needle), shown, "{needle}");
                }
            }
        }
    }

    #[test]
    fn thirty_thousand_processes() {
        let m = synthetic(30_000, false);
        for column in [Column::CpuPercent, Column::Command, Column::Pid] {
            let sort = SortSpec {
                column,
                descending: true,
            };
            let flat = Opts {
                sort,
                ..Opts::flat()
            }
            .rows(&m);
            assert_eq!(flat.len(), 30_000);
            let tree = Opts {
                sort,
                ..Opts::tree()
            }
            .rows(&m);
            assert_eq!(tree.len(), 30_000);
            check_tree(&tree, &m);
        }
        let chain = synthetic(30_000, true);
        let rows = Opts::tree().rows(&chain);
        assert_eq!(rows.len(), 30_000);
        assert_eq!(rows.last().map(|r| r.depth), Some(29_999));
        let filtered = Opts {
            filter: Filter::parse("30001"),
            ..Opts::tree()
        }
        .rows(&chain);
        assert_eq!(filtered.len(), 30_000);
        assert_eq!(filtered.iter().filter(|r| r.matched).count(), 1);
    }
}
