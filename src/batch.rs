//! Batch mode: print a snapshot per refresh to stdout.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

pub(crate) mod pace;

use crate::collect::smaps::{read_smaps_rollup, SmapsRollup};
use crate::model::{Model, ProcessView};
use crate::monitor::Monitor;
use crate::output;
use crate::present::sanitize::printable;
use crate::ui::columns::Column;
use crate::ui::rows::SortSpec;

/// What a refresh is printed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line per refresh (schema in docs/batch-schema.md).
    Json,
    /// A `top -b`-like table per refresh.
    Text,
}

/// What the command line asks of batch mode.
pub struct BatchOptions {
    pub count: Option<u64>,
    pub delay: Duration,
    pub format: Format,
    pub threads: bool,
    /// `--pss`: the proc root to read the printed processes'
    /// smaps_rollup from (JSON only); None: not asked.
    pub pss: Option<PathBuf>,
    pub selection: Selection,
}

/// Which processes a refresh prints, and in which order: `-p`, `-u` and
/// `-s` as in the interface.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these pids.
    pub pids: Option<HashSet<u32>>,
    /// Only processes of this real uid.
    pub uid: Option<u32>,
    /// The order; None: top's (busiest first) for text, by pid for JSON.
    pub sort: Option<SortSpec>,
}

impl Selection {
    /// The selection `-p PIDS`, `-u USER` and `-s SORT_KEY` ask for;
    /// `uid_of` resolves a user name. Err: what cannot be honoured (an
    /// unknown user or column).
    pub fn new(
        pids: &[u32],
        user: Option<&str>,
        sort_key: Option<&str>,
        uid_of: impl Fn(&str) -> Option<u32>,
    ) -> Result<Selection, String> {
        let uid = match user {
            None => None,
            Some(user) => Some(
                user.parse::<u32>()
                    .ok()
                    .or_else(|| uid_of(user))
                    .ok_or_else(|| format!("unknown user \"{}\"", printable(user.as_bytes())))?,
            ),
        };
        let sort = match sort_key {
            None => None,
            Some(id) => {
                let column = Column::from_id(id).ok_or_else(|| {
                    let ids: Vec<&str> = Column::ALL.iter().map(|c| c.id()).collect();
                    format!(
                        "unknown sort key \"{}\" (columns: {})",
                        printable(id.as_bytes()),
                        ids.join(" ")
                    )
                })?;
                if column.for_selected_only() {
                    return Err(format!(
                        "cannot sort by {}: it is read for the interface's selected process \
                         only (--pss prints PSS and USS of every printed process)",
                        column.id()
                    ));
                }
                Some(SortSpec {
                    column,
                    descending: column.default_descending(),
                })
            }
        };
        Ok(Selection {
            pids: (!pids.is_empty()).then(|| pids.iter().copied().collect()),
            uid,
            sort,
        })
    }

    fn admits(&self, p: &ProcessView) -> bool {
        self.pids
            .as_ref()
            .is_none_or(|pids| pids.contains(&p.sample.pid))
            && self.uid.is_none_or(|uid| p.sample.uid == uid)
    }

    /// The processes of `model` to print for `format`, in order.
    pub fn rows<'m>(&self, model: &'m Model, format: Format) -> Vec<&'m ProcessView> {
        let mut rows: Vec<&ProcessView> =
            model.processes.iter().filter(|p| self.admits(p)).collect();
        match (self.sort, format) {
            (Some(sort), _) => rows.sort_by(|a, b| sort.compare(a, b)),
            (None, Format::Text) => rows.sort_by(|a, b| output::text::top_order(a, b)),
            // The model is in pid order already.
            (None, Format::Json) => {}
        }
        rows
    }
}

