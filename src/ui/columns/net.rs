//! The network columns' values: socket bytes per process, counted in eBPF
//! since bpftop started (`collect::sample::NetCounters`). Every cell is
//! "-", dimmed, when the process has no counters (network counters off);
//! such processes sort first.

use std::cmp::Ordering;

use super::{bytes_rate_cell, size_cell, Cell, Emphasis};
use crate::model::ProcessView;
use crate::ui::text::display_safe;

/// Bytes received per second; None without counters.
pub(super) fn rx_rate(p: &ProcessView) -> Option<f64> {
    p.sample.net.as_ref().map(|_| p.net_rx_rate)
}

/// Bytes sent per second; None without counters.
pub(super) fn tx_rate(p: &ProcessView) -> Option<f64> {
    p.sample.net.as_ref().map(|_| p.net_tx_rate)
}

/// Bytes received and sent per second; None without counters.
pub(super) fn rate(p: &ProcessView) -> Option<f64> {
    p.sample.net.as_ref().map(|_| p.net_rx_rate + p.net_tx_rate)
}

/// Ascending order of two rates, no counters first.
pub(super) fn compare_rates(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (x, y) => x.is_some().cmp(&y.is_some()),
    }
}

pub(super) fn rate_cell(rate: Option<f64>) -> Cell {
    rate.map_or_else(Cell::absent, bytes_rate_cell)
}

/// Bytes received and sent since bpftop started.
pub(super) fn total(p: &ProcessView) -> Option<u64> {
    let n = p.sample.net.as_ref()?;
    Some(n.rx_bytes.saturating_add(n.tx_bytes))
}

pub(super) fn total_cell(p: &ProcessView) -> Cell {
    total(p).map_or_else(Cell::absent, size_cell)
}

/// Outer None: no counters; inner None: no routed send seen.
pub(super) fn iface(p: &ProcessView) -> Option<Option<&str>> {
    Some(p.sample.net.as_ref()?.iface.as_deref())
}

