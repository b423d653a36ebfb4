//! scripts/install puts the binary, the man page and the completions where
//! man, bash, zsh and fish look for them, under any prefix, and with
//! --setcap grants the README's capabilities.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_bpftop");

fn install(prefix: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/install"))
        .arg("--prefix")
        .arg(prefix)
        .args(["--binary", BIN])
        .args(extra)
        .output()
        .unwrap()
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_prefix(tag: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("bpftop-install-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    TempDir(dir)
}

#[test]
fn everything_lands_under_the_prefix_and_runs() {
    let prefix = temp_prefix("plain");
    let out = install(&prefix.0, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = env!("CARGO_MANIFEST_DIR");
    for (installed, source) in [
        ("share/man/man1/bpftop.1", "docs/man/bpftop.1"),
        (
            "share/bash-completion/completions/bpftop",
            "completions/bpftop.bash",
        ),
        ("share/zsh/site-functions/_bpftop", "completions/_bpftop"),
        (
            "share/fish/vendor_completions.d/bpftop.fish",
            "completions/bpftop.fish",
        ),
    ] {
        let got = std::fs::read(prefix.0.join(installed)).expect(installed);
        let want = std::fs::read(Path::new(root).join(source)).unwrap();
        assert_eq!(got, want, "{installed}");
    }
    let version = Command::new(prefix.0.join("bin/bpftop"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("bpftop "));
}

#[test]
fn bad_usage_exits_2() {
    let prefix = temp_prefix("usage");
    assert_eq!(install(&prefix.0, &["--bogus"]).status.code(), Some(2));
    assert_eq!(
        install(&prefix.0, &["--group", "root"]).status.code(),
        Some(2)
    );
    assert!(!prefix.0.exists(), "nothing installed on bad usage");
}

#[test]
fn setcap_grants_the_readme_capabilities() {
    if !common::is_root() {
        common::skip("needs root to set file capabilities");
        return;
    }
    let prefix = temp_prefix("caps");
    let out = install(&prefix.0, &["--setcap", "--group", "root"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = prefix.0.join("bin/bpftop");
    let caps = Command::new("getcap").arg(&bin).output().unwrap();
    let caps = String::from_utf8_lossy(&caps.stdout);
    for cap in [
        "cap_bpf",
        "cap_perfmon",
        "cap_dac_read_search",
        "cap_dac_override",
    ] {
        assert!(caps.contains(cap), "{cap} missing: {caps}");
    }
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&bin).unwrap().permissions().mode() & 0o777,
        0o750
    );
}
