//! End to end, in a real terminal (tmux): the interface behaves as a daily
//! htop 3.2 user expects (observed by running htop in tmux beside bpftop).
//! Needs tmux and root (CI has both); skipped with a message otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::tmux::{strip_sgr, Tmux};

/// How long the interface gets to show what a step waits for.
const PATIENCE: Duration = Duration::from_secs(20);

/// A busy shell loop whose command line carries `marker`; killed when
/// dropped (continued first, in case the test stopped it).
struct Spinner {
    child: Child,
}

impl Spinner {
    fn spawn(marker: &str) -> Spinner {
        let script = format!("while :; do :; done; echo {marker}");
        let child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        Spinner { child }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops (SIGSTOP) or continues (SIGCONT) the loop: a stopped one
    /// uses no CPU, so the CPU% sort puts it last.
    fn run(&self, running: bool) {
        let signal = if running {
            libc::SIGCONT
        } else {
            libc::SIGSTOP
        };
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(self.pid() as libc::pid_t, signal) };
        assert_eq!(rc, 0);
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The screen's lines, each character with whether it is drawn in reverse
/// video (the mono theme's selection). tmux carries attributes from line
/// to line, so the state is tracked through every SGR sequence.
fn cells(screen: &str) -> Vec<Vec<(char, bool)>> {
    let mut reverse = false;
    let mut out = Vec::new();
    for line in screen.lines() {
        let mut row = Vec::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                let mut seq = String::new();
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() {
                        if d == 'm' {
                            reverse = sgr_reverse(&seq, reverse);
                        }
                        break;
                    }
                    seq.push(d);
                }
                continue;
            }
            row.push((c, reverse));
        }
        out.push(row);
    }
    out
}

/// The table's rows: (pid, selected), top to bottom.
fn table(screen: &str) -> Vec<(u32, bool)> {
    cells(screen)
        .iter()
        .filter_map(|row| {
            let plain: String = row.iter().map(|c| c.0).collect();
            let pid = plain.split_whitespace().next()?.parse().ok()?;
            let first = row.iter().find(|c| c.0 != ' ')?;
            Some((pid, first.1))
        })
        .collect()
}

/// Reverse video after the SGR parameters `seq` (as "[0;7").
fn sgr_reverse(seq: &str, mut reverse: bool) -> bool {
    let params = seq.trim_start_matches('[');
    if params.is_empty() {
        return false;
    }
    for p in params.split(';') {
        match p {
            "" | "0" | "27" => reverse = false,
            "7" => reverse = true,
            _ => {}
        }
    }
    reverse
}

/// The table is exactly `pids` in this order with row `selected` selected.
fn shows(screen: &str, pids: &[u32], selected: usize) -> bool {
    let rows = table(screen);
    rows.len() == pids.len()
        && rows.iter().map(|r| r.0).eq(pids.iter().copied())
        && rows.iter().position(|r| r.1) == Some(selected)
}

fn start(tag: &str, pids: &[u32], config_home: &std::path::Path) -> Tmux<'static> {
    let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
    let command = format!(
        "env XDG_CONFIG_HOME={} NO_COLOR=1 {} -d 300 -p {}",
        config_home.display(),
        env!("CARGO_BIN_EXE_bpftop"),
        pids.join(",")
    );
    Tmux::start(tag, (120, 30), &command).expect("tmux runs")
}

