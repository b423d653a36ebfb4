//! What `bpftop --version` says about the build: the target triple, the git
//! commit (with "-dirty" when tracked files differ from it), the build's
//! features and its date. Passed to the crate as environment variables
//! (`env!` in src/build_info.rs).
//!
//! Built from a tarball (no git, or the sources are not the top of a git
//! work tree) the commit is "unknown". The date is SOURCE_DATE_EPOCH's when
//! set (reproducible builds), else the day the build script ran.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// Emits the variables and the files whose change must run the script again.
pub fn emit(manifest_dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let target = env::var("TARGET")?;
    println!("cargo:rustc-env=BPFTOP_BUILD_TARGET={target}");
    let commit = match git_commit(manifest_dir) {
        Some((commit, watched)) => {
            for path in watched {
                println!("cargo:rerun-if-changed={}", path.display());
            }
            commit
        }
        None => "unknown".to_owned(),
    };
    println!("cargo:rustc-env=BPFTOP_BUILD_COMMIT={commit}");
    println!("cargo:rustc-env=BPFTOP_BUILD_FEATURES={}", features()?);
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rustc-env=BPFTOP_BUILD_DATE={}", build_date());
    Ok(())
}

/// Runs git in the source directory; its stdout when it succeeds. The index
/// is never written (GIT_OPTIONAL_LOCKS=0): a write would itself be a change
/// that runs the build script again.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
}

/// The short commit hash, "-dirty" appended when a tracked file differs from
/// it, and the paths whose change can alter either. None outside a git work
/// tree whose top is the source directory (a tarball unpacked inside some
/// other repository must not take that repository's commit).
fn git_commit(dir: &Path) -> Option<(String, Vec<PathBuf>)> {
    let top = PathBuf::from(git(dir, &["rev-parse", "--show-toplevel"])?);
    if top.canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    let hash = git(dir, &["rev-parse", "--short=12", "HEAD"])?;
    let status = git(dir, &["status", "--porcelain", "--untracked-files=no"])?;
    let dirty = if status.is_empty() { "" } else { "-dirty" };

    // HEAD (a checkout), the branch it names (a commit), packed-refs (a gc
    // that packs it), the index (staging): and every tracked top-level entry,
    // directories scanned whole by cargo, for edits not yet staged.
    let mut watched = Vec::new();
    let mut git_path = |name: &str| {
        if let Some(p) = git(dir, &["rev-parse", "--git-path", name]) {
            watched.push(dir.join(p));
        }
    };
    git_path("HEAD");
    git_path("index");
    git_path("packed-refs");
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        git_path(&branch);
    }
    if let Some(entries) = git(dir, &["ls-tree", "--name-only", "HEAD"]) {
        watched.extend(entries.lines().map(|e| dir.join(e)));
    }
    // A path that does not exist would run the script at every build.
    watched.retain(|p| p.exists());
    Some((format!("{hash}{dirty}"), watched))
}

/// The build's features: the profile, static or dynamic C runtime, the
/// register layout the BPF programs were compiled for, and any Cargo
/// features turned on.
fn features() -> Result<String, Box<dyn std::error::Error>> {
    let mut list = vec![env::var("PROFILE")?];
    let target_features = env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let crt_static = target_features.split(',').any(|f| f == "crt-static");
    list.push(if crt_static { "static" } else { "dynamic" }.to_owned());
    list.push(format!("bpf-{}", super::bpf_arch()?));
    let mut cargo: Vec<String> = env::vars()
        .filter_map(|(k, _)| {
            k.strip_prefix("CARGO_FEATURE_")
                .map(|f| f.to_lowercase().replace('_', "-"))
        })
        .collect();
    cargo.sort();
    list.extend(cargo);
    Ok(list.join(" "))
}

/// YYYY-MM-DD (UTC) of SOURCE_DATE_EPOCH, or of now.
fn build_date() -> String {
    let secs = env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's days-to-civil algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
