//! The meters above the process table, drawn as htop draws them: per-CPU and
//! average CPU bars, memory and swap bars, and one-line text meters.
//!
//! Layout is computed first as a list of slots (pure and tested on its own),
//! then each slot is drawn cell by cell. Nothing is ever written outside the
//! area given to [`render_header`], whatever its size.
//!
//! Layout rules:
//! - two columns (left and right halves, one blank cell between them) when
//!   the width is at least 80, else one column;
//! - the CPU bars span both columns: the first half of the CPUs on the left,
//!   the rest on the right, numbered down each column (as htop does);
//! - bars side by side in one column: 1 for up to 8 CPUs, 2 up to 32, 4 up to
//!   128, 8 beyond; a single column is as wide as two halves, so it takes
//!   twice as many. Fewer are used when a bar would have fewer than
//!   [`MIN_BAR_CELLS`] cells between its brackets. 128 CPUs thus take 16
//!   rows at any width from 80 columns: a third of a 50-line terminal;
//! - the other meters keep their configured order; each run of them between
//!   CPU blocks is split evenly, the first half in the left column. A meter
//!   with nothing to show (PSI without any pressure file) takes no row;
//! - the GPU bars are a block like the CPU bars: the first half of the GPUs
//!   on the left, one bar per row (their memory text needs the room); no
//!   GPU, no row.

use std::fmt;

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use unicode_width::UnicodeWidthStr;

mod gpu;

use super::theme::Theme;
use crate::collect::gpu::GpuDevice;
use crate::collect::sample::ZramStats;
use crate::model::{CpuSplit, SystemView};
use crate::present::format::uptime;
use crate::present::sanitize::printable;
use crate::ui::table::table_handles;

/// One meter of the header: an index into [`METERS`]. Code that names a
/// meter uses a constant such as [`Meter::Cpus`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Meter(u8);

impl fmt::Debug for Meter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Meter({})", self.id())
    }
}

/// How a meter takes its place in the header (see the layout rules above).
#[derive(Clone, Copy)]
enum Shape {
    /// A bar per CPU, spanning both columns.
    CpuBars,
    /// A bar per GPU; no row without GPUs.
    GpuBars,
    /// One row, split over the columns with the one-row meters around it.
    Row {
        /// Whether there is anything to show; a meter without takes no row.
        shown: fn(&SystemView) -> bool,
        /// Draws the meter on its row.
        draw: fn(&HeaderView<'_>, Rect, &mut Buffer),
    },
}

/// One meter's facts: an entry of [`METERS`].
struct MeterSpec {
    /// Name in the configuration file (exact case); never changes once
    /// released.
    id: &'static str,
    /// One line for the setup screen.
    description: &'static str,
    /// One of the meters shown without a configuration.
    default: bool,
    shape: Shape,
}

/// Every meter, in the order of the setup screen (`Meter::ALL`).
///
/// Adding a meter is one entry here plus its draw function: a new `id`, a
/// `description`, and a `Shape::Row` whose `draw` writes its one row (a
/// text meter: `put_spans` of the styled pieces from its text function,
/// as `tasks_text`); `shown` hides it while there is nothing to show.
/// Code that must name the meter adds a constant next to [`Meter::Cpus`].
const METERS: &[MeterSpec] = &[
    MeterSpec {
        id: "cpus",
        description: "A usage bar per CPU",
        default: true,
        shape: Shape::CpuBars,
    },
    MeterSpec {
        id: "cpu",
        description: "Average usage bar over all CPUs",
        default: true,
        shape: Shape::Row {
            shown: always,
            draw: |v, line, buf| draw_cpu_bar("Avg", &v.system.cpu_split, v.theme, line, buf),
        },
    },
    MeterSpec {
        id: "memory",
        description: "Memory bar: used, zram, buffers, cache",
        default: true,
        shape: Shape::Row {
            shown: always,
            draw: draw_memory,
        },
    },
    MeterSpec {
        id: "swap",
        description: "Swap bar, with zram compression ratio and zswap pool",
        default: true,
        shape: Shape::Row {
            shown: always,
            draw: |v, line, buf| {
                let (s, t) = (v.system, v.theme);
                draw_bar("Swp", &swap_segments(s, t), &swap_texts(s), t, line, buf);
            },
        },
    },
    MeterSpec {
        id: "tasks",
        description: "Processes, threads, kernel threads, running",
        default: true,
        shape: Shape::Row {
            shown: always,
            draw: |v, line, buf| put_spans(&tasks_text(v), line, buf),
        },
    },
    MeterSpec {
        id: "load",
        description: "Load average over 1, 5 and 15 minutes",
        default: true,
        shape: Shape::Row {
            shown: always,
            draw: |v, line, buf| put_spans(&load_text(v), line, buf),
        },
    },
    MeterSpec {
        id: "uptime",
        description: "Time since boot",
        default: true,
        shape: Shape::Row {
            shown: always,
            draw: |v, line, buf| put_spans(&uptime_text(v), line, buf),
        },
    },
    MeterSpec {
        id: "pressure",
        description: "Pressure stall (PSI some, avg10) of CPU, memory, I/O",
        default: true,
        shape: Shape::Row {
            // Not without any pressure file.
            shown: |s| {
                let p = &s.pressure;
                p.cpu.is_some() || p.memory.is_some() || p.io.is_some()
            },
            draw: |v, line, buf| put_spans(&pressure_text(v), line, buf),
        },
    },
    MeterSpec {
        id: "backend",
        description: "Collection backend, and why it fell back",
        default: true,
        shape: Shape::Row {
            shown: always,
            draw: |v, line, buf| put_spans(&backend_text(v), line, buf),
        },
    },
    MeterSpec {
        id: "network",
        description: "Host network throughput per second (real interfaces)",
        // It would take a fifth row in each column when PSI is there
        // (offered in the setup screen).
        default: false,
        shape: Shape::Row {
            shown: always,
            draw: |v, line, buf| put_spans(&network_text(v), line, buf),
        },
    },
    MeterSpec {
        id: "gpu",
        description: "A busy bar per GPU, with its memory used/total (none without GPUs)",
        // Default: it takes no row on a machine without GPUs.
        default: true,
        shape: Shape::GpuBars,
    },
];

table_handles!(Meter, METERS, "meter");

fn always(_: &SystemView) -> bool {
    true
}

/// The meters that code names. They are spelt as enum variants, which
/// they stand for.
#[allow(non_upper_case_globals)]
impl Meter {
    pub const Cpus: Meter = Meter::named("cpus");
    pub const CpuTotal: Meter = Meter::named("cpu");
    pub const Memory: Meter = Meter::named("memory");
    pub const Swap: Meter = Meter::named("swap");
    pub const Tasks: Meter = Meter::named("tasks");
    pub const Load: Meter = Meter::named("load");
    pub const Uptime: Meter = Meter::named("uptime");
    pub const Pressure: Meter = Meter::named("pressure");
    pub const Backend: Meter = Meter::named("backend");
    pub const Network: Meter = Meter::named("network");
    pub const Gpus: Meter = Meter::named("gpu");
}

impl Meter {
    fn spec(self) -> &'static MeterSpec {
        &METERS[usize::from(self.0)]
    }