fn config_home(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bpftop-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// htop 3.2: the bar starts on the top row and keeps its row while the
/// list re-sorts; F makes it follow its process (moving stops that); a
/// search result stays selected until the user moves. Two busy loops
/// swap places in the CPU% sort when the test stops one and continues
/// the other.
#[test]
fn the_selection_keeps_its_row_unless_it_follows() {
    if !common::tmux::ready() {
        return;
    }
    let mark = format!("selmark{}", std::process::id());
    let a = Spinner::spawn(&format!("{mark}a"));
    let b = Spinner::spawn(&format!("{mark}b"));
    let (pa, pb) = (a.pid(), b.pid());
    b.run(false);
    let home = config_home("habits-sel");
    let tmux = start("habits-sel", &[pa, pb], &home);
    let wait = |what: &str, pids: &[u32], selected: usize| {
        tmux.wait_for_sgr(what, PATIENCE, |s| shows(s, pids, selected));
    };

    wait("a busy above b stopped, the top row selected", &[pa, pb], 0);
    tmux.keys(&["j"]);
    wait("b selected on the second row", &[pa, pb], 1);

    // The list re-sorts: the bar stays on the second row, now a's.
    a.run(false);
    b.run(true);
    wait("b on top, the bar still on the second row", &[pb, pa], 1);

    // F: the bar follows a when it moves up.
    tmux.keys(&["F"]);
    a.run(true);
    b.run(false);
    wait("a followed to the top row", &[pa, pb], 0);
    // Moving stops following: the bar keeps its row again.
    tmux.keys(&["j", "k"]);
    a.run(false);
    b.run(true);
    wait("the bar on the top row, now b's", &[pb, pa], 0);

    // A search result stays selected while the list re-sorts.
    tmux.keys(&["/"]);
    tmux.keys(&["-l", &format!("{mark}a")]);
    tmux.keys(&["Enter"]);
    wait("the search found a on the second row", &[pb, pa], 1);
    a.run(true);
    b.run(false);
    wait("a's row followed to the top", &[pa, pb], 0);
    tmux.keys(&["q"]);
    let _ = std::fs::remove_dir_all(&home);
}

/// Three stopped spinners named `mark`0..2, and their pids in order.
fn stopped_spinners(mark: &str) -> (Vec<Spinner>, Vec<u32>) {
    let spinners: Vec<Spinner> = (0..3)
        .map(|i| Spinner::spawn(&format!("{mark}{i}")))
        .collect();
    let mut pids: Vec<u32> = spinners.iter().map(Spinner::pid).collect();
    for s in &spinners {
        s.run(false);
    }
    pids.sort_unstable();
    (spinners, pids)
}

/// htop 3.2's search line: F3 goes to the next match while typing,
/// Shift-F3 to the previous one (tmux sends it as xterm does, ESC [1;2R,
/// which htop reads as kf15); Esc closes it on the row found. After Enter,
/// n and Shift-F3 go on.
#[test]
fn f3_steps_through_matches_while_typing() {
    if !common::tmux::ready() {
        return;
    }
    let mark = format!("srchmark{}", std::process::id());
    let (_spinners, pids) = stopped_spinners(&mark);
    let home = config_home("habits-search");
    let tmux = start("habits-search", &pids, &home);
    // Stopped, all at 0 %: sorted by pid under CPU% (ties by pid).
    let wait = |what: &str, selected: usize| {
        tmux.wait_for_sgr(what, PATIENCE, |s| shows(s, &pids, selected));
    };
    // The mark is in the command lines, which the first refresh does not
    // read yet (it is shown sooner): the search waits for them.
    tmux.wait_for_sgr("three rows with their command lines", PATIENCE, |s| {
        shows(s, &pids, 0) && strip_sgr(s).matches(mark.as_str()).count() == 3
    });
    tmux.keys(&["G"]);
    wait("the last row selected", 2);
    tmux.keys(&["F3"]);
    tmux.keys(&["-l", &mark]);
    // The first match from the row the search started on.
    wait("the search starts where the selection is", 2);
    tmux.keys(&["F3"]);
    wait("F3: the next match (wrapping)", 0);
    tmux.keys(&["F3"]);
    wait("F3: the next match", 1);
    tmux.keys(&["S-F3"]);
    wait("Shift-F3: the previous match", 0);
    tmux.keys(&["S-F3"]);
    wait("Shift-F3: the previous match (wrapping)", 2);
    tmux.keys(&["F3"]);
    wait("F3 after Shift-F3", 0);
    tmux.keys(&["Escape"]);
    tmux.wait_for_sgr("Esc keeps the found row", PATIENCE, |s| {
        shows(s, &pids, 0) && !strip_sgr(s).contains("Search:")
    });
    tmux.keys(&["/"]);
    tmux.keys(&["-l", &mark]);
    tmux.keys(&["Enter"]);
    tmux.keys(&["n"]);
    wait("n after Enter", 1);
    tmux.keys(&["S-F3"]);
    wait("Shift-F3 after Enter", 0);

    // Esc, then a key soon after (a quick hand, well beyond the Esc
    // timeout): the Esc closes the search and the key acts on the list,
    // not Alt with the key typed into the search.
    tmux.keys(&["/"]);
    tmux.keys(&["-l", &mark]);
    tmux.wait_for("the search line", PATIENCE, |s| s.contains("Search:"));
    tmux.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(200));
    tmux.keys(&["j"]);
    tmux.wait_for_sgr("Esc closed the search, j moved down", PATIENCE, |s| {
        shows(s, &pids, 1) && !strip_sgr(s).contains("Search:")
    });
    tmux.keys(&["q"]);
    let _ = std::fs::remove_dir_all(&home);
}

/// The column titles line.
fn titles(screen: &str) -> Option<String> {
    strip_sgr(screen)
        .lines()
        .find(|l| l.contains(" USER ") && l.contains("TIME+"))
        .map(str::to_owned)
}

