//! The GPU view (gG): GPU%, GMEM and, with several GPUs, the GPU numbers,
//! laid over the configured columns and sorted by GPU% for a while, never
//! saved. A second gG hides them again.

use crate::ui::columns::Column;
use crate::ui::rows::SortSpec;

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