    /// The name used in the configuration file.
    pub fn id(self) -> &'static str {
        self.spec().id
    }

    pub fn from_id(id: &str) -> Option<Meter> {
        Meter::ALL.iter().copied().find(|m| m.id() == id)
    }

    /// One line for the setup screen.
    pub fn description(self) -> &'static str {
        self.spec().description
    }
}

/// Everything the header draws from.
pub struct HeaderView<'a> {
    pub system: &'a SystemView,
    /// The collection backend as shown, e.g. "eBPF" or
    /// "procfs: not permitted"; sanitised before drawing.
    pub backend: &'a str,
    pub meters: &'a [Meter],
    /// The GPUs, for the GPU bars.
    pub gpus: &'a [GpuDevice],
    pub theme: &'a Theme,
}

/// Rows the header needs at this width.
pub fn header_height(view: &HeaderView<'_>, width: u16) -> u16 {
    layout(view, width)
        .iter()
        .map(|slot| slot.y.saturating_add(1))
        .max()
        .unwrap_or(0)
}

/// Draws the header into `area` (clipped to the buffer); rows beyond the
/// area's height are dropped.
pub fn render_header(view: &HeaderView<'_>, area: Rect, buf: &mut Buffer) {
    let area = area.intersection(buf.area);
    for slot in layout(view, area.width) {
        if slot.y >= area.height {
            continue;
        }
        let line = Rect::new(area.x + slot.x, area.y + slot.y, slot.width, 1);
        draw_item(view, slot.item, line, buf);
    }
}

/// Narrower headers get one column of meters.
const TWO_COLUMNS_MIN_WIDTH: u16 = 80;

/// Fewest cells between a CPU bar's brackets before fewer bars are put side
/// by side.
const MIN_BAR_CELLS: u16 = 3;

/// What a slot shows: a CPU (index into `per_cpu_split`, and the width its
/// number is padded to so all bars line up) or another meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Cpu {
        index: usize,
        label: u16,
    },
    /// A GPU: index into `HeaderView::gpus`, and its number's width.
    Gpu {
        index: usize,
        label: u16,
    },
    Meter(Meter),
}

/// One row's worth of a meter, relative to the header's top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    item: Item,
    x: u16,
    y: u16,
    width: u16,
}

/// (x, width) of each column. Both halves get the same width, so that
/// their CPU bars line up; an even width leaves its last cell blank.
fn columns(width: u16) -> Vec<(u16, u16)> {
    if width == 0 {
        Vec::new()
    } else if width >= TWO_COLUMNS_MIN_WIDTH {
        let half = (width - 1) / 2;
        vec![(0, half), (half + 1, half)]
    } else {
        vec![(0, width)]
    }
}

fn layout(view: &HeaderView<'_>, width: u16) -> Vec<Slot> {
    let cols = columns(width);
    let mut slots = Vec::new();
    if cols.is_empty() {
        return slots;
    }
    let mut y = 0;
    let mut run = Vec::new();
    for &meter in view.meters {
        match meter.spec().shape {
            Shape::CpuBars => {
                y = place_meters(&run, &cols, y, &mut slots);
                run.clear();
                y = place_cpus(view.system, &cols, y, &mut slots);
            }
            Shape::GpuBars => {
                // Without GPUs, as if not configured: the run goes on.
                if !view.gpus.is_empty() {
                    y = place_meters(&run, &cols, y, &mut slots);
                    run.clear();
                    y = gpu::place_gpus(view.gpus, &cols, y, &mut slots);
                }
            }
            Shape::Row { shown, .. } => {
                if shown(view.system) {
                    run.push(meter);
                }
            }
        }
    }
    place_meters(&run, &cols, y, &mut slots);
    slots
}

/// Splits a run of one-row meters over the columns, first half left;
/// returns the row after them.
fn place_meters(run: &[Meter], cols: &[(u16, u16)], y: u16, slots: &mut Vec<Slot>) -> u16 {
    let rows = run.len().div_ceil(cols.len().max(1));
    for (i, &meter) in run.iter().enumerate() {
        let Some(&(x, width)) = cols.get(i / rows) else {
            continue;
        };
        slots.push(Slot {
            item: Item::Meter(meter),
            x,
            y: y.saturating_add(to_u16(i % rows)),
            width,
        });
    }
    y.saturating_add(to_u16(rows))
}

