//! Temporary views (N, gG) laid over the configured columns and sort for
//! a while, never saved. One rule for all of them, however many: the last
//! view turned on (or changed) sorts; hiding one goes back to the sort of
//! the last one still on, and to the sort from before the first of them
//! once none is. Meanwhile that first sort is what the config file keeps.

use crate::ui::columns::Column;
use crate::ui::rows::SortSpec;
use crate::ui::state::gpuview;
use crate::ui::state::netview::NetView;

/// One temporary view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temporary {
    Network(NetView),
    Gpu,
}

/// Which temporary view, whatever it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Network,
    Gpu,
}

impl Temporary {
    pub fn kind(self) -> Kind {
        match self {
            Temporary::Network(_) => Kind::Network,
            Temporary::Gpu => Kind::Gpu,
        }
    }

    /// The view's own sort.
    pub fn sort(self) -> SortSpec {
        match self {
            Temporary::Network(net) => net.sort(),
            Temporary::Gpu => gpuview::SORT,
        }
    }

    /// Columns shown on top of the configured ones with `gpus` GPUs.
    fn extra_columns(self, gpus: usize) -> &'static [Column] {
        match self {
            Temporary::Network(net) => net.extra_columns(),
            Temporary::Gpu => gpuview::extra_columns(gpus),
        }
    }
}

/// The temporary views on, and the sort to come back to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overlay {
    /// The views on, in the order they were turned on or changed.
    active: Vec<Temporary>,
    /// The sort from before the first of them; None while none is on.
    restore: Option<SortSpec>,
}

impl Overlay {
    /// The view of `kind`, when it is on.
    pub fn get(&self, kind: Kind) -> Option<Temporary> {
        self.active.iter().copied().find(|v| v.kind() == kind)
    }

    /// The network view, when it is on.
    pub fn network(&self) -> Option<NetView> {
        match self.get(Kind::Network) {
            Some(Temporary::Network(net)) => Some(net),
            _ => None,
        }
    }

    /// The sort from before the first view; None while none is on.
    pub fn restore(&self) -> Option<SortSpec> {
        self.restore
    }

    /// Turns `view` on, or changes what its kind shows, while `current` is
    /// the sort on screen. Returns the sort to show: the view's own.
    pub fn show(&mut self, view: Temporary, current: SortSpec) -> SortSpec {
        self.restore.get_or_insert(current);
        self.active.retain(|v| v.kind() != view.kind());
        self.active.push(view);
        view.sort()
    }

    /// Turns the view of `kind` off. Returns the sort to show: the last
    /// view's still on, else the one from before the first.
    pub fn hide(&mut self, kind: Kind, current: SortSpec) -> SortSpec {
        self.active.retain(|v| v.kind() != kind);
        match self.active.last() {
            Some(v) => v.sort(),
            None => self.restore.take().unwrap_or(current),
        }
    }

    /// `configured` with the views' extra columns it lacks, in a fixed
    /// order (network, then GPU) whatever order the views came in; None
    /// when no view is on.
    pub fn columns(&self, configured: &[Column], gpus: usize) -> Option<Vec<Column>> {
        if self.active.is_empty() {
            return None;
        }
        let extra: Vec<Column> = [Kind::Network, Kind::Gpu]
            .into_iter()
            .filter_map(|kind| self.get(kind))
            .flat_map(|v| v.extra_columns(gpus).iter().copied())
            .collect();
        Some(with_extras(configured, &extra))
    }
}

/// `configured` with the `extra` columns it lacks inserted just before
/// Command (at the end when there is no Command column).
fn with_extras(configured: &[Column], extra: &[Column]) -> Vec<Column> {
    let at = configured
        .iter()
        .position(|c| *c == Column::Command)
        .unwrap_or(configured.len());
    let mut columns = configured.to_vec();
    let missing = extra.iter().filter(|c| !configured.contains(c)).copied();
    columns.splice(at..at, missing);
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    const BY_PID: SortSpec = SortSpec {
        column: Column::Pid,
        descending: false,
    };

    #[test]
    fn extras_go_before_command_unless_configured() {
        let (pid, user, command, cgroup) = (
            Column::Pid,
            Column::named("USER"),
            Column::Command,
            Column::named("CGROUP"),
        );
        let (rx, tx, iface, total) = (
            Column::NetRxRate,
            Column::NetTxRate,
            Column::NetIface,
            Column::NetTotal,
        );
        assert_eq!(
            with_extras(
                &[pid, user, command, cgroup],
                NetView::Rates.extra_columns()
            ),
            [pid, user, rx, tx, iface, command, cgroup]
        );
        assert_eq!(
            with_extras(&[iface, pid, command], NetView::Totals.extra_columns()),
            [iface, pid, total, command]
        );
        assert_eq!(
            with_extras(&[pid], NetView::Totals.extra_columns()),
            [pid, total, iface]
        );
        assert_eq!(with_extras(&[pid, command], &[]), [pid, command]);
    }

    #[test]
    fn the_last_view_on_sorts_and_the_first_sort_comes_back() {
        let mut o = Overlay::default();
        let rates = Temporary::Network(NetView::Rates);
        let totals = Temporary::Network(NetView::Totals);
        assert_eq!(o.show(rates, BY_PID), NetView::Rates.sort());
        assert_eq!(o.show(Temporary::Gpu, NetView::Rates.sort()), gpuview::SORT);
        assert_eq!(o.restore(), Some(BY_PID), "kept from before the first");
        // Changing a view makes it the last: hiding the other sorts by it.
        assert_eq!(o.show(totals, gpuview::SORT), NetView::Totals.sort());
        assert_eq!(
            o.hide(Kind::Gpu, NetView::Totals.sort()),
            NetView::Totals.sort()
        );
        assert_eq!(o.network(), Some(NetView::Totals));
        assert_eq!(o.hide(Kind::Network, NetView::Totals.sort()), BY_PID);
        assert_eq!(o, Overlay::default());
    }

    #[test]
    fn extra_columns_keep_their_order_whatever_came_first() {
        let mut o = Overlay::default();
        assert_eq!(o.columns(&[Column::Pid], 1), None);
        o.show(Temporary::Gpu, BY_PID);
        o.show(Temporary::Network(NetView::Totals), BY_PID);
        assert_eq!(
            o.columns(&[Column::Pid], 1).unwrap_or_default(),
            [
                Column::Pid,
                Column::NetTotal,
                Column::NetIface,
                Column::GpuPercent,
                Column::GpuMem
            ]
        );
    }
}
