//! The event loop. The collector runs on its own thread and sends models
//! over a channel; this thread only handles input and draws, so a key never
//! waits for a collection.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyEventKind};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

use super::input::doorbell::{doorbell, Doorbell};
use super::input::reader::Input;
use super::keys::{handle_key, handle_mouse};
use super::render::{layout, render};
use super::safe_backend::SafeBackend;
use super::settings::{config_to_save, Overrides};
use super::terminal::{termination_flag, TerminalGuard};
use super::view::{Effect, ViewState};
use crate::actions::{renice, signal, tmux_clipboard, yank};
use crate::collect::sample::ProcessKey;
use crate::collect::Extras;
use crate::config;
use crate::model::Model;
use crate::monitor::Monitor;
use crate::record::player::{Move, Player};
use crate::record::store::Store;
use crate::record::when::format_utc;
use crate::ui::rewind::Rewind;
use crate::ui::state::keymap::Travel;

/// Messages to the collector thread.
enum Control {
    Delay(u64),
    Threads(bool),
    RefreshNow,
    /// Updates paused (Z): no refresh until resumed, which refreshes at
    /// once.
    Paused(bool),
    /// The processes on screen, whose titles and I/O priorities are read
    /// at every refresh.
    OnScreen(Vec<u32>),
    /// The process whose PSS and USS are read at every refresh (the
    /// selected one, while a column shows them).
    Inspect(Option<u32>),
    /// The optional per-process values the shown columns need.
    Extras(Extras),
    /// Another refresh of the recording (replay only).
    Travel(Travel),
}

/// Where the models come from.
pub enum Feed {
    /// This machine's refreshes.
    Live(Box<Monitor>),
    /// A recording.
    Replay(Box<Replay>),
}

/// A recording to show; `first` is the model of the refresh to start at.
pub struct Replay {
    pub store: Store,
    pub player: Player,
    pub first: Arc<Model>,
}

/// A model, and whether it is of the past (a recording, or rewound), or
/// what went wrong.
type Update = Result<(Arc<Model>, bool), String>;

/// How often the loop looks again while something changes the screen
/// without ringing (a trace streaming in, a freeze awaiting its key).
const TICK: Duration = Duration::from_millis(50);
/// The longest the loop sleeps otherwise: everything else rings, and this
/// only bounds the harm of a ring that was lost.
const BACKSTOP: Duration = Duration::from_secs(1);

/// Updates for the event loop, each followed by a ring of its doorbell:
/// the loop sleeps until something comes instead of polling.
struct Updates {
    tx: Sender<Update>,
    bell: Doorbell,
}

impl Updates {
    /// False once the event loop is gone.
    fn send(&self, update: Update) -> bool {
        let sent = self.tx.send(update).is_ok();
        self.bell.ring();
        sent
    }
}

/// Where the config lives, whether the file there failed to parse, what
/// it said, and what the command line overrode for this run.
pub struct ConfigFile {
    pub path: Option<PathBuf>,
    pub broken: bool,
    pub base: config::Config,
    pub overrides: Overrides,
}