pub(super) fn iface_cell(p: &ProcessView) -> Cell {
    match iface(p) {
        None => Cell::absent(),
        Some(Some(name)) => Cell::new(display_safe(name.as_bytes()), Emphasis::Normal),
        Some(None) => Cell::new(String::new(), Emphasis::Normal),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::collect::sample::NetCounters;
    use crate::model::testing::demo_model;
    use crate::model::Model;
    use crate::ui::columns::CellContext;
    use crate::ui::columns::Column;
    use crate::ui::test_support::order;

    const NET: [Column; 5] = [
        Column::NetRxRate,
        Column::NetTxRate,
        Column::NetRate,
        Column::NetTotal,
        Column::NetIface,
    ];

    fn by_pid(m: &Model, pid: u32) -> &ProcessView {
        m.processes.iter().find(|p| p.sample.pid == pid).unwrap()
    }

    fn text(column: Column, p: &ProcessView) -> (String, Emphasis) {
        let ctx = CellContext {
            boot_unix_time: 0.0,
            now_unix_time: 0.0,
            unit_display: Default::default(),
            gpu_on: false,
            program_path: true,
            exits_interval_s: None,
        };
        let cell = column.text(p, None, &ctx);
        (cell.text, cell.emphasis)
    }

    /// The demo after two refreshes, as the fake collector defines it:
    /// running processes (top, java) gain 96 KiB received and 24 KiB sent
    /// per second; everyone starts at 3 MiB / 700 KiB through eth0, except
    /// java (5 GiB / 1 GiB), sshd (40 MiB / 250 MiB, through wg0) and cron
    /// (12 KiB / 4 KiB, no routed send).
    #[test]
    fn cells_show_the_demo_counters() {
        let m = demo_model();
        let top = by_pid(&m, 1301);
        let dim = |s: &str| (s.to_owned(), Emphasis::Dim);
        let normal = |s: &str| (s.to_owned(), Emphasis::Normal);
        assert_eq!(text(Column::NetRxRate, top), normal("96K/s"));
        assert_eq!(text(Column::NetTxRate, top), normal("24K/s"));
        assert_eq!(text(Column::NetRate, top), normal("120K/s"));
        // 3 MiB + 700 KiB + 2 × (96 + 24) KiB = 4012 KiB.
        assert_eq!(text(Column::NetTotal, top), normal("4012"));
        assert_eq!(text(Column::NetIface, top), normal("eth0"));

        // Idle: no rate (dimmed), the totals unchanged.
        let vim = by_pid(&m, 1300);
        assert_eq!(text(Column::NetRxRate, vim), dim("0B/s"));
        assert_eq!(text(Column::NetRate, vim), dim("0B/s"));
        assert_eq!(text(Column::NetTotal, vim), normal("3772"));

        // 6 GiB and 240 KiB: whole MiB up to 9999; a GiB stands out.
        let java = by_pid(&m, 900);
        assert_eq!(
            text(Column::NetTotal, java),
            ("6144M".to_owned(), Emphasis::Highlight)
        );
        assert_eq!(text(Column::NetIface, by_pid(&m, 400)), normal("wg0"));
        assert_eq!(text(Column::NetTotal, by_pid(&m, 400)), normal("290M"));
        let cron = by_pid(&m, 700);
        assert_eq!(text(Column::NetIface, cron), normal(""));
        assert_eq!(text(Column::NetTotal, cron), normal("16"));
    }

    #[test]
    fn cells_are_dimmed_dashes_without_counters() {
        let m = demo_model();
        let mut off = by_pid(&m, 1301).clone();
        off.sample.net = None;
        for c in NET {
            assert_eq!(text(c, &off), ("-".to_owned(), Emphasis::Dim), "{c:?}");
        }
    }

    #[test]
    fn hostile_interface_names_are_neutralised() {
        let m = demo_model();
        let mut p = by_pid(&m, 1301).clone();
        p.sample.net = Some(NetCounters {
            iface: Some("ev\x1b[2Jil".into()),
            ..NetCounters::default()
        });
        assert_eq!(text(Column::NetIface, &p).0, "ev?[2Jil");
    }

    #[test]
    fn sorting_follows_the_values() {
        let mut m = demo_model();
        // Kernel threads count nothing (0 through no interface): with
        // cron, the smallest. Equal values go by ascending pid.
        assert_eq!(
            order(&m, Column::NetTotal, true),
            [900, 400, 1301, 1, 350, 1200, 1300, 1500, 1600, 700, 2, 14, 15]
        );
        assert_eq!(
            order(&m, Column::NetRate, true),
            [900, 1301, 1, 2, 14, 15, 350, 400, 700, 1200, 1300, 1500, 1600]
        );
        // No interface sorts before any name.
        assert_eq!(
            order(&m, Column::NetIface, false),
            [2, 14, 15, 700, 1, 350, 900, 1200, 1300, 1301, 1500, 1600, 400]
        );
        // Without counters: below every value, whatever the column.
        let vim = m.processes.iter_mut().find(|p| p.sample.pid == 1300);
        vim.unwrap().sample.net = None;
        for c in NET {
            assert_eq!(order(&m, c, false)[0], 1300, "{c:?}");
        }
    }

    #[test]
    fn compare_is_a_total_order() {
        let mut m = demo_model();
        m.processes[3].sample.net = None;
        m.processes[5].net_rx_rate = f64::NAN;
        for c in NET {
            for a in &m.processes {
                for b in &m.processes {
                    let ab = c.compare(a, b);
                    assert_eq!(ab, c.compare(b, a).reverse(), "{c:?}");
                    assert_eq!(ab == Ordering::Equal, a.sample.pid == b.sample.pid);
                    for x in &m.processes {
                        if ab == Ordering::Less && c.compare(b, x) == Ordering::Less {
                            assert_eq!(c.compare(a, x), Ordering::Less, "{c:?}");
                        }
                    }
                }
            }
        }
    }
}
