//! The GPU view (gG): GPU%, GMEM and, with several GPUs, the GPU numbers,
//! laid over the configured columns and sorted by GPU% for a while, never
//! saved. A second gG hides them again.
//!
//! With the network view (N) also on, both views' columns are shown and
//! the last view turned on sorts. Both keep the sort from before the first
//! of them; hiding one goes back to the other's sort while it stays on,
//! to that first sort once neither is.

use super::columns::Column;
use super::rows::SortSpec;
use super::view::ViewState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GpuView {
    #[default]
    Hidden,
    /// `restore`: the sort from before the first transient view.
    Shown { restore: SortSpec },
}

const ONE_GPU_COLUMNS: &[Column] = &[Column::GpuPercent, Column::GpuMem];
const GPUS_COLUMNS: &[Column] = &[Column::GpuPercent, Column::GpuMem, Column::GpuIndex];

/// The GPU view's sort.
pub const SORT: SortSpec = SortSpec {
    column: Column::GpuPercent,
    descending: true,
};

impl GpuView {
    /// Columns shown on top of the configured ones on a machine with
    /// `gpus` GPUs (which GPU is only worth a column with several).
    pub fn extra_columns(self, gpus: usize) -> &'static [Column] {
        match self {
            GpuView::Hidden => &[],
            GpuView::Shown { .. } if gpus > 1 => GPUS_COLUMNS,
            GpuView::Shown { .. } => ONE_GPU_COLUMNS,
        }
    }

    /// The sort to come back to (and to save meanwhile); None when hidden.
    pub fn restore_sort(self) -> Option<SortSpec> {
        match self {
            GpuView::Hidden => None,
            GpuView::Shown { restore } => Some(restore),
        }
    }

    /// The view's own sort; None when hidden.
    pub fn sort(self) -> Option<SortSpec> {
        self.restore_sort().map(|_| SORT)
    }
}

/// gG: shows or hides the GPU view, or says why there is none.
pub fn toggle(view: &mut ViewState) {
    let Some(status) = view.model.as_deref().map(|m| &m.gpu_status) else {
        view.set_status("no GPU: no data yet", true);
        return;
    };
    if !status.any_on() {
        let reason = |r: &Result<String, String>| match r {
            Ok(how) => how.clone(),
            Err(why) => why.clone(),
        };
        let text = format!(
            "no GPU: NVML: {}; DRM: {}",
            reason(&status.nvml),
            reason(&status.drm)
        );
        view.set_status(text, true);
        return;
    }
    match view.gpu {
        GpuView::Hidden => {
            view.gpu = GpuView::Shown {
                restore: view.saved_sort(),
            };
            view.sort = SORT;
            view.set_status("GPU: busy share and memory, by GPU% (gG: hide)", false);
        }
        GpuView::Shown { restore } => {
            view.gpu = GpuView::Hidden;
            view.sort = view.network.sort().unwrap_or(restore);
            view.set_status("GPU columns hidden", false);
        }
    }
    view.rebuild();
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {

    use super::*;
    use crate::model::testing::demo_model;
    use crate::ui::netview::{self, NetView};
    use crate::ui::settings::config_from;
    use crate::ui::test_support::{pids, view_of, BY_PID};
    use crate::ui::theme::Theme;

    #[test]
    fn gg_shows_the_gpu_columns_by_gpu_percent_and_hides_them() {
        let mut v = view_of(demo_model());
        v.sort = BY_PID;
        v.rebuild();
        let configured = v.columns.clone();

        toggle(&mut v);
        assert_eq!(v.gpu, GpuView::Shown { restore: BY_PID });
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

        toggle(&mut v);
        assert_eq!(v.gpu, GpuView::Hidden);
        assert_eq!(v.sort, BY_PID);
        assert_eq!(*v.shown_columns(), *configured);
        assert_eq!(v.status.as_ref().unwrap().text, "GPU columns hidden");
    }

    #[test]
    fn one_gpu_shows_no_gpu_numbers() {
        let mut model = demo_model();
        model.gpus.truncate(1);
        let mut v = view_of(model);
        toggle(&mut v);
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
        toggle(&mut v);
        assert_eq!(v.gpu, GpuView::Hidden);
        assert_eq!((v.sort, v.shown_columns().into_owned()), (sort, columns));
        let status = v.status.clone().unwrap();
        assert!(status.error);
        assert_eq!(
            status.text,
            "no GPU: NVML: no libnvidia-ml.so.1; DRM: turned off"
        );

        let mut v = ViewState::new(Theme::mono());
        toggle(&mut v);
        assert_eq!(v.gpu, GpuView::Hidden);
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

        netview::cycle(&mut v);
        assert_eq!(v.sort.column, Column::NetRate);
        toggle(&mut v);
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

        toggle(&mut v);
        assert_eq!(v.gpu, GpuView::Hidden);
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

        netview::cycle(&mut v);
        assert_eq!(v.network, NetView::Totals { restore: BY_PID });
        assert_eq!(v.sort.column, Column::NetTotal);
        netview::cycle(&mut v);
        assert_eq!(v.network, NetView::Hidden);
        assert_eq!(v.sort, BY_PID);
        assert_eq!(*v.shown_columns(), *configured);
    }

    /// gG, N, then hiding them in the same order: the network sort stays
    /// while it is on, the first sort comes back at the end.
    #[test]
    fn hiding_the_first_view_first_keeps_the_other() {
        let mut v = view_of(demo_model());
        v.sort = BY_PID;
        toggle(&mut v);
        netview::cycle(&mut v);
        assert_eq!(v.sort.column, Column::NetRate, "the last pressed sorts");
        toggle(&mut v);
        assert_eq!(v.sort.column, Column::NetRate);
        netview::cycle(&mut v);
        assert_eq!(v.sort.column, Column::NetTotal);
        // Hiding the network view while the GPU view is on: GPU% again.
        toggle(&mut v);
        netview::cycle(&mut v);
        assert_eq!((v.network, v.sort), (NetView::Hidden, SORT));
        toggle(&mut v);
        assert_eq!(v.sort, BY_PID);
    }

    #[test]
    fn the_gpu_view_is_not_saved() {
        let mut v = view_of(demo_model());
        let before = config_from(&v);
        toggle(&mut v);
        assert_eq!(config_from(&v), before);
        netview::cycle(&mut v);
        assert_eq!(config_from(&v), before, "with the network view");
        // A sort chosen meanwhile is temporary too.
        v.sort = BY_PID;
        assert_eq!(config_from(&v), before);
        toggle(&mut v);
        netview::cycle(&mut v);
        netview::cycle(&mut v);
        assert_eq!(config_from(&v), before);
        assert_eq!(v.sort.column, Column::CpuPercent);
    }
}
