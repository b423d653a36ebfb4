//! The process table's columns: names, widths, sort order and cell text.
//! Cells are formatted on demand, only for the rows on screen.

mod gpu;
mod net;

use std::cmp::Ordering;

use super::text::display_safe;
use crate::collect::sample::ThreadSample;
use crate::model::{Model, ProcessView};
use crate::output::text::{human_bytes, time_plus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Pid,
    Ppid,
    User,
    Priority,
    Nice,
    Virt,
    Res,
    Shr,
    State,
    CpuPercent,
    MemPercent,
    Time,
    Command,
    Start,
    Nlwp,
    Processor,
    Tty,
    IoReadRate,
    IoWriteRate,
    Minflt,
    Majflt,
    Ctxt,
    Cgroup,
    Unit,
    Slice,
    Container,
    Frozen,
    NetRxRate,
    NetTxRate,
    NetRate,
    NetTotal,
    NetIface,
    GpuPercent,
    GpuMem,
    GpuIndex,
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
        }
    }
}

const GIB: u64 = 1 << 30;
const MIB: f64 = (1 << 20) as f64;
/// Counters up to this many digits are printed in full.
const COUNT_DIGITS_MAX: u64 = 999_999_999;

impl Column {
    pub const ALL: &'static [Column] = &[
        Column::Pid,
        Column::Ppid,
        Column::User,
        Column::Priority,
        Column::Nice,
        Column::Virt,
        Column::Res,
        Column::Shr,
        Column::State,
        Column::CpuPercent,
        Column::MemPercent,
        Column::Time,
        Column::Command,
        Column::Start,
        Column::Nlwp,
        Column::Processor,
        Column::Tty,
        Column::IoReadRate,
        Column::IoWriteRate,
        Column::Minflt,
        Column::Majflt,
        Column::Ctxt,
        Column::Cgroup,
        Column::Unit,
        Column::Slice,
        Column::Container,
        Column::Frozen,
        Column::NetRxRate,
        Column::NetTxRate,
        Column::NetRate,
        Column::NetTotal,
        Column::NetIface,
        Column::GpuPercent,
        Column::GpuMem,
        Column::GpuIndex,
    ];

    /// htop's default set.
    pub const DEFAULT: &'static [Column] = &[
        Column::Pid,
        Column::User,
        Column::Priority,
        Column::Nice,
        Column::Virt,
        Column::Res,
        Column::Shr,
        Column::State,
        Column::CpuPercent,
        Column::MemPercent,
        Column::Time,
        Column::Command,
    ];

    /// Name in the configuration file.
    pub fn id(self) -> &'static str {
        match self {
            Column::Pid => "PID",
            Column::Ppid => "PPID",
            Column::User => "USER",
            Column::Priority => "PRI",
            Column::Nice => "NI",
            Column::Virt => "VIRT",
            Column::Res => "RES",
            Column::Shr => "SHR",
            Column::State => "S",
            Column::CpuPercent => "CPU%",
            Column::MemPercent => "MEM%",
            Column::Time => "TIME+",
            Column::Command => "Command",
            Column::Start => "START",
            Column::Nlwp => "NLWP",
            Column::Processor => "PROCESSOR",
            Column::Tty => "TTY",
            Column::IoReadRate => "IO_READ_RATE",
            Column::IoWriteRate => "IO_WRITE_RATE",
            Column::Minflt => "MINFLT",
            Column::Majflt => "MAJFLT",
            Column::Ctxt => "CTXT",
            Column::Cgroup => "CGROUP",
            Column::Unit => "UNIT",
            Column::Slice => "SLICE",
            Column::Container => "CONTAINER",
            Column::Frozen => "FROZEN",
            Column::NetRxRate => "NET_RX_RATE",
            Column::NetTxRate => "NET_TX_RATE",
            Column::NetRate => "NET_RATE",
            Column::NetTotal => "NET_TOTAL",
            Column::NetIface => "IFACE",
            Column::GpuPercent => "GPU_PERCENT",
            Column::GpuMem => "GPU_MEM",
            Column::GpuIndex => "GPU_INDEX",
        }
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
        match self {
            Column::Processor => "CPU",
            Column::IoReadRate => "DISK R/s",
            Column::IoWriteRate => "DISK W/s",
            Column::NetRxRate => "NET_RX/s",
            Column::NetTxRate => "NET_TX/s",
            Column::NetRate => "NET/s",
            Column::NetTotal => "NET_TOT",
            Column::GpuPercent => "GPU%",
            Column::GpuMem => "GMEM",
            Column::GpuIndex => "GPU",
            other => other.id(),
        }
    }

    /// One line for the setup screen.
    pub fn description(self) -> &'static str {
        match self {
            Column::Pid => "Process ID (thread ID on thread rows)",
            Column::Ppid => "Parent process ID",
            Column::User => "Owner of the process (real user)",
            Column::Priority => "Kernel scheduling priority (RT for real-time)",
            Column::Nice => "Nice value (-20 highest priority, 19 lowest)",
            Column::Virt => "Virtual memory size",
            Column::Res => "Resident memory: file, anonymous and shared pages",
            Column::Shr => "Shared resident memory: file and shmem pages",
            Column::State => {
                "State: R running, S sleeping, D disk wait, Z zombie, T stopped, I idle"
            }
            Column::CpuPercent => "CPU usage over the last interval (100% = one core)",
            Column::MemPercent => "Resident memory as a share of total memory",
            Column::Time => "Total CPU time, minutes:seconds.hundredths",
            Column::Command => "Command line (kernel threads in brackets)",
            Column::Start => "Start time: hour:minute today, month and day before",
            Column::Nlwp => "Number of threads",
            Column::Processor => "CPU the process last ran on",
            Column::Tty => "Controlling terminal",
            Column::IoReadRate => "Bytes read from storage per second",
            Column::IoWriteRate => "Bytes written to storage per second",
            Column::Minflt => "Minor page faults (no disk access)",
            Column::Majflt => "Major page faults (read from disk)",
            Column::Ctxt => "Context switches, voluntary plus involuntary",
            Column::Cgroup => "Control group (cgroup v2 path)",
            Column::Unit => "systemd unit owning the process (deepest .service or .scope)",
            Column::Slice => "systemd slice the process runs in",
            Column::Container => "Container: runtime and name or short id",
            Column::Frozen => "* when the process's cgroup is frozen (cgroup v2 freezer)",
            Column::NetRxRate => "Socket bytes received per second",
            Column::NetTxRate => "Socket bytes sent per second",
            Column::NetRate => "Socket bytes received and sent per second",
            Column::NetTotal => "Socket bytes received and sent since bpftop started",
            Column::NetIface => "Interface of the last send over a routed socket",
            Column::GpuPercent => "GPU busy over the last interval, all GPUs (100% = one GPU)",
            Column::GpuMem => "GPU memory the process holds, on all its GPUs",
            Column::GpuIndex => "GPUs the process uses (numbered as in the GPU meter)",
        }
    }

    /// Width in columns, excluding the gap the renderer puts between
    /// columns. 0: flexible, shares the width left over (Command, Cgroup).
    pub fn width(self) -> u16 {
        match self {
            Column::Pid | Column::Ppid => 7,
            Column::User => 9,
            Column::Priority | Column::Nice | Column::Processor => 3,
            Column::Virt | Column::Res | Column::Shr => 6,
            Column::State => 1,
            Column::CpuPercent | Column::MemPercent | Column::Start => 5,
            Column::GpuPercent => 5,
            Column::GpuMem => 6,
            Column::GpuIndex => gpu::INDEX_WIDTH,
            Column::Time | Column::Minflt | Column::Majflt | Column::Ctxt => 9,
            Column::Nlwp => 4,
            Column::Tty | Column::IoReadRate | Column::IoWriteRate => 8,
            Column::NetRxRate | Column::NetTxRate | Column::NetRate => 8,
            // Room for the sort marker after the title.
            Column::NetTotal => 8,
            Column::NetIface => 10,
            Column::Unit => 24,
            Column::Slice => 16,
            Column::Container => 22,
            Column::Frozen => 6,
            Column::Command | Column::Cgroup => 0,
        }
    }

    /// Numbers are right-aligned, text left-aligned.
    pub fn align_right(self) -> bool {
        !matches!(
            self,
            Column::User
                | Column::State
                | Column::Command
                | Column::Start
                | Column::Tty
                | Column::Cgroup
                | Column::Unit
                | Column::Slice
                | Column::Container
                | Column::Frozen
                | Column::NetIface
                | Column::GpuIndex
        )
    }

    /// Whether the first sort on this column puts the largest first (as
    /// htop does for usage figures).
    pub fn default_descending(self) -> bool {
        matches!(
            self,
            Column::CpuPercent
                | Column::MemPercent
                | Column::Time
                | Column::Virt
                | Column::Res
                | Column::Shr
                | Column::Nlwp
                | Column::IoReadRate
                | Column::IoWriteRate
                | Column::Minflt
                | Column::Majflt
                | Column::Ctxt
                | Column::NetRxRate
                | Column::NetTxRate
                | Column::NetRate
                | Column::NetTotal
                | Column::GpuPercent
                | Column::GpuMem
        )
    }

    /// Ascending order of processes by this column; a total order (ties by
    /// pid, then start time).
    pub fn compare(self, a: &ProcessView, b: &ProcessView) -> Ordering {
        self.compare_value(a, b).then(compare_identity(a, b))
    }

    /// Ascending order of the values alone (Equal on ties).
    pub fn compare_value(self, a: &ProcessView, b: &ProcessView) -> Ordering {
        let (x, y) = (&a.sample, &b.sample);
        match self {
            Column::Pid => x.pid.cmp(&y.pid),
            Column::Ppid => x.ppid.cmp(&y.ppid),
            Column::User => a.user.cmp(&b.user).then(x.uid.cmp(&y.uid)),
            Column::Priority => x.priority.cmp(&y.priority),
            Column::Nice => x.nice.cmp(&y.nice),
            Column::Virt => x.virt_bytes.cmp(&y.virt_bytes),
            Column::Res => x.rss_bytes.cmp(&y.rss_bytes),
            Column::Shr => x.shared_bytes.cmp(&y.shared_bytes),
            Column::State => x.state.cmp(&y.state),
            Column::CpuPercent => a.cpu_percent.total_cmp(&b.cpu_percent),
            Column::MemPercent => a.mem_percent.total_cmp(&b.mem_percent),
            Column::Time => x.cpu_time_ns().cmp(&y.cpu_time_ns()),
            Column::Command => command_bytes(a).cmp(command_bytes(b)),
            Column::Start => x.start_time_ns.cmp(&y.start_time_ns),
            Column::Nlwp => x.threads.cmp(&y.threads),
            Column::Processor => x.processor.cmp(&y.processor),
            Column::Tty => x.tty_nr.cmp(&y.tty_nr),
            Column::IoReadRate => {
                io_rate_key(a, a.io_read_rate).total_cmp(&io_rate_key(b, b.io_read_rate))
            }
            Column::IoWriteRate => {
                io_rate_key(a, a.io_write_rate).total_cmp(&io_rate_key(b, b.io_write_rate))
            }
            Column::Minflt => x.minflt.cmp(&y.minflt),
            Column::Majflt => x.majflt.cmp(&y.majflt),
            Column::Ctxt => ctxt(a).cmp(&ctxt(b)),
            Column::Cgroup => x.cgroup.cmp(&y.cgroup),
            Column::Unit => label(a, |i| &i.unit_label).cmp(&label(b, |i| &i.unit_label)),
            Column::Slice => label(a, |i| &i.slice_label).cmp(&label(b, |i| &i.slice_label)),
            Column::Container => {
                label(a, |i| &i.container_label).cmp(&label(b, |i| &i.container_label))
            }
            Column::Frozen => is_frozen(a).cmp(&is_frozen(b)),
            Column::NetRxRate
            | Column::NetTxRate
            | Column::NetRate
            | Column::NetTotal
            | Column::NetIface => net::compare_value(self, a, b),
            Column::GpuPercent | Column::GpuMem | Column::GpuIndex => {
                gpu::compare_value(self, a, b)
            }
        }
    }

    /// For the columns whose value is one number: that number as a u64
    /// whose ascending order is exactly [`Column::compare_value`]'s (equal
    /// keys where it says Equal), so a sort can compare precomputed keys
    /// instead of reaching into every process at each comparison. None for
    /// the other columns.
    pub fn sort_key(self) -> Option<fn(&ProcessView) -> u64> {
        let key: fn(&ProcessView) -> u64 = match self {
            Column::Pid => |p| u64::from(p.sample.pid),
            Column::Ppid => |p| u64::from(p.sample.ppid),
            Column::Priority => |p| signed_key(p.sample.priority),
            Column::Nice => |p| signed_key(p.sample.nice),
            Column::Virt => |p| p.sample.virt_bytes,
            Column::Res => |p| p.sample.rss_bytes,
            Column::Shr => |p| p.sample.shared_bytes,
            Column::State => |p| u64::from(u32::from(p.sample.state)),
            Column::CpuPercent => |p| float_key(p.cpu_percent),
            Column::MemPercent => |p| float_key(p.mem_percent),
            Column::Time => |p| p.sample.cpu_time_ns(),
            Column::Start => |p| p.sample.start_time_ns,
            Column::Nlwp => |p| u64::from(p.sample.threads),
            Column::Processor => |p| u64::from(p.sample.processor),
            Column::Tty => |p| u64::from(p.sample.tty_nr),
            Column::IoReadRate => |p| float_key(io_rate_key(p, p.io_read_rate)),
            Column::IoWriteRate => |p| float_key(io_rate_key(p, p.io_write_rate)),
            Column::Minflt => |p| p.sample.minflt,
            Column::Majflt => |p| p.sample.majflt,
            Column::Ctxt => ctxt,
            Column::Frozen => |p| u64::from(is_frozen(p)),
            Column::User
            | Column::Command
            | Column::Cgroup
            | Column::Unit
            | Column::Slice
            | Column::Container
            | Column::NetRxRate
            | Column::NetTxRate
            | Column::NetRate
            | Column::NetTotal
            | Column::NetIface
            | Column::GpuPercent
            | Column::GpuMem
            | Column::GpuIndex => return None,
        };
        Some(key)
    }

    /// Ascending order of two threads (indices into `p.sample.thread_list`)
    /// by this column where threads have their own value; Equal otherwise
    /// (and for indices out of range).
    pub fn compare_thread_value(self, p: &ProcessView, a: usize, b: usize) -> Ordering {
        let list = &p.sample.thread_list;
        let (Some(x), Some(y)) = (list.get(a), list.get(b)) else {
            return Ordering::Equal;
        };
        let cpu = |i: usize| p.thread_cpu_percent.get(i).copied().unwrap_or(0.0);
        match self {
            Column::State => x.state.cmp(&y.state),
            Column::CpuPercent => cpu(a).total_cmp(&cpu(b)),
            Column::Time => x.cpu_time_ns.cmp(&y.cpu_time_ns),
            Column::Processor => x.processor.cmp(&y.processor),
            Column::Command => x.comm.cmp(&y.comm),
            _ => Ordering::Equal,
        }
    }

    /// The cell of process `p`, or of its thread `thread` (index into
    /// `p.sample.thread_list`) on a thread row.
    pub fn text(self, p: &ProcessView, thread: Option<usize>, ctx: &CellContext) -> Cell {
        let t = thread.and_then(|i| p.sample.thread_list.get(i));
        let s = &p.sample;
        match self {
            Column::Pid => Cell::normal(t.map_or(s.pid, |t| t.tid).to_string()),
            Column::Ppid => Cell::normal(s.ppid.to_string()),
            Column::User => Cell::normal(display_safe(p.user.as_bytes())),
            Column::Priority => Cell::normal(priority_text(s.priority)),
            Column::Nice => nice_cell(s.nice),
            Column::Virt => size_cell(s.virt_bytes),
            Column::Res => size_cell(s.rss_bytes),
            Column::Shr => size_cell(s.shared_bytes),
            Column::State => state_cell(t.map_or(s.state, |t| t.state)),
            Column::CpuPercent => percent_cell(cpu_percent(p, thread)),
            Column::MemPercent => percent_cell(p.mem_percent),
            Column::Time => time_cell(t.map_or(s.cpu_time_ns(), |t| t.cpu_time_ns)),
            Column::Command => command_cell(p, t),
            Column::Start => Cell::normal(start_text(s.start_time_ns, ctx)),
            Column::Nlwp => Cell::normal(s.threads.to_string()),
            Column::Processor => Cell::normal(t.map_or(s.processor, |t| t.processor).to_string()),
            Column::Tty => tty_cell(s.tty_nr),
            Column::IoReadRate => rate_cell(p, p.io_read_rate),
            Column::IoWriteRate => rate_cell(p, p.io_write_rate),
            Column::Minflt => count_cell(s.minflt),
            Column::Majflt => count_cell(s.majflt),
            Column::Ctxt => count_cell(ctxt(p)),
            Column::Cgroup => match &s.cgroup {
                Some(path) => Cell::normal(display_safe(path.as_bytes())),
                None => Cell::new("N/A".to_owned(), Emphasis::Dim),
            },
            Column::Unit => optional_cell(unit_shown(p, ctx.unit_display)),
            Column::Slice => optional_cell(slice_name(p)),
            Column::Container => optional_cell(container_text(p)),
            Column::Frozen => match is_frozen(p) {
                true => Cell::new("*".to_owned(), Emphasis::Highlight),
                false => Cell::new(String::new(), Emphasis::Normal),
            },
            Column::NetRxRate
            | Column::NetTxRate
            | Column::NetRate
            | Column::NetTotal
            | Column::NetIface => net::cell(self, p),
            Column::GpuPercent | Column::GpuMem | Column::GpuIndex => gpu::cell(self, p, ctx),
        }
    }
}