/// At 80 columns: a column turned on in the setup screen (F2) shows,
/// before Command; → and ← scroll the table 5 columns sideways (htop's
/// step); `w` shows the whole command line, Esc closes it.
#[test]
fn columns_scroll_and_the_whole_command_line() {
    if !common::tmux::ready() {
        return;
    }
    let mark = format!("colmark{}", std::process::id());
    let spinner = Spinner::spawn(&mark);
    spinner.run(false);
    let home = config_home("habits-columns");
    let command = format!(
        "env XDG_CONFIG_HOME={} NO_COLOR=1 {} -d 300 -p {}",
        home.display(),
        env!("CARGO_BIN_EXE_bpftop"),
        spinner.pid()
    );
    let tmux = Tmux::start("habits-columns", (80, 24), &command).expect("tmux runs");
    let first = tmux.wait_for_sgr("the table", PATIENCE, |s| table(s).len() == 1);
    let before = titles(&first).unwrap();
    assert!(before.ends_with("Command") || before.trim_end().ends_with("Command"));

    // F2, down to START (as many rows as the list shows it below PID: the
    // list grows as columns are added), Space, Esc. The keys are read in
    // order, so Space toggles the row the last Down reached.
    tmux.keys(&["F2"]);
    let setup = tmux.wait_for("the setup screen", PATIENCE, |s| {
        s.contains("Setup") && s.contains("] START ")
    });
    let row_of = |name: &str| {
        setup
            .lines()
            .position(|l| l.contains(&format!("] {name} ")))
            .unwrap()
    };
    for _ in row_of("PID")..row_of("START") {
        tmux.keys(&["Down"]);
    }
    tmux.keys(&["Space"]);
    tmux.keys(&["Escape"]);
    let screen = tmux.wait_for_sgr("START before Command", PATIENCE, |s| {
        titles(s).is_some_and(|t| t.contains("START Command"))
    });
    let with_start = titles(&screen).unwrap();
    assert!(
        with_start.trim_end().ends_with("START Command"),
        "{with_start}"
    );

    // → scrolls 5 columns, ← back.
    tmux.keys(&["Right"]);
    let shifted = format!("{:<80}", &with_start[5..]);
    tmux.wait_for_sgr("the table 5 columns to the left", PATIENCE, |s| {
        titles(s).is_some_and(|t| format!("{t:<80}") == shifted)
    });
    tmux.keys(&["Left"]);
    tmux.wait_for_sgr("the table back", PATIENCE, |s| {
        titles(s).is_some_and(|t| t == with_start)
    });

    // w: the command line, all of it, in a box; Esc closes it.
    tmux.keys(&["w"]);
    let title = format!("Command line of PID {}", spinner.pid());
    let screen = tmux.wait_for("the command line box", PATIENCE, |s| s.contains(&title));
    assert!(screen.contains(&format!("echo {mark}")), "{screen}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("the box closed", PATIENCE, |s| !s.contains(&title));
    tmux.keys(&["q"]);
    let _ = std::fs::remove_dir_all(&home);
}

/// A resized terminal is redrawn at once, as htop's is, not at the next
/// refresh: with an hour between refreshes, the meters stretch to the new
/// width as soon as tmux resizes the pane.
#[test]
fn a_resized_terminal_is_redrawn_at_once() {
    if !common::tmux::ready() {
        return;
    }
    let spinner = Spinner::spawn("resize");
    spinner.run(false);
    let home = config_home("habits-resize");
    let command = format!(
        "env XDG_CONFIG_HOME={} NO_COLOR=1 {} -d 3600000 -p {}",
        home.display(),
        env!("CARGO_BIN_EXE_bpftop"),
        spinner.pid()
    );
    let tmux = Tmux::start("habits-resize", (80, 24), &command).expect("tmux runs");
    let widest = |s: &str| s.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    // The command line shows from the second refresh on; none follows it
    // for an hour.
    tmux.wait_for("the second refresh", PATIENCE, |s| {
        s.contains("sh -c while") && widest(s) <= 80
    });
    tmux.checked(&["resize-window", "-t", "t", "-x", "120", "-y", "30"]);
    tmux.wait_for("the meters at the new width", PATIENCE, |s| {
        s.lines()
            .next()
            .is_some_and(|l| l.trim_end().chars().count() > 100)
    });
    tmux.keys(&["q"]);
    let _ = std::fs::remove_dir_all(&home);
}

/// The mouse reports a terminal sends in SGR mode (written into the pane
/// as the terminal would): the wheel scrolls the selection, a click
/// selects the row under it, as in htop.
#[test]
fn the_wheel_and_a_click_select_rows() {
    if !common::tmux::ready() {
        return;
    }
    let mark = format!("mousemark{}", std::process::id());
    let (_spinners, pids) = stopped_spinners(&mark);
    let home = config_home("habits-mouse");
    let tmux = start("habits-mouse", &pids, &home);
    let screen = tmux.wait_for_sgr("three rows, the top one selected", PATIENCE, |s| {
        shows(s, &pids, 0)
    });
    // Wheel down: three rows down, as far as the list goes.
    tmux.keys(&["-l", "\x1b[<65;10;10M"]);
    tmux.wait_for_sgr("the wheel moved down", PATIENCE, |s| shows(s, &pids, 2));
    // A click (press and release) on the middle process's row; rows and
    // columns count from 1.
    let row = strip_sgr(&screen)
        .lines()
        .position(|l| l.split_whitespace().next() == Some(&pids[1].to_string()))
        .unwrap()
        + 1;
    tmux.keys(&["-l", &format!("\x1b[<0;5;{row}M\x1b[<0;5;{row}m")]);
    tmux.wait_for_sgr("the click selected its row", PATIENCE, |s| {
        shows(s, &pids, 1)
    });
    tmux.keys(&["-l", "\x1b[<64;10;10M"]);
    tmux.wait_for_sgr("the wheel moved up", PATIENCE, |s| shows(s, &pids, 0));
    tmux.keys(&["q"]);
    let _ = std::fs::remove_dir_all(&home);
}
