//! The network view (N): extra columns and a temporary sort laid over the
//! configured ones for a while, never saved. Hidden → rates (NET_RX/s,
//! NET_TX/s, IFACE; by NET/s) → totals since bpftop started (NET_TOT,
//! IFACE; by NET_TOT) → hidden, which brings back the sort from before the
//! first N. With the GPU view (gG) also on, see `gpuview` for how the two
//! share the sort.

use super::columns::Column;
use super::rows::SortSpec;
use super::view::ViewState;
use crate::collect::sample::NetworkStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetView {
    #[default]
    Hidden,
    /// `restore`: the sort from before the first transient view.
    Rates {
        restore: SortSpec,
    },
    Totals {
        restore: SortSpec,
    },
}

const RATE_COLUMNS: &[Column] = &[Column::NetRxRate, Column::NetTxRate, Column::NetIface];
const TOTAL_COLUMNS: &[Column] = &[Column::NetTotal, Column::NetIface];

impl NetView {
    /// Columns shown on top of the configured ones.
    pub fn extra_columns(self) -> &'static [Column] {
        match self {
            NetView::Hidden => &[],
            NetView::Rates { .. } => RATE_COLUMNS,
            NetView::Totals { .. } => TOTAL_COLUMNS,
        }
    }

    /// The sort to come back to (and to save meanwhile); None when hidden.
    pub fn restore_sort(self) -> Option<SortSpec> {
        match self {
            NetView::Hidden => None,
            NetView::Rates { restore } | NetView::Totals { restore } => Some(restore),
        }
    }

    /// The view's own sort; None when hidden.
    pub fn sort(self) -> Option<SortSpec> {
        let descending = |column| SortSpec {
            column,
            descending: true,
        };
        match self {
            NetView::Hidden => None,
            NetView::Rates { .. } => Some(descending(Column::NetRate)),
            NetView::Totals { .. } => Some(descending(Column::NetTotal)),
        }
    }
}

/// `configured` with the `extra` columns it lacks inserted just before
/// Command (at the end when there is no Command column).
pub fn with_extras(configured: &[Column], extra: &[Column]) -> Vec<Column> {
    let at = configured
        .iter()
        .position(|c| *c == Column::Command)
        .unwrap_or(configured.len());
    let mut columns = configured.to_vec();
    let missing = extra.iter().filter(|c| !configured.contains(c)).copied();
    columns.splice(at..at, missing);
    columns
}

