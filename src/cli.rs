//! Command-line interface.

use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::{CommandFactory, FromArgMatches, Parser};

use crate::batch::Format;
use crate::build_info;
use crate::collect::{BackendChoice, NetHooksChoice, WalkChoice};
use crate::record::when::{parse_retain, Retain};
use crate::ui::columns::Column;
use crate::ui::theme::Theme;

/// The test-only roots' defaults: the kernel's own files.
pub const DEFAULT_PROC_ROOT: &str = "/proc";
pub const DEFAULT_SYS_ROOT: &str = "/sys";
pub const DEFAULT_PASSWD: &str = "/etc/passwd";

/// The shortest refresh delay, ms.
pub const MIN_DELAY_MS: u64 = 10;

/// `-d`: a number of milliseconds, at least [`MIN_DELAY_MS`].
fn parse_delay(text: &str) -> Result<u64, String> {
    let ms: u64 = text
        .parse()
        .map_err(|_| format!("\"{text}\" is not a number of milliseconds"))?;
    if ms < MIN_DELAY_MS {
        return Err(format!("must be at least {MIN_DELAY_MS} milliseconds"));
    }
    Ok(ms)
}

/// The column ids `-s` accepts (completions offer them).
fn column_ids() -> Vec<&'static str> {
    Column::ALL.iter().map(|c| c.id()).collect()
}

/// An htop-class process monitor fed by one eBPF task-iterator walk per
/// refresh.
#[derive(Debug, Parser)]
#[command(name = "bpftop", version, about)]
pub struct Cli {
    /// `record` or `replay` (the flight recorder); none: the interface,
    /// batch mode, the exporter or --check.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Print snapshots to stdout instead of running interactively.
    #[arg(long)]
    pub batch: bool,

    /// Number of refreshes to print in batch mode (default: until killed).
    #[arg(short = 'n', long = "count", value_name = "COUNT")]
    pub count: Option<u64>,

    /// Delay between refreshes, in milliseconds (default: 1000 in batch
    /// mode, 5000 with --serve, the configured delay — 1500 — interactively).
    #[arg(short = 'd', long = "delay", value_name = "MILLISECONDS",
          value_parser = parse_delay)]
    pub delay_ms: Option<u64>,

    /// Start in tree view (the interface only).
    #[arg(short = 't', long, conflicts_with_all = ["batch", "serve"])]
    pub tree: bool,

    /// Show only the processes of USER (name or uid).
    #[arg(short = 'u', long, value_name = "USER")]
    pub user: Option<String>,

    /// Show only these processes.
    #[arg(short = 'p', long = "pid", value_name = "PID", value_delimiter = ',')]
    pub pids: Vec<u32>,

    /// Sort by this column (e.g. PID, CPU%, MEM%, TIME+, RES; the ids of the
    /// setup screen, in any case).
    #[arg(short = 's', long = "sort-key", value_name = "COLUMN", ignore_case = true,
          hide_possible_values = true, value_parser = PossibleValuesParser::new(column_ids()))]
    pub sort_key: Option<String>,

    /// Do not capture the mouse (the interface only).
    #[arg(long, conflicts_with_all = ["batch", "serve"])]
    pub no_mouse: bool,

    /// Colour theme: default or mono (the interface only).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["batch", "serve"],
          value_parser = PossibleValuesParser::new(Theme::NAMES))]
    pub theme: Option<String>,

    /// No colours (also when the NO_COLOR environment variable is set).
    #[arg(long)]
    pub no_color: bool,

    /// Batch output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Where per-process data comes from.
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,

    /// How the bpf backend walks the tasks: `open-coded` (one program run
    /// per walk, kernel >= 6.7) or `iter` (iter/task, kernel >= 5.8); `auto`
    /// takes the first that loads, in that order.
    #[arg(long, value_enum, default_value_t = WalkChoice::Auto)]
    pub bpf_walk: WalkChoice,

    /// Include each process's threads (JSON: "thread_list").
    #[arg(long)]
    pub threads: bool,

    /// With --batch --format json: read each printed process's PSS and USS
    /// from /proc/PID/smaps_rollup (JSON "pss_bytes", "uss_bytes"). Costs a
    /// page-table walk per process, so combine it with -p or -u.
    // Also in conflict with --serve: clap waives a requirement that
    // conflicts with a present option (--batch with --serve).
    #[arg(long, requires = "batch", conflicts_with = "serve")]
    pub pss: bool,

    /// Do not count per-process network bytes (no socket hooks attached).
    #[arg(long)]
    pub no_net: bool,

    /// Count network bytes of every socket family (AF_UNIX, netlink, ...),
    /// not only IPv4 and IPv6. Needs the socket tracepoints (kernel >= 6.3).
    #[arg(long, conflicts_with = "no_net")]
    pub net_all_families: bool,

    /// Which kernel hooks count network bytes: `tracepoints` (kernel >=
    /// 6.3), `fexit` or `kprobes` (on inet_sendmsg/inet_recvmsg); `auto`
    /// takes the first that attaches, in that order. A named kind that
    /// cannot attach leaves the counters off, saying why (--check).
    #[arg(long, value_enum, default_value_t = NetHooksChoice::Auto, conflicts_with = "no_net")]
    pub net_hooks: NetHooksChoice,

    /// Do not look for GPUs (NVML, DRM fdinfo).
    #[arg(long)]
    pub no_gpu: bool,

    /// Report what works on this kernel and why, then exit.
    #[arg(long)]
    pub check: bool,

    /// Serve metrics for Prometheus over HTTP at ADDR:PORT (/metrics and
    /// /healthz) instead of running interactively. A bare PORT binds
    /// 127.0.0.1: any other address must be written out.
    #[arg(long, value_name = "ADDR:PORT",
          value_parser = crate::serve::addr::parse_listen_addr,
          conflicts_with_all = ["batch", "check"])]
    pub serve: Option<std::net::SocketAddr>,

    /// With --serve: per-process series only for the top K processes by CPU
    /// and the top K by resident memory (0: none). Units and containers are
    /// always all exported.
    #[arg(long, value_name = "K", default_value_t = crate::serve::DEFAULT_TOP_K,
          requires = "serve")]
    pub serve_top: usize,

    /// Root of the proc filesystem (for tests on fixture trees; refused
    /// under file capabilities).
    #[arg(long, hide = true, default_value = DEFAULT_PROC_ROOT)]
    pub proc_root: PathBuf,

    /// Root of the sys filesystem (for tests on fixture trees).
    #[arg(long, hide = true, default_value = DEFAULT_SYS_ROOT)]
    pub sys_root: PathBuf,

    /// passwd file that user names come from.
    #[arg(long, hide = true, default_value = DEFAULT_PASSWD)]
    pub passwd: PathBuf,
}

