//! The process table's columns. One table, [`COLUMNS`], holds every
//! column's facts (id, title, width, alignment, sort direction, cell and
//! order), as htop's field table does; [`Column`] is a small handle on an
//! entry of it. Cells are formatted on demand, only for the rows on screen.

mod exits;
mod gpu;
mod io;
mod net;
mod waits;

use std::cmp::Ordering;
use std::fmt;

use super::text::display_safe;
use crate::collect::sample::{SmapsRollup, ThreadSample};
use crate::collect::Extras;
use crate::model::{Model, ProcessView};
use crate::present::format::{column_size, rate_per_second, time_plus};
use crate::ui::table::table_handles;

/// A column of the process table: an index into [`COLUMNS`]. Code that
/// names a column uses a constant such as [`Column::Pid`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Column(u8);

impl fmt::Debug for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Column({})", self.id())
    }
}

/// How the renderer should style a cell (mapped to theme styles there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emphasis {
    Normal,
    Dim,
    Highlight,
    KernelThread,
    Thread,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub emphasis: Emphasis,
}

impl Cell {
    fn new(text: String, emphasis: Emphasis) -> Cell {
        Cell { text, emphasis }
    }

    fn normal(text: String) -> Cell {
        Cell::new(text, Emphasis::Normal)
    }

    /// A value that is not there (its source is off, or unreadable): a
    /// dimmed "-".
    fn absent() -> Cell {
        Cell::new("-".to_owned(), Emphasis::Dim)
    }
}

/// What cells need beyond the process itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellContext {
    /// Wall-clock time of boot, seconds since the Unix epoch.
    pub boot_unix_time: f64,
    pub now_unix_time: f64,
    pub unit_display: UnitDisplay,
    /// Some GPU source is on (`Model::gpu_status`); without one the GPU
    /// columns show "-".
    pub gpu_on: bool,
    /// The Command column shows argv[0] as given (a path, often); off
    /// (htop's `p`): only the program's base name.
    pub program_path: bool,
    /// The interval exits were counted over, seconds; None where exits
    /// are not captured (the exited children's columns show "-").
    pub exits_interval_s: Option<f64>,
}

impl CellContext {
    /// Boot time from the model's wall clock and uptime (both taken at the
    /// same refresh), and whether GPUs are watched.
    pub fn for_model(model: &Model) -> CellContext {
        CellContext {
            boot_unix_time: model.unix_time - model.system.uptime_seconds,
            now_unix_time: model.unix_time,
            unit_display: UnitDisplay::default(),
            gpu_on: model.gpu_status.any_on(),
            program_path: true,
            exits_interval_s: model.exits.interval_ns.map(|ns| ns as f64 / 1e9),
        }
    }
}

const GIB: u64 = 1 << 30;
const MIB: f64 = (1 << 20) as f64;
/// Counters up to this many digits are printed in full.
const COUNT_DIGITS_MAX: u64 = 999_999_999;

/// Text is left-aligned, numbers right-aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

/// How a column orders processes, ascending (ties are then broken by
/// [`compare_identity`]).
#[derive(Clone, Copy)]
enum Order {
    /// By one number per process, mapped to a u64 in the column's order
    /// (`float_key`, `signed_key`): a sort precomputes these keys instead of
    /// reaching into every process at each comparison.
    Key(fn(&ProcessView) -> u64),
    /// By a comparison of the values, Equal on ties: for text, and for
    /// values that may be absent (absent first). It must not allocate.
    Compare(fn(&ProcessView, &ProcessView) -> Ordering),
}

/// The cell of a process, or of its thread (an index into
/// `p.sample.thread_list`, possibly out of range) on a thread row.
type CellFn = fn(&ProcessView, Option<usize>, &CellContext) -> Cell;

/// Ascending order of two of a process's threads, by index into its
/// `thread_list` (both in range).
type ThreadOrderFn = fn(&ProcessView, usize, usize) -> Ordering;

/// One column's facts: an entry of [`COLUMNS`].
struct ColumnSpec {
    /// Name in the configuration file and on the command line (matched
    /// ignoring case); never changes once released.
    id: &'static str,
    /// Header text, as htop labels it; no wider than `width`.
    title: &'static str,
    /// One line for the setup screen.
    description: &'static str,
    /// Width in columns, excluding the gap the renderer puts between
    /// columns. 0: flexible, shares the width left over.
    width: u16,
    align: Align,
    /// Whether the first sort on this column puts the largest first (as
    /// htop does for usage figures).
    descending: bool,
    /// One of the columns shown without a configuration (htop's set).
    default: bool,
    cell: CellFn,
    order: Order,
    /// For columns whose threads have values of their own (the cell shows
    /// the thread's value): their order under a process. None: all equal
    /// (thread rows then go by tid).
    thread_order: Option<ThreadOrderFn>,
}