/// N: the next network view, or a message saying why there is none.
pub fn cycle(view: &mut ViewState) {
    let off_reason = match view.model.as_deref().map(|m| &m.network) {
        Some(NetworkStatus::On { .. }) => None,
        Some(NetworkStatus::Off { reason }) => Some(reason.clone()),
        None => Some("no data yet".to_owned()),
    };
    if let Some(reason) = off_reason {
        view.set_status(format!("network counters off: {reason}"), true);
        return;
    }
    let (next, text) = match view.network {
        NetView::Hidden => (
            NetView::Rates {
                restore: view.saved_sort(),
            },
            "network: bytes per second, by NET/s (N: totals)",
        ),
        NetView::Rates { restore } => (
            NetView::Totals { restore },
            "network: bytes since bpftop started, by NET_TOT (N: hide)",
        ),
        NetView::Totals { .. } => (NetView::Hidden, "network columns hidden"),
    };
    // Hidden: back to the GPU view's sort while it is on, else to the sort
    // from before.
    let back = view.gpu.sort().or(view.network.restore_sort());
    view.network = next;
    if let Some(sort) = next.sort().or(back) {
        view.sort = sort;
    }
    view.set_status(text, false);
    view.rebuild();
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::testing::demo_model;
    use crate::ui::settings::config_from;
    use crate::ui::test_support::{pids, view_of, BY_PID};
    use crate::ui::theme::Theme;

    #[test]
    fn extras_go_before_command_unless_configured() {
        use Column::*;
        assert_eq!(
            with_extras(&[Pid, User, Command, Cgroup], RATE_COLUMNS),
            [Pid, User, NetRxRate, NetTxRate, NetIface, Command, Cgroup]
        );
        assert_eq!(
            with_extras(&[NetIface, Pid, Command], TOTAL_COLUMNS),
            [NetIface, Pid, NetTotal, Command]
        );
        assert_eq!(
            with_extras(&[Pid], TOTAL_COLUMNS),
            [Pid, NetTotal, NetIface]
        );
        assert_eq!(with_extras(&[Pid, Command], &[]), [Pid, Command]);
    }

    #[test]
    fn n_cycles_rates_totals_hidden_and_restores_the_sort() {
        let mut v = view_of(demo_model());
        v.sort = BY_PID;
        v.rebuild();
        let configured = v.columns.clone();

        cycle(&mut v);
        assert_eq!(v.network, NetView::Rates { restore: BY_PID });
        assert_eq!(v.sort.column, Column::NetRate);
        assert!(v.sort.descending);
        let shown = v.shown_columns().into_owned();
        let n = configured.len();
        // NET_RX/s, NET_TX/s, IFACE just before Command (the last).
        assert_eq!(
            shown[n - 1..],
            [
                Column::NetRxRate,
                Column::NetTxRate,
                Column::NetIface,
                Column::Command
            ]
        );
        // java and top move 120 KiB/s each (ties by pid), the rest nothing.
        assert_eq!(pids(&v)[..3], [900, 1301, 1]);
        assert_eq!(v.columns, configured, "the configured columns stay");

        cycle(&mut v);
        assert_eq!(v.network, NetView::Totals { restore: BY_PID });
        assert_eq!(v.sort.column, Column::NetTotal);
        assert_eq!(
            v.shown_columns()[n - 1..],
            [Column::NetTotal, Column::NetIface, Column::Command]
        );
        // java 6 GiB, sshd 290 MiB, top 4012 KiB, then the 3772 KiB ones.
        assert_eq!(pids(&v)[..4], [900, 400, 1301, 1]);

        cycle(&mut v);
        assert_eq!(v.network, NetView::Hidden);
        assert_eq!(v.sort, BY_PID);
        assert_eq!(*v.shown_columns(), *configured);
        assert_eq!(pids(&v)[..3], [1, 350, 400]);
    }

    #[test]
    fn the_sort_from_before_the_first_n_comes_back() {
        let mut v = view_of(demo_model());
        v.sort = BY_PID;
        cycle(&mut v);
        // Another sort chosen meanwhile does not replace it.
        v.sort.column = Column::MemPercent;
        cycle(&mut v);
        cycle(&mut v);
        assert_eq!(v.sort, BY_PID);
    }

    #[test]
    fn configured_network_columns_are_not_doubled_nor_removed() {
        let mut v = view_of(demo_model());
        v.columns = vec![Column::Pid, Column::NetIface, Column::Command];
        cycle(&mut v);
        assert_eq!(
            *v.shown_columns(),
            [
                Column::Pid,
                Column::NetIface,
                Column::NetRxRate,
                Column::NetTxRate,
                Column::Command
            ]
        );
        cycle(&mut v);
        cycle(&mut v);
        assert_eq!(
            *v.shown_columns(),
            [Column::Pid, Column::NetIface, Column::Command]
        );
    }

    #[test]
    fn network_off_changes_nothing_and_says_why() {
        let mut model = demo_model();
        model.network = NetworkStatus::Off {
            reason: "not measured by this backend".into(),
        };
        let mut v = ViewState::new(Theme::mono());
        v.set_model(Arc::new(model));
        let (sort, columns) = (v.sort, v.shown_columns().into_owned());
        cycle(&mut v);
        assert_eq!(v.network, NetView::Hidden);
        assert_eq!((v.sort, v.shown_columns().into_owned()), (sort, columns));
        let status = v.status.clone().unwrap();
        assert_eq!(
            status.text,
            "network counters off: not measured by this backend"
        );
    }

    #[test]
    fn the_network_view_is_not_saved() {
        let mut v = view_of(demo_model());
        let before = config_from(&v);
        cycle(&mut v);
        assert_eq!(config_from(&v), before, "rates");
        cycle(&mut v);
        assert_eq!(config_from(&v), before, "totals");
        // A sort chosen meanwhile is temporary too: N brings back the old.
        v.sort = BY_PID;
        assert_eq!(config_from(&v), before);
    }
}
