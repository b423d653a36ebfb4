//! The GPU columns' values: per-process GPU use from `collect::gpu` (NVML
//! or DRM fdinfo). Every cell is "-", dimmed, when no GPU source is on; a
//! process that holds no GPU shows 0.0 / 0K (dimmed) and no GPU numbers,
//! and sorts first.

use std::cmp::Ordering;

use super::{percent_cell, size_cell, Cell, CellContext, Emphasis};
use crate::model::ProcessView;

/// Width of the GPU column (the numbers of the GPUs a process uses).
pub(super) const INDEX_WIDTH: u16 = 7;

pub(super) fn compare_busy(a: &ProcessView, b: &ProcessView) -> Ordering {
    match (a.gpu.as_ref(), b.gpu.as_ref()) {
        (Some(x), Some(y)) => x.busy_percent.total_cmp(&y.busy_percent),
        (x, y) => x.is_some().cmp(&y.is_some()),
    }
}

pub(super) fn compare_mem(a: &ProcessView, b: &ProcessView) -> Ordering {
    let mem = |p: &ProcessView| p.gpu.as_ref().map(|g| g.mem_bytes);
    mem(a).cmp(&mem(b))
}

pub(super) fn compare_index(a: &ProcessView, b: &ProcessView) -> Ordering {
    let (x, y) = (a.gpu.as_ref(), b.gpu.as_ref());
    x.map(|g| &g.devices[..]).cmp(&y.map(|g| &g.devices[..]))
}

pub(super) fn busy_cell(p: &ProcessView, ctx: &CellContext) -> Cell {
    when_on(ctx, || {
        percent_cell(p.gpu.as_ref().map_or(0.0, |g| g.busy_percent))
    })
}

pub(super) fn mem_cell(p: &ProcessView, ctx: &CellContext) -> Cell {
    when_on(ctx, || size_cell(p.gpu.as_ref().map_or(0, |g| g.mem_bytes)))
}

pub(super) fn index_cell(p: &ProcessView, ctx: &CellContext) -> Cell {
    when_on(ctx, || {
        let text = p.gpu.as_ref().map(|g| indices_text(&g.devices));
        Cell::new(text.unwrap_or_default(), Emphasis::Normal)
    })
}

/// The cell, or "-" when no GPU source is on.
fn when_on(ctx: &CellContext, cell: impl FnOnce() -> Cell) -> Cell {
    if ctx.gpu_on {
        cell()
    } else {
        Cell::absent()
    }
}