fn optional_cell(text: Option<String>) -> Cell {
    match text {
        Some(t) => Cell::normal(t),
        None => Cell::new("-".to_owned(), Emphasis::Dim),
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
        Some(i) => p.thread_cpu_percent.get(i).copied().unwrap_or(0.0),
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
fn size_cell(bytes: u64) -> Cell {
    let emphasis = if bytes >= GIB {
        Emphasis::Highlight
    } else if bytes == 0 {
        Emphasis::Dim
    } else {
        Emphasis::Normal
    };
    Cell::new(human_bytes(bytes), emphasis)
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

fn command_cell(p: &ProcessView, thread: Option<&ThreadSample>) -> Cell {
    let emphasis = if p.sample.kernel_thread {
        Emphasis::KernelThread
    } else if thread.is_some() {
        Emphasis::Thread
    } else {
        Emphasis::Normal
    };
    let text = match thread {
        Some(t) => display_safe(&t.comm),
        None => command_text(p, None),
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
    Cell::new(human_bytes(rate.max(0.0).round() as u64), emphasis)
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
                    c.frozen = Some(true);
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
        }
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
        assert_eq!(Column::from_id("PROCESSOR"), Some(Column::Processor));
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
        assert_eq!(Column::Processor.title(), "CPU");
        assert_eq!(Column::IoWriteRate.title(), "DISK W/s");
        let flexible: Vec<Column> = Column::ALL
            .iter()
            .copied()
            .filter(|c| c.width() == 0)
            .collect();
        assert_eq!(flexible, vec![Column::Command, Column::Cgroup]);
        assert_eq!(Column::DEFAULT.last(), Some(&Column::Command));
        assert_eq!(Column::DEFAULT.len(), 12);
    }

    #[test]
    fn usage_columns_descend_first() {
        assert!(Column::CpuPercent.default_descending());
        assert!(Column::Res.default_descending());
        assert!(Column::Ctxt.default_descending());
        assert!(!Column::Pid.default_descending());
        assert!(!Column::Command.default_descending());
        assert!(!Column::User.default_descending());
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
        assert_eq!(cell(Column::State, Some(1)), "R");
        assert_eq!(cell(Column::State, None), "S");
        assert_eq!(cell(Column::CpuPercent, Some(1)), "50.0");
        assert_eq!(cell(Column::CpuPercent, None), "100.0");
        assert_eq!(cell(Column::Processor, Some(2)), "1");
        assert_eq!(cell(Column::Command, Some(2)), "C2 CompilerThre");
        assert_eq!(
            Column::Command.text(java, Some(2), &c).emphasis,
            Emphasis::Thread
        );
        // Process-wide values stay the process's.
        assert_eq!(cell(Column::Res, Some(1)), cell(Column::Res, None));
        assert_eq!(cell(Column::User, Some(1)), "www-data");
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
            Column::Ctxt.text(top, None, &ctx()).text,
            (s.nvcsw + s.nivcsw).to_string()
        );
        assert_eq!(Column::IoReadRate.text(top, None, &ctx()).text, "64K");
        let sshd = by_pid(&m, 400);
        let na = Column::IoReadRate.text(sshd, None, &ctx());
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
            Column::Res.compare_thread_value(java, 0, 2),
            Ordering::Equal
        );
        assert_eq!(
            Column::Time.compare_thread_value(java, 0, 9),
            Ordering::Equal
        );
    }
}