/// Bytes of output gathered before a write to stdout: a refresh's JSON is
/// about 1 KB per process, so a write per thousand processes, while the
/// whole JSON of a refresh at 30 000 processes (34 MB) is never held. The
/// buffer is kept from one refresh to the next, and text, rendered whole,
/// is written past it rather than copied through it.
const OUTPUT_BUFFER: usize = 1 << 20;

/// Runs until `count` refreshes were printed (or forever). A closed stdout
/// (e.g. `| head`) ends the run quietly.
pub fn run(monitor: &mut Monitor, options: &BatchOptions) -> anyhow::Result<()> {
    // Straight to the descriptor: Stdout's line buffering would search each
    // megabyte written for its last newline.
    let stdout = io::stdout().as_fd().try_clone_to_owned()?;
    run_into(monitor, options, File::from(stdout))
}

/// As [`run`], printing to `out`. Refreshes are printed on a thread of
/// their own, so the next refresh is collected while the last one is
/// written: where collecting and printing together take longer than the
/// delay (30 000 processes at `-d 100`) both cores work and the rate
/// holds. The two overlap only then, so a second model is alive at once
/// only then; one refresh waits for the writer at most.
pub fn run_into(
    monitor: &mut Monitor,
    options: &BatchOptions,
    out: impl Write + Send,
) -> anyhow::Result<()> {
    // A baseline first, as `top -b -n 1` does: the first refresh printed
    // then has real rates (CPU%, I/O, network), over a short interval.
    monitor.refresh()?;
    thread::sleep(first_interval(options.delay));
    let (refreshes, to_print) = mpsc::sync_channel::<Arc<Model>>(0);
    // Never sent on: the writer drops its end when it stops, which ends a
    // wait between refreshes at once (`| head` closing the pipe).
    let (writer_alive, writer_gone) = mpsc::channel::<()>();
    thread::scope(|scope| {
        let writer = thread::Builder::new()
            .name("batch output".into())
            .spawn_scoped(scope, move || {
                let _alive = writer_alive;
                print_all(&to_print, out, options)
            })?;
        let collected = collect_all(monitor, options, &refreshes, &writer_gone);
        // The writer prints what it was handed, then sees the end.
        drop(refreshes);
        let printed = writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the output thread panicked")));
        match printed {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(e.into()),
            Ok(()) => collected,
        }
    })
}

/// Collects refreshes at the delay's pace and hands each to the writer,
/// until `count` were handed over or the writer stopped (`writer_gone`
/// disconnects).
fn collect_all(
    monitor: &mut Monitor,
    options: &BatchOptions,
    refreshes: &SyncSender<Arc<Model>>,
    writer_gone: &Receiver<()>,
) -> anyhow::Result<()> {
    let mut pacer = pace::Pacer::new(options.delay);
    let mut handed = 0u64;
    while options.count.is_none_or(|c| handed < c) {
        let model = monitor.refresh()?;
        if refreshes.send(model).is_err() {
            // The writer stopped (its error is the run's).
            return Ok(());
        }
        handed += 1;
        if options.count.is_some_and(|c| handed >= c) {
            break;
        }
        if writer_gone.recv_timeout(pacer.until_next()) != Err(RecvTimeoutError::Timeout) {
            return Ok(());
        }
    }
    Ok(())
}

/// Prints each refresh handed over, flushed whole, until the collector is
/// done or a write fails.
fn print_all(
    to_print: &Receiver<Arc<Model>>,
    out: impl Write,
    options: &BatchOptions,
) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(OUTPUT_BUFFER, out);
    for model in to_print {
        write_refresh(
            &mut out,
            &model,
            &options.selection,
            options.format,
            options.threads,
            options.pss.as_deref(),
        )?;
        out.flush()?;
    }
    Ok(())
}