/// "0", "0,1", runs of three or more as "0-3"; cut after the last whole
/// number that fits, with "+" saying more follow.
fn indices_text(devices: &[u32]) -> String {
    let mut text = String::new();
    let mut i = 0;
    while let Some(&first) = devices.get(i) {
        let mut last = i;
        while devices
            .get(last + 1)
            .is_some_and(|&d| Some(d) == devices[last].checked_add(1))
        {
            last += 1;
        }
        if !text.is_empty() {
            text.push(',');
        }
        text.push_str(&first.to_string());
        match last - i {
            0 => {}
            1 => text.push_str(&format!(",{}", devices[last])),
            _ => text.push_str(&format!("-{}", devices[last])),
        }
        i = last + 1;
    }
    let max = usize::from(INDEX_WIDTH);
    if text.len() > max {
        // ASCII only: byte offsets are character offsets.
        let cut = text[..max].rfind(',').unwrap_or(max - 1);
        text.truncate(cut);
        text.push('+');
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::collect::gpu::ProcessGpu;
    use crate::model::testing::demo_model;
    use crate::model::Model;
    use crate::ui::columns::Column;
    use crate::ui::test_support::order;

    const GPU: [Column; 3] = [Column::GpuPercent, Column::GpuMem, Column::GpuIndex];

    fn by_pid(m: &Model, pid: u32) -> &ProcessView {
        m.processes.iter().find(|p| p.sample.pid == pid).unwrap()
    }

    fn text(m: &Model, column: Column, p: &ProcessView) -> (String, Emphasis) {
        let cell = column.text(p, None, &CellContext::for_model(m));
        (cell.text, cell.emphasis)
    }

    /// The demo, as the fake collector defines it: java on both GPUs
    /// (45 % + 12.5 %, 3 GiB + 512 MiB), the hostile-names process on the
    /// second (20 %, 300 MiB), nobody else.
    #[test]
    fn cells_show_the_demo_use() {
        let m = demo_model();
        let normal = |s: &str| (s.to_owned(), Emphasis::Normal);
        let java = by_pid(&m, 900);
        assert_eq!(text(&m, Column::GpuPercent, java), normal("57.5"));
        assert_eq!(
            text(&m, Column::GpuMem, java),
            ("3584M".to_owned(), Emphasis::Highlight)
        );
        assert_eq!(text(&m, Column::GpuIndex, java), normal("0,1"));
        let other = by_pid(&m, 1500);
        assert_eq!(text(&m, Column::GpuPercent, other), normal("20.0"));
        assert_eq!(text(&m, Column::GpuMem, other), normal("300M"));
        assert_eq!(text(&m, Column::GpuIndex, other), normal("1"));
        // A thread row shows its process's use.
        let thread = Column::GpuMem.text(java, Some(1), &CellContext::for_model(&m));
        assert_eq!(thread.text, "3584M");
    }

    #[test]
    fn a_process_without_a_gpu_shows_dimmed_zeros() {
        let m = demo_model();
        let vim = by_pid(&m, 1300);
        let dim = |s: &str| (s.to_owned(), Emphasis::Dim);
        assert_eq!(text(&m, Column::GpuPercent, vim), dim("0.0"));
        assert_eq!(text(&m, Column::GpuMem, vim), dim("0"));
        assert_eq!(
            text(&m, Column::GpuIndex, vim),
            (String::new(), Emphasis::Normal)
        );
    }

    #[test]
    fn cells_are_dimmed_dashes_without_a_gpu_source() {
        let mut m = demo_model();
        m.gpu_status.nvml = Err("no libnvidia-ml.so.1".into());
        m.gpu_status.drm = Err("turned off".into());
        for pid in [900, 1300] {
            for c in GPU {
                let cell = text(&m, c, by_pid(&m, pid));
                assert_eq!(cell, ("-".to_owned(), Emphasis::Dim), "{c:?} {pid}");
            }
        }
    }

    #[test]
    fn gpu_numbers_are_short() {
        assert_eq!(indices_text(&[]), "");
        assert_eq!(indices_text(&[0]), "0");
        assert_eq!(indices_text(&[0, 1]), "0,1");
        assert_eq!(indices_text(&[0, 1, 2, 3, 7]), "0-3,7");
        assert_eq!(indices_text(&[1, 3, 5, 7, 9]), "1,3,5+");
        assert_eq!(indices_text(&[0, 2, 4, 6, 8, 10, 12, 14]), "0,2,4+");
        assert_eq!(indices_text(&[1_000_000]), "1000000");
        assert_eq!(indices_text(&[10_000_000]), "100000+");
        assert_eq!(indices_text(&[u32::MAX - 1, u32::MAX]), "429496+");
    }

    #[test]
    fn sorting_follows_the_values() {
        let mut m = demo_model();
        let rest = [1, 2, 14, 15, 350, 400, 700, 1200, 1300, 1301, 1600];
        let mut by_busy = vec![900, 1500];
        by_busy.extend(rest);
        assert_eq!(order(&m, Column::GpuPercent, true), by_busy);
        assert_eq!(order(&m, Column::GpuMem, true), by_busy);
        // No GPU first, then [0, 1] before [1].
        let mut by_index = rest.to_vec();
        by_index.extend([900, 1500]);
        assert_eq!(order(&m, Column::GpuIndex, false), by_index);
        // Holding a GPU at 0 % sorts above holding none.
        let vim = m.processes.iter_mut().find(|p| p.sample.pid == 1300);
        vim.unwrap().gpu = Some(Box::new(ProcessGpu {
            busy_percent: 0.0,
            mem_bytes: 0,
            devices: vec![0],
        }));
        assert_eq!(order(&m, Column::GpuPercent, true)[..3], [900, 1500, 1300]);
        assert_eq!(order(&m, Column::GpuMem, true)[..3], [900, 1500, 1300]);
    }

    #[test]
    fn compare_is_a_total_order() {
        let mut m = demo_model();
        m.processes[3].gpu = Some(Box::new(ProcessGpu {
            busy_percent: f64::NAN,
            mem_bytes: 5,
            devices: vec![2],
        }));
        m.processes[4].gpu = Some(Box::default());
        for c in GPU {
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