/// Every column, in the order of the setup screen (`Column::ALL`).
///
/// Adding a column is one entry here plus its cell function: a new `id`,
/// a `title` that fits `width`, a `cell` that formats the value and an
/// `order` that sorts by it. A value that may be absent (a counter that is
/// off or unreadable) shows [`Cell::absent`], a dimmed "-", and sorts
/// before every value, as the network and GPU columns do. The module's
/// tests check every entry (unique ids, titles that fit, a total order,
/// sort keys that agree with the order). Code that must name the column
/// adds a constant next to [`Column::Pid`].
const COLUMNS: &[ColumnSpec] = &[
    ColumnSpec {
        id: "PID",
        title: "PID",
        description: "Process ID (thread ID on thread rows)",
        width: 7,
        align: Align::Right,
        descending: false,
        default: true,
        cell: |p, t, _| Cell::normal(thread_of(p, t).map_or(p.sample.pid, |t| t.tid).to_string()),
        order: Order::Key(|p| u64::from(p.sample.pid)),
        thread_order: None,
    },
    ColumnSpec {
        id: "PPID",
        title: "PPID",
        description: "Parent process ID",
        width: 7,
        align: Align::Right,
        descending: false,
        default: false,
        cell: |p, _, _| Cell::normal(p.sample.ppid.to_string()),
        order: Order::Key(|p| u64::from(p.sample.ppid)),
        thread_order: None,
    },
    ColumnSpec {
        id: "USER",
        title: "USER",
        description: "Owner of the process (real user)",
        width: 9,
        align: Align::Left,
        descending: false,
        default: true,
        cell: |p, _, _| Cell::normal(display_safe(p.user.as_bytes())),
        order: Order::Compare(|a, b| a.user.cmp(&b.user).then(a.sample.uid.cmp(&b.sample.uid))),
        thread_order: None,
    },
    ColumnSpec {
        id: "PRI",
        title: "PRI",
        description: "Kernel scheduling priority (RT for real-time)",
        width: 3,
        align: Align::Right,
        descending: false,
        default: true,
        cell: |p, _, _| Cell::normal(priority_text(p.sample.priority)),
        order: Order::Key(|p| signed_key(p.sample.priority)),
        thread_order: None,
    },
    ColumnSpec {
        id: "NI",
        title: "NI",
        description: "Nice value (-20 highest priority, 19 lowest)",
        width: 3,
        align: Align::Right,
        descending: false,
        default: true,
        cell: |p, _, _| nice_cell(p.sample.nice),
        order: Order::Key(|p| signed_key(p.sample.nice)),
        thread_order: None,
    },
    ColumnSpec {
        id: "VIRT",
        title: "VIRT",
        description: "Virtual memory size",
        width: 5,
        align: Align::Right,
        descending: true,
        default: true,
        cell: |p, _, _| size_cell(p.sample.virt_bytes),
        order: Order::Key(|p| p.sample.virt_bytes),
        thread_order: None,
    },
    ColumnSpec {
        id: "RES",
        title: "RES",
        description: "Resident memory: file, anonymous and shared pages",
        width: 5,
        align: Align::Right,
        descending: true,
        default: true,
        cell: |p, _, _| size_cell(p.sample.rss_bytes),
        order: Order::Key(|p| p.sample.rss_bytes),
        thread_order: None,
    },
    ColumnSpec {
        id: "SHR",
        title: "SHR",
        description: "Shared resident memory: file and shmem pages",
        width: 5,
        align: Align::Right,
        descending: true,
        default: true,
        cell: |p, _, _| size_cell(p.sample.shared_bytes),
        order: Order::Key(|p| p.sample.shared_bytes),
        thread_order: None,
    },
    ColumnSpec {
        id: "SWAP",
        title: "SWAP",
        description: "Swapped-out memory (VmSwap)",
        width: 5,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| size_cell(p.sample.memory.swap_bytes),
        order: Order::Key(|p| p.sample.memory.swap_bytes),
        thread_order: None,
    },
    ColumnSpec {
        id: "RSS_ANON",
        title: "ANON",
        description: "Resident anonymous memory (RssAnon)",
        width: 5,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| size_cell(p.sample.memory.anon_bytes),
        order: Order::Key(|p| p.sample.memory.anon_bytes),
        thread_order: None,
    },
    ColumnSpec {
        id: "RSS_FILE",
        title: "FILE",
        description: "Resident file-backed memory (RssFile)",
        width: 5,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| size_cell(p.sample.memory.file_bytes),
        order: Order::Key(|p| p.sample.memory.file_bytes),
        thread_order: None,
    },
    ColumnSpec {
        id: "RSS_SHMEM",
        title: "SHMEM",
        description: "Resident shared memory, tmpfs and SysV (RssShmem)",
        width: 5,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| size_cell(p.sample.memory.shmem_bytes),
        order: Order::Key(|p| p.sample.memory.shmem_bytes),
        thread_order: None,
    },
    ColumnSpec {
        id: "PSS",
        title: "PSS",
        description: "Proportional set size, for the selected process only (smaps_rollup)",
        width: 6,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| rollup_cell(p, |r| r.pss_bytes),
        order: Order::Compare(|a, b| {
            rollup_of(a, |r| r.pss_bytes).cmp(&rollup_of(b, |r| r.pss_bytes))
        }),
        thread_order: None,
    },
    ColumnSpec {
        id: "USS",
        title: "USS",
        description: "Unique set size: private pages, for the selected process only",
        width: 6,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| rollup_cell(p, |r| r.uss_bytes),
        order: Order::Compare(|a, b| {
            rollup_of(a, |r| r.uss_bytes).cmp(&rollup_of(b, |r| r.uss_bytes))
        }),
        thread_order: None,
    },
    ColumnSpec {
        id: "S",
        title: "S",
        description: "State: R running, S sleeping, D disk wait, Z zombie, T stopped, I idle",
        width: 1,
        align: Align::Left,
        descending: false,
        default: true,
        cell: |p, t, _| state_cell(thread_of(p, t).map_or(p.sample.state, |t| t.state)),
        order: Order::Key(|p| u64::from(u32::from(p.sample.state))),
        thread_order: Some(|p, a, b| by_thread(p, a, b, |t| t.state)),
    },
    ColumnSpec {
        id: "CPU%",
        title: "CPU%",
        description: "CPU usage over the last interval (100% = one core)",
        width: 5,
        align: Align::Right,
        descending: true,
        default: true,
        cell: |p, t, _| percent_cell(cpu_percent(p, t)),
        order: Order::Key(|p| float_key(p.cpu_percent)),
        thread_order: Some(|p, a, b| cpu_percent(p, Some(a)).total_cmp(&cpu_percent(p, Some(b)))),
    },
    ColumnSpec {
        id: "MEM%",
        title: "MEM%",
        description: "Resident memory as a share of total memory",
        // As htop's: 4 wide, "100" for all of it.
        width: 4,
        align: Align::Right,
        descending: true,
        default: true,
        cell: |p, _, _| mem_percent_cell(p.mem_percent),
        order: Order::Key(|p| float_key(p.mem_percent)),
        thread_order: None,
    },
    ColumnSpec {
        id: "TIME+",
        title: "TIME+",
        description: "Total CPU time, minutes:seconds.hundredths",
        width: 9,
        align: Align::Right,
        descending: true,
        default: true,
        cell: |p, t, _| {
            time_cell(thread_of(p, t).map_or(p.sample.cpu_time_ns(), |t| t.cpu_time_ns))
        },
        order: Order::Key(|p| p.sample.cpu_time_ns()),
        thread_order: Some(|p, a, b| by_thread(p, a, b, |t| t.cpu_time_ns)),
    },
    ColumnSpec {
        id: "Command",
        title: "Command",
        description: "Command line (kernel threads in brackets)",
        width: 0,
        align: Align::Left,
        descending: false,
        default: true,
        cell: |p, t, ctx| command_cell(p, thread_of(p, t), ctx.program_path),
        order: Order::Compare(|a, b| command_bytes(a).cmp(command_bytes(b))),
        thread_order: Some(|p, a, b| by_thread(p, a, b, |t| &t.comm)),
    },
    ColumnSpec {
        id: "START",
        title: "START",
        description: "Start time: hour:minute today, month and day before",
        width: 5,
        align: Align::Left,
        descending: false,
        default: false,
        cell: |p, _, ctx| Cell::normal(start_text(p.sample.start_time_ns, ctx)),
        order: Order::Key(|p| p.sample.start_time_ns),
        thread_order: None,
    },
    ColumnSpec {
        id: "NLWP",
        title: "NLWP",
        description: "Number of threads",
        width: 4,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| Cell::normal(p.sample.threads.to_string()),
        order: Order::Key(|p| u64::from(p.sample.threads)),
        thread_order: None,
    },
    ColumnSpec {
        id: "PROCESSOR",
        title: "CPU",
        description: "CPU the process last ran on",
        width: 3,
        align: Align::Right,
        descending: false,
        default: false,
        cell: |p, t, _| {
            Cell::normal(
                thread_of(p, t)
                    .map_or(p.sample.processor, |t| t.processor)
                    .to_string(),
            )
        },
        order: Order::Key(|p| u64::from(p.sample.processor)),
        thread_order: Some(|p, a, b| by_thread(p, a, b, |t| t.processor)),
    },
    ColumnSpec {
        id: "TTY",
        title: "TTY",
        description: "Controlling terminal",
        width: 8,
        align: Align::Left,
        descending: false,
        default: false,
        cell: |p, _, _| tty_cell(p.sample.tty_nr),
        order: Order::Key(|p| u64::from(p.sample.tty_nr)),
        thread_order: None,
    },
    ColumnSpec {
        id: "IO_READ_RATE",
        title: "DISK R/s",
        description: "Bytes read from storage per second",
        width: 8,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| rate_cell(p, p.io_read_rate),
        order: Order::Key(|p| float_key(io_rate_key(p, p.io_read_rate))),
        thread_order: None,
    },
    ColumnSpec {
        id: "IO_WRITE_RATE",
        title: "DISK W/s",
        description: "Bytes written to storage per second",
        width: 8,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| rate_cell(p, p.io_write_rate),
        order: Order::Key(|p| float_key(io_rate_key(p, p.io_write_rate))),
        thread_order: None,
    },
    ColumnSpec {
        id: "IO_RATE",
        title: "DISK R/W",
        description: "Bytes read from and written to storage per second",
        width: 9,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| io::total_rate_cell(p),
        order: Order::Key(|p| float_key(io_rate_key(p, io::rate(p)))),
        thread_order: None,
    },
    ColumnSpec {
        id: "IO_PRIORITY",
        title: "IO",
        description: "I/O priority: R realtime, B best-effort (0 highest), id idle",
        width: 3,
        align: Align::Left,
        descending: false,
        default: false,
        cell: |p, _, _| io::priority_cell(p),
        order: Order::Key(io::priority_key),
        thread_order: None,
    },
    ColumnSpec {
        id: "IO_READ",
        title: "DISK READ",
        description: "Bytes read from storage since the process started",
        width: 9,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| io::total_cell(p, |io| io.read_bytes),
        order: Order::Key(|p| io::total_key(p, |io| io.read_bytes)),
        thread_order: None,
    },
    ColumnSpec {
        id: "IO_WRITE",
        title: "DISK WRITE",
        description: "Bytes written to storage since the process started",
        width: 10,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| io::total_cell(p, |io| io.write_bytes),
        order: Order::Key(|p| io::total_key(p, |io| io.write_bytes)),
        thread_order: None,
    },
    ColumnSpec {
        id: "RCHAR",
        title: "RCHAR",
        description: "Bytes read through read() and the like, cache hits included",
        width: 8,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| io::total_cell(p, |io| io.rchar),
        order: Order::Key(|p| io::total_key(p, |io| io.rchar)),
        thread_order: None,
    },
    ColumnSpec {
        id: "WCHAR",
        title: "WCHAR",
        description: "Bytes written through write() and the like",
        width: 8,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| io::total_cell(p, |io| io.wchar),
        order: Order::Key(|p| io::total_key(p, |io| io.wchar)),
        thread_order: None,
    },
    ColumnSpec {
        id: "MINFLT",
        title: "MINFLT",
        description: "Minor page faults (no disk access)",
        width: 9,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| count_cell(p.sample.minflt),
        order: Order::Key(|p| p.sample.minflt),
        thread_order: None,
    },
    ColumnSpec {
        id: "MAJFLT",
        title: "MAJFLT",
        description: "Major page faults (read from disk)",
        width: 9,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| count_cell(p.sample.majflt),
        order: Order::Key(|p| p.sample.majflt),
        thread_order: None,
    },
    ColumnSpec {
        id: "CTXT",
        title: "CTXT",
        description: "Context switches, voluntary plus involuntary",
        width: 9,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| count_cell(ctxt(p)),
        order: Order::Key(ctxt),
        thread_order: None,
    },
    ColumnSpec {
        id: "CGROUP",
        title: "CGROUP",
        description: "Control group (cgroup v2 path)",
        width: 0,
        align: Align::Left,
        descending: false,
        default: false,
        cell: |p, _, _| match &p.sample.cgroup {
            Some(path) => Cell::normal(display_safe(path.as_bytes())),
            None => Cell::new("N/A".to_owned(), Emphasis::Dim),
        },
        order: Order::Compare(|a, b| a.sample.cgroup.cmp(&b.sample.cgroup)),
        thread_order: None,
    },
    ColumnSpec {
        id: "UNIT",
        title: "UNIT",
        description: "systemd unit owning the process (deepest .service or .scope)",
        width: 24,
        align: Align::Left,
        descending: false,
        default: false,
        cell: |p, _, ctx| optional_cell(unit_shown(p, ctx.unit_display)),
        order: Order::Compare(|a, b| label(a, |i| &i.unit_label).cmp(&label(b, |i| &i.unit_label))),
        thread_order: None,
    },
    ColumnSpec {
        id: "SLICE",
        title: "SLICE",
        description: "systemd slice the process runs in",
        width: 16,
        align: Align::Left,
        descending: false,
        default: false,
        cell: |p, _, _| optional_cell(slice_name(p)),
        order: Order::Compare(|a, b| {
            label(a, |i| &i.slice_label).cmp(&label(b, |i| &i.slice_label))
        }),
        thread_order: None,
    },
    ColumnSpec {
        id: "CONTAINER",
        title: "CONTAINER",
        description: "Container: runtime and name or short id",
        width: 22,
        align: Align::Left,
        descending: false,
        default: false,
        cell: |p, _, _| optional_cell(container_text(p)),
        order: Order::Compare(|a, b| container_label(a).cmp(&container_label(b))),
        thread_order: None,
    },
    ColumnSpec {
        id: "FROZEN",
        title: "FROZEN",
        description: "* when the process's cgroup is frozen (cgroup v2 freezer)",
        width: 6,
        align: Align::Left,
        descending: false,
        default: false,
        cell: |p, _, _| match is_frozen(p) {
            true => Cell::new("*".to_owned(), Emphasis::Highlight),
            false => Cell::new(String::new(), Emphasis::Normal),
        },
        order: Order::Key(|p| u64::from(is_frozen(p))),
        thread_order: None,
    },
    ColumnSpec {
        id: "NET_RX_RATE",
        title: "NET_RX/s",
        description: "Socket bytes received per second",
        width: 8,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| net::rate_cell(net::rx_rate(p)),
        order: Order::Compare(|a, b| net::compare_rates(net::rx_rate(a), net::rx_rate(b))),
        thread_order: None,
    },
    ColumnSpec {
        id: "NET_TX_RATE",
        title: "NET_TX/s",
        description: "Socket bytes sent per second",
        width: 8,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| net::rate_cell(net::tx_rate(p)),
        order: Order::Compare(|a, b| net::compare_rates(net::tx_rate(a), net::tx_rate(b))),
        thread_order: None,
    },
    ColumnSpec {
        id: "NET_RATE",
        title: "NET/s",
        description: "Socket bytes received and sent per second",
        width: 8,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| net::rate_cell(net::rate(p)),
        order: Order::Compare(|a, b| net::compare_rates(net::rate(a), net::rate(b))),
        thread_order: None,
    },
    ColumnSpec {
        id: "NET_TOTAL",
        title: "NET_TOT",
        description: "Socket bytes received and sent since bpftop started",
        // Room for the sort marker after the title.
        width: 8,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| net::total_cell(p),
        order: Order::Compare(|a, b| net::total(a).cmp(&net::total(b))),
        thread_order: None,
    },
    ColumnSpec {
        id: "IFACE",
        title: "IFACE",
        description: "Interface of the last send over a routed socket",
        width: 10,
        align: Align::Left,
        descending: false,
        default: false,
        cell: |p, _, _| net::iface_cell(p),
        order: Order::Compare(|a, b| net::iface(a).cmp(&net::iface(b))),
        thread_order: None,
    },
    ColumnSpec {
        id: "GPU_PERCENT",
        title: "GPU%",
        description: "GPU busy over the last interval, all GPUs (100% = one GPU)",
        width: 5,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, ctx| gpu::busy_cell(p, ctx),
        order: Order::Compare(gpu::compare_busy),
        thread_order: None,
    },
    ColumnSpec {
        id: "GPU_MEM",
        title: "GMEM",
        description: "GPU memory the process holds, on all its GPUs",
        width: 5,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, ctx| gpu::mem_cell(p, ctx),
        order: Order::Compare(gpu::compare_mem),
        thread_order: None,
    },
    ColumnSpec {
        id: "GPU_INDEX",
        title: "GPU",
        description: "GPUs the process uses (numbered as in the GPU meter)",
        width: gpu::INDEX_WIDTH,
        align: Align::Left,
        descending: false,
        default: false,
        cell: |p, _, ctx| gpu::index_cell(p, ctx),
        order: Order::Compare(gpu::compare_index),
        thread_order: None,
    },
    ColumnSpec {
        id: "CHILD_EXITS",
        title: "CEXIT/s",
        description: "Children that exited per second (exits, not forks)",
        // Room for the sort marker after the title.
        width: 8,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, ctx| exits::rate_cell(p.exited_children, ctx),
        order: Order::Key(|p| u64::from(p.exited_children)),
        thread_order: None,
    },
    ColumnSpec {
        id: "CHILD_FORKS",
        title: "FORK/s",
        description: "Children started per second (forks), alive or already exited",
        width: 7,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, ctx| exits::rate_cell(p.children_forked, ctx),
        order: Order::Key(|p| u64::from(p.children_forked)),
        thread_order: None,
    },
    ColumnSpec {
        id: "CHILD_EXECS",
        title: "EXEC/s",
        description: "Programs its children executed per second (execve)",
        width: 7,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, ctx| exits::rate_cell(p.children_execs, ctx),
        order: Order::Key(|p| u64::from(p.children_execs)),
        thread_order: None,
    },
    ColumnSpec {
        id: "CHILD_EXITED_CPU",
        title: "CEXCPU%",
        description: "CPU of children that exited, beyond their rows (% of one CPU)",
        width: 8,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, ctx| exits::cpu_cell(p, ctx),
        order: Order::Key(|p| float_key(p.exited_children_cpu_percent)),
        thread_order: None,
    },
    ColumnSpec {
        id: "WAIT_PERCENT",
        title: "WAIT%",
        description: "Time runnable but waiting for a CPU, share of the interval",
        width: 5,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, t, _| waits::share_cell(waits::wait_percent(p, t)),
        order: Order::Compare(waits::compare_wait),
        thread_order: Some(waits::compare_thread_wait),
    },
    ColumnSpec {
        id: "RUN_WAITS",
        title: "WAITS/s",
        description: "Times per second the process waited on a run queue",
        width: 7,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| waits::waits_cell(waits::waits_per_second(p)),
        order: Order::Compare(waits::compare_waits_per_second),
        thread_order: None,
    },
    ColumnSpec {
        id: "IOWAIT_PERCENT",
        title: "IOWAIT%",
        description: "Stalled on block I/O, share of the interval (delay accounting)",
        width: 7,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| waits::share_cell(waits::stall(p, |s| s.blkio)),
        order: Order::Compare(|a, b| waits::compare_stall(a, b, |s| s.blkio)),
        thread_order: None,
    },
    ColumnSpec {
        id: "SWAPWAIT_PERCENT",
        title: "SWAPW%",
        description: "Stalled on swap-in, share of the interval (delay accounting)",
        width: 6,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| waits::share_cell(waits::stall(p, |s| s.swapin)),
        order: Order::Compare(|a, b| waits::compare_stall(a, b, |s| s.swapin)),
        thread_order: None,
    },
    ColumnSpec {
        id: "RECLAIM_PERCENT",
        title: "RECLM%",
        description: "Stalled in memory reclaim, share of the interval (delay accounting)",
        width: 6,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| waits::share_cell(waits::stall(p, |s| s.reclaim)),
        order: Order::Compare(|a, b| waits::compare_stall(a, b, |s| s.reclaim)),
        thread_order: None,
    },
    ColumnSpec {
        id: "THRASH_PERCENT",
        title: "THRSH%",
        description: "Stalled on thrashing, share of the interval (delay accounting)",
        width: 6,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| waits::share_cell(waits::stall(p, |s| s.thrashing)),
        order: Order::Compare(|a, b| waits::compare_stall(a, b, |s| s.thrashing)),
        thread_order: None,
    },
    ColumnSpec {
        id: "COMPACT_PERCENT",
        title: "CMPCT%",
        description: "Stalled in memory compaction, share of the interval (delay accounting)",
        width: 6,
        align: Align::Right,
        descending: true,
        default: false,
        cell: |p, _, _| waits::share_cell(waits::stall(p, |s| s.compact)),
        order: Order::Compare(|a, b| waits::compare_stall(a, b, |s| s.compact)),
        thread_order: None,
    },
];

