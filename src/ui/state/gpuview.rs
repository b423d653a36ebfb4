//! The GPU view (gG): GPU%, GMEM and, with several GPUs, the GPU numbers,
//! laid over the configured columns and sorted by GPU% for a while, never
//! saved. A second gG hides them again.

use crate::ui::columns::Column;
use crate::ui::rows::SortSpec;

const ONE_GPU_COLUMNS: &[Column] = &[Column::GpuPercent, Column::GpuMem];
const GPUS_COLUMNS: &[Column] = &[Column::GpuPercent, Column::GpuMem, Column::GpuIndex];

/// The GPU view's sort.
pub const SORT: SortSpec = SortSpec {
    column: Column::GpuPercent,
    descending: true,
};

/// Columns shown on top of the configured ones on a machine with `gpus`
/// GPUs (which GPU is only worth a column with several).
pub fn extra_columns(gpus: usize) -> &'static [Column] {
    if gpus > 1 {
        GPUS_COLUMNS
    } else {
        ONE_GPU_COLUMNS
    }
}