/// Places the per-CPU bars, the first half of the CPUs in the left column;
/// returns the row after them.
fn place_cpus(system: &SystemView, cols: &[(u16, u16)], y: u16, slots: &mut Vec<Slot>) -> u16 {
    let n = system.per_cpu_split.len();
    let per_col = n.div_ceil(cols.len().max(1));
    let label = cpu_label_width(system);
    let mut rows = 0;
    for (c, &(x, width)) in cols.iter().enumerate() {
        let first = c * per_col;
        let count = per_col.min(n.saturating_sub(first));
        if count == 0 {
            continue;
        }
        let across = bars_across(n, cols.len(), width, label).min(count);
        let col_rows = count.div_ceil(across);
        for j in 0..count {
            let (dx, w) = sub_slot(width, j / col_rows, across);
            slots.push(Slot {
                item: Item::Cpu {
                    index: first + j,
                    label,
                },
                x: x + dx,
                y: y.saturating_add(to_u16(j % col_rows)),
                width: w,
            });
        }
        rows = rows.max(col_rows);
    }
    y.saturating_add(to_u16(rows))
}

/// How many CPU bars sit side by side in a column of this width.
fn bars_across(cpus: usize, columns: usize, width: u16, label: u16) -> usize {
    let base = match cpus {
        0..=8 => 1,
        9..=32 => 2,
        33..=128 => 4,
        _ => 8,
    };
    // One column is as wide as both halves of two.
    let mut across = if columns == 1 { base * 2 } else { base };
    let needed = label + 2 + MIN_BAR_CELLS;
    while across > 1 && sub_slot(width, 0, across).1 < needed {
        across /= 2;
    }
    across
}

/// (offset, width) of the i-th of `across` equal bars sharing `width`
/// cells, a blank cell between neighbours; spare cells stay at the end.
fn sub_slot(width: u16, i: usize, across: usize) -> (u16, u16) {
    let step = (usize::from(width) + 1) / across.max(1);
    (to_u16(i * step), to_u16(step.saturating_sub(1)))
}

/// Width of the widest CPU number.
fn cpu_label_width(system: &SystemView) -> u16 {
    let max = system.per_cpu_split.iter().map(|(id, _)| *id).max();
    to_u16(max.unwrap_or(0).to_string().len())
}

fn to_u16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

fn draw_item(view: &HeaderView<'_>, item: Item, line: Rect, buf: &mut Buffer) {
    let (s, t) = (view.system, view.theme);
    match item {
        Item::Cpu { index, label } => {
            if let Some((id, split)) = s.per_cpu_split.get(index) {
                let label = format!("{id:>w$}", w = usize::from(label));
                draw_cpu_bar(&label, split, t, line, buf);
            }
        }
        Item::Gpu { index, label } => {
            if let Some(device) = view.gpus.get(index) {
                gpu::draw_gpu(device, label, t, line, buf);
            }
        }
        Item::Meter(meter) => {
            if let Shape::Row { draw, .. } = meter.spec().shape {
                draw(view, line, buf);
            }
        }
    }
}

/// The memory bar, with used/total over it.
fn draw_memory(view: &HeaderView<'_>, line: Rect, buf: &mut Buffer) {
    let (s, t) = (view.system, view.theme);
    let text = [format!(
        "{}/{}",
        human(s.mem_used_bytes),
        human(s.mem_total_bytes)
    )];
    draw_bar("Mem", &memory_segments(s, t), &text, t, line, buf);
}

fn draw_cpu_bar(label: &str, split: &CpuSplit, t: &Theme, line: Rect, buf: &mut Buffer) {
    let busy = finite(split.busy()).clamp(0.0, 100.0);
    let texts = [format!("{busy:.1}%"), format!("{busy:.0}")];
    draw_bar(label, &cpu_segments(split, t), &texts, t, line, buf);
}

/// The CPU bar's parts, as fractions of the bar.
fn cpu_segments(c: &CpuSplit, t: &Theme) -> Vec<(f64, Style)> {
    [
        (c.user, t.cpu_user),
        (c.nice, t.cpu_nice),
        (c.system, t.cpu_system),
        (c.irq, t.cpu_irq),
        (c.softirq, t.cpu_softirq),
        (c.iowait, t.cpu_iowait),
        (c.steal, t.cpu_steal),
        (c.guest, t.cpu_guest),
    ]
    .into_iter()
    .map(|(pct, style)| (pct / 100.0, style))
    .collect()
}

/// Used memory without zram's own footprint, which is drawn apart: the
/// kernel counts zram's compressed store as used, though no program holds
/// it. Clamped to used, so inconsistent figures cannot grow the bar.
fn memory_segments(s: &SystemView, t: &Theme) -> Vec<(f64, Style)> {
    let used = s.mem_used_bytes;
    let zram = s.zram.map_or(0, |z| z.used_bytes).min(used);
    let frac = |bytes: u64| fraction(bytes, s.mem_total_bytes);
    vec![
        (frac(used - zram), t.mem_used),
        (frac(zram), t.mem_zram),
        (frac(s.mem_buffers_bytes), t.mem_buffers),
        (frac(s.mem_cache_bytes), t.mem_cache),
    ]
}

/// Swap in use, the part also still in RAM (swap cache) drawn apart, as
/// htop does.
fn swap_segments(s: &SystemView, t: &Theme) -> Vec<(f64, Style)> {
    let used = s.swap_used_bytes;
    let cached = s.swap_cached_bytes.min(used);
    let frac = |bytes: u64| fraction(bytes, s.swap_total_bytes);
    vec![
        (frac(used - cached), t.swap_used),
        (frac(cached), t.swap_cache),
    ]
}

/// The swap bar's text, longest first: the bar shows the first that fits.
fn swap_texts(s: &SystemView) -> Vec<String> {
    let base = format!("{}/{}", human(s.swap_used_bytes), human(s.swap_total_bytes));
    let mut extra = String::new();
    if let Some(ratio) = s.zram.filter(|_| s.swap_on_zram).and_then(zram_ratio) {
        extra.push_str(&format!(" zram {ratio:.1}x"));
    }
    // Zswap reads 0 on every kernel built with it, enabled or not.
    if let Some(pool) = s.zswap_bytes.filter(|&b| b > 0) {
        extra.push_str(&format!(" zswap {}", human(pool)));
    }
    if extra.is_empty() {
        vec![base]
    } else {
        vec![format!("{base}{extra}"), base]
    }
}