table_handles!(Column, COLUMNS, "column");

/// The columns that code names. They are spelt as enum variants, which
/// they stand for (in `match` patterns too).
#[allow(non_upper_case_globals)]
impl Column {
    pub const Pid: Column = Column::named("PID");
    pub const CpuPercent: Column = Column::named("CPU%");
    pub const MemPercent: Column = Column::named("MEM%");
    pub const Time: Column = Column::named("TIME+");
    pub const Command: Column = Column::named("Command");
    pub const Unit: Column = Column::named("UNIT");
    pub const Pss: Column = Column::named("PSS");
    pub const Uss: Column = Column::named("USS");
    pub const User: Column = Column::named("USER");
    pub const IoReadRate: Column = Column::named("IO_READ_RATE");
    pub const IoWriteRate: Column = Column::named("IO_WRITE_RATE");
    pub const IoRate: Column = Column::named("IO_RATE");
    pub const IoPriority: Column = Column::named("IO_PRIORITY");
    pub const NetRxRate: Column = Column::named("NET_RX_RATE");
    pub const NetTxRate: Column = Column::named("NET_TX_RATE");
    pub const NetRate: Column = Column::named("NET_RATE");
    pub const NetTotal: Column = Column::named("NET_TOTAL");
    pub const NetIface: Column = Column::named("IFACE");
    pub const GpuPercent: Column = Column::named("GPU_PERCENT");
    pub const GpuMem: Column = Column::named("GPU_MEM");
    pub const GpuIndex: Column = Column::named("GPU_INDEX");
}

