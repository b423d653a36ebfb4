//! Turning the temporary views on and off: N (network) and gG (GPU). Each
//! lays extra columns and its own sort over the configured ones; see
//! `netview` and `gpuview` for what each shows, `overlay` for how they
//! share the sort.

use crate::collect::sample::NetworkStatus;
use crate::ui::state::netview::NetView;
use crate::ui::state::overlay::{Kind, Temporary};
use crate::ui::state::view::ViewState;

/// N: the next network view, or a message saying why there is none.
pub fn cycle_network(view: &mut ViewState) {
    let off_reason = match view.model.as_deref().map(|m| &m.network) {
        Some(NetworkStatus::On { .. }) => None,
        Some(NetworkStatus::Off { reason }) => Some(reason.clone()),
        None => Some("no data yet".to_owned()),
    };
    if let Some(reason) = off_reason {
        view.set_status(format!("network counters off: {reason}"), true);
        return;
    }
    let (next, text) = match view.overlay.network() {
        None => (
            Some(NetView::Rates),
            "network: bytes per second, by NET/s (N: totals)",
        ),
        Some(NetView::Rates) => (
            Some(NetView::Totals),
            "network: bytes since bpftop started, by NET_TOT (N: hide)",
        ),
        Some(NetView::Totals) => (None, "network columns hidden"),
    };
    view.sort = match next {
        Some(net) => view.overlay.show(Temporary::Network(net), view.sort),
        None => view.overlay.hide(Kind::Network, view.sort),
    };
    view.set_status(text, false);
    view.rebuild();
}

/// gG: shows or hides the GPU view, or says why there is none.
pub fn toggle_gpu(view: &mut ViewState) {
    let Some(status) = view.model.as_deref().map(|m| &m.gpu_status) else {
        view.set_status("no GPU: no data yet", true);
        return;
    };
    if !status.any_on() {
        let text = no_gpu_message(
            status.nvml.as_ref().err().map_or("", String::as_str),
            status.drm.as_ref().err().map_or("", String::as_str),
        );
        view.set_status(text, true);
        return;
    }
    if view.overlay.get(Kind::Gpu).is_none() {
        view.sort = view.overlay.show(Temporary::Gpu, view.sort);
        view.set_status("GPU: busy share and memory, by GPU% (gG: hide)", false);
    } else {
        view.sort = view.overlay.hide(Kind::Gpu, view.sort);
        view.set_status("GPU columns hidden", false);
    }
    view.rebuild();
}

/// Why there is no GPU view, in one status line that fits 80 columns: each
/// source's reason up to its details (after ": " or " ("), which
/// `bpftop --check` prints whole.
fn no_gpu_message(nvml: &str, drm: &str) -> String {
    let text = format!("no GPU: NVML: {}; DRM: {}", gist(nvml), gist(drm));
    let hint = " (bpftop --check)";
    if text.chars().count() + hint.chars().count() <= 80 {
        text + hint
    } else {
        text
    }
}

