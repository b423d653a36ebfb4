//! One exit-status contract in every mode: 0 success, 1 an error while
//! running, 2 bad usage (a malformed option or value, an unknown user,
//! column or theme, an option that means nothing in the mode).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bpftop");

/// The exit status and stderr of bpftop run with `args`.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_usage_exits_2_in_every_mode() {
    let cases: &[(&[&str], &str)] = &[
        (&["--no-such-option"], "unexpected argument"),
        (&["-d", "5"], "at least 10 milliseconds"),
        (&["--batch", "-d", "soon"], "not a number of milliseconds"),
        (&["-s", "NO_SUCH_COLUMN"], "NO_SUCH_COLUMN"),
        (
            &["--batch", "-n", "1", "-s", "NO_SUCH_COLUMN"],
            "NO_SUCH_COLUMN",
        ),
        (&["--theme", "neon"], "neon"),
        (&["--batch", "-n", "1", "-t"], "--tree"),
        (&["--batch", "-n", "1", "--theme", "mono"], "--theme"),
        (&["--serve", "0", "--no-mouse"], "--no-mouse"),
        (
            &["--batch", "-n", "1", "-u", "no-such-user-here"],
            "unknown user",
        ),
        (&["--batch", "--serve", "0"], "cannot be used with"),
        (&["--pss"], "--batch"),
        (&["--serve", "0", "--pss"], "cannot be used with"),
        (&["--check", "--pss"], "--batch"),
        (&["record", "--retain", "7x"], "neither an age"),
        (&["record", "-d", "1"], "at least 10 milliseconds"),
        (
            &["replay", "--batch", "--from", "yesterday"],
            "is not a time",
        ),
        (&["replay", "--from", "-1m"], "--batch"),
        (&["replay", "--batch", "--at", "-1m"], "cannot be used with"),
        (&["replay", "--at", "soon"], "is not a time"),
    ];
    for (args, says) in cases {
        let (code, stderr) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

#[test]
fn column_ids_are_accepted_in_any_case() {
    let (code, stderr) = run(&["--batch", "-n", "1", "-s", "mem%"]);
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn a_runtime_error_exits_1() {
    // No BTF under this sys root: the eBPF backend cannot load, and
    // `--backend bpf` does not fall back.
    let empty = std::env::temp_dir().join(format!("bpftop-nobtf-exit-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let (code, stderr) = run(&[
        "--batch",
        "-n",
        "1",
        "--backend",
        "bpf",
        "--sys-root",
        empty.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_dir_all(&empty);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("BTF"), "{stderr}");
    // The interface without a terminal.
    let (code, stderr) = run(&[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("not a terminal"), "{stderr}");
}

#[test]
fn the_interface_refuses_an_unknown_user_with_2() {
    if !common::is_root() {
        common::skip("the interface test runs as root (CI does)");
        return;
    }
    let status = std::env::temp_dir().join(format!("bpftop-exit-{}", std::process::id()));
    let command = format!(
        "env XDG_CONFIG_HOME=/nonexistent {BIN} -u no-such-user-here; echo $? > {}",
        status.display()
    );
    let Some(_tmux) = common::tmux::Tmux::start("exit", (100, 30), &command) else {
        return;
    };
    let start = Instant::now();
    let code = loop {
        if let Ok(text) = std::fs::read_to_string(&status) {
            if text.ends_with('\n') {
                break text.trim().to_owned();
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "bpftop did not exit"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = std::fs::remove_file(&status);
    assert_eq!(code, "2");
}
