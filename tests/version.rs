//! `bpftop --version` names the commit git says the sources are at (with
//! "-dirty" exactly when git sees tracked changes), the target the test
//! binary was built for, and its features; `-V` stays one line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_bpftop");
const SRC: &str = env!("CARGO_MANIFEST_DIR");

fn bpftop(arg: &str) -> String {
    let out = Command::new(BIN).arg(arg).output().unwrap();
    assert!(out.status.success(), "bpftop {arg} failed: {out:?}");
    assert!(
        out.stderr.is_empty(),
        "bpftop {arg} wrote to stderr: {out:?}"
    );
    String::from_utf8(out.stdout).unwrap()
}

/// git's answer in the source directory, or None where git cannot say (no
/// git installed, sources from a tarball).
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(SRC)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
}

/// The value of the line "NAME: value".
fn field<'a>(text: &'a str, name: &str) -> &'a str {
    let prefix = format!("{name}: ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {name}: line in {text:?}"))
}

#[test]
fn version_names_the_commit_git_reports() {
    let text = bpftop("--version");
    let commit = field(&text, "commit");
    let top = git(&["rev-parse", "--show-toplevel"]);
    let in_git =
        top.is_some_and(|t| std::fs::canonicalize(t).ok() == std::fs::canonicalize(SRC).ok());
    if !in_git {
        assert_eq!(commit, "unknown", "not built in a git work tree: {text}");
        return;
    }
    let head = git(&["rev-parse", "HEAD"]).unwrap();
    let (hash, dirty) = match commit.strip_suffix("-dirty") {
        Some(hash) => (hash, true),
        None => (commit, false),
    };
    assert!(
        hash.len() >= 7 && head.starts_with(hash),
        "--version says commit {commit}, git says HEAD is {head}"
    );
    let status = git(&["status", "--porcelain", "--untracked-files=no"]).unwrap();
    assert_eq!(
        dirty,
        !status.is_empty(),
        "--version says {commit}; git status lists tracked changes: {status:?}"
    );
}

#[test]
fn version_names_the_target_and_the_features() {
    let text = bpftop("--version");
    assert_eq!(
        text.lines().next().unwrap(),
        concat!("bpftop ", env!("CARGO_PKG_VERSION"))
    );
    // The test binary and bpftop come from the same cargo invocation: the
    // architecture and OS the test was compiled for are bpftop's too.
    let target = field(&text, "target");
    assert!(
        target.starts_with(std::env::consts::ARCH) && target.contains(std::env::consts::OS),
        "target {target:?} is not this {}-{} build",
        std::env::consts::ARCH,
        std::env::consts::OS
    );
    let features: Vec<&str> = field(&text, "features").split(' ').collect();
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    assert_eq!(features[0], profile, "{text}");
    let crt = if cfg!(target_feature = "crt-static") {
        "static"
    } else {
        "dynamic"
    };
    assert_eq!(features[1], crt, "{text}");
    let bpf = if cfg!(target_arch = "aarch64") {
        "bpf-arm64"
    } else {
        "bpf-x86"
    };
    assert_eq!(features[2], bpf, "{text}");
    let date = field(&text, "built");
    assert!(
        date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-',
        "built: {date:?} is not YYYY-MM-DD"
    );
}

#[test]
fn short_version_is_one_line() {
    assert_eq!(
        bpftop("-V"),
        concat!("bpftop ", env!("CARGO_PKG_VERSION"), "\n")
    );
}