/// One refresh as batch mode prints it, its newline included (also what
/// `record --tee-json` and `replay --batch` print). `pss`: the proc root to
/// read the printed processes' smaps_rollup from (JSON only).
pub fn write_refresh(
    out: &mut impl Write,
    model: &Model,
    selection: &Selection,
    format: Format,
    threads: bool,
    pss: Option<&Path>,
) -> io::Result<()> {
    let rows = selection.rows(model, format);
    match format {
        Format::Json => {
            let rollups = pss.map(|root| rollups(root, &rows));
            output::json::write(out, model, &rows, threads, rollups.as_deref())?;
        }
        Format::Text => out.write_all(output::text::render(model, &rows).as_bytes())?,
    }
    out.write_all(b"\n")
}

/// The smaps_rollup figures of `rows` (only those printed: reading one
/// walks the process's page tables), in their order.
fn rollups(proc_root: &Path, rows: &[&ProcessView]) -> Vec<Option<SmapsRollup>> {
    rows.iter()
        .map(|p| read_smaps_rollup(proc_root, p.sample.pid))
        .collect()
}

/// How long after the baseline the first refresh is taken: the delay, up to
/// half a second (long enough for CPU% to mean something, short enough for
/// `-n 1` to answer at once).
fn first_interval(delay: Duration) -> Duration {
    delay.min(Duration::from_millis(500))
}

