//! The network view (N): extra columns and a sort laid over the configured
//! ones for a while, never saved. Hidden → rates (NET_RX/s, NET_TX/s,
//! IFACE; by NET/s) → totals since bpftop started (NET_TOT, IFACE; by
//! NET_TOT) → hidden, which brings back the sort from before (see
//! `overlay`).

use crate::ui::columns::Column;
use crate::ui::rows::SortSpec;

/// What the network view shows while it is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetView {
    Rates,
    Totals,
}

const RATE_COLUMNS: &[Column] = &[Column::NetRxRate, Column::NetTxRate, Column::NetIface];
const TOTAL_COLUMNS: &[Column] = &[Column::NetTotal, Column::NetIface];

impl NetView {
    /// Columns shown on top of the configured ones.
    pub fn extra_columns(self) -> &'static [Column] {
        match self {
            NetView::Rates => RATE_COLUMNS,
            NetView::Totals => TOTAL_COLUMNS,
        }
    }

    /// The view's own sort.
    pub fn sort(self) -> SortSpec {
        let column = match self {
            NetView::Rates => Column::NetRate,
            NetView::Totals => Column::NetTotal,
        };
        SortSpec {
            column,
            descending: true,
        }
    }
}
