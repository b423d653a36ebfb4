//! The flight recorder end to end: what `replay --batch` prints equals what
//! live batch JSON printed for the same refreshes (written beside the
//! recording by `record --tee-json`), a recorder killed with SIGKILL loses
//! at most the frame it was writing, and files that are not recordings are
//! refused with a clear message; the interface moves through a recording
//! and acts on none of its processes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bpftop");

struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("bpftop-rec-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child killed when dropped.
struct Workload(Child);

impl Drop for Workload {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn shell(script: &str) -> Workload {
    Workload(
        Command::new("sh")
            .args(["-c", script])
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn bpftop(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn replay(dir: &Path, range: &[&str]) -> Output {
    let mut args = vec![
        "replay",
        "--dir",
        dir.to_str().unwrap(),
        "--batch",
        "--format",
        "json",
    ];
    args.extend_from_slice(range);
    bpftop(&args)
}

/// The complete lines of `bytes` (a line cut by a kill is left out).
fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    let end = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    bytes[..end].split_inclusive(|&b| b == b'\n').collect()
}

/// A refresh's "time" as printed: the number's text (serde_json may read
/// a float one unit in the last place off; Rust's own parse is exact).
fn time_text(line: &[u8]) -> String {
    let line = std::str::from_utf8(line).unwrap();
    let rest = line.strip_prefix("{\"time\":").expect("time comes first");
    rest[..rest.find(',').unwrap()].to_owned()
}

fn time_of(line: &[u8]) -> f64 {
    time_text(line).parse().unwrap()
}

#[test]
fn replay_prints_what_live_batch_json_printed() {
    let dir = TempDir::new("roundtrip");
    let tee = dir.0.join("live.json");
    let rec = dir.0.join("rec");
    // A busy process (rates that are not zero) and short-lived ones
    // (processes that come and go between frames: delta frames, exits).
    let busy = shell("while :; do :; done");
    let churn = shell("while :; do sleep 0.05; done");
    let out = bpftop(&[
        "--no-gpu",
        "record",
        "--dir",
        rec.to_str().unwrap(),
        "-n",
        "9",
        "-d",
        "200",
        "--key-every",
        "3",
        "--tee-json",
        tee.to_str().unwrap(),
    ]);
    drop(churn);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(common::unexpected_stderr(&stderr).is_empty(), "{stderr}");
    let live = std::fs::read(&tee).unwrap();
    let live_lines = lines(&live);
    // Every refresh but the first (the baseline, which batch mode does
    // not print either).
    assert_eq!(live_lines.len(), 8);
    // The busy workload is in the live output with a real CPU share, so
    // the comparison covers rates, not only counters.
    let busy_pid = busy.0.id();
    let last: serde_json::Value = serde_json::from_slice(live_lines[7]).unwrap();
    let row = last["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"].as_u64() == Some(u64::from(busy_pid)))
        .expect("the busy workload is listed");
    assert!(row["cpu_percent"].as_f64().unwrap() > 10.0, "{row}");
    drop(busy);

    let whole = replay(&rec, &[]);
    assert!(whole.status.success(), "{}", text(&whole.stderr));
    assert!(
        whole.stdout == live,
        "replayed JSON differs from the live JSON"
    );

    // A range that starts on a delta frame after a key frame: it is
    // decoded from its key frame, its rates from the refresh before.
    let (from, to) = (time_text(live_lines[3]), time_text(live_lines[5]));
    let part = replay(&rec, &["--from", &from, "--to", &to]);
    assert!(part.status.success(), "{}", text(&part.stderr));
    assert!(
        part.stdout == live_lines[3..=5].concat(),
        "replayed range differs from the live JSON"
    );

    // Nothing in the range: said, exit 1.
    let none = replay(&rec, &["--from", "1", "--to", "2"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(text(&none.stderr).contains("nothing was recorded between"));
}

/// A workload run as `nobody` (uid 65534).
fn as_nobody(script: &str) -> Workload {
    use std::os::unix::process::CommandExt;
    Workload(
        Command::new("sh")
            .args(["-c", script])
            .stdin(Stdio::null())
            .uid(65_534)
            .gid(65_534)
            .spawn()
            .unwrap(),
    )
}

/// Records 5 refreshes with the live batch JSON of the last 4 selected by
/// `select` (the options before `record`, as before `--batch`); replays
/// the recording with the same options. Both outputs.
fn record_and_replay_selecting(label: &str, select: &[&str]) -> (Vec<u8>, Output) {
    let dir = TempDir::new(label);
    let tee = dir.0.join("live.json");
    let rec = dir.0.join("rec");
    let mut args = vec!["--no-gpu"];
    args.extend_from_slice(select);
    args.extend_from_slice(&["record", "--dir", rec.to_str().unwrap()]);
    args.extend_from_slice(&["-n", "5", "-d", "300", "--key-every", "3"]);
    args.extend_from_slice(&["--tee-json", tee.to_str().unwrap()]);
    let out = bpftop(&args);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(common::unexpected_stderr(&stderr).is_empty(), "{stderr}");
    let live = std::fs::read(&tee).unwrap();
    let mut args = vec!["--no-gpu"];
    args.extend_from_slice(select);
    args.extend_from_slice(&["replay", "--dir", rec.to_str().unwrap()]);
    args.extend_from_slice(&["--batch", "--format", "json"]);
    (live, bpftop(&args))
}

/// The pids, users and CPU shares of a printed refresh, in its order.
fn rows(line: &[u8]) -> Vec<(u64, String, f64)> {
    let refresh: serde_json::Value = serde_json::from_slice(line).unwrap();
    refresh["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["pid"].as_u64().unwrap(),
                p["user"].as_str().unwrap().to_owned(),
                p["cpu_percent"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// `replay --batch` selects as live batch mode does: -p, -u (named as the
/// recording named the user), -s and -n. The truth is live batch's JSON
/// of the same refreshes with the same options, and the workloads: a busy
/// and an idle process of `nobody`.
#[test]
fn replay_selects_as_live_batch_selected() {
    if !common::is_root() {
        common::skip("running workloads as nobody needs root");
        return;
    }
    let busy = as_nobody("while :; do :; done");
    let idle = as_nobody("exec sleep 600");
    let (busy_pid, idle_pid) = (u64::from(busy.0.id()), u64::from(idle.0.id()));

    let pid = idle_pid.to_string();
    let (live, replayed) = record_and_replay_selecting("select-pid", &["-p", &pid]);
    assert!(replayed.status.success(), "{}", text(&replayed.stderr));
    let live_lines = lines(&live);
    assert_eq!(live_lines.len(), 4);
    for line in &live_lines {
        let pids: Vec<u64> = rows(line).iter().map(|r| r.0).collect();
        assert_eq!(pids, [idle_pid], "live batch with -p {pid}");
    }
    assert!(
        replayed.stdout == live,
        "replay -p differs from live batch -p:\n{}\n{}",
        text(&replayed.stdout),
        text(&live)
    );

    let (live, replayed) =
        record_and_replay_selecting("select-user", &["-u", "nobody", "-s", "CPU%"]);
    assert!(replayed.status.success(), "{}", text(&replayed.stderr));
    let live_lines = lines(&live);
    assert_eq!(live_lines.len(), 4);
    let last = rows(live_lines[3]);
    assert!(last.iter().all(|r| r.1 == "nobody"), "{last:?}");
    // Busiest first: the busy workload leads, the idle one is listed.
    assert_eq!(last[0].0, busy_pid, "{last:?}");
    assert!(last[0].2 > 10.0, "{last:?}");
    assert!(last.iter().any(|r| r.0 == idle_pid), "{last:?}");
    assert!(
        replayed.stdout == live,
        "replay -u nobody -s CPU% differs from live batch with them"
    );

    // -n: the first refreshes only; a user the recording never named is
    // said (live batch refuses a user it does not know).
    let dir = TempDir::new("select-count");
    let rec = dir.0.join("rec");
    let out = bpftop(&[
        "--no-gpu",
        "record",
        "--dir",
        rec.to_str().unwrap(),
        "-n",
        "4",
        "-d",
        "200",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dir_arg = rec.to_str().unwrap();
    let two = bpftop(&[
        "-n", "2", "-p", &pid, "replay", "--dir", dir_arg, "--batch", "--format", "json",
    ]);
    assert!(two.status.success(), "{}", text(&two.stderr));
    assert_eq!(lines(&two.stdout).len(), 2);
    let stranger = bpftop(&[
        "-u",
        "no-such-user-here",
        "replay",
        "--dir",
        dir_arg,
        "--batch",
    ]);
    assert_eq!(stranger.status.code(), Some(1));
    assert!(
        text(&stranger.stderr).contains("no process of user \"no-such-user-here\""),
        "{}",
        text(&stranger.stderr)
    );
    drop((busy, idle));
}

#[test]
fn a_killed_recorder_loses_at_most_the_frame_it_was_writing() {
    let dir = TempDir::new("sigkill");
    let tee = dir.0.join("live.json");
    let rec = dir.0.join("rec");
    let mut recorder = Workload(
        Command::new(BIN)
            .args([
                "--no-gpu",
                "record",
                "--dir",
                rec.to_str().unwrap(),
                "-d",
                "100",
            ])
            .arg("--tee-json")
            .arg(&tee)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs_f64(60.0 * common::overload());
    while lines(&std::fs::read(&tee).unwrap_or_default()).len() < 5 {
        assert!(Instant::now() < deadline, "the recorder wrote too little");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SIGKILL, whatever it is doing.
    recorder.0.kill().unwrap();
    recorder.0.wait().unwrap();
    let live = std::fs::read(&tee).unwrap();
    let live_lines = lines(&live);
    let replayed = replay(&rec, &[]);
    assert!(replayed.status.success(), "{}", text(&replayed.stderr));
    let replayed_lines = lines(&replayed.stdout);
    // Every refresh printed live is in the recording (its frame is
    // committed before it is printed); at most one more, whose printing
    // the kill cut short.
    assert!(
        replayed_lines.len() >= live_lines.len() && replayed_lines.len() <= live_lines.len() + 1,
        "{} replayed, {} printed live",
        replayed_lines.len(),
        live_lines.len()
    );
    assert!(replayed_lines[..live_lines.len()] == live_lines[..]);

    // Recording again into the same directory continues it (a new
    // session, whose first refresh is a baseline again).
    let again = bpftop(&[
        "--no-gpu",
        "record",
        "--dir",
        rec.to_str().unwrap(),
        "-n",
        "3",
        "-d",
        "100",
    ]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let all = replay(&rec, &[]);
    assert!(all.status.success(), "{}", text(&all.stderr));
    let all_lines = lines(&all.stdout);
    assert_eq!(all_lines.len(), replayed_lines.len() + 2);
    assert!(all_lines[..replayed_lines.len()] == replayed_lines[..]);
}

/// bpftop's exit status and stderr on the recording `dir`, for replay and
/// record; neither may panic.
fn refused(dir: &Path) -> Vec<(Option<i32>, String)> {
    let d = dir.to_str().unwrap();
    [
        replay(dir, &[]),
        bpftop(&[
            "--no-gpu",
            "--backend",
            "procfs",
            "record",
            "--dir",
            d,
            "-n",
            "1",
        ]),
    ]
    .iter()
    .map(|out| {
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        (out.status.code(), stderr)
    })
    .collect()
}

#[test]
fn garbage_foreign_and_newer_files_are_refused_clearly() {
    let dir = TempDir::new("corrupt");
    let db = dir.0.join("recording.db");
    std::fs::write(&db, vec![0x5a; 64 * 1024]).unwrap();
    for (code, stderr) in refused(&dir.0) {
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains("is not a bpftop recording"), "{stderr}");
    }
    std::fs::remove_file(&db).unwrap();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('x');")
        .unwrap();
    for (code, stderr) in refused(&dir.0) {
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains("another program"), "{stderr}");
    }
    std::fs::remove_file(&db).unwrap();

    // A real recording, then one of its frames damaged.
    let d = dir.0.to_str().unwrap();
    let out = bpftop(&[
        "--no-gpu",
        "--backend",
        "procfs",
        "record",
        "--dir",
        d,
        "-n",
        "3",
        "-d",
        "100",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE frames SET data = x'28b52ffd00' WHERE id = 2", [])
        .unwrap();
    let out = replay(&dir.0, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("frame 2 cannot be read"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // A newer format: which version wrote it, and that this one cannot.
    conn.execute_batch("PRAGMA user_version = 1000;").unwrap();
    drop(conn);
    for (code, stderr) in refused(&dir.0) {
        assert_eq!(code, Some(1), "{stderr}");
        assert!(
            stderr.contains("format 1000, newer than this bpftop"),
            "{stderr}"
        );
        assert!(stderr.contains("written by bpftop "), "{stderr}");
    }
}

/// `date -u`'s rendering of a Unix time, as the header shows it.
fn utc(time: f64) -> String {
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{}", time.floor()), "+%F %T"])
        .output()
        .unwrap();
    text(&out.stdout).trim().to_owned()
}

#[test]
fn the_interface_steps_through_a_recording_and_acts_on_none_of_it() {
    let dir = TempDir::new("interface");
    let tee = dir.0.join("live.json");
    let rec = dir.0.join("rec");
    let out = bpftop(&[
        "--no-gpu",
        "--backend",
        "procfs",
        "record",
        "--dir",
        rec.to_str().unwrap(),
        "-n",
        "5",
        "-d",
        "1100",
        "--tee-json",
        tee.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let live = std::fs::read(&tee).unwrap();
    // Refreshes 2 to 5 (the first is not printed), at least a second apart,
    // so each shows a different time.
    let times: Vec<String> = lines(&live).iter().map(|l| utc(time_of(l))).collect();
    assert_eq!(times.len(), 4);
    let at = time_text(lines(&live)[1]);
    let command = format!(
        "XDG_CONFIG_HOME=/nonexistent {BIN} replay --dir {} --at {at}; sleep 600",
        rec.display()
    );
    let Some(tmux) = common::tmux::Tmux::start("replay", (140, 30), &command) else {
        return;
    };
    let patience = Duration::from_secs_f64(30.0 * common::overload());
    let shows = |time: &str| {
        let marker = format!("replay of {time} UTC");
        tmux.wait_for(&marker.clone(), patience, move |s| s.contains(&marker));
    };
    shows(&times[1]);
    tmux.keys(&["."]);
    shows(&times[2]);
    tmux.keys(&[","]);
    shows(&times[1]);
    tmux.keys(&[","]);
    shows(&times[0]);
    // A minute forward: past the end of a few seconds' recording, the
    // last refresh; then nothing further, said.
    tmux.keys(&["}"]);
    shows(&times[3]);
    tmux.keys(&["."]);
    tmux.wait_for("the end of the recording", patience, |s| {
        s.contains("the recording ends at")
    });
    // Signals would reach today's holder of a recorded pid: refused.
    tmux.keys(&["F9"]);
    tmux.wait_for("the signal menu", patience, |s| s.contains("15 TERM"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the refusal", patience, |s| {
        s.contains("cannot be acted on")
    });
    tmux.keys(&["q"]);
}

/// The time a header marker `label` shows ("… rewound to 2026-12-07
/// 03:12:05 UTC …"), if any.
fn marker_time<'s>(screen: &'s str, label: &str) -> Option<&'s str> {
    let at = screen.find(label)? + label.len();
    screen.get(at..at + 19)
}

/// Rewinding is on by default: no config file.
#[test]
fn the_live_interface_rewinds_and_returns_to_live() {
    let command = format!("XDG_CONFIG_HOME=/nonexistent {BIN} --no-gpu -d 300; sleep 600");
    let Some(tmux) = common::tmux::Tmux::start("rewind", (140, 30), &command) else {
        return;
    };
    let patience = Duration::from_secs_f64(30.0 * common::overload());
    tmux.wait_for("the table", patience, |s| s.contains("Command"));
    // Back one refresh, as soon as two are kept: the first is not, and a
    // debug build encodes a key frame of 30 000 processes slowly.
    let deadline = Instant::now() + patience * 6;
    let first = loop {
        // One key at a time, each answered (rewound, or "starts at" while
        // only one refresh is kept) before the next: each costs a decode.
        tmux.keys(&[","]);
        let screen = tmux.wait_for("an answer to ,", patience * 6, |s| {
            s.contains("rewound to ") || s.contains("recording starts at")
        });
        if let Some(t) = marker_time(&screen, "rewound to ") {
            break t.to_owned();
        }
        assert!(Instant::now() < deadline, "no rewind: {screen}");
        std::thread::sleep(Duration::from_millis(1000));
        // Any key clears the status line: an unbound one, so that the
        // next answer is not this one still shown.
        tmux.keys(&["F12"]);
        tmux.wait_for("the status cleared", patience, |s| {
            !s.contains("recording starts at")
        });
    };
    // A refresh of the past: not later than now.
    assert!(first <= utc(now()), "{first}");
    // One more back: an earlier refresh (they are 0.3 s apart; the marker
    // shows seconds, so it may be the same second, never a later one).
    // Two refreshes in one second look alike in the marker: an answer
    // not seen within the patience is taken for one of those.
    tmux.keys(&[","]);
    let asked = Instant::now();
    let screen = loop {
        let screen = tmux.screen();
        let earlier = marker_time(&screen, "rewound to ").is_some_and(|t| t < first.as_str());
        if earlier || screen.contains("recording starts at") || asked.elapsed() > patience {
            break screen;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let second = marker_time(&screen, "rewound to ")
        .expect("still rewound")
        .to_owned();
    assert!(second <= first, "{second} after {first}");
    // While rewound, live refreshes do not replace the refresh shown.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        marker_time(&tmux.screen(), "rewound to "),
        Some(second.as_str())
    );
    // Its processes are of the past: not acted on.
    tmux.keys(&["F9"]);
    tmux.wait_for("the signal menu", patience, |s| s.contains("15 TERM"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the refusal", patience, |s| s.contains("L returns to live"));
    // One key back to live.
    tmux.keys(&["L"]);
    tmux.wait_for("the live header", patience, |s| {
        s.contains("Backend: ") && !s.contains("rewound to")
    });
    tmux.keys(&["q"]);
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn rewind_minutes_0_turns_rewinding_off() {
    let dir = TempDir::new("rewind-off");
    std::fs::create_dir_all(dir.0.join("bpftop")).unwrap();
    std::fs::write(dir.0.join("bpftop/config.toml"), "rewind_minutes = 0\n").unwrap();
    let command = format!(
        "XDG_CONFIG_HOME={} {BIN} --no-gpu -d 300; sleep 600",
        dir.0.display()
    );
    let Some(tmux) = common::tmux::Tmux::start("rewind-off", (140, 30), &command) else {
        return;
    };
    let patience = Duration::from_secs_f64(30.0 * common::overload());
    tmux.wait_for("the table", patience, |s| s.contains("Command"));
    std::thread::sleep(Duration::from_millis(1000));
    tmux.keys(&[","]);
    tmux.wait_for("the refusal", patience, |s| s.contains("rewinding is off"));
    assert!(!tmux.screen().contains("rewound to"));
    tmux.keys(&["q"]);
}
