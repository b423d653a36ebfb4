//! The network view (N): extra columns and a temporary sort laid over the
//! configured ones for a while, never saved. Hidden → rates (NET_RX/s,
//! NET_TX/s, IFACE; by NET/s) → totals since bpftop started (NET_TOT,
//! IFACE; by NET_TOT) → hidden, which brings back the sort from before the
//! first N. With the GPU view (gG) also on, see `temporary` for how the
//! two share the sort.

use crate::ui::columns::Column;
use crate::ui::rows::SortSpec;

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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

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
}