impl Column {
    fn spec(self) -> &'static ColumnSpec {
        &COLUMNS[usize::from(self.0)]
    }

    /// Whether the column shows figures read for the selected process only
    /// (PSS, USS: the kernel walks the process's page tables for them).
    pub fn for_selected_only(self) -> bool {
        self == Column::Pss || self == Column::Uss
    }

    /// The optional per-process values the column shows, which the
    /// collector reads only while some column needs them.
    pub fn extras(self) -> Extras {
        // Constants, so that an id not in the table does not compile.
        const IO: [Column; 7] = [
            Column::IoReadRate,
            Column::IoWriteRate,
            Column::IoRate,
            Column::named("IO_READ"),
            Column::named("IO_WRITE"),
            Column::named("RCHAR"),
            Column::named("WCHAR"),
        ];
        const RUN_QUEUE: [Column; 2] = [Column::named("WAIT_PERCENT"), Column::named("RUN_WAITS")];
        Extras {
            io: IO.contains(&self),
            run_queue: RUN_QUEUE.contains(&self),
        }
    }

    /// Name in the configuration file.
    pub fn id(self) -> &'static str {
        self.spec().id
    }

    /// The column with configuration name `id`, ignoring case.
    pub fn from_id(id: &str) -> Option<Column> {
        Column::ALL
            .iter()
            .copied()
            .find(|c| c.id().eq_ignore_ascii_case(id))
    }

    /// Header text, as htop labels it.
    pub fn title(self) -> &'static str {
        self.spec().title
    }

    /// One line for the setup screen.
    pub fn description(self) -> &'static str {
        self.spec().description
    }

    /// What the setup screen adds beside the column while it is selected
    /// (how to turn on what it needs).
    pub fn setup_note(self) -> Option<&'static str> {
        waits::is_stall(self.id()).then_some(waits::DELAY_ACCOUNTING_NOTE)
    }

    /// Width in columns, excluding the gap the renderer puts between
    /// columns. 0: flexible, shares the width left over (Command, Cgroup).
    pub fn width(self) -> u16 {
        self.spec().width
    }

    /// Numbers are right-aligned, text left-aligned.
    pub fn align_right(self) -> bool {
        self.spec().align == Align::Right
    }

    /// Whether the first sort on this column puts the largest first (as
    /// htop does for usage figures).
    pub fn default_descending(self) -> bool {
        self.spec().descending
    }

    /// Ascending order of processes by this column; a total order (ties by
    /// pid, then start time).
    pub fn compare(self, a: &ProcessView, b: &ProcessView) -> Ordering {
        self.compare_value(a, b).then(compare_identity(a, b))
    }

    /// Ascending order of the values alone (Equal on ties).
    pub fn compare_value(self, a: &ProcessView, b: &ProcessView) -> Ordering {
        match self.spec().order {
            Order::Key(key) => key(a).cmp(&key(b)),
            Order::Compare(compare) => compare(a, b),
        }
    }

    /// For the columns whose value is one number: that number as a u64
    /// whose ascending order is exactly [`Column::compare_value`]'s (equal
    /// keys where it says Equal), so a sort can compare precomputed keys
    /// instead of reaching into every process at each comparison. None for
    /// the other columns.
    pub fn sort_key(self) -> Option<fn(&ProcessView) -> u64> {
        match self.spec().order {
            Order::Key(key) => Some(key),
            Order::Compare(_) => None,
        }
    }

    /// Ascending order of two threads (indices into `p.sample.thread_list`)
    /// by this column where threads have their own value; Equal otherwise
    /// (and for indices out of range).
    pub fn compare_thread_value(self, p: &ProcessView, a: usize, b: usize) -> Ordering {
        let list = &p.sample.thread_list;
        match self.spec().thread_order {
            Some(order) if a < list.len() && b < list.len() => order(p, a, b),
            _ => Ordering::Equal,
        }
    }

    /// The cell of process `p`, or of its thread `thread` (index into
    /// `p.sample.thread_list`) on a thread row.
    pub fn text(self, p: &ProcessView, thread: Option<usize>, ctx: &CellContext) -> Cell {
        (self.spec().cell)(p, thread, ctx)
    }
}

