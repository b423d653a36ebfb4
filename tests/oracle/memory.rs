//! The parts of RES, swap, PSS and USS against /proc, read by the test
//! itself: a workload with anonymous memory, part of it pushed out to a
//! swap file the test turns on, and shared memory.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use bpftop::collect::sample::MemoryParts;
use bpftop::collect::{BackendChoice, WalkChoice};

use super::{bpftop, find, sampler, Workload};

/// A swap file, on while this lives: swapped off and removed when dropped,
/// also when the test panics.
struct SwapFile {
    dir: PathBuf,
    file: PathBuf,
    on: bool,
}

impl SwapFile {
    /// A 64 MiB swap file turned on, or Err(why) where that is refused
    /// (not root, a container without CAP_SYS_ADMIN, a file system that
    /// cannot hold swap).
    fn on() -> Result<SwapFile, String> {
        // Not /tmp: tmpfs cannot hold a swap file.
        let dir = PathBuf::from(format!(
            "/var/tmp/bpftop-oracle-swap.{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut swap = SwapFile {
            file: dir.join("swap"),
            dir,
            on: false,
        };
        // Written out, not fallocated: swapon refuses files with holes on
        // some file systems.
        let file = swap.file.display().to_string();
        let steps: [&[&str]; 4] = [
            &[
                "dd",
                "if=/dev/zero",
                &format!("of={file}"),
                "bs=1M",
                "count=64",
                "status=none",
            ],
            &["chmod", "600", &file],
            &["mkswap", &file],
            &["swapon", &file],
        ];
        for step in steps {
            let out = Command::new(step[0])
                .args(&step[1..])
                .output()
                .map_err(|e| format!("{}: {e}", step[0]))?;
            if !out.status.success() {
                return Err(format!(
                    "{step:?}: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
        swap.on = true;
        Ok(swap)
    }
}

impl Drop for SwapFile {
    fn drop(&mut self) {
        if self.on {
            let _ = Command::new("swapoff").arg(&self.file).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// "Key:   123 kB" values of a /proc file, in bytes.
fn kib_fields(path: &str) -> BTreeMap<String, u64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(':')?;
            let kib: u64 = value.trim().strip_suffix(" kB")?.trim().parse().ok()?;
            Some((key.to_owned(), kib * 1024))
        })
        .collect()
}

/// The memory parts /proc/PID/status shows.
fn status_parts(pid: u32) -> MemoryParts {
    let f = kib_fields(&format!("/proc/{pid}/status"));
    let get = |k: &str| *f.get(k).unwrap_or_else(|| panic!("{k} missing for {pid}"));
    MemoryParts {
        anon_bytes: get("RssAnon"),
        file_bytes: get("RssFile"),
        shmem_bytes: get("RssShmem"),
        swap_bytes: get("VmSwap"),
    }
}

/// The workload: 48 MiB anonymous of which 32 MiB paged out (to the swap
/// file, when it is on) and 16 MiB shared.
fn swapped_workload() -> Workload {
    Workload::simple(&["swapped", "48", "32", "16"])
}

const MIB: u64 = 1 << 20;

/// Each backend's RssAnon, RssFile, RssShmem and VmSwap equal
/// /proc/PID/status's, bytes, where status held still across the sample.
pub fn memory_parts_match_status(choice: BackendChoice, walk: WalkChoice) {
    let swap = match SwapFile::on() {
        Ok(swap) => swap,
        Err(why) => {
            crate::common::skip(&format!("no swap file can be turned on here: {why}"));
            return;
        }
    };
    let w = swapped_workload();
    let pid = w.pid();
    let mut s = sampler(choice, walk);
    let mut compared = false;
    for _ in 0..10 {
        let before = status_parts(pid);
        let sample = s.sample().unwrap();
        let after = status_parts(pid);
        if before != after {
            continue;
        }
        let p = find(&sample, pid);
        assert_eq!(p.memory, before, "{choice:?} ({walk:?})");
        assert_eq!(
            p.rss_bytes,
            before.anon_bytes + before.file_bytes + before.shmem_bytes,
            "RES is the sum of its parts"
        );
        // The test's premises: pages really went to swap, the rest stayed.
        assert!(before.swap_bytes > 0, "nothing was swapped out: {before:?}");
        assert!(before.anon_bytes >= 8 * MIB, "{before:?}");
        assert!(before.shmem_bytes >= 16 * MIB, "{before:?}");
        // Kernel threads have no address space: all zero, as /proc's
        // status has no such lines for them.
        let kthreadd = sample.processes.iter().find(|p| p.kernel_thread);
        if let Some(k) = kthreadd {
            assert_eq!(k.memory, MemoryParts::default(), "kernel thread {}", k.pid);
        }
        compared = true;
        break;
    }
    drop(w);
    drop(swap);
    assert!(compared, "status never held still across a sample");
}

/// smaps_rollup's Pss and Private_Clean + Private_Dirty, bytes.
fn rollup(pid: u32) -> (u64, u64) {
    let f = kib_fields(&format!("/proc/{pid}/smaps_rollup"));
    let get = |k: &str| *f.get(k).unwrap_or_else(|| panic!("{k} missing for {pid}"));
    (get("Pss"), get("Private_Clean") + get("Private_Dirty"))
}

/// The JSON of `pid` in each of `refreshes` refreshes of `--batch --pss -p
/// PID --format json`, and `between(i)`, called as soon as refresh i is
/// printed, while bpftop waits for the next.
fn batch_pss<T>(pid: u32, refreshes: usize, mut between: impl FnMut() -> T) -> Vec<(Value, T)> {
    let mut child = bpftop()
        .args(["--batch", "-d", "500", "--format", "json", "--pss", "-p"])
        .arg(pid.to_string())
        .args(["-n", &refreshes.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.take(refreshes) {
        let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
        let procs = v["processes"].as_array().unwrap();
        assert_eq!(procs.len(), 1, "only the selected process: {procs:?}");
        seen.push((procs[0].clone(), between()));
    }
    assert!(child.wait().unwrap().success());
    seen
}

/// `--batch --pss -p PID --format json`: pss_bytes and uss_bytes equal the
/// process's smaps_rollup read just before and after (when unchanged), and
/// the parts of RES and swap equal its status.
///
/// Read while bpftop runs, between two refreshes that agree: the shared
/// library pages bpftop maps itself count in the workload's PSS (divided
/// among their mappers) and USS (no longer private), so smaps_rollup read
/// with no bpftop running differs by those pages.
pub fn batch_pss_matches_smaps_rollup() {
    // Swap where it can be turned on; PSS needs none.
    let swap = SwapFile::on().ok();
    let w = swapped_workload();
    let pid = w.pid();
    let mut compared = false;
    // The workload's PSS moves whenever another process maps or unmaps the
    // libraries it shares (a build beside starts and ends compilers all
    // the time), so a still moment may take many tries on a busy machine.
    let deadline = Instant::now() + Duration::from_secs(60).mul_f64(crate::common::patience());
    while !compared && Instant::now() < deadline {
        let seen = batch_pss(pid, 3, || (rollup(pid), status_parts(pid)));
        // Refresh 2 is printed after the rollup of refresh 1's gap is read
        // and before that of its own: compare when all agree.
        let (p, (rollup_after, status_after)) = &seen[1];
        let (p_next, _) = &seen[2];
        let (_, (rollup_before, status_before)) = &seen[0];
        if rollup_before != rollup_after
            || status_before != status_after
            || p["pss_bytes"] != p_next["pss_bytes"]
            || p["uss_bytes"] != p_next["uss_bytes"]
        {
            continue;
        }
        let (pss, uss) = *rollup_before;
        assert_eq!(p["pss_bytes"].as_u64(), Some(pss), "{p}");
        assert_eq!(p["uss_bytes"].as_u64(), Some(uss), "{p}");
        assert!(pss >= 16 * MIB && uss >= 16 * MIB, "pss {pss} uss {uss}");
        let field = |k: &str| p[k].as_u64().unwrap_or_else(|| panic!("{k}: {p}"));
        assert_eq!(
            MemoryParts {
                anon_bytes: field("rss_anon_bytes"),
                file_bytes: field("rss_file_bytes"),
                shmem_bytes: field("rss_shmem_bytes"),
                swap_bytes: field("swap_bytes"),
            },
            *status_before
        );
        compared = true;
    }
    drop(w);
    drop(swap);
    assert!(compared, "smaps_rollup never held still across a refresh");
}

/// One row of the interface's table, as (pid, PSS cell, USS cell, whether
/// it is drawn selected), from a screen with its escape sequences, for a
/// table configured as PID PSS USS Command.
fn pss_rows(screen_sgr: &str) -> Vec<(u32, String, String, bool)> {
    // tmux carries attributes from one line to the next: the row under the
    // (reverse-video) column titles may start reversed with no code of its
    // own. A row is selected when reverse is on at its first cell.
    let mut reverse = false;
    screen_sgr
        .lines()
        .filter_map(|line| {
            let mut selected = None;
            let mut rest = line;
            while !rest.is_empty() {
                if let Some(after) = rest.strip_prefix("\x1b[") {
                    let end = after
                        .find(|c: char| c.is_ascii_alphabetic())
                        .unwrap_or(after.len());
                    if after[end..].starts_with('m') {
                        for code in after[..end].split(';') {
                            match code {
                                "" | "0" | "27" => reverse = false,
                                "7" => reverse = true,
                                _ => {}
                            }
                        }
                    }
                    rest = after.get(end + 1..).unwrap_or("");
                    continue;
                }
                let c = rest.chars().next().unwrap_or(' ');
                if selected.is_none() && !c.is_whitespace() {
                    selected = Some(reverse);
                }
                rest = &rest[c.len_utf8()..];
            }
            let selected = selected.unwrap_or(false);
            let plain = super::common::tmux::strip_sgr(line);
            let mut cells = plain.split_whitespace();
            let pid = cells.next()?.parse().ok()?;
            let pss = cells.next()?.to_owned();
            let uss = cells.next()?.to_owned();
            Some((pid, pss, uss, selected))
        })
        .collect()
}

/// How far the PSS shown may be from smaps_rollup's read just before or
/// after: other processes mapping the same shared libraries come and go.
const PSS_DRIFT: u64 = 64 << 10;

/// A memory cell as the interface prints it below 100 000 KiB (as htop
/// does): a plain number of KiB, exact.
fn kib_cell(cell: &str) -> Option<u64> {
    cell.parse::<u64>().ok().map(|k| k * 1024)
}

/// The interface's PSS and USS columns show smaps_rollup's Pss and
/// Private_Clean + Private_Dirty for the selected process, and "-" for the
/// others (never read for them); the figures follow the selection. The
/// workload holds private memory and memory shared with its child, so PSS,
/// USS and RES all differ.
pub fn interface_shows_pss_and_uss_of_the_selected_process() {
    let w = Workload::simple(&["shared_pair", "40", "24"]);
    let parent = w.pid();
    let child: u32 = w.note.parse().expect("the child's pid");
    let config_home =
        std::env::temp_dir().join(format!("bpftop-oracle-pss-{}", std::process::id()));
    std::fs::create_dir_all(config_home.join("bpftop")).unwrap();
    std::fs::write(
        config_home.join("bpftop/config.toml"),
        "columns = [\"PID\", \"PSS\", \"USS\", \"Command\"]\n",
    )
    .unwrap();
    let tmux = super::common::tmux::Tmux::start(
        "oracle-pss",
        (160, 20),
        &format!(
            "env XDG_CONFIG_HOME={} NO_COLOR=1 {} -d 500 -p {parent},{child}",
            config_home.display(),
            env!("CARGO_BIN_EXE_bpftop")
        ),
    )
    .expect("tmux runs");
    let patience = Duration::from_secs(30);
    // Waits until the selected row shows figures and the other "-", both
    // rows listed; returns (selected pid, its PSS and USS cells).
    let settled = |what: &str| -> (u32, String, String) {
        let start = Instant::now();
        loop {
            let rows = pss_rows(&tmux.screen_sgr());
            let ours: Vec<_> = rows
                .iter()
                .filter(|r| r.0 == parent || r.0 == child)
                .collect();
            if let [a, b] = ours[..] {
                let (sel, other) = if a.3 { (a, b) } else { (b, a) };
                if sel.3 && !other.3 && other.1 == "-" && other.2 == "-" {
                    if let (Some(_), Some(_)) = (kib_cell(&sel.1), kib_cell(&sel.2)) {
                        return (sel.0, sel.1.clone(), sel.2.clone());
                    }
                }
            }
            assert!(
                start.elapsed() < patience,
                "timed out waiting for {what}; screen:\n{}",
                tmux.screen()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let mut checked = Vec::new();
    for step in 0..2 {
        if step == 1 {
            // The other row (below or above: the cursor follows its
            // process when the order changes): its figures appear, the
            // first row's go.
            let rows = pss_rows(&tmux.screen_sgr());
            let selected_first = rows
                .iter()
                .find(|r| r.0 == parent || r.0 == child)
                .is_some_and(|r| r.3);
            tmux.keys(&[if selected_first { "j" } else { "k" }]);
        }
        let mut compared = false;
        let start = Instant::now();
        while start.elapsed() < patience {
            let (pid, _, _) = settled("PSS and USS on the selected row");
            if checked.contains(&pid) {
                // The selection has not moved on screen yet.
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
            // smaps_rollup read around the screen: USS (this process's
            // private pages) holds still; PSS moves a little whenever a
            // process mapping the same libraries starts or exits, which a
            // busy machine does all the time.
            let before = rollup(pid);
            // A refresh after `before`: the screen shows what it read.
            std::thread::sleep(Duration::from_millis(1500));
            let (again, shown_pss, shown_uss) = settled("PSS and USS on the selected row");
            let after = rollup(pid);
            if again != pid || before.1 != after.1 {
                continue;
            }
            let (low, high) = (before.0.min(after.0), before.0.max(after.0));
            let pss_shown = kib_cell(&shown_pss).unwrap();
            assert!(
                pss_shown + PSS_DRIFT >= low && pss_shown <= high + PSS_DRIFT,
                "PSS of {pid}: {shown_pss}, smaps_rollup {low}..={high}"
            );
            assert_eq!(kib_cell(&shown_uss), Some(after.1), "USS of {pid}");
            let (pss, uss) = after;
            // The premises: the shared part counts half in PSS, not in USS.
            assert!(pss >= uss + 11 * MIB, "pss {pss} uss {uss} ({pid})");
            println!(
                "  {pid}: PSS {shown_pss} USS {shown_uss}; smaps_rollup Pss {}K..={}K, USS {}K",
                low >> 10,
                high >> 10,
                uss >> 10
            );
            checked.push(pid);
            compared = true;
            break;
        }
        assert!(compared, "smaps_rollup never held still (step {step})");
    }
    checked.sort_unstable();
    let mut both = vec![parent, child];
    both.sort_unstable();
    assert_eq!(checked, both, "the figures followed the selection");
    tmux.keys(&["q"]);
    drop(tmux);
    let _ = std::fs::remove_dir_all(&config_home);
    drop(w);
}