/// How many times smaller zram's data is once compressed.
fn zram_ratio(z: ZramStats) -> Option<f64> {
    (z.compr_bytes > 0).then(|| z.orig_bytes as f64 / z.compr_bytes as f64)
}

fn fraction(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 / total as f64
    }
}

fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

/// Cells of each segment in a bar of `width` cells. Boundaries are rounded
/// from the running total, so rounding never accumulates and the parts never
/// add up to more than the bar, whatever the inputs (negative, NaN, or
/// summing past 1).
fn segment_lengths(fractions: &[f64], width: u16) -> Vec<u16> {
    let mut total = 0.0;
    let mut prev = 0;
    fractions
        .iter()
        .map(|&f| {
            total += finite(f).max(0.0);
            let end = (total.min(1.0) * f64::from(width)).round() as u16;
            let end = end.clamp(prev, width);
            let len = end - prev;
            prev = end;
            len
        })
        .collect()
}

/// `label[|||||    text]`: segments as '|' in their style, the text
/// right-aligned over them; the first of `texts` that fits is used.
fn draw_bar(
    label: &str,
    segments: &[(f64, Style)],
    texts: &[String],
    t: &Theme,
    line: Rect,
    buf: &mut Buffer,
) {
    let (y, right) = (line.y, line.right());
    let x = put(buf, line.x, y, right, label, t.meter_label);
    let x = put(buf, x, y, right, "[", t.meter_label);
    let close = right.saturating_sub(1);
    if x >= close {
        return;
    }
    let inner = close - x;
    let fractions: Vec<f64> = segments.iter().map(|(f, _)| *f).collect();
    let lens = segment_lengths(&fractions, inner);
    let text: Vec<char> = texts
        .iter()
        .find(|s| s.width() <= usize::from(inner))
        .map_or_else(Vec::new, |s| s.chars().collect());
    let text_start = usize::from(inner).saturating_sub(text.len());
    let mut styles = segments
        .iter()
        .zip(&lens)
        .flat_map(|((_, style), &len)| std::iter::repeat_n(*style, usize::from(len)));
    for i in 0..inner {
        let in_text = usize::from(i).checked_sub(text_start);
        let ch = in_text.and_then(|k| text.get(k)).copied();
        let (ch, style) = match styles.next() {
            Some(style) => (ch.unwrap_or('|'), style),
            None => (ch.unwrap_or(' '), t.meter_text),
        };
        if let Some(cell) = buf.cell_mut((x + i, y)) {
            cell.set_char(ch).set_style(style);
        }
    }
    put(buf, close, y, right, "]", t.meter_label);
}

/// Writes `s` from (x, y), stopping before `right`; returns where it ended.
fn put(buf: &mut Buffer, x: u16, y: u16, right: u16, s: &str, style: Style) -> u16 {
    if x >= right || !buf.area.contains(Position::new(x, y)) {
        return x;
    }
    buf.set_stringn(x, y, s, usize::from(right - x), style).0
}

/// Writes styled pieces of text on one line; if they do not fit, the last
/// cell shows '…' so a cut-off value does not pass for a whole one.
fn put_spans(spans: &[(String, Style)], line: Rect, buf: &mut Buffer) {
    let total: usize = spans.iter().map(|(s, _)| s.width()).sum();
    let fits = total <= usize::from(line.width);
    let right = if fits {
        line.right()
    } else {
        line.right().saturating_sub(1)
    };
    let mut x = line.x;
    for (s, style) in spans {
        x = put(buf, x, line.y, right, s, *style);
    }
    if !fits {
        let style = spans.last().map_or(Style::default(), |(_, s)| *s);
        put(buf, x, line.y, line.right(), "…", style);
    }
}

/// A text meter's label, e.g. "Tasks: ".
fn label(t: &Theme, text: &str) -> (String, Style) {
    (text.to_owned(), t.meter_label)
}

fn value(t: &Theme, text: String) -> (String, Style) {
    (text, t.text)
}

fn tasks_text(view: &HeaderView<'_>) -> Vec<(String, Style)> {
    let (s, t) = (view.system, view.theme);
    vec![
        label(t, "Tasks: "),
        value(
            t,
            format!(
                "{}, {} thr, {} kthr; ",
                s.tasks, s.threads, s.kernel_threads
            ),
        ),
        (s.running.to_string(), t.highlight),
        value(t, " running".to_owned()),
    ]
}

fn load_text(view: &HeaderView<'_>) -> Vec<(String, Style)> {
    let (s, t) = (view.system, view.theme);
    vec![
        label(t, "Load average: "),
        value(
            t,
            format!("{:.2} {:.2} {:.2}", s.load[0], s.load[1], s.load[2]),
        ),
    ]
}

fn uptime_text(view: &HeaderView<'_>) -> Vec<(String, Style)> {
    let (s, t) = (view.system, view.theme);
    vec![
        label(t, "Uptime: "),
        value(t, uptime(s.uptime_seconds, true)),
    ]
}

fn pressure_text(view: &HeaderView<'_>) -> Vec<(String, Style)> {
    let (p, t) = (&view.system.pressure, view.theme);
    let parts = [("cpu", p.cpu), ("mem", p.memory), ("io", p.io)];
    let text: Vec<String> = parts
        .iter()
        .filter_map(|(name, v)| v.map(|v| format!("{name} {:.1}%", finite(v))))
        .collect();
    vec![label(t, "PSI some: "), value(t, text.join(" "))]
}

fn backend_text(view: &HeaderView<'_>) -> Vec<(String, Style)> {
    let t = view.theme;
    vec![
        label(t, "Backend: "),
        value(t, printable(view.backend.as_bytes())),
    ]
}

fn network_text(view: &HeaderView<'_>) -> Vec<(String, Style)> {
    let (s, t) = (view.system, view.theme);
    vec![
        label(t, "Network: "),
        value(
            t,
            format!(
                "rx {} tx {}",
                per_second(s.net_rx_rate),
                per_second(s.net_tx_rate)
            ),
        ),
    ]
}