/// The thread of a thread row; None on a process row, or past the list
/// (the row then shows the process's values).
fn thread_of(p: &ProcessView, thread: Option<usize>) -> Option<&ThreadSample> {
    thread.and_then(|i| p.sample.thread_list.get(i))
}

/// Two threads of `p` in the order of one of their values.
fn by_thread<'p, K: Ord>(
    p: &'p ProcessView,
    a: usize,
    b: usize,
    value: impl Fn(&'p ThreadSample) -> K,
) -> Ordering {
    let list = &p.sample.thread_list;
    list.get(a).map(&value).cmp(&list.get(b).map(&value))
}

fn optional_cell(text: Option<String>) -> Cell {
    match text {
        Some(t) => Cell::normal(t),
        None => Cell::absent(),
    }
}

/// A display label of the process's cgroup, borrowed (sorting compares
/// these without allocating).
fn label(
    p: &ProcessView,
    pick: impl Fn(&crate::collect::catalog::CgroupInfo) -> &Option<String>,
) -> Option<&str> {
    pick(&p.cgroup.as_ref()?.info).as_deref()
}

/// The owning unit, unescaped for display (systemd writes '-' in names as
/// \x2d).
pub fn unit_name(p: &ProcessView) -> Option<String> {
    label(p, |i| &i.unit_label).map(str::to_owned)
}

/// The UNIT column's text in a display mode.
fn unit_shown(p: &ProcessView, display: UnitDisplay) -> Option<String> {
    match display {
        UnitDisplay::Unit => unit_name(p),
        UnitDisplay::Path => p
            .sample
            .cgroup
            .as_deref()
            .map(|c| display_safe(c.as_bytes())),
        UnitDisplay::Service => {
            let path = p.sample.cgroup.as_deref()?;
            let service = path
                .rsplit('/')
                .find(|c| c.ends_with(".service") && c.len() > 8)?;
            Some(crate::collect::units::unescape_unit(service))
        }
    }
}

pub fn slice_name(p: &ProcessView) -> Option<String> {
    label(p, |i| &i.slice_label).map(str::to_owned)
}

/// "runtime:name", or "runtime:short-id" when the name is not known.
pub fn container_text(p: &ProcessView) -> Option<String> {
    container_label(p).map(str::to_owned)
}

/// The CONTAINER column's text, borrowed.
pub fn container_label(p: &ProcessView) -> Option<&str> {
    label(p, |i| &i.container_label)
}

pub fn is_frozen(p: &ProcessView) -> bool {
    p.cgroup.as_ref().and_then(|c| c.frozen).unwrap_or(false)
}

/// What the UNIT column shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnitDisplay {
    /// The deepest .service only (scopes are sessions and containers).
    Service,
    /// The deepest .service or .scope.
    #[default]
    Unit,
    /// The whole cgroup path.
    Path,
}

impl UnitDisplay {
    pub fn next(self) -> UnitDisplay {
        match self {
            UnitDisplay::Service => UnitDisplay::Unit,
            UnitDisplay::Unit => UnitDisplay::Path,
            UnitDisplay::Path => UnitDisplay::Service,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            UnitDisplay::Service => "UNIT shows services only",
            UnitDisplay::Unit => "UNIT shows services and scopes",
            UnitDisplay::Path => "UNIT shows the cgroup path",
        }
    }
}

/// Order of two processes with equal values: pid, then start time (unique
/// within a sample).
pub fn compare_identity(a: &ProcessView, b: &ProcessView) -> Ordering {
    a.sample
        .pid
        .cmp(&b.sample.pid)
        .then(a.sample.start_time_ns.cmp(&b.sample.start_time_ns))
}

/// The command as shown (without tree prefix): argv joined by spaces, or
/// `[comm]` for kernel threads and empty command lines; a thread row shows
/// the thread's comm.
pub fn command_text(p: &ProcessView, thread: Option<usize>) -> String {
    match thread.and_then(|i| p.sample.thread_list.get(i)) {
        Some(t) => display_safe(&t.comm),
        None => display_safe(&command_bytes(p).collect::<Vec<u8>>()),
    }
}

/// The command as shown, with argv[0]'s directory left out (`/usr/bin/foo
/// -x` shows as `foo -x`). Only the part of argv[0] before its first space
/// counts: a title rewritten into argv[0] keeps the slashes of its text.
pub fn command_text_without_path(p: &ProcessView) -> String {
    let s = &p.sample;
    let Some(first) = s.cmdline.first().filter(|_| !s.kernel_thread) else {
        return command_text(p, None);
    };
    let program_end = first.iter().position(|b| *b == b' ').unwrap_or(first.len());
    let base = first[..program_end]
        .iter()
        .rposition(|b| *b == b'/')
        .map_or(0, |slash| slash + 1);
    if base == program_end {
        return command_text(p, None);
    }
    let mut bytes: Vec<u8> = first[base..].to_vec();
    for arg in &s.cmdline[1..] {
        bytes.push(b' ');
        bytes.extend_from_slice(arg);
    }
    display_safe(&bytes)
}

/// The command's raw bytes in display order, without allocating (sorting
/// compares these).
pub(super) fn command_bytes(p: &ProcessView) -> impl Iterator<Item = u8> + '_ {
    let s = &p.sample;
    let bracketed = s.kernel_thread || s.cmdline.is_empty();
    let comm = bracketed
        .then(|| b"[".iter().chain(s.comm.iter()).chain(b"]"))
        .into_iter()
        .flatten();
    let args = (!bracketed)
        .then(|| {
            s.cmdline
                .iter()
                .enumerate()
                .flat_map(|(i, a)| b" ".iter().take(usize::from(i > 0)).chain(a))
        })
        .into_iter()
        .flatten();
    comm.chain(args).copied()
}

