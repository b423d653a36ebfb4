//! The test-only roots (`--proc-root`, `--sys-root`, `--passwd`) as an
//! attack path: with a fake /proc whose `PID/cmdline` links to a root-only
//! file, a capability-carrying copy once printed that file as a command
//! line. They must be refused under file capabilities, and keep working for
//! an ordinary user without them (the tests' own use).

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use crate::support::{bin, setup, Attacker, Scratch};

const SECRET: &str = "TOPSECRET-ROOT-ONLY";

/// A fake proc root: the system files link to the real ones, and one
/// process (a copy of PID 1's files) has a command line linking to
/// `secret`.
fn fake_proc(dir: &Path, secret: &Path) {
    for name in [
        "stat", "meminfo", "uptime", "loadavg", "self", "pressure", "sys", "vmstat",
    ] {
        symlink(Path::new("/proc").join(name), dir.join(name)).unwrap();
    }
    let process = dir.join("4242");
    std::fs::create_dir(&process).unwrap();
    for name in ["stat", "statm", "status", "cgroup"] {
        std::fs::copy(Path::new("/proc/1").join(name), process.join(name)).unwrap();
    }
    symlink(secret, process.join("cmdline")).unwrap();
}

fn batch(attacker: &Attacker, program: &Path, roots: &[&str]) -> std::process::Output {
    attacker
        .command(program)
        .args([
            "--batch",
            "-n",
            "1",
            "--format",
            "json",
            "--backend",
            "procfs",
        ])
        .args(roots)
        .output()
        .unwrap()
}

#[test]
fn test_roots_are_refused_under_file_capabilities() {
    let Some((attacker, binary)) = setup("flags") else {
        return;
    };
    let scratch = Scratch::new("flags");
    let secret = scratch.path().join("secret");
    std::fs::write(&secret, SECRET).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let fake = scratch.path().join("proc");
    std::fs::create_dir(&fake).unwrap();
    fake_proc(&fake, &secret);
    let fake = fake.to_str().unwrap();

    let out = batch(&attacker, &binary.path, &["--proc-root", fake]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        !stdout.contains(SECRET),
        "the root-only file leaked: {stdout}"
    );
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("--proc-root"), "{stderr}");
    for roots in [["--sys-root", "/tmp"], ["--passwd", "/etc/shadow"]] {
        let out = batch(&attacker, &binary.path, &roots);
        assert_eq!(out.status.code(), Some(2), "{roots:?} accepted");
    }

    // Without capabilities the same user may point bpftop anywhere: it
    // reads only what that user can read.
    let plain = scratch.path().join("bpftop-plain");
    std::fs::copy(bin(), &plain).unwrap();
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = batch(&attacker, &plain, &["--proc-root", fake]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains(SECRET), "{stdout}");
}

/// `BPFTOP_REFRESH_COUNT` names a file bpftop creates and rewrites: under
/// file capabilities (which may include overriding file permissions) it
/// must be refused before anything is written, or any user could cut root's
/// files; without them it reaches only what the user may write.
#[test]
fn the_refresh_count_file_is_refused_under_file_capabilities() {
    let Some((attacker, binary)) = setup("refresh-count") else {
        return;
    };
    let scratch = Scratch::new("refresh-count");
    let precious = scratch.path().join("root-only");
    std::fs::write(&precious, SECRET).unwrap();
    std::fs::set_permissions(&precious, std::fs::Permissions::from_mode(0o600)).unwrap();
    let with_count = |program: &Path, file: &Path| {
        let mut command = attacker.command(program);
        command.env("BPFTOP_REFRESH_COUNT", file).args([
            "--batch",
            "-n",
            "2",
            "-d",
            "100",
            "--format",
            "json",
            "--backend",
            "procfs",
            "-p",
            "1",
        ]);
        command.output().unwrap()
    };

    let out = with_count(&binary.path, &precious);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("BPFTOP_REFRESH_COUNT"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), SECRET);

    // Without capabilities: the root-only file cannot be opened (a runtime
    // error naming the variable), and a file of the user's own counts.
    let plain = scratch.path().join("bpftop-plain");
    std::fs::copy(bin(), &plain).unwrap();
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = with_count(&plain, &precious);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("BPFTOP_REFRESH_COUNT"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), SECRET);

    let own = scratch.path().join("own");
    std::fs::create_dir(&own).unwrap();
    std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o777)).unwrap();
    let count = own.join("count");
    let out = with_count(&plain, &count);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Two snapshots printed, and the short first interval before them
    // (what makes CPU% real in the first) is a refresh too.
    let printed = String::from_utf8_lossy(&out.stdout).lines().count();
    assert_eq!(printed, 2);
    let line = std::fs::read_to_string(&count).unwrap();
    assert_eq!(line.split_whitespace().next(), Some("3"), "{line:?}");
}
