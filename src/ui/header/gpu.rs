//! The GPU bars: `GPU0[|||||      45.0%] 3.20G/23.0G`, one per GPU, busy
//! share in the bar and video memory after it when the source reports it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use unicode_width::UnicodeWidthStr;

use super::{draw_bar, finite, human, put, to_u16, Item, Slot, MIN_BAR_CELLS};
use crate::collect::gpu::GpuDevice;
use crate::ui::theme::Theme;

/// Places one bar per GPU, the first half of the GPUs in the left column;
/// returns the row after them (the same row without GPUs).
pub(super) fn place_gpus(
    gpus: &[GpuDevice],
    cols: &[(u16, u16)],
    y: u16,
    slots: &mut Vec<Slot>,
) -> u16 {
    let per_col = gpus.len().div_ceil(cols.len().max(1));
    let label = label_width(gpus);
    for (c, &(x, width)) in cols.iter().enumerate() {
        let first = c * per_col;
        for (row, index) in (first..gpus.len()).take(per_col).enumerate() {
            slots.push(Slot {
                item: Item::Gpu { index, label },
                x,
                y: y.saturating_add(to_u16(row)),
                width,
            });
        }
    }
    y.saturating_add(to_u16(per_col))
}

/// Width of the widest GPU number.
fn label_width(gpus: &[GpuDevice]) -> u16 {
    let max = gpus.iter().map(|g| g.index).max();
    to_u16(max.unwrap_or(0).to_string().len())
}

/// One GPU's bar, its number padded to `label` digits; the memory text
/// follows when there is room for it and a usable bar.
pub(super) fn draw_gpu(device: &GpuDevice, label: u16, t: &Theme, line: Rect, buf: &mut Buffer) {
    let name = format!("GPU{:>w$}", device.index, w = usize::from(label));
    let busy = device.busy_percent.map(|b| finite(b).clamp(0.0, 100.0));
    let texts = match busy {
        Some(b) => vec![format!("{b:.1}%"), format!("{b:.0}")],
        None => vec!["N/A".to_owned()],
    };
    let segments = [(busy.unwrap_or(0.0) / 100.0, t.gpu_busy)];
    let memory = memory_text(device);
    let bar_min = to_u16(name.width()) + 2 + MIN_BAR_CELLS;
    let text_w = memory.as_deref().map_or(0, |m| to_u16(m.width()) + 1);
    match memory {
        Some(m) if line.width >= bar_min.saturating_add(text_w) => {
            let bar = Rect {
                width: line.width - text_w,
                ..line
            };
            draw_bar(&name, &segments, &texts, t, bar, buf);
            put(buf, bar.right() + 1, line.y, line.right(), &m, t.text);
        }
        _ => draw_bar(&name, &segments, &texts, t, line, buf),
    }
}

/// "used/total", or "used" alone; None when the source has no figure.
fn memory_text(device: &GpuDevice) -> Option<String> {
    match (device.mem_used_bytes, device.mem_total_bytes) {
        (Some(used), Some(total)) => Some(format!("{}/{}", human(used), human(total))),
        (Some(used), None) => Some(human(used)),
        (None, _) => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::{header_height, render_header, HeaderView, Meter};
    use super::*;
    use crate::collect::gpu::GpuVendor;
    use crate::model::SystemView;

    const GIB: u64 = 1 << 30;

    fn gpu(index: u32, busy: Option<f64>, used: Option<u64>, total: Option<u64>) -> GpuDevice {
        GpuDevice {
            index,
            name: format!("gpu {index}"),
            vendor: GpuVendor::Nvidia,
            busy_percent: busy,
            mem_used_bytes: used,
            mem_total_bytes: total,
        }
    }

    fn lines(gpus: &[GpuDevice], meters: &[Meter], width: u16) -> Vec<String> {
        let (system, theme) = (SystemView::default(), Theme::mono());
        let view = HeaderView {
            system: &system,
            backend: "eBPF",
            meters,
            gpus,
            theme: &theme,
        };
        let height = header_height(&view, width);
        let mut buf = Buffer::empty(Rect::new(0, 0, width, height));
        render_header(&view, buf.area, &mut buf);
        (0..height)
            .map(|y| {
                let row: String = (0..width).map(|x| buf[(x, y)].symbol()).collect();
                row.trim_end().to_owned()
            })
            .collect()
    }

    #[test]
    fn one_bar_per_gpu_with_its_memory() {
        let gpus = [
            gpu(0, Some(45.0), Some(3 * GIB + GIB / 5), Some(80 * GIB)),
            gpu(1, Some(100.0), Some(GIB / 2), None),
        ];
        // Two columns: one row, GPU0 left, GPU1 right.
        let rows = lines(&gpus, &[Meter::Gpus], 81);
        assert_eq!(rows.len(), 1);
        let (left, right) = rows[0].split_at(41);
        // 40 cells: "GPU0[" + 22 + "]" + " 3.20G/80.0G"; 45 % of 22: 10.
        assert_eq!(
            left.trim_end(),
            format!("GPU0[{}       45.0%] 3.20G/80.0G", "|".repeat(10))
        );
        assert!(right.starts_with("GPU1[|||||"), "{right}");
        assert!(right.ends_with("|100.0%] 512M"), "{right}");
        // One column: one row each.
        let rows = lines(&gpus, &[Meter::Gpus], 60);
        assert_eq!(rows.len(), 2);
        assert!(rows[0].starts_with("GPU0[") && rows[1].starts_with("GPU1["));
        assert_eq!(rows[0].len(), 60);
    }

    #[test]
    fn no_gpus_take_no_rows() {
        assert!(lines(&[], &[Meter::Gpus], 100).is_empty());
        // Around other meters: as if it was not configured.
        let meters = [Meter::Uptime, Meter::Gpus, Meter::Load];
        assert_eq!(lines(&[], &meters, 100).len(), 1);
        assert_eq!(lines(&[gpu(0, None, None, None)], &meters, 100).len(), 3);
    }

    #[test]
    fn unknown_figures_and_narrow_lines() {
        // No busy figure yet, no memory figure: an empty bar saying so.
        let rows = lines(&[gpu(0, None, None, None)], &[Meter::Gpus], 20);
        assert_eq!(rows[0], format!("GPU0[{}N/A]", " ".repeat(11)));
        // Too narrow for the memory text: the bar alone.
        let rows = lines(
            &[gpu(0, Some(50.0), Some(GIB), Some(GIB))],
            &[Meter::Gpus],
            20,
        );
        assert_eq!(rows[0], "GPU0[|||||||  50.0%]");
        let rows = lines(&[gpu(0, Some(f64::NAN), None, None)], &[Meter::Gpus], 20);
        assert_eq!(rows[0], format!("GPU0[{}0.0%]", " ".repeat(10)));
    }

    #[test]
    fn numbers_line_up_past_ten_gpus() {
        let gpus: Vec<GpuDevice> = (0..12).map(|i| gpu(i, Some(1.0), None, None)).collect();
        let rows = lines(&gpus, &[Meter::Gpus], 100);
        assert_eq!(rows.len(), 6);
        assert!(rows[0].starts_with("GPU 0[") && rows[5].starts_with("GPU 5["));
        assert_eq!(rows[0].find("GPU 6["), Some(50), "{}", rows[0]);
        assert_eq!(rows[5].find("GPU11["), Some(50), "{}", rows[5]);
    }
}
