//! `scripts/gpu-check --compare`: the comparison that judges bpftop's
//! NVIDIA figures against nvidia-smi, proven here on saved samples (no GPU
//! needed). The fixtures are bpftop's real JSON shape with GPU figures set
//! by hand, and nvidia-smi's CSV and pmon formats; the expected verdicts
//! were worked out by hand from those numbers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn compare(dir: &Path) -> Option<Output> {
    if Command::new("python3").arg("--version").output().is_err() {
        common::skip("the comparison needs python3");
        return None;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Some(
        Command::new("bash")
            .arg(root.join("scripts/gpu-check"))
            .arg("--compare")
            .arg(dir)
            .output()
            .expect("bash runs"),
    )
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gpu_check")
        .join(name)
}

fn row<'a>(stdout: &'a str, check: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(check))
        .unwrap_or_else(|| panic!("no {check} row in:\n{stdout}"))
}

/// Agreeing samples: every row ok. bpftop's first two refreshes (GPU% 0,
/// no interval yet) would pull its mean to 77.6 against pmon's 97.2, so
/// this also proves they are left out.
#[test]
fn agreeing_samples_pass() {
    let Some(out) = compare(&fixture("pass")) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        row(&stdout, "GMEM pid 4242").contains("1029.0        1029"),
        "{stdout}"
    );
    assert!(
        row(&stdout, "GPU% pid 4242").contains("97.2        97.2"),
        "{stdout}"
    );
    assert!(stdout.contains("6 of 6 agree"), "{stdout}");
}

/// GMEM 1029 MiB against nvidia-smi's 1541, GPU% 45.6 against pmon's
/// 97.2 and the header's 2057 MiB used against 1545: three mismatches, exit
/// status 1; the busy meter and --check still agree.
#[test]
fn disagreeing_samples_fail_and_name_what() {
    let Some(out) = compare(&fixture("fail")) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    for check in ["GMEM pid 4242", "GPU% pid 4242", "GPU0 memory used"] {
        assert!(
            row(&stdout, check).contains("MISMATCH"),
            "{check}: {stdout}"
        );
    }
    for check in ["GPU0 busy %", "--check NVML"] {
        assert!(row(&stdout, check).contains(" ok "), "{check}: {stdout}");
    }
    assert!(
        stdout.contains(
            "3 of 6 agree; mismatched: GMEM pid 4242 (MiB), GPU% pid 4242, GPU0 memory used (MiB)"
        ),
        "{stdout}"
    );
}

/// Missing samples are not a verdict: exit status 2 with the file named.
#[test]
fn missing_samples_are_status_2() {
    let dir = std::env::temp_dir().join(format!("bpftop-gpu-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("workload"), "4242 512 torch\n").unwrap();
    let out = compare(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let Some(out) = out else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bpftop.jsonl"), "{stderr}");
}
