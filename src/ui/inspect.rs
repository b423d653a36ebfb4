//! Filling the inspection panels (e, l, s) for the event loop: the
//! environment read once, the open files read again at each refresh while
//! their panel is open, and the strace run that lives exactly as long as
//! its panel.

use std::path::{Path, PathBuf};

use crate::actions::signal::verify_start_time;
use crate::collect::{environ, open_files};
use crate::privileges::with_user_rights;
use crate::ui::state::dialog::Dialog;
use crate::ui::state::panel::{Inspect, Panel};
use crate::ui::state::view::ViewState;
use crate::ui::tracer::Tracer;

/// The program the trace panel runs.
const STRACE: &str = "strace";

pub struct Inspector {
    proc_root: PathBuf,
    tracer: Option<Tracer>,
}

impl Inspector {
    pub fn new(proc_root: &Path) -> Inspector {
        Inspector {
            proc_root: proc_root.to_path_buf(),
            tracer: None,
        }
    }

    /// Fills `panel` and opens it.
    pub fn open(&mut self, view: &mut ViewState, mut panel: Panel) {
        let pid = panel.key.pid;
        let op = match panel.what {
            Inspect::Environment => "environment of",
            Inspect::OpenFiles => "open files of",
            Inspect::Trace => "trace",
        };
        // The process the user selected, not a later one with its PID.
        if let Err(e) = verify_start_time(&self.proc_root, panel.key, op) {
            panel.fail(e.to_string());
            view.dialog = Some(Dialog::Panel(panel));
            return;
        }
        match panel.what {
            Inspect::Environment => match with_user_rights(|| environ::read(&self.proc_root, pid))
                .and_then(|read| read)
            {
                Ok(mut vars) => {
                    // Sorted, as htop shows them.
                    vars.sort();
                    if vars.is_empty() {
                        panel.message = Some(format!("PID {pid} has an empty environment"));
                    }
                    panel.set_lines(vars);
                }
                Err(why) => panel.fail(why),
            },
            Inspect::OpenFiles => fill_files(&self.proc_root, &mut panel),
            Inspect::Trace => {
                self.tracer = None;
                match Tracer::start(STRACE, pid) {
                    Ok(tracer) => self.tracer = Some(tracer),
                    Err(why) => panel.fail(why),
                }
            }
        }
        view.dialog = Some(Dialog::Panel(panel));
    }

    /// Whether a trace runs: its lines come without waking the loop.
    pub fn tracing(&self) -> bool {
        self.tracer.is_some()
    }

    /// After each event and refresh: new trace lines into the trace panel;
    /// strace stopped once its panel has closed. True when the screen
    /// changed.
    pub fn tick(&mut self, view: &mut ViewState) -> bool {
        let Some(tracer) = self.tracer.as_mut() else {
            return false;
        };
        let panel = match view.dialog.as_mut() {
            Some(Dialog::Panel(p)) if p.what == Inspect::Trace && p.key.pid == tracer.pid() => p,
            _ => {
                // Dropping stops and reaps it.
                self.tracer = None;
                return false;
            }
        };
        let progress = tracer.progress();
        let changed = !progress.lines.is_empty() || progress.ended.is_some();
        panel.push_lines(progress.lines);
        match progress.ended {
            Some((ended, true)) => panel.fail(ended),
            Some((ended, false)) => panel.message = Some(ended),
            None => {}
        }
        changed
    }

    /// A new model arrived: an open files panel reads its list again.
    pub fn refreshed(&mut self, view: &mut ViewState) {
        if let Some(Dialog::Panel(panel)) = view.dialog.as_mut() {
            if panel.what == Inspect::OpenFiles && !panel.failed {
                fill_files(&self.proc_root, panel);
            }
        }
    }
}

fn fill_files(proc_root: &Path, panel: &mut Panel) {
    match with_user_rights(|| open_files::list(proc_root, panel.key.pid)).and_then(|list| list) {
        Ok(files) => {
            panel.header = Some(format!("{:>5} {:<7} NAME", "FD", "TYPE"));
            panel.set_lines(files.into_iter().map(|f| {
                let mut line = format!("{:>5} {:<7} ", f.fd, f.kind).into_bytes();
                line.extend_from_slice(&f.name);
                line
            }));
        }
        Err(why) => panel.fail(why),
    }
}