#[allow(clippy::unwrap_used)]
#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use crate::model::testing::demo_model;
    use clap::Parser;

    fn selection(args: &[&str]) -> Result<Selection, String> {
        let cli = Cli::parse_from(std::iter::once("bpftop").chain(args.iter().copied()));
        Selection::new(
            &cli.pids,
            cli.user.as_deref(),
            cli.sort_key.as_deref(),
            |name| (name == "alice").then_some(1000),
        )
    }

    fn pids(rows: &[&ProcessView]) -> Vec<u32> {
        rows.iter().map(|p| p.sample.pid).collect()
    }

    /// A monitor on this machine's /proc.
    fn procfs_monitor() -> Monitor {
        let options = crate::collect::CollectOptions {
            gpu: false,
            ..Default::default()
        };
        let sampler = crate::collect::sampler::Sampler::open(
            crate::collect::BackendChoice::Procfs,
            &options,
            "/etc/passwd".into(),
        )
        .unwrap();
        Monitor::new(sampler)
    }

    fn options(count: Option<u64>) -> BatchOptions {
        BatchOptions {
            count,
            delay: Duration::from_millis(10),
            format: Format::Json,
            threads: false,
            pss: None,
            selection: Selection::default(),
        }
    }

    /// Output shared with the test, failing with `fail` once `fail_after`
    /// writes were made.
    #[derive(Clone)]
    struct Output {
        bytes: Arc<std::sync::Mutex<Vec<u8>>>,
        writes: Arc<std::sync::atomic::AtomicUsize>,
        fail: Option<(usize, io::ErrorKind)>,
    }

    impl Output {
        fn new(fail: Option<(usize, io::ErrorKind)>) -> Output {
            Output {
                bytes: Arc::default(),
                writes: Arc::default(),
                fail,
            }
        }
    }

    impl Write for Output {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let made = self
                .writes
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if let Some((after, kind)) = self.fail {
                if made >= after {
                    return Err(kind.into());
                }
            }
            self.bytes.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_refresh_is_printed_once_and_in_order() {
        let out = Output::new(None);
        run_into(&mut procfs_monitor(), &options(Some(4)), out.clone()).unwrap();
        let bytes = out.bytes.lock().unwrap().clone();
        let text = String::from_utf8(bytes).unwrap();
        let times: Vec<f64> = text
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["time"].as_f64().unwrap()
            })
            .collect();
        assert_eq!(times.len(), 4, "{text}");
        assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    }

    #[test]
    fn a_closed_output_ends_an_endless_run_quietly() {
        let out = Output::new(Some((2, io::ErrorKind::BrokenPipe)));
        run_into(&mut procfs_monitor(), &options(None), out.clone()).unwrap();
        assert!(!out.bytes.lock().unwrap().is_empty());
    }

    #[test]
    fn a_closed_output_ends_the_wait_for_the_next_refresh() {
        // A minute between refreshes; the first write fails: the run ends
        // then, not a delay later.
        let out = Output::new(Some((0, io::ErrorKind::BrokenPipe)));
        let mut options = options(None);
        options.delay = Duration::from_secs(60);
        let started = std::time::Instant::now();
        run_into(&mut procfs_monitor(), &options, out).unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_failed_write_is_the_runs_error() {
        let out = Output::new(Some((0, io::ErrorKind::PermissionDenied)));
        let err = run_into(&mut procfs_monitor(), &options(None), out).unwrap_err();
        let err = err.downcast::<io::Error>().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
    }

    #[test]
    fn pids_and_users_filter_the_rows() {
        let model = demo_model();
        let some: Vec<u32> = model
            .processes
            .iter()
            .map(|p| p.sample.pid)
            .take(3)
            .collect();
        let list = format!("{},{},999999", some[0], some[2]);
        let rows = selection(&["-p", &list])
            .unwrap()
            .rows(&model, Format::Json);
        assert_eq!(pids(&rows), [some[0], some[2]]);
        let uid = model.processes[0].sample.uid;
        let rows = selection(&["-u", &uid.to_string()])
            .unwrap()
            .rows(&model, Format::Json);
        assert!(!rows.is_empty() && rows.iter().all(|p| p.sample.uid == uid));
        let expected = model
            .processes
            .iter()
            .filter(|p| p.sample.uid == uid)
            .count();
        assert_eq!(rows.len(), expected);
        assert_eq!(selection(&["-u", "alice"]).unwrap().uid, Some(1000));
    }

    #[test]
    fn the_sort_key_orders_the_rows() {
        let model = demo_model();
        let rows = selection(&["-s", "MEM%"])
            .unwrap()
            .rows(&model, Format::Json);
        assert_eq!(rows.len(), model.processes.len());
        assert!(rows
            .windows(2)
            .all(|w| w[0].mem_percent >= w[1].mem_percent));
        let rows = selection(&["-s", "PID"])
            .unwrap()
            .rows(&model, Format::Text);
        assert!(rows.windows(2).all(|w| w[0].sample.pid < w[1].sample.pid));
        // Without -s: by pid for JSON, busiest first for text.
        let rows = selection(&[]).unwrap().rows(&model, Format::Json);
        assert!(rows.windows(2).all(|w| w[0].sample.pid < w[1].sample.pid));
        let rows = selection(&[]).unwrap().rows(&model, Format::Text);
        assert!(rows
            .windows(2)
            .all(|w| w[0].cpu_percent >= w[1].cpu_percent));
    }

    #[test]
    fn the_first_interval_is_short() {
        assert_eq!(
            first_interval(Duration::from_secs(5)),
            Duration::from_millis(500)
        );
        assert_eq!(
            first_interval(Duration::from_millis(100)),
            Duration::from_millis(100)
        );
    }

    #[test]
    fn what_cannot_be_honoured_is_refused() {
        let e = selection(&["-u", "nosuchuser"]).unwrap_err();
        assert_eq!(e, "unknown user \"nosuchuser\"");
        // The command line refuses it first; the check stays for callers
        // that do not come through it.
        let e = Selection::new(&[], None, Some("NOPE"), |_| None).unwrap_err();
        assert!(
            e.starts_with("unknown sort key \"NOPE\" (columns: PID"),
            "{e}"
        );
        // Read for the interface's selected process only: every row would
        // tie.
        for id in ["PSS", "uss"] {
            let e = Selection::new(&[], None, Some(id), |_| None).unwrap_err();
            assert!(e.starts_with("cannot sort by "), "{e}");
        }
        let e = selection(&["-u", "a\u{1b}]2;x"]).unwrap_err();
        assert!(!e.contains('\u{1b}'), "{e}");
    }
}