fn cpu_percent(p: &ProcessView, thread: Option<usize>) -> f64 {
    match thread {
        Some(i) => p.thread_rates.get(i).map_or(0.0, |t| t.cpu_percent),
        None => p.cpu_percent,
    }
}

fn ctxt(p: &ProcessView) -> u64 {
    p.sample.nvcsw.saturating_add(p.sample.nivcsw)
}

/// `x` as a u64 in [`f64::total_cmp`]'s order: negative numbers have all
/// their bits flipped, the others only the sign bit.
fn float_key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// `x` as a u64 in the same order (the sign bit flipped).
fn signed_key(x: i32) -> u64 {
    (i64::from(x) as u64) ^ 1 << 63
}

/// Unreadable I/O sorts below every readable rate.
fn io_rate_key(p: &ProcessView, rate: f64) -> f64 {
    if p.sample.io.is_some() {
        rate
    } else {
        -1.0
    }
}

/// /proc's priority is -1 - rt_priority for real-time tasks; htop shows
/// the top of that range as "RT".
fn priority_text(priority: i32) -> String {
    if priority <= -100 {
        "RT".to_owned()
    } else {
        priority.to_string()
    }
}

fn nice_cell(nice: i32) -> Cell {
    let emphasis = match nice.cmp(&0) {
        Ordering::Less => Emphasis::Highlight,
        Ordering::Equal => Emphasis::Normal,
        Ordering::Greater => Emphasis::Dim,
    };
    Cell::new(nice.to_string(), emphasis)
}

/// Sizes of a GiB or more stand out; empty ones recede.
/// A figure of the process's smaps_rollup, None where it was not read
/// (read only for the selected process) or could not be.
fn rollup_of(p: &ProcessView, figure: fn(&SmapsRollup) -> u64) -> Option<u64> {
    p.sample.rollup.as_deref().map(figure)
}

fn rollup_cell(p: &ProcessView, figure: fn(&SmapsRollup) -> u64) -> Cell {
    rollup_of(p, figure).map_or_else(Cell::absent, size_cell)
}

fn size_cell(bytes: u64) -> Cell {
    let emphasis = if bytes >= GIB {
        Emphasis::Highlight
    } else if bytes == 0 {
        Emphasis::Dim
    } else {
        Emphasis::Normal
    };
    Cell::new(column_size(bytes), emphasis)
}

/// Running and uninterruptible (usually I/O) tasks, and zombies, stand out.
fn state_cell(state: char) -> Cell {
    let emphasis = match state {
        'R' | 'D' | 'Z' => Emphasis::Highlight,
        _ => Emphasis::Normal,
    };
    Cell::new(state.to_string(), emphasis)
}

/// One decimal up to 999.9, whole numbers above (keeps 5 columns up to
/// 99999 %); a value that prints as 0.0 is dimmed.
fn percent_cell(value: f64) -> Cell {
    let text = if value < 999.95 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    };
    let emphasis = if value < 0.05 {
        Emphasis::Dim
    } else {
        Emphasis::Normal
    };
    Cell::new(text, emphasis)
}

/// A share of memory in 4 characters: one decimal below 99.95 %, then
/// "100" (a share never passes it).
fn mem_percent_cell(value: f64) -> Cell {
    let mut cell = percent_cell(value);
    if value >= 99.95 {
        cell.text = "100".to_owned();
    }
    cell
}

/// An hour or more of CPU stands out (htop colours the hours too).
fn time_cell(ns: u64) -> Cell {
    const HOUR_NS: u64 = 3600 * 1_000_000_000;
    let emphasis = if ns >= HOUR_NS {
        Emphasis::Highlight
    } else if ns < 10_000_000 {
        Emphasis::Dim
    } else {
        Emphasis::Normal
    };
    Cell::new(time_plus(ns), emphasis)
}

fn command_cell(p: &ProcessView, thread: Option<&ThreadSample>, program_path: bool) -> Cell {
    let emphasis = if p.sample.kernel_thread {
        Emphasis::KernelThread
    } else if thread.is_some() {
        Emphasis::Thread
    } else {
        Emphasis::Normal
    };
    let text = match thread {
        Some(t) => display_safe(&t.comm),
        None if program_path => command_text(p, None),
        None => command_text_without_path(p),
    };
    Cell::new(text, emphasis)
}

fn tty_cell(tty_nr: u32) -> Cell {
    match tty_text(tty_nr) {
        Some(text) => Cell::normal(text),
        None => Cell::new("?".to_owned(), Emphasis::Dim),
    }
}

/// The terminal's name from /proc's tty_nr (new_encode_dev: minor in bits
/// 0–7 and 20–31, major in bits 8–19); None when there is no terminal.
fn tty_text(tty_nr: u32) -> Option<String> {
    if tty_nr == 0 {
        return None;
    }
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    Some(match major {
        136..=143 => format!("pts/{}", (major - 136) * 256 + minor),
        4 if minor < 64 => format!("tty{minor}"),
        _ => format!("{major}:{minor}"),
    })
}

/// A storage rate per second; "N/A" when the kernel did not let us read the
/// process's I/O counters.
fn rate_cell(p: &ProcessView, rate: f64) -> Cell {
    if p.sample.io.is_none() {
        return Cell::new("N/A".to_owned(), Emphasis::Dim);
    }
    bytes_rate_cell(rate)
}

/// Bytes per second; a MiB/s or more stands out.
fn bytes_rate_cell(rate: f64) -> Cell {
    let emphasis = if rate >= MIB {
        Emphasis::Highlight
    } else if rate < 1.0 {
        Emphasis::Dim
    } else {
        Emphasis::Normal
    };
    Cell::new(rate_per_second(rate), emphasis)
}

/// Counters in full up to nine digits, then in millions.
fn count_cell(n: u64) -> Cell {
    let text = if n <= COUNT_DIGITS_MAX {
        n.to_string()
    } else {
        format!("{}M", n / 1_000_000)
    };
    let emphasis = if n == 0 {
        Emphasis::Dim
    } else {
        Emphasis::Normal
    };
    Cell::new(text, emphasis)
}

/// Broken-down local time, as START needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LocalTime {
    month: usize,
    day: i32,
    hour: i32,
    minute: i32,
}

/// START: "HH:MM" for a process started within the last 24 hours,
/// "MonDD" (e.g. "Nov25") before that; local time.
fn start_text(start_time_ns: u64, ctx: &CellContext) -> String {
    let start = ctx.boot_unix_time + start_time_ns as f64 / 1e9;
    let recent = ctx.now_unix_time - start < 86_400.0;
    match local_time(start.floor() as i64) {
        Some(t) => format_start(t, recent),
        None => "?".to_owned(),
    }
}

fn format_start(t: LocalTime, recent: bool) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    if recent {
        format!("{:02}:{:02}", t.hour, t.minute)
    } else {
        let month = MONTHS.get(t.month).copied().unwrap_or("???");
        format!("{month}{:02}", t.day)
    }
}