/// Samples, builds models and sends them until the UI hangs up.
fn collector_loop(
    mut monitor: Monitor,
    updates: Updates,
    control: Receiver<Control>,
    delay_ms: u64,
    rewind_minutes: u32,
) {
    let mut delay = Duration::from_millis(delay_ms);
    // The first frame does not wait for every process's command line; the
    // refresh right after it reads them.
    monitor.sampler_mut().defer_cmdlines(true);
    let mut first = true;
    let mut paused = false;
    let mut rewind = Rewind::new(f64::from(rewind_minutes) * 60.0);
    loop {
        let (update, kept) = match rewind.refresh(&mut monitor) {
            Ok((model, rest)) => (Ok((Arc::clone(&model), false)), rest.map(|r| (model, r))),
            Err(e) => (Err(format!("{e:#}")), None),
        };
        if !updates.send(update) {
            return;
        }
        // Shown first, kept for rewinding after; not the first refresh,
        // taken before the command lines are read (the next one, with
        // them, follows at once).
        if let Some((model, rest)) = kept.filter(|_| !first) {
            rewind.keep(model, rest);
        }
        if first {
            first = false;
            monitor.sampler_mut().defer_cmdlines(false);
            continue;
        }
        let deadline = Instant::now() + delay;
        loop {
            let wait = if paused || rewind.is_back() {
                // Nothing to show until resumed: wake only for messages.
                Duration::from_secs(3600)
            } else {
                deadline.saturating_duration_since(Instant::now())
            };
            match control.recv_timeout(wait) {
                Ok(Control::Paused(on)) => {
                    paused = on;
                    if !on && !rewind.is_back() {
                        break;
                    }
                }
                Ok(Control::Delay(ms)) => delay = Duration::from_millis(ms),
                Ok(Control::Threads(on)) => {
                    monitor.sampler_mut().set_threads(on);
                    if !rewind.is_back() {
                        break;
                    }
                }
                Ok(Control::OnScreen(pids)) => monitor.sampler_mut().watch_on_screen(&pids),
                Ok(Control::Inspect(pid)) => monitor.sampler_mut().inspect(pid.as_slice()),
                Ok(Control::Extras(extras)) => {
                    monitor.sampler_mut().set_extras(extras);
                    // A column just shown gets its values now, not a
                    // refresh later (unless a past refresh is shown).
                    if !rewind.is_back() {
                        break;
                    }
                }
                Ok(Control::RefreshNow) if !rewind.is_back() => break,
                Ok(Control::RefreshNow) => {}
                Ok(Control::Travel(to)) => match rewind.travel(to) {
                    // Back to live: a refresh at once.
                    None => break,
                    Some(moved) => {
                        let update = moved.map(|m| (m, true)).map_err(|e| format!("{e:#}"));
                        if !updates.send(update) {
                            return;
                        }
                    }
                },
                Err(RecvTimeoutError::Timeout) if !paused && !rewind.is_back() => break,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

/// Sends the recording's models: the first, then one per move asked for.
fn player_loop(
    store: Store,
    mut player: Player,
    first: Arc<Model>,
    updates: Updates,
    control: Receiver<Control>,
) {
    if !updates.send(Ok((first, true))) {
        return;
    }
    while let Ok(message) = control.recv() {
        let step = match message {
            Control::Travel(Travel::Refreshes(n)) => Move::Refreshes(n),
            Control::Travel(Travel::Seconds(s)) => Move::Seconds(s),
            Control::Travel(Travel::Live) => {
                let said = "a recording is shown: there is no live refresh".to_owned();
                if !updates.send(Err(said)) {
                    return;
                }
                continue;
            }
            _ => continue,
        };
        let update = player
            .go(&store, step)
            .map(|m| (m, true))
            .map_err(|e| format!("{e:#}"));
        if !updates.send(update) {
            return;
        }
    }
}

/// What the header says of a past refresh: where it came from and when it
/// was taken.
fn past_label(model: &Model, replaying: bool) -> String {
    let (backend, time) = (model.backend.label(), format_utc(model.unix_time));
    if replaying {
        format!("{backend}, replay of {time} UTC")
    } else {
        format!("{backend}, rewound to {time} UTC (L: live)")
    }
}

/// Runs the interface until the user quits or a termination signal comes.
pub fn run(feed: Feed, mut view: ViewState, config_file: ConfigFile) -> anyhow::Result<()> {
    let terminate = termination_flag()?;
    let replaying = matches!(feed, Feed::Replay(_));
    let live_label = view.backend_label.clone();
    // A past refresh is shown (replay, or rewound).
    let mut past = replaying;
    let proc_root = match &feed {
        Feed::Live(monitor) => monitor.sampler().proc_root().to_path_buf(),
        Feed::Replay(_) => PathBuf::from("/proc"),
    };
    let (update_tx, update_rx) = mpsc::channel();
    let (bell, door) = doorbell()?;
    let update_tx = Updates {
        tx: update_tx,
        bell: bell.clone(),
    };
    let (control_tx, control_rx) = mpsc::channel();
    let delay = view.delay_ms;
    let threads = view.show_threads;
    let mut extras = view.extras_wanted();
    let rewind_minutes = view.rewind_minutes;
    match feed {
        Feed::Live(monitor) => {
            thread::Builder::new()
                .name("collector".into())
                .spawn(move || {
                    let mut monitor = *monitor;
                    monitor.sampler_mut().set_threads(threads);
                    monitor.sampler_mut().set_extras(extras);
                    collector_loop(monitor, update_tx, control_rx, delay, rewind_minutes)
                })?
        }
        Feed::Replay(replay) => thread::Builder::new()
            .name("player".into())
            .spawn(move || {
                let Replay {
                    store,
                    player,
                    first,
                } = *replay;
                player_loop(store, player, first, update_tx, control_rx)
            })?,
    };

    let mut freezer = super::freezer::Freezer::new(&proc_root);
    // Declared before the terminal guard, so that a running strace is
    // stopped only after the terminal is restored (drops run in reverse).
    let mut inspector = super::inspect::Inspector::new(&proc_root);
    let _guard = TerminalGuard::enter(view.mouse)?;
    // After the guard, so dropped before it: nothing reads the terminal
    // once it is restored.
    let input = Input::open(&bell, door)?;
    let mut mouse_captured = view.mouse;
    let mut saved = config_file.base.clone();
    let mut terminal = Terminal::new(SafeBackend::new(CrosstermBackend::new(std::io::stdout())))?;
    let mut dirty = true;
    let mut on_screen: Vec<u32> = Vec::new();
    let mut inspected: Option<u32> = None;
    let mut config_broken = config_file.broken;
    while !terminate.load(Ordering::Relaxed) {
        if view.mouse != mouse_captured {
            set_mouse_capture(view.mouse);
            mouse_captured = view.mouse;
        }
        // Newest model wins; older ones queued behind a slow frame are dropped.
        let mut latest = None;
        loop {
            match update_rx.try_recv() {
                Ok(Ok((model, of_the_past))) => {
                    past = of_the_past;
                    view.backend_label = if past {
                        past_label(&model, replaying)
                    } else {
                        live_label.clone()
                    };
                    latest = Some(model);
                }
                Ok(Err(message)) => view.set_status(message, true),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    anyhow::bail!("the collector stopped");
                }
            }
            dirty = true;
        }
        if let Some(model) = latest {
            // A past refresh asked for is shown, paused (Z) or not.
            if past && !replaying && view.paused() {
                view.toggle_pause();
                let _ = control_tx.send(Control::Paused(false));
            }
            freezer.tidy(&model);
            if view.receive_model(model) {
                inspector.refreshed(&mut view);
            }
        }
        if inspector.tick(&mut view) {
            dirty = true;
        }
        let area = terminal.get_frame().area();
        let parts = layout(area, &view);
        let page_rows = parts.table.height.max(1) as usize;
        if page_rows != view.page_rows {
            // A smaller screen (or table, under a status line) must still
            // show the cursor.
            view.page_rows = page_rows;
            view.set_cursor(view.cursor);
        }
        view.page_width = parts.table.width;
        if dirty {
            terminal.draw(|frame| render(&view, frame))?;
            dirty = false;
            let shown = view.pids_on_screen();
            if shown != on_screen {
                let _ = control_tx.send(Control::OnScreen(shown.clone()));
                on_screen = shown;
            }
            let inspect = selected_for_inspection(&view);
            if inspect != inspected {
                let _ = control_tx.send(Control::Inspect(inspect));
                inspected = inspect;
            }
            let wanted = view.extras_wanted();
            if wanted != extras {
                let _ = control_tx.send(Control::Extras(wanted));
                extras = wanted;
            }
        }
        if let Some(status) = freezer.expire() {
            view.status = Some(status);
            dirty = true;
        }
        // Models, keys, resizes and termination signals wake the loop;
        // only a trace streaming in and a freeze awaiting its key change
        // the screen by themselves.
        let wait = if inspector.tracing() || freezer.awaiting_key() {
            TICK
        } else {
            BACKSTOP
        };
        let event = match input.next(wait) {
            Ok(Some(event)) => event,
            Ok(None) => continue,
            // The terminal is gone: leave, restoring what can be.
            Err(_) => break,
        };
        let effect = match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => {
                freezer.confirm();
                handle_key(&mut view, key)
            }
            Event::Mouse(mouse) => handle_mouse(&mut view, mouse, &parts),
            Event::Resize(..) => Effect::None,
            _ => continue,
        };
        dirty = true;
        let effect = if past {
            of_the_past(&mut view, effect, replaying)
        } else {
            effect
        };
        match effect {
            Effect::None => {}
            Effect::Travel(to) => {
                let _ = control_tx.send(Control::Travel(to));
            }
            Effect::Quit => break,
            Effect::Clear => terminal.clear()?,
            Effect::Signal { targets, signal } => {
                let message = send_signals(&proc_root, &targets, signal);
                view.status = Some(message);
                let _ = control_tx.send(Control::RefreshNow);
            }
            Effect::Renice { targets, delta } => {
                let message = renice_all(&proc_root, &targets, delta);
                view.status = Some(message);
                let _ = control_tx.send(Control::RefreshNow);
            }
            Effect::Freeze { cgroups, isolate } => {
                view.status = Some(freezer.freeze(&cgroups, isolate.as_ref()));
                let _ = control_tx.send(Control::RefreshNow);
            }
            Effect::Thaw { cgroups } => {
                view.status = Some(freezer.thaw(&cgroups));
                let _ = control_tx.send(Control::RefreshNow);
            }
            Effect::Yank(text) => {
                let route = yank::route(yank::place(), tmux_clipboard::ask);
                let result = yank::sequences(&text, &route).and_then(|seq| {
                    if seq.is_empty() {
                        return Ok(());
                    }
                    let out = terminal.backend_mut().composed_sequences();
                    out.write_all(seq.as_bytes())
                        .and_then(|()| out.flush())
                        .map_err(|e| e.to_string())
                });
                match result {
                    Ok(()) => {
                        let (message, error) = yank::report(&route, text.chars().count());
                        view.set_status(message, error);
                    }
                    Err(e) => view.set_status(format!("yank failed: {e}"), true),
                }
            }
            Effect::SaveConfig => {
                let _ = control_tx.send(Control::Delay(view.delay_ms));
                let _ = control_tx.send(Control::Threads(view.show_threads));
                let wanted = config_to_save(&view, &config_file.base, &config_file.overrides);
                let changed = wanted != saved || config_broken;
                if changed && save_config(&mut view, &config_file, &wanted, &mut config_broken) {
                    saved = wanted;
                }
            }
            Effect::OpenAffinity { targets } => {
                super::scheduling::open_affinity(&mut view, targets)
            }
            Effect::SetAffinity { targets, cpus } => {
                view.status = Some(super::scheduling::set_affinity(&proc_root, &targets, &cpus));
            }
            Effect::OpenIoPriority { targets } => {
                super::scheduling::open_io_priority(&mut view, &proc_root, targets)
            }
            Effect::SetIoPriority { targets, priority } => {
                view.status = Some(super::scheduling::set_io_priority(
                    &proc_root, &targets, priority,
                ));
                let _ = control_tx.send(Control::RefreshNow);
            }
            Effect::CollectThreads(on) => {
                let _ = control_tx.send(Control::Threads(on));
            }
            Effect::Inspect(panel) => inspector.open(&mut view, panel),
            Effect::Paused(on) => {
                let _ = control_tx.send(Control::Paused(on));
            }
        }
    }
    Ok(())
}

/// What becomes of `effect` while a past refresh is shown: nothing acts on
/// processes (the pids are of the past; a process with the same pid today
/// may be another one) or reads their files; the status line says so.
fn of_the_past(view: &mut ViewState, effect: Effect, replaying: bool) -> Effect {
    match effect {
        Effect::Signal { .. }
        | Effect::Renice { .. }
        | Effect::Freeze { .. }
        | Effect::Thaw { .. }
        | Effect::OpenAffinity { .. }
        | Effect::SetAffinity { .. }
        | Effect::OpenIoPriority { .. }
        | Effect::SetIoPriority { .. }
        | Effect::Inspect(_) => {
            let what = if replaying {
                "a recording is shown: its processes cannot be acted on or inspected"
            } else {
                "a past refresh is shown: L returns to live, where processes can be acted on"
            };
            view.set_status(what.to_owned(), true);
            Effect::None
        }
        // Thread rows and pauses belong to live collection.
        Effect::CollectThreads(_) | Effect::Paused(_) if replaying => Effect::None,
        other => other,
    }
}

/// The selected process, when a column shows figures read for it alone.
fn selected_for_inspection(view: &ViewState) -> Option<u32> {
    if !view.shown_columns().iter().any(|c| c.for_selected_only()) {
        return None;
    }
    view.selected().map(|p| p.sample.pid)
}

fn set_mouse_capture(on: bool) {
    use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
    let mut out = std::io::stdout();
    let _ = if on {
        crossterm::execute!(out, EnableMouseCapture)
    } else {
        crossterm::execute!(out, DisableMouseCapture)
    };
}

/// Saves `config`; true when it was written.
fn save_config(
    view: &mut ViewState,
    file: &ConfigFile,
    config: &config::Config,
    broken: &mut bool,
) -> bool {
    let Some(path) = &file.path else {
        view.set_status(
            "settings not saved: no config directory ($XDG_CONFIG_HOME, $HOME)",
            true,
        );
        return false;
    };
    match config::save(path, config, *broken) {
        Ok(None) => {
            view.set_status(format!("settings saved to {}", path.display()), false);
            true
        }
        Ok(Some(kept)) => {
            *broken = false;
            view.set_status(
                format!(
                    "settings saved; the broken file was kept as {}",
                    kept.display()
                ),
                false,
            );
            true
        }
        Err(e) => {
            view.set_status(format!("settings not saved: {e}"), true);
            false
        }
    }
}

fn signal_name(signal: i32) -> String {
    signal::SIGNALS
        .iter()
        .find(|(n, _)| *n == signal)
        .map(|(_, name)| (*name).to_owned())
        .unwrap_or_else(|| signal.to_string())
}

/// Sends `signal` to each target; reports the first failure, if any.
fn send_signals(
    proc_root: &std::path::Path,
    targets: &[ProcessKey],
    sig: i32,
) -> super::view::Status {
    let errors: Vec<String> = targets
        .iter()
        .filter_map(|key| signal::send_signal(proc_root, *key, sig).err())
        .map(|e| e.to_string())
        .collect();
    let name = signal_name(sig);
    match errors.first() {
        None => super::view::Status {
            text: format!("sent {name} to {} process(es)", targets.len()),
            error: false,
        },
        Some(first) => super::view::Status {
            text: format!("{} of {} failed: {first}", errors.len(), targets.len()),
            error: true,
        },
    }
}

/// The nice value the kernel has now (the model may be a refresh old, and
/// repeated presses must add up).
fn current_nice(pid: u32) -> Option<i32> {
    // SAFETY: errno is thread-local; getpriority returns -1 both as a
    // value and on error, so errno is cleared first and checked after.
    unsafe {
        *libc::__errno_location() = 0;
        let nice = libc::getpriority(libc::PRIO_PROCESS, pid);
        (*libc::__errno_location() == 0).then_some(nice)
    }
}

fn renice_all(
    proc_root: &std::path::Path,
    targets: &[ProcessKey],
    delta: i32,
) -> super::view::Status {
    let mut errors = Vec::new();
    for key in targets {
        let Some(current) = current_nice(key.pid) else {
            errors.push(format!("renice {}: no such process", key.pid));
            continue;
        };
        if let Err(e) = renice::renice(proc_root, *key, current + delta) {
            errors.push(e.to_string());
        }
    }
    match errors.first() {
        None => super::view::Status {
            text: format!("niced {} process(es) by {delta:+}", targets.len()),
            error: false,
        },
        Some(first) => super::view::Status {
            text: first.clone(),
            error: true,
        },
    }
}