impl Cli {
    /// This process's command line, exiting as clap does on bad usage,
    /// `--help` and `--version`. `--version` also says the target, the
    /// commit, the features and the date of the build (`-V` only the
    /// version); they are added here rather than in `Cli`'s attributes so
    /// that the man page, made from `Cli`, is the same for every build.
    pub fn from_env() -> Cli {
        let matches = Cli::command()
            .long_version(build_info::LONG_VERSION)
            .get_matches();
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// The flight recorder's commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Record every refresh to disk, to be replayed later (runs until
    /// killed, or for -n refreshes). The options before `record` choose
    /// what is collected (--backend, --threads, --no-net, --no-gpu).
    Record(RecordArgs),
    /// Open the interface on a recording (keys , . { } move through it), or
    /// with --batch print its refreshes as `--batch` printed them then.
    /// The interface's options go before `replay` (-t, -u, -p, -s, --theme),
    /// and so do batch mode's selection (-p, -u, -s, -n) with --batch; -u
    /// names users as the recording named them.
    Replay(ReplayArgs),
}

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// Directory of the recording (default: /var/lib/bpftop as root,
    /// $XDG_STATE_HOME/bpftop or ~/.local/state/bpftop otherwise).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Keep frames younger than an age (7d, 12h, 30m) and within a size
    /// (2GiB, 500MiB); give it twice for both. Older or excess frames are
    /// deleted while recording. Default: 7d and 2GiB.
    #[arg(long, value_name = "AGE|SIZE", value_parser = parse_retain)]
    pub retain: Vec<Retain>,

    /// Delay between refreshes, in milliseconds (default: 1000).
    #[arg(short = 'd', long = "delay", value_name = "MILLISECONDS",
          value_parser = parse_delay)]
    pub delay_ms: Option<u64>,

    /// Stop after this many refreshes (default: until killed).
    #[arg(short = 'n', long = "count", value_name = "COUNT")]
    pub count: Option<u64>,

    /// Also write each recorded refresh (but the first) to FILE as
    /// `--batch --format json` prints it (for tests of the round trip).
    #[arg(long, hide = true, value_name = "FILE")]
    pub tee_json: Option<PathBuf>,

    /// A key frame every N frames (for tests and measurements).
    #[arg(long, hide = true, value_name = "N", default_value_t = crate::record::KEY_EVERY,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub key_every: u32,
}

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// Directory of the recording (the default of `record`).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Print the refreshes to stdout instead of opening the interface.
    #[arg(long)]
    pub batch: bool,

    /// In the interface: start at the refresh taken at TIME or last before
    /// it (the forms of --from). Default: the first refresh.
    #[arg(
        long,
        value_name = "TIME",
        allow_hyphen_values = true,
        conflicts_with = "batch"
    )]
    pub at: Option<String>,

    /// Output format, as with --batch.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// First refresh to print: seconds since the epoch (as the JSON's
    /// "time"), a UTC date and time (2026-12-07T03:12:00Z) or a time ago
    /// (-10m). Default: the start of the recording.
    #[arg(
        long,
        value_name = "TIME",
        allow_hyphen_values = true,
        requires = "batch"
    )]
    pub from: Option<String>,

    /// Last refresh to print, in the same forms. Default: the end.
    #[arg(
        long,
        value_name = "TIME",
        allow_hyphen_values = true,
        requires = "batch"
    )]
    pub to: Option<String>,
}