/// The local time of a Unix time, from the C library (which knows the time
/// zone rules).
fn local_time(unix: i64) -> Option<LocalTime> {
    // time_t is narrower than i64 on some 32-bit targets.
    #[allow(clippy::useless_conversion)]
    let time: libc::time_t = unix.try_into().ok()?;
    // SAFETY: an all-zero `tm` is a valid value (integers and a null
    // pointer); localtime_r writes only into the `tm` we pass and returns
    // null on failure.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&time, &mut tm).is_null() };
    ok.then(|| LocalTime {
        month: usize::try_from(tm.tm_mon).unwrap_or(usize::MAX),
        day: tm.tm_mday,
        hour: tm.tm_hour,
        minute: tm.tm_min,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::model::testing::demo_model;
    use crate::ui::text::width;

    #[test]
    fn sort_keys_order_as_compare_value_does() {
        let floats = [
            f64::NEG_INFINITY,
            -1.5,
            -1.0,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            1.0,
            1e300,
            f64::INFINITY,
            f64::NAN,
            -f64::NAN,
        ];
        for x in floats {
            for y in floats {
                assert_eq!(float_key(x).cmp(&float_key(y)), x.total_cmp(&y), "{x} {y}");
            }
        }
        let ints = [i32::MIN, -101, -1, 0, 1, 19, i32::MAX];
        for x in ints {
            for y in ints {
                assert_eq!(signed_key(x).cmp(&signed_key(y)), x.cmp(&y));
            }
        }
        // Every keyed column, over every pair of the demo's processes, some
        // with their values varied (negative, unreadable, frozen).
        let mut m = demo_model();
        for (k, p) in m.processes.iter_mut().enumerate() {
            if k % 3 == 0 {
                p.sample.nice = -(k as i32);
                p.sample.priority = -100 - k as i32;
                p.sample.io = None;
                p.cpu_percent = k as f64 * 0.5;
            }
            if k % 4 == 1 {
                p.sample.state = 'D';
                p.mem_percent = 0.0;
                if let Some(c) = p.cgroup.as_mut() {
                    std::sync::Arc::make_mut(c).frozen = Some(true);
                }
            }
        }
        let mut keyed = 0;
        for &column in Column::ALL {
            let Some(key) = column.sort_key() else {
                continue;
            };
            keyed += 1;
            for a in &m.processes {
                for b in &m.processes {
                    assert_eq!(
                        key(a).cmp(&key(b)),
                        column.compare_value(a, b),
                        "{column:?} pids {} {}",
                        a.sample.pid,
                        b.sample.pid
                    );
                }
            }
        }
        assert!(keyed >= 20);
    }

    fn by_pid(m: &Model, pid: u32) -> &ProcessView {
        m.processes.iter().find(|p| p.sample.pid == pid).unwrap()
    }

    fn ctx() -> CellContext {
        CellContext {
            boot_unix_time: 1_000_000.0,
            now_unix_time: 1_000_000.0 + 3.0 * 86_400.0,
            unit_display: UnitDisplay::default(),
            gpu_on: true,
            program_path: true,
            exits_interval_s: None,
        }
    }

    #[test]
    fn without_program_path_argv0_shows_its_base_name_only() {
        let mut m = demo_model();
        let short = CellContext {
            program_path: false,
            ..ctx()
        };
        let cron = by_pid(&m, 700);
        assert_eq!(
            Column::Command.text(cron, None, &ctx()).text,
            "/usr/sbin/cron -f"
        );
        assert_eq!(Column::Command.text(cron, None, &short).text, "cron -f");
        let kthreadd = by_pid(&m, 2);
        assert_eq!(
            Column::Command.text(kthreadd, None, &short).text,
            "[kthreadd]"
        );
        let retitled = m
            .processes
            .iter_mut()
            .find(|p| p.sample.pid == 700)
            .unwrap();
        retitled.sample.cmdline = vec![b"worker: /srv/a -> /srv/b".to_vec()].into();
        let retitled = by_pid(&m, 700);
        assert_eq!(
            Column::Command.text(retitled, None, &short).text,
            "worker: /srv/a -> /srv/b"
        );
    }

    #[test]
    fn ids_round_trip_case_insensitively() {
        let ids: HashSet<&str> = Column::ALL.iter().map(|c| c.id()).collect();
        assert_eq!(ids.len(), Column::ALL.len());
        for &c in Column::ALL {
            assert_eq!(Column::from_id(c.id()), Some(c));
            assert_eq!(Column::from_id(&c.id().to_lowercase()), Some(c));
        }
        assert_eq!(Column::from_id("cpu%"), Some(Column::CpuPercent));
        assert_eq!(
            Column::from_id("PROCESSOR"),
            Some(Column::named("PROCESSOR"))
        );
        assert_eq!(Column::from_id("nope"), None);
    }

    #[test]
    fn titles_fit_their_columns() {
        for &c in Column::ALL {
            assert!(!c.description().is_empty());
            if c.width() > 0 {
                assert!(width(c.title()) <= usize::from(c.width()), "{c:?}");
            }
        }
        assert_eq!(Column::named("PROCESSOR").title(), "CPU");
        assert_eq!(Column::named("IO_WRITE_RATE").title(), "DISK W/s");
        let flexible: Vec<Column> = Column::ALL
            .iter()
            .copied()
            .filter(|c| c.width() == 0)
            .collect();
        assert_eq!(flexible, vec![Column::Command, Column::named("CGROUP")]);
        assert_eq!(Column::DEFAULT.last(), Some(&Column::Command));
        assert_eq!(Column::DEFAULT.len(), 12);
    }

    #[test]
    fn usage_columns_descend_first() {
        assert!(Column::CpuPercent.default_descending());
        assert!(Column::named("RES").default_descending());
        assert!(Column::named("CTXT").default_descending());
        assert!(!Column::Pid.default_descending());
        assert!(!Column::Command.default_descending());
        assert!(!Column::named("USER").default_descending());
    }

    #[test]
    fn every_fixed_cell_of_the_demo_fits_its_width() {
        let m = demo_model();
        for p in &m.processes {
            for &c in Column::ALL {
                let cell = c.text(p, None, &ctx());
                if c.width() > 0 {
                    assert!(
                        width(&cell.text) <= usize::from(c.width()),
                        "{c:?} {:?}",
                        cell.text
                    );
                }
                assert!(!cell.text.chars().any(char::is_control), "{:?}", cell.text);
            }
        }
    }

    #[test]
    fn command_is_argv_or_bracketed_comm() {
        let m = demo_model();
        let vim = by_pid(&m, 1300);
        assert_eq!(
            Column::Command.text(vim, None, &ctx()).text,
            "vim notes.txt"
        );
        let kthreadd = Column::Command.text(by_pid(&m, 2), None, &ctx());
        assert_eq!(kthreadd.text, "[kthreadd]");
        assert_eq!(kthreadd.emphasis, Emphasis::KernelThread);
        let zombie = Column::Command.text(by_pid(&m, 1600), None, &ctx());
        assert_eq!(zombie.text, "[defunct-job]");
        assert_eq!(zombie.emphasis, Emphasis::Normal);
    }

    #[test]
    fn hostile_names_are_neutralised() {
        let m = demo_model();
        let evil = by_pid(&m, 1500);
        let cmd = Column::Command.text(evil, None, &ctx()).text;
        assert_eq!(cmd, "./?]0;pwned?名前 --opt=\u{fffd}\u{fffd}");
        assert_eq!(command_text(evil, None), cmd);
    }

    #[test]
    fn thread_rows_show_the_threads_values() {
        let m = demo_model();
        let java = by_pid(&m, 900);
        let c = ctx();
        let cell = |col: Column, t| col.text(java, t, &c).text;
        assert_eq!(cell(Column::Pid, Some(1)), "901");
        assert_eq!(cell(Column::Pid, None), "900");
        assert_eq!(cell(Column::named("S"), Some(1)), "R");
        assert_eq!(cell(Column::named("S"), None), "S");
        assert_eq!(cell(Column::CpuPercent, Some(1)), "50.0");
        assert_eq!(cell(Column::CpuPercent, None), "100.0");
        assert_eq!(cell(Column::named("PROCESSOR"), Some(2)), "1");
        assert_eq!(cell(Column::Command, Some(2)), "C2 CompilerThre");
        assert_eq!(
            Column::Command.text(java, Some(2), &c).emphasis,
            Emphasis::Thread
        );
        // Process-wide values stay the process's.
        assert_eq!(
            cell(Column::named("RES"), Some(1)),
            cell(Column::named("RES"), None)
        );
        assert_eq!(cell(Column::named("USER"), Some(1)), "www-data");
        // An index past the list falls back to the process.
        assert_eq!(cell(Column::Pid, Some(99)), "900");
        assert_eq!(cell(Column::CpuPercent, Some(99)), "0.0");
    }

    #[test]
    fn thread_time_is_the_threads_own() {
        let m = demo_model();
        let java = by_pid(&m, 900);
        let t = &java.sample.thread_list[1];
        assert_eq!(
            Column::Time.text(java, Some(1), &ctx()).text,
            time_plus(t.cpu_time_ns)
        );
        assert_ne!(t.cpu_time_ns, java.sample.cpu_time_ns());
    }

    #[test]
    fn emphasis_follows_the_values() {
        assert_eq!(size_cell(GIB).emphasis, Emphasis::Highlight);
        assert_eq!(size_cell(GIB - 1).emphasis, Emphasis::Normal);
        assert_eq!(size_cell(0).emphasis, Emphasis::Dim);
        assert_eq!(percent_cell(0.0).emphasis, Emphasis::Dim);
        assert_eq!(percent_cell(0.1).emphasis, Emphasis::Normal);
        assert_eq!(state_cell('R').emphasis, Emphasis::Highlight);
        assert_eq!(state_cell('S').emphasis, Emphasis::Normal);
        assert_eq!(nice_cell(-5).emphasis, Emphasis::Highlight);
        assert_eq!(nice_cell(7).emphasis, Emphasis::Dim);
        assert_eq!(
            time_cell(3600 * 1_000_000_000).emphasis,
            Emphasis::Highlight
        );
        assert_eq!(count_cell(0).emphasis, Emphasis::Dim);
    }

    #[test]
    fn numbers_read_like_htop() {
        assert_eq!(percent_cell(12.345).text, "12.3");
        assert_eq!(percent_cell(400.0).text, "400.0");
        assert_eq!(percent_cell(1234.5).text, "1234");
        assert_eq!(priority_text(20), "20");
        assert_eq!(priority_text(-51), "-51");
        assert_eq!(priority_text(-100), "RT");
        assert_eq!(count_cell(123_456_789).text, "123456789");
        assert_eq!(count_cell(12_345_678_901).text, "12345M");
    }

    #[test]
    fn ttys_are_named_like_ps() {
        let dev = |major: u32, minor: u32| (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12);
        assert_eq!(tty_text(0), None);
        assert_eq!(tty_text(dev(136, 3)).as_deref(), Some("pts/3"));
        assert_eq!(tty_text(dev(137, 2)).as_deref(), Some("pts/258"));
        assert_eq!(tty_text(dev(136, 300)).as_deref(), Some("pts/300"));
        assert_eq!(tty_text(dev(4, 1)).as_deref(), Some("tty1"));
        assert_eq!(tty_text(dev(4, 64)).as_deref(), Some("4:64"));
        assert_eq!(tty_text(dev(5, 1)).as_deref(), Some("5:1"));
        assert_eq!(tty_cell(0).text, "?");
    }

    #[test]
    fn ctxt_and_rates() {
        let m = demo_model();
        let top = by_pid(&m, 1301);
        let s = &top.sample;
        assert_eq!(
            Column::named("CTXT").text(top, None, &ctx()).text,
            (s.nvcsw + s.nivcsw).to_string()
        );
        assert_eq!(
            Column::named("IO_READ_RATE").text(top, None, &ctx()).text,
            "64K/s"
        );
        let sshd = by_pid(&m, 400);
        let na = Column::named("IO_READ_RATE").text(sshd, None, &ctx());
        assert_eq!((na.text.as_str(), na.emphasis), ("N/A", Emphasis::Dim));
    }

    #[test]
    fn start_is_clock_time_today_and_date_before() {
        let t = LocalTime {
            month: 10,
            day: 5,
            hour: 7,
            minute: 3,
        };
        assert_eq!(format_start(t, true), "07:03");
        assert_eq!(format_start(t, false), "Nov05");
        let c = ctx();
        // Started an hour ago: HH:MM; two days ago: MonDD.
        let recent = start_text((3 * 86_400 - 3600) * 1_000_000_000, &c);
        assert_eq!(recent.len(), 5);
        assert_eq!(recent.as_bytes()[2], b':');
        let old = start_text(86_400 * 1_000_000_000, &c);
        assert_eq!(old.len(), 5);
        assert!(old[..3].chars().all(|ch| ch.is_ascii_alphabetic()), "{old}");
        assert!(old[3..].chars().all(|ch| ch.is_ascii_digit()), "{old}");
    }

    #[test]
    fn local_time_matches_the_minutes_of_the_epoch() {
        // Time zones shift hours (and some by 30 or 45 minutes), never the
        // minute within a quarter hour.
        let t = local_time(7 * 60).unwrap();
        assert_eq!(t.minute % 15, 7);
    }

    #[test]
    fn compare_is_a_total_order_with_pid_ties() {
        let m = demo_model();
        for &c in Column::ALL {
            for a in &m.processes {
                assert_eq!(c.compare(a, a), Ordering::Equal);
                for b in &m.processes {
                    assert_eq!(c.compare(a, b), c.compare(b, a).reverse(), "{c:?}");
                    if a.sample.pid != b.sample.pid {
                        assert_ne!(c.compare(a, b), Ordering::Equal);
                    }
                }
            }
        }
        // Equal CPU% (both 0) falls back to pid.
        let (one, two) = (by_pid(&m, 1), by_pid(&m, 2));
        assert_eq!(Column::CpuPercent.compare(one, two), Ordering::Less);
        assert_eq!(
            Column::CpuPercent.compare(by_pid(&m, 900), one),
            Ordering::Greater
        );
    }

    #[test]
    fn command_order_is_the_displayed_order() {
        let m = demo_model();
        for a in &m.processes {
            for b in &m.processes {
                let (ta, tb) = (command_text(a, None), command_text(b, None));
                if ta.is_ascii() && tb.is_ascii() && ta != tb {
                    assert_eq!(Column::Command.compare(a, b), ta.cmp(&tb), "{ta} {tb}");
                }
            }
        }
    }

    #[test]
    fn threads_compare_by_their_own_values() {
        let m = demo_model();
        let java = by_pid(&m, 900);
        // Leader idle (0 %), the two others 50 % each.
        let cpu = |a, b| Column::CpuPercent.compare_thread_value(java, a, b);
        assert_eq!(cpu(0, 1), Ordering::Less);
        assert_eq!(cpu(1, 2), Ordering::Equal);
        let time = |a, b| Column::Time.compare_thread_value(java, a, b);
        assert_eq!(time(2, 1), Ordering::Greater);
        // Process-wide columns do not order threads; nor do bad indices.
        assert_eq!(
            Column::named("RES").compare_thread_value(java, 0, 2),
            Ordering::Equal
        );
        assert_eq!(
            Column::Time.compare_thread_value(java, 0, 9),
            Ordering::Equal
        );
    }
}