/// A throughput as htop's network meter prints it (`1.50MiB/s`); "-"
/// before there is a rate (the first refresh, or no /proc/net/dev).
fn per_second(rate: Option<f64>) -> String {
    match rate.filter(|r| r.is_finite()) {
        Some(r) => format!("{}iB/s", human(r.max(0.0).round() as u64)),
        None => "-".to_owned(),
    }
}

/// Sizes as htop's meters print them: binary K/M/G/T/P, three significant
/// digits from M up (1.23G, 15.5G, 512M), whole kibibytes below. Not
/// `present::format::human_bytes`: that one keeps K up to 100 MiB, as process
/// columns do, which is too wide for `used/total`.
fn human(bytes: u64) -> String {
    const UNITS: [char; 5] = ['K', 'M', 'G', 'T', 'P'];
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let u = UNITS.get(unit).copied().unwrap_or('K');
    if unit == 0 {
        format!("{value:.0}{u}")
    } else if value <= 9.99 {
        format!("{value:.2}{u}")
    } else if value <= 99.9 {
        format!("{value:.1}{u}")
    } else {
        format!("{value:.0}{u}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::collect::sample::Pressure;

    fn system_with_cpus(n: u32, split: CpuSplit) -> SystemView {
        SystemView {
            cpus: n as usize,
            per_cpu_split: (0..n).map(|id| (id, split)).collect(),
            per_cpu_percent: vec![split.busy(); n as usize],
            cpu_split: split,
            cpu_percent: split.busy(),
            mem_total_bytes: 16 << 30,
            mem_used_bytes: 4 << 30,
            mem_buffers_bytes: 1 << 30,
            mem_cache_bytes: 2 << 30,
            swap_total_bytes: 8 << 30,
            swap_used_bytes: 1 << 30,
            tasks: 123,
            threads: 456,
            kernel_threads: 78,
            running: 3,
            load: [0.1, 0.2, 0.3],
            uptime_seconds: 2.0 * 86400.0 + 3.0 * 3600.0 + 4.0 * 60.0 + 5.0,
            ..Default::default()
        }
    }

    fn user(pct: f64) -> CpuSplit {
        CpuSplit {
            user: pct,
            ..Default::default()
        }
    }

    fn view<'a>(system: &'a SystemView, theme: &'a Theme) -> HeaderView<'a> {
        HeaderView {
            system,
            backend: "eBPF",
            meters: Meter::DEFAULT,
            gpus: &[],
            theme,
        }
    }

    fn render(view: &HeaderView<'_>, w: u16, h: u16) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        render_header(view, buf.area, &mut buf);
        buf
    }

    fn row(buf: &Buffer, y: u16) -> String {
        (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol())
            .collect::<String>()
            .trim_end()
            .to_owned()
    }

    fn rows(buf: &Buffer) -> Vec<String> {
        (0..buf.area.height).map(|y| row(buf, y)).collect()
    }

    /// The bar between `prefix[` and the next `]` on a row.
    fn bar_inner(line: &str, prefix: &str) -> String {
        let start = line.find(&format!("{prefix}[")).expect("bar label") + prefix.len() + 1;
        let len = line[start..].find(']').expect("bar end");
        line[start..start + len].to_owned()
    }

    #[test]
    fn meter_ids_round_trip() {
        for &m in Meter::ALL {
            assert_eq!(Meter::from_id(m.id()), Some(m));
            assert!(!m.description().is_empty());
        }
        assert_eq!(Meter::from_id("cpu"), Some(Meter::CpuTotal));
        assert_eq!(Meter::from_id("cpus"), Some(Meter::Cpus));
        assert_eq!(Meter::from_id("Memory"), None);
        assert_eq!(Meter::from_id("network"), Some(Meter::Network));
        assert_eq!(Meter::from_id("gpu"), Some(Meter::Gpus));
        assert_eq!(Meter::DEFAULT.len(), 10);
        assert!(!Meter::DEFAULT.contains(&Meter::Network));
        // The config's defaults name the same meters.
        let ids: Vec<&str> = Meter::DEFAULT.iter().map(|m| m.id()).collect();
        assert_eq!(crate::config::Config::default().header_meters, ids);
    }

    #[test]
    fn network_meter_shows_host_rates() {
        let theme = Theme::default_theme();
        let mut sys = system_with_cpus(1, user(0.0));
        let v = HeaderView {
            meters: &[Meter::Network],
            ..view(&sys, &theme)
        };
        // The first refresh has no rate yet, but the row is there.
        assert_eq!(header_height(&v, 60), 1);
        assert_eq!(row(&render(&v, 60, 1), 0), "Network: rx - tx -");
        sys.net_rx_rate = Some(1.5 * (1 << 20) as f64);
        sys.net_tx_rate = Some(200.0 * 1024.0);
        let v = HeaderView {
            meters: &[Meter::Network],
            ..view(&sys, &theme)
        };
        let buf = render(&v, 60, 1);
        assert_eq!(row(&buf, 0), "Network: rx 1.50MiB/s tx 200KiB/s");
        assert_eq!(buf[(0, 0)].fg, theme.meter_label.fg.unwrap());
        assert_eq!(per_second(Some(f64::NAN)), "-");
        assert_eq!(per_second(Some(-3.0)), "0KiB/s");
        assert_eq!(per_second(Some(30e9)), "27.9GiB/s");
    }

    #[test]
    fn two_cpus_at_80_columns() {
        let theme = Theme::default_theme();
        let sys = system_with_cpus(2, user(25.0));
        let v = view(&sys, &theme);
        // CPUs: 1 row; 7 meters (no PSI) in two columns: 4 rows.
        assert_eq!(header_height(&v, 80), 5);
        let buf = render(&v, 80, 5);
        let lines = rows(&buf);
        // CPU 0 in the left half, CPU 1 in the right half.
        assert!(lines[0].starts_with("0["), "{lines:?}");
        assert_eq!(lines[0].find("1["), Some(40), "{lines:?}");
        // Left column 39 cells: "0[" + 36 + "]"; 25% of 36 = 9 bars.
        let inner = bar_inner(&lines[0], "0");
        assert_eq!(inner.len(), 36);
        assert_eq!(inner, format!("{}{}25.0%", "|".repeat(9), " ".repeat(22)));
        assert!(lines[0].ends_with("25.0%]"));
        // Both halves are 39 wide, so their bars line up.
        assert_eq!(bar_inner(&lines[0], "1").len(), 36);
        assert!(lines[1].starts_with("Avg["), "{lines:?}");
        assert!(lines[2].starts_with("Mem["));
        assert!(lines[2].contains("4.00G/16.0G]"), "{lines:?}");
        assert!(lines[3].starts_with("Swp["));
        assert!(lines[3].contains("1.00G/8.00G]"));
        assert!(lines[4].starts_with("Tasks: 123, 456 thr, 78 kthr; 3 running"));
        // Right column starts at 40.
        assert_eq!(&lines[1][40..], "Load average: 0.10 0.20 0.30");
        assert_eq!(&lines[2][40..], "Uptime: 2 days, 03:04:05");
        assert_eq!(&lines[3][40..], "Backend: eBPF");
    }

    #[test]
    fn one_column_under_80() {
        let theme = Theme::default_theme();
        let sys = system_with_cpus(2, user(50.0));
        let v = view(&sys, &theme);
        // Both CPUs on one row, then the 7 other meters one per row.
        assert_eq!(header_height(&v, 79), 8);
        let lines = rows(&render(&v, 79, 8));
        assert!(lines[0].starts_with("0[") && lines[0].contains(" 1["));
        let starts: Vec<&str> = lines[1..].iter().map(|l| &l[..4]).collect();
        assert_eq!(
            starts,
            ["Avg[", "Mem[", "Swp[", "Task", "Load", "Upti", "Back"]
        );
        assert!(lines[1].ends_with("50.0%]") && lines[1].len() == 79);

        // Eight CPUs one column: two per row.
        let sys = system_with_cpus(8, user(50.0));
        assert_eq!(header_height(&view(&sys, &theme), 60), 4 + 7);
    }

    #[test]
    fn cpus_are_numbered_down_each_column() {
        let theme = Theme::default_theme();
        let sys = system_with_cpus(16, user(10.0));
        let v = view(&sys, &theme);
        // 16 CPUs: 8 per half, 2 bars across each half: 4 rows.
        let lines = rows(&render(&v, 120, header_height(&v, 120)));
        let labels: Vec<Vec<u32>> = lines[..4]
            .iter()
            .map(|l| {
                l.split(']')
                    .filter_map(|b| b.trim().split('[').next()?.parse().ok())
                    .collect()
            })
            .collect();
        assert_eq!(
            labels,
            [[0, 4, 8, 12], [1, 5, 9, 13], [2, 6, 10, 14], [3, 7, 11, 15]]
        );
        assert!(lines[4].starts_with("Avg["));
    }

    #[test]
    fn many_cpus_keep_the_header_short() {
        let theme = Theme::default_theme();
        for (n, width, cpu_rows) in [
            (64, 120, 8),
            (64, 80, 8),
            (128, 80, 16),
            (128, 200, 16),
            (128, 79, 16),
            (256, 300, 16),
        ] {
            let sys = system_with_cpus(n, user(10.0));
            let v = view(&sys, &theme);
            let other = if width >= 80 { 4 } else { 7 };
            assert_eq!(
                header_height(&v, width),
                cpu_rows + other,
                "{n} CPUs at {width}"
            );
            let v = HeaderView {
                meters: &[Meter::Cpus],
                ..v
            };
            assert_eq!(header_height(&v, width), cpu_rows);
            // Every CPU is drawn exactly once, labels included.
            let lines = rows(&render(&v, width, cpu_rows));
            let mut seen: Vec<u32> = lines
                .iter()
                .flat_map(|l| {
                    l.split(']')
                        .filter_map(|b| b.trim().split('[').next()?.parse().ok())
                })
                .collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "{n} CPUs at {width}");
        }
        // 128 CPUs fit in a third of a 50-line terminal.
        let sys = system_with_cpus(128, user(1.0));
        let v = HeaderView {
            meters: &[Meter::Cpus],
            ..view(&sys, &theme)
        };
        assert!(header_height(&v, 100) <= 50 / 3);
    }

    #[test]
    fn meters_keep_their_order_around_the_cpus() {
        let theme = Theme::default_theme();
        let sys = system_with_cpus(4, user(10.0));
        let meters = [
            Meter::Memory,
            Meter::Load,
            Meter::Uptime,
            Meter::Cpus,
            Meter::Tasks,
        ];
        let v = HeaderView {
            meters: &meters,
            ..view(&sys, &theme)
        };
        // Mem, Load | Uptime; 2 rows of CPUs; Tasks.
        assert_eq!(header_height(&v, 100), 5);
        let lines = rows(&render(&v, 100, 5));
        assert!(lines[0].starts_with("Mem[") && lines[0].ends_with("Uptime: 2 days, 03:04:05"));
        assert_eq!(lines[0].find("Uptime"), Some(50));
        assert_eq!(lines[1], "Load average: 0.10 0.20 0.30");
        assert!(lines[2].starts_with("0[") && lines[3].starts_with("1["));
        assert!(lines[4].starts_with("Tasks:"));
    }

    #[test]
    fn narrow_columns_put_fewer_bars_side_by_side() {
        // Room for a label, brackets and MIN_BAR_CELLS, or fewer bars.
        assert_eq!(bars_across(64, 2, 40, 2), 4);
        assert_eq!(bars_across(64, 2, 20, 2), 2);
        assert_eq!(bars_across(64, 2, 3, 2), 1);
        assert_eq!(bars_across(4, 1, 60, 1), 2);
        assert_eq!(bars_across(4, 2, 60, 1), 1);
        // Equal bars, one gap between each.
        let slots: Vec<_> = (0..4).map(|i| sub_slot(41, i, 4)).collect();
        assert_eq!(slots, [(0, 9), (10, 9), (20, 9), (30, 9)]);
        assert_eq!(sub_slot(39, 0, 1), (0, 39));
        assert_eq!(sub_slot(39, 1, 2), (20, 19));
    }

    #[test]
    fn half_user_fills_half_a_20_cell_bar_in_user_style() {
        let theme = Theme::default_theme();
        let mut buf = Buffer::empty(Rect::new(0, 0, 25, 1));
        // "Avg[" + 20 cells + "]".
        draw_cpu_bar("Avg", &user(50.0), &theme, buf.area, &mut buf);
        assert_eq!(row(&buf, 0), format!("Avg[{}     50.0%]", "|".repeat(10)));
        for x in 4..14 {
            assert_eq!(buf[(x, 0)].symbol(), "|");
            assert_eq!(buf[(x, 0)].fg, theme.cpu_user.fg.unwrap(), "cell {x}");
        }
        // The rest, text included, in the meter's text style.
        for x in 14..24 {
            let cell = &buf[(x, 0)];
            assert_eq!(cell.fg, theme.meter_text.fg.unwrap(), "cell {x}");
            assert_eq!(cell.modifier, theme.meter_text.add_modifier, "cell {x}");
        }
    }

    #[test]
    fn cpu_segments_follow_each_other_in_their_styles() {
        let theme = Theme::default_theme();
        let split = CpuSplit {
            user: 20.0,
            nice: 10.0,
            system: 30.0,
            iowait: 10.0,
            steal: 30.0,
            ..Default::default()
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, 25, 1));
        draw_cpu_bar("Avg", &split, &theme, buf.area, &mut buf);
        let fg = |x: u16| buf[(x, 0)].fg;
        let c = |s: Style| s.fg.unwrap();
        assert!((4..8).all(|x| fg(x) == c(theme.cpu_user)));
        assert!((8..10).all(|x| fg(x) == c(theme.cpu_nice)));
        assert!((10..16).all(|x| fg(x) == c(theme.cpu_system)));
        assert!((16..18).all(|x| fg(x) == c(theme.cpu_iowait)));
        assert!((18..24).all(|x| fg(x) == c(theme.cpu_steal)));
        // Busy excludes iowait; the text lies over the steal part and takes
        // its colour.
        assert_eq!(row(&buf, 0), format!("Avg[{}90.0%]", "|".repeat(15)));
        assert_eq!(buf[(19, 0)].symbol(), "9");
    }

    #[test]
    fn segment_lengths_never_overflow() {
        assert_eq!(segment_lengths(&[0.5], 20), [10]);
        assert_eq!(segment_lengths(&[0.25, 0.25, 0.25], 10), [3, 2, 3]);
        assert_eq!(segment_lengths(&[0.8, 0.8, 0.8], 10), [8, 2, 0]);
        assert_eq!(segment_lengths(&[f64::NAN, -1.0, 2.0], 7), [0, 0, 7]);
        assert_eq!(segment_lengths(&[f64::INFINITY, 0.5], 5), [0, 3]);
        assert_eq!(segment_lengths(&[1.0], 0), [0]);
    }

    #[test]
    fn memory_bar_shows_zram_apart_and_never_overflows() {
        let theme = Theme::default_theme();
        let mut sys = system_with_cpus(1, user(0.0));
        sys.mem_total_bytes = 20 << 30;
        sys.mem_used_bytes = 8 << 30;
        sys.mem_buffers_bytes = 0;
        sys.mem_cache_bytes = 4 << 30;
        sys.zram = Some(ZramStats {
            orig_bytes: 6 << 30,
            compr_bytes: 2 << 30,
            used_bytes: 2 << 30,
        });
        let lens = |sys: &SystemView| {
            let segs = memory_segments(sys, &theme);
            let f: Vec<f64> = segs.iter().map(|s| s.0).collect();
            segment_lengths(&f, 20)
        };
        // used 8G of which zram 2G: 6G used, 2G zram, 0 buffers, 4G cache.
        assert_eq!(lens(&sys), [6, 2, 0, 4]);

        // Inconsistent: zram bigger than used, everything bigger than total.
        sys.zram = Some(ZramStats {
            orig_bytes: 1,
            compr_bytes: 0,
            used_bytes: 50 << 30,
        });
        sys.mem_buffers_bytes = 30 << 30;
        assert_eq!(lens(&sys), [0, 8, 12, 0]);
        let v = HeaderView {
            meters: &[Meter::Memory],
            ..view(&sys, &theme)
        };
        let buf = render(&v, 30, 1);
        let line = row(&buf, 0);
        assert_eq!(line.len(), 30);
        assert!(
            line.starts_with("Mem[") && line.ends_with("8.00G/20.0G]"),
            "{line}"
        );
        assert_eq!(buf[(4, 0)].fg, theme.mem_zram.fg.unwrap());
    }

    #[test]
    fn swap_bar_shows_zram_ratio_and_zswap() {
        let theme = Theme::default_theme();
        let mut sys = system_with_cpus(1, user(0.0));
        sys.swap_on_zram = true;
        sys.zram = Some(ZramStats {
            orig_bytes: 31 << 20,
            compr_bytes: 10 << 20,
            used_bytes: 11 << 20,
        });
        sys.zswap_bytes = Some(120 << 20);
        let v = HeaderView {
            meters: &[Meter::Swap],
            ..view(&sys, &theme)
        };
        let line = row(&render(&v, 60, 1), 0);
        assert!(
            line.ends_with("1.00G/8.00G zram 3.1x zswap 120M]"),
            "{line}"
        );
        // Too narrow for the extras: only used/total.
        let line = row(&render(&v, 20, 1), 0);
        // 1G of 8G on 15 cells: 2.
        assert_eq!(line, "Swp[||  1.00G/8.00G]");

        // zram present but swap not on it; zswap empty; or nothing
        // compressed yet: no ratio, and no division by zero.
        sys.swap_on_zram = false;
        sys.zswap_bytes = Some(0);
        assert_eq!(swap_texts(&sys), ["1.00G/8.00G"]);
        sys.swap_on_zram = true;
        sys.zram = Some(ZramStats::default());
        assert_eq!(swap_texts(&sys), ["1.00G/8.00G"]);
    }

    #[test]
    fn swap_cache_is_drawn_apart() {
        let theme = Theme::default_theme();
        let mut sys = system_with_cpus(1, user(0.0));
        sys.swap_total_bytes = 10 << 30;
        sys.swap_used_bytes = 5 << 30;
        sys.swap_cached_bytes = 1 << 30;
        let f: Vec<f64> = swap_segments(&sys, &theme).iter().map(|s| s.0).collect();
        assert_eq!(segment_lengths(&f, 10), [4, 1]);
        // No swap at all: empty bar.
        sys.swap_total_bytes = 0;
        let f: Vec<f64> = swap_segments(&sys, &theme).iter().map(|s| s.0).collect();
        assert_eq!(segment_lengths(&f, 10), [0, 0]);
    }

    #[test]
    fn pressure_line_only_with_pressure() {
        let theme = Theme::default_theme();
        let mut sys = system_with_cpus(1, user(0.0));
        let meters = [Meter::Pressure, Meter::Uptime];
        let v = HeaderView {
            meters: &meters,
            ..view(&sys, &theme)
        };
        assert_eq!(header_height(&v, 60), 1);
        assert_eq!(rows(&render(&v, 60, 2)), ["Uptime: 2 days, 03:04:05", ""]);

        sys.pressure = Pressure {
            cpu: Some(1.234),
            memory: None,
            io: Some(3.4),
        };
        let v = HeaderView {
            meters: &meters,
            ..view(&sys, &theme)
        };
        assert_eq!(header_height(&v, 60), 2);
        assert_eq!(row(&render(&v, 60, 2), 0), "PSI some: cpu 1.2% io 3.4%");
    }

    #[test]
    fn backend_reason_is_cut_with_an_ellipsis_and_sanitised() {
        let theme = Theme::default_theme();
        let sys = system_with_cpus(1, user(0.0));
        let v = HeaderView {
            backend: "procfs (BPF: operation not permitted)",
            meters: &[Meter::Backend],
            ..view(&sys, &theme)
        };
        assert_eq!(row(&render(&v, 30, 1), 0), "Backend: procfs (BPF: operati…");
        assert_eq!(
            row(&render(&v, 60, 1), 0),
            "Backend: procfs (BPF: operation not permitted)"
        );
        let v = HeaderView {
            backend: "procfs\x1b[2J",
            ..v
        };
        assert_eq!(row(&render(&v, 30, 1), 0), "Backend: procfs?[2J");
    }

    #[test]
    fn text_meters_read_like_htop() {
        assert_eq!(uptime(59.0, true), "00:00:59");
        assert_eq!(uptime(86400.0 + 61.0, true), "1 day, 00:01:01");
        assert_eq!(human(0), "0K");
        assert_eq!(human(512 << 10), "512K");
        assert_eq!(human(1023 << 10), "1023K");
        assert_eq!(human(1 << 20), "1.00M");
        assert_eq!(human(120 << 20), "120M");
        assert_eq!(human((123 << 30) / 100), "1.23G");
        assert_eq!(human((155 << 30) / 10), "15.5G");
        assert_eq!(human(3 << 40), "3.00T");
        assert_eq!(human(u64::MAX), "16384P");
    }

    #[test]
    fn rendering_stays_inside_the_area() {
        let theme = Theme::default_theme();
        let mut sys = system_with_cpus(128, user(75.0));
        sys.pressure.cpu = Some(5.0);
        let v = view(&sys, &theme);
        for (w, h) in [
            (0, 0),
            (1, 1),
            (10, 3),
            (40, 10),
            (79, 2),
            (80, 50),
            (300, 60),
        ] {
            // A marked border around the area must survive.
            let mut buf = Buffer::empty(Rect::new(0, 0, w + 2, h + 2));
            for cell in buf.content.iter_mut() {
                cell.set_char('#');
            }
            render_header(&v, Rect::new(1, 1, w, h), &mut buf);
            for y in 0..h + 2 {
                for x in 0..w + 2 {
                    let inside = (1..=w).contains(&x) && (1..=h).contains(&y);
                    if !inside {
                        assert_eq!(buf[(x, y)].symbol(), "#", "{w}x{h}: ({x},{y})");
                    }
                }
            }
        }
        // An area partly outside the buffer is clipped, not a panic.
        let mut buf = Buffer::empty(Rect::new(0, 0, 20, 5));
        render_header(&v, Rect::new(10, 3, 300, 60), &mut buf);
        render_header(&v, Rect::new(50, 50, 10, 10), &mut buf);
        assert_eq!(header_height(&v, 0), 0);
    }

    #[test]
    fn no_cpus_and_no_meters_take_no_rows() {
        let theme = Theme::default_theme();
        let sys = SystemView::default();
        let v = HeaderView {
            meters: &[Meter::Cpus],
            ..view(&sys, &theme)
        };
        assert_eq!(header_height(&v, 100), 0);
        let v = HeaderView {
            meters: &[],
            ..view(&sys, &theme)
        };
        assert_eq!(header_height(&v, 100), 0);
        // Defaults with nothing measured yet still draw.
        let v = view(&sys, &theme);
        let lines = rows(&render(&v, 100, 4));
        assert!(lines[0].starts_with("Avg[") && lines[0][..49].ends_with(" 0.0%]"));
        assert!(lines[1].starts_with("Mem[") && lines[1][..49].ends_with(" 0K/0K]"));
    }
}