/// A reason without its details.
fn gist(reason: &str) -> &str {
    let end = [": ", " ("]
        .iter()
        .filter_map(|sep| reason.find(sep))
        .min()
        .unwrap_or(reason.len());
    reason[..end].trim_end()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod gpu_message_tests {
    use super::*;

    #[test]
    fn the_no_gpu_message_of_a_machine_without_gpus_fits_80_columns() {
        // The reasons this machine's collector gives (seen with gG here).
        let nvml = "libnvidia-ml.so.1 not found (no NVIDIA driver): libnvidia-ml.so.1: \
                    cannot open shared object file: No such file or directory";
        let drm = "no DRM devices (/sys/class/drm lists no card or render node)";
        let text = no_gpu_message(nvml, drm);
        assert_eq!(
            text,
            "no GPU: NVML: libnvidia-ml.so.1 not found; DRM: no DRM devices (bpftop --check)"
        );
        assert!(
            text.chars().count() <= 80,
            "{} columns",
            text.chars().count()
        );
    }

    #[test]
    fn long_reasons_drop_the_hint_first() {
        let text = no_gpu_message("NVML cannot count NVIDIA GPUs: Unknown", "turned off");
        assert_eq!(
            text,
            "no GPU: NVML: NVML cannot count NVIDIA GPUs; DRM: turned off (bpftop --check)"
        );
        let long = "x".repeat(60);
        assert!(!no_gpu_message(&long, "turned off").contains("--check"));
    }

    #[test]
    fn short_reasons_are_kept_whole() {
        assert_eq!(gist("turned off"), "turned off");
        assert_eq!(gist("NVML found no NVIDIA GPU"), "NVML found no NVIDIA GPU");
        assert_eq!(gist(""), "");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod network_tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::testing::demo_model;
    use crate::ui::columns::Column;
    use crate::ui::state::settings::config_from;
    use crate::ui::test_support::{pids, view_of, BY_PID};
    use crate::ui::theme::Theme;

    #[test]
    fn n_cycles_rates_totals_hidden_and_restores_the_sort() {
        let mut v = view_of(demo_model());
        v.sort = BY_PID;
        v.rebuild();
        let configured = v.columns.clone();

        cycle_network(&mut v);
        assert_eq!(
            (v.overlay.network(), v.overlay.restore()),
            (Some(NetView::Rates), Some(BY_PID))
        );
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

        cycle_network(&mut v);
        assert_eq!(
            (v.overlay.network(), v.overlay.restore()),
            (Some(NetView::Totals), Some(BY_PID))
        );
        assert_eq!(v.sort.column, Column::NetTotal);
        assert_eq!(
            v.shown_columns()[n - 1..],
            [Column::NetTotal, Column::NetIface, Column::Command]
        );
        // java 6 GiB, sshd 290 MiB, top 4012 KiB, then the 3772 KiB ones.
        assert_eq!(pids(&v)[..4], [900, 400, 1301, 1]);

        cycle_network(&mut v);
        assert_eq!(v.overlay.network(), None);
        assert_eq!(v.sort, BY_PID);
        assert_eq!(*v.shown_columns(), *configured);
        assert_eq!(pids(&v)[..3], [1, 350, 400]);
    }

    #[test]
    fn the_sort_from_before_the_first_n_comes_back() {
        let mut v = view_of(demo_model());
        v.sort = BY_PID;
        cycle_network(&mut v);
        // Another sort chosen meanwhile does not replace it.
        v.sort.column = Column::MemPercent;
        cycle_network(&mut v);
        cycle_network(&mut v);
        assert_eq!(v.sort, BY_PID);
    }

    #[test]
    fn configured_network_columns_are_not_doubled_nor_removed() {
        let mut v = view_of(demo_model());
        v.columns = vec![Column::Pid, Column::NetIface, Column::Command];
        cycle_network(&mut v);
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
        cycle_network(&mut v);
        cycle_network(&mut v);
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
        cycle_network(&mut v);
        assert_eq!(v.overlay.network(), None);
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
        cycle_network(&mut v);
        assert_eq!(config_from(&v), before, "rates");
        cycle_network(&mut v);
        assert_eq!(config_from(&v), before, "totals");
        // A sort chosen meanwhile is temporary too: N brings back the old.
        v.sort = BY_PID;
        assert_eq!(config_from(&v), before);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod gpu_tests {
    use super::*;
    use crate::model::testing::demo_model;
    use crate::ui::columns::Column;
    use crate::ui::state::gpuview::SORT;
    use crate::ui::state::settings::config_from;
    use crate::ui::test_support::{pids, view_of, BY_PID};
    use crate::ui::theme::Theme;

    #[test]
    fn gg_shows_the_gpu_columns_by_gpu_percent_and_hides_them() {
        let mut v = view_of(demo_model());
        v.sort = BY_PID;
        v.rebuild();
        let configured = v.columns.clone();

        toggle_gpu(&mut v);
        assert_eq!(
            (v.overlay.get(Kind::Gpu), v.overlay.restore()),
            (Some(Temporary::Gpu), Some(BY_PID))
        );
        assert_eq!(v.sort, SORT);
        let n = configured.len();
        // Two GPUs in the demo: which ones too, just before Command.
        assert_eq!(
            v.shown_columns()[n - 1..],
            [
                Column::GpuPercent,
                Column::GpuMem,
                Column::GpuIndex,
                Column::Command
            ]
        );
        assert_eq!(pids(&v)[..3], [900, 1500, 1]);
        assert_eq!(v.columns, configured, "the configured columns stay");
        assert!(!v.status.as_ref().unwrap().error);

        toggle_gpu(&mut v);
        assert_eq!(v.overlay.get(Kind::Gpu), None);
        assert_eq!(v.sort, BY_PID);
        assert_eq!(*v.shown_columns(), *configured);
        assert_eq!(v.status.as_ref().unwrap().text, "GPU columns hidden");
    }

    #[test]
    fn one_gpu_shows_no_gpu_numbers() {
        let mut model = demo_model();
        model.gpus.truncate(1);
        let mut v = view_of(model);
        toggle_gpu(&mut v);
        let shown = v.shown_columns();
        assert!(shown.contains(&Column::GpuMem));
        assert!(!shown.contains(&Column::GpuIndex));
    }

    #[test]
    fn no_gpu_source_changes_nothing_and_says_why() {
        let mut model = demo_model();
        model.gpu_status.nvml = Err("no libnvidia-ml.so.1".into());
        model.gpu_status.drm = Err("turned off".into());
        let mut v = view_of(model);
        let (sort, columns) = (v.sort, v.shown_columns().into_owned());
        toggle_gpu(&mut v);
        assert_eq!(v.overlay.get(Kind::Gpu), None);
        assert_eq!((v.sort, v.shown_columns().into_owned()), (sort, columns));
        let status = v.status.clone().unwrap();
        assert!(status.error);
        assert_eq!(
            status.text,
            "no GPU: NVML: no libnvidia-ml.so.1; DRM: turned off (bpftop --check)"
        );

        let mut v = ViewState::new(Theme::mono());
        toggle_gpu(&mut v);
        assert_eq!(v.overlay.get(Kind::Gpu), None);
        assert_eq!(v.status.unwrap().text, "no GPU: no data yet");
    }

    /// N, gG, gG, N, N: both views' columns while both are on, the last
    /// one's sort, back to the network sort when the GPU view goes, and to
    /// the first sort when the network view goes too.
    #[test]
    fn the_gpu_view_composes_with_the_network_view() {
        let mut v = view_of(demo_model());
        v.sort = BY_PID;
        v.rebuild();
        let configured = v.columns.clone();
        let n = configured.len();

        cycle_network(&mut v);
        assert_eq!(v.sort.column, Column::NetRate);
        toggle_gpu(&mut v);
        assert_eq!(v.sort, SORT);
        assert_eq!(v.saved_sort(), BY_PID);
        assert_eq!(
            v.shown_columns()[n - 1..],
            [
                Column::NetRxRate,
                Column::NetTxRate,
                Column::NetIface,
                Column::GpuPercent,
                Column::GpuMem,
                Column::GpuIndex,
                Column::Command
            ]
        );
        assert_eq!(pids(&v)[..2], [900, 1500]);

        toggle_gpu(&mut v);
        assert_eq!(v.overlay.get(Kind::Gpu), None);
        assert_eq!(v.sort.column, Column::NetRate, "the network sort is back");
        assert_eq!(
            v.shown_columns()[n - 1..],
            [
                Column::NetRxRate,
                Column::NetTxRate,
                Column::NetIface,
                Column::Command
            ]
        );

        cycle_network(&mut v);
        assert_eq!(
            (v.overlay.network(), v.overlay.restore()),
            (Some(NetView::Totals), Some(BY_PID))
        );
        assert_eq!(v.sort.column, Column::NetTotal);
        cycle_network(&mut v);
        assert_eq!(v.overlay.network(), None);
        assert_eq!(v.sort, BY_PID);
        assert_eq!(*v.shown_columns(), *configured);
    }

    /// gG, N, then hiding them in the same order: the network sort stays
    /// while it is on, the first sort comes back at the end.
    #[test]
    fn hiding_the_first_view_first_keeps_the_other() {
        let mut v = view_of(demo_model());
        v.sort = BY_PID;
        toggle_gpu(&mut v);
        cycle_network(&mut v);
        assert_eq!(v.sort.column, Column::NetRate, "the last pressed sorts");
        toggle_gpu(&mut v);
        assert_eq!(v.sort.column, Column::NetRate);
        cycle_network(&mut v);
        assert_eq!(v.sort.column, Column::NetTotal);
        // Hiding the network view while the GPU view is on: GPU% again.
        toggle_gpu(&mut v);
        cycle_network(&mut v);
        assert_eq!((v.overlay.network(), v.sort), (None, SORT));
        toggle_gpu(&mut v);
        assert_eq!(v.sort, BY_PID);
    }

    #[test]
    fn the_gpu_view_is_not_saved() {
        let mut v = view_of(demo_model());
        let before = config_from(&v);
        toggle_gpu(&mut v);
        assert_eq!(config_from(&v), before);
        cycle_network(&mut v);
        assert_eq!(config_from(&v), before, "with the network view");
        // A sort chosen meanwhile is temporary too.
        v.sort = BY_PID;
        assert_eq!(config_from(&v), before);
        toggle_gpu(&mut v);
        cycle_network(&mut v);
        cycle_network(&mut v);
        assert_eq!(config_from(&v), before);
        assert_eq!(v.sort.column, Column::CpuPercent);
    }

    #[test]
    fn a_temporary_view_ends_with_its_screen() {
        let mut v = view_of(demo_model());
        let before = v.sort;
        toggle_gpu(&mut v);
        assert_ne!(v.sort, before);
        v.switch_screen(1);
        v.switch_screen(1);
        assert_eq!(v.sort, before);
        assert_eq!(*v.shown_columns(), *v.columns);
    }
}
