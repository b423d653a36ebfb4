//! Real container runtimes: docker (dockerd started here when none runs)
//! and podman (a container, and a pod with a container), from an image made
//! offline out of a busybox-static root filesystem.
//!
//! What bpftop says (`--batch --format json`) is compared with what the
//! runtimes say (`inspect`: pid, id, pod id) and with the kernel's own
//! account of freezing: the v1 `freezer.state` of the container's freezer
//! cgroup (where a v1 freezer hierarchy is mounted, as on hybrid hosts) or
//! cgroup2's `cgroup.events`, and the task state in /proc.
//!
//! Root only. Debian's `docker.io`, `podman` and `busybox-static` are
//! installed with apt-get when missing; the test is skipped (a failure in
//! CI) only where that fails. Everything it creates is removed at the end,
//! on failure too: containers, pod, images, the dockerd it started, and
//! the bridges, nft tables and parent cgroups that were not there before.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bpftop::actions::cgroupfs::CgroupFs;
use bpftop::collect::frozen_v1::{find_freezer_mount, parse_cgroup_freezer};
use bpftop::ui::freezer::Freezer;
use common::{is_root, skip};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_bpftop");
const PACKAGES: [&str; 3] = ["docker.io", "podman", "busybox-static"];
/// How long a condition may take on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(60);

fn have(tool: &str) -> bool {
    Path::new(tool).exists()
}

/// Installs the runtimes when missing. Err: why they are not there.
fn ensure_packages() -> Result<(), String> {
    let ready = || {
        have("/usr/bin/docker")
            && have("/usr/sbin/dockerd")
            && have("/usr/bin/podman")
            && have("/bin/busybox")
    };
    if ready() {
        return Ok(());
    }
    eprintln!("installing Debian's {} ...", PACKAGES.join(", "));
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let install = |apt: &dyn Fn(&[&str]) -> bool| {
        let mut args = vec!["install", "-y", "-qq"];
        args.extend(PACKAGES);
        apt(&args)
    };
    if !install(&apt) {
        apt(&["update", "-qq"]);
        install(&apt);
    }
    if ready() {
        Ok(())
    } else {
        Err(format!(
            "{} could not be installed with apt-get",
            PACKAGES.join(", ")
        ))
    }
}

/// Runs a command; its trimmed stdout, or the failure with stderr.
fn run(program: &str, args: &[&str], env: &[(&str, &Path)]) -> Result<String, String> {
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let out = command
        .output()
        .map_err(|e| format!("{program} {args:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(format!(
            "{program} {args:?}: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Polls `what` until it gives Some, for at most PATIENCE.
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = f() {
            return value;
        }
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn bridges() -> BTreeSet<String> {
    fs::read_dir("/sys/class/net")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().join("bridge").exists())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn nft_tables() -> BTreeSet<String> {
    run("nft", &["list", "tables"], &[])
        .map(|t| t.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The cgroup mount points (v1 hierarchies and cgroup2), from mountinfo.
fn cgroup_mounts() -> Vec<PathBuf> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let fstype = right.split(' ').next()?;
            let mount_point = left.split(' ').nth(4)?;
            matches!(fstype, "cgroup" | "cgroup2").then(|| PathBuf::from(mount_point))
        })
        .collect()
}

/// The runtimes' parent cgroups in every hierarchy that exist.
fn parent_cgroups() -> BTreeSet<PathBuf> {
    cgroup_mounts()
        .iter()
        .flat_map(|m| [m.join("docker"), m.join("libpod_parent")])
        .filter(|p| p.is_dir())
        .collect()
}

/// Everything the test made, undone on drop (pass or fail).
struct World {
    dir: PathBuf,
    conf: PathBuf,
    tag: String,
    dockerd: Option<Child>,
    bridges: BTreeSet<String>,
    tables: BTreeSet<String>,
    cgroups: BTreeSet<PathBuf>,
}

impl World {
    fn docker(&self, args: &[&str]) -> Result<String, String> {
        run("/usr/bin/docker", args, &[])
    }

    fn podman(&self, args: &[&str]) -> Result<String, String> {
        run("/usr/bin/podman", args, &[("CONTAINERS_CONF", &self.conf)])
    }

    fn name(&self, what: &str) -> String {
        format!("bpftop-test-{}-{what}", self.tag)
    }

    fn image(&self) -> String {
        format!("localhost/bpftop-test-bb:{}", self.tag)
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let names = ["d", "p", "pc"].map(|n| self.name(n));
        // A container the runtime still believes paused is resumed first.
        let _ = self.docker(&["unpause", &names[0]]);
        let _ = self.docker(&["rm", "-f", &names[0]]);
        let _ = self.docker(&["rmi", "-f", &self.image()]);
        let _ = self.podman(&["rm", "-f", "-t", "0", &names[1], &names[2]]);
        let _ = self.podman(&["pod", "rm", "-f", "-t", "0", &self.name("pod")]);
        let _ = self.podman(&["rmi", "-f", &self.image()]);
        if let Some(mut dockerd) = self.dockerd.take() {
            // SAFETY: kill with a pid we spawned and have not reaped.
            unsafe { libc::kill(dockerd.id() as libc::pid_t, libc::SIGTERM) };
            let start = Instant::now();
            while dockerd.try_wait().ok().flatten().is_none() && start.elapsed() < PATIENCE {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = dockerd.kill();
            let _ = dockerd.wait();
        }
        for bridge in bridges().difference(&self.bridges) {
            let _ = run("ip", &["link", "del", bridge], &[]);
        }
        for table in nft_tables().difference(&self.tables) {
            let args: Vec<&str> = ["delete"].into_iter().chain(table.split(' ')).collect();
            let _ = run("nft", &args, &[]);
        }
        for cgroup in parent_cgroups().difference(&self.cgroups) {
            let _ = fs::remove_dir(cgroup);
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Builds the busybox image's tarball and podman's configuration: runc
/// (crun refuses hybrid cgroup hosts), cgroupfs, and ulimits a root
/// without CAP_SYS_RESOURCE may set.
fn set_up(world: &World) {
    let rootfs = world.dir.join("rootfs");
    fs::create_dir_all(rootfs.join("bin")).unwrap();
    fs::copy("/bin/busybox", rootfs.join("bin/busybox")).unwrap();
    for applet in ["sh", "sleep"] {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
    }
    fs::write(rootfs.join("pause"), "#!/bin/sh\nexec sleep 1000000\n").unwrap();
    fs::set_permissions(
        rootfs.join("pause"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let tar = world.dir.join("rootfs.tar");
    let (rootfs_s, tar_s) = (rootfs.display().to_string(), tar.display().to_string());
    run("tar", &["-C", &rootfs_s, "-cf", &tar_s, "."], &[]).unwrap();
    fs::write(
        &world.conf,
        "[containers]\n\
         default_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n\
         [engine]\n\
         cgroup_manager = \"cgroupfs\"\n\
         events_logger = \"file\"\n\
         runtime = \"runc\"\n",
    )
    .unwrap();
}

/// Starts dockerd (without bridges or firewall rules) unless one answers.
fn start_dockerd(world: &mut World) {
    if world.docker(&["info"]).is_ok() {
        return;
    }
    let log = fs::File::create(world.dir.join("dockerd.log")).unwrap();
    let child = Command::new("/usr/sbin/dockerd")
        .args(["--iptables=false", "--ip6tables=false", "--bridge=none"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    world.dockerd = Some(child);
    wait_for("dockerd", || world.docker(&["info"]).ok());
}

/// One bpftop sample as JSON: the processes by pid.
fn bpftop_processes() -> Vec<Value> {
    let out = run(BIN, &["--batch", "--format", "json", "-n", "1"], &[]).unwrap();
    let line = out.lines().last().unwrap();
    let sample: Value = serde_json::from_str(line).unwrap();
    sample["processes"].as_array().unwrap().clone()
}

fn process(processes: &[Value], pid: u32) -> Option<Value> {
    processes
        .iter()
        .find(|p| p["pid"].as_u64() == Some(u64::from(pid)))
        .cloned()
}

/// The kernel's account: whether `pid`'s cgroup is frozen, from the v1
/// freezer's `freezer.state` where one is mounted, else `cgroup.events`.
fn kernel_frozen(pid: u32) -> bool {
    let text = fs::read(format!("/proc/{pid}/cgroup")).unwrap();
    if let Some(mount) = find_freezer_mount(Path::new("/proc")) {
        let path = parse_cgroup_freezer(&text).unwrap();
        let state = mount
            .join(path.trim_start_matches('/'))
            .join("freezer.state");
        if let Ok(state) = fs::read_to_string(state) {
            return state.trim() == "FROZEN";
        }
    }
    let v2 = v2_cgroup(pid);
    let mount = bpftop::collect::cgroups::find_cgroup2_mount(Path::new("/proc")).unwrap();
    let events = mount.join(v2.trim_start_matches('/')).join("cgroup.events");
    fs::read_to_string(events).unwrap().contains("frozen 1")
}

fn v2_cgroup(pid: u32) -> String {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let line = text.lines().find_map(|l| l.strip_prefix("0::")).unwrap();
    line.to_owned()
}

/// /proc's state letter of `pid`.
fn state(pid: u32) -> char {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat.rsplit_once(") ").unwrap().1.chars().next().unwrap()
}

/// Waits until bpftop reports `frozen` for every pid in `pids`.
fn wait_bpftop_frozen(pids: &[u32], frozen: bool) {
    wait_for(
        &format!("bpftop to say frozen={frozen} for {pids:?}"),
        || {
            let processes = bpftop_processes();
            pids.iter()
                .all(|&pid| {
                    process(&processes, pid).is_some_and(|p| p["frozen"].as_bool() == Some(frozen))
                })
                .then_some(())
        },
    );
}

#[test]
fn real_docker_and_podman_containers() {
    if !is_root() {
        skip("needs root to run container runtimes");
        return;
    }
    if let Err(why) = ensure_packages() {
        skip(&why);
        return;
    }
    if CgroupFs::open(
        &bpftop::collect::cgroups::find_cgroup2_mount(Path::new("/proc")).unwrap_or_default(),
    )
    .is_err()
    {
        skip("no cgroup2 mount");
        return;
    }
    let tag = format!("{}", std::process::id());
    let dir = std::env::temp_dir().join(format!("bpftop-containers-{tag}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let mut world = World {
        conf: dir.join("containers.conf"),
        dir,
        tag,
        dockerd: None,
        bridges: bridges(),
        tables: nft_tables(),
        cgroups: parent_cgroups(),
    };
    set_up(&world);
    start_dockerd(&mut world);
    let tar = world.dir.join("rootfs.tar").display().to_string();
    let image = world.image();
    let (d, p, pod, pc) = (
        world.name("d"),
        world.name("p"),
        world.name("pod"),
        world.name("pc"),
    );

    world.docker(&["import", &tar, &image]).unwrap();
    let sleep = ["/bin/sleep", "1000000"];
    let run_args = |name: &str| -> Vec<String> {
        ["run", "-d", "--network", "none", "--name", name, &image]
            .iter()
            .chain(&sleep)
            .map(|s| (*s).to_owned())
            .collect()
    };
    fn strs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    world.docker(&strs(&run_args(&d))).unwrap();
    world.podman(&["import", &tar, &image]).unwrap();
    world.podman(&strs(&run_args(&p))).unwrap();
    world
        .podman(&[
            "pod",
            "create",
            "--name",
            &pod,
            "--network",
            "none",
            "--infra-image",
            &image,
            "--infra-command",
            "/pause",
        ])
        .unwrap();
    let mut in_pod = vec!["run", "-d", "--pod", &pod, "--name", &pc, &image];
    in_pod.extend(sleep);
    world.podman(&in_pod).unwrap();

    let inspect = |docker: bool, name: &str, format: &str| {
        let args = ["inspect", "-f", format, name];
        if docker {
            world.docker(&args)
        } else {
            world.podman(&args)
        }
        .unwrap()
    };
    let pid = |docker: bool, name: &str| -> u32 {
        inspect(docker, name, "{{.State.Pid}}").parse().unwrap()
    };
    let (d_pid, p_pid, pc_pid) = (pid(true, &d), pid(false, &p), pid(false, &pc));
    let d_id = inspect(true, &d, "{{.Id}}");
    let p_id = inspect(false, &p, "{{.Id}}");
    let pc_id = inspect(false, &pc, "{{.Id}}");
    let pod_id = world
        .podman(&["pod", "inspect", "-f", "{{.Id}}", &pod])
        .unwrap();

    // Names, runtimes, ids and the pod, as the runtimes have them.
    let processes = bpftop_processes();
    for (pid, runtime, id, name, want_pod) in [
        (d_pid, "docker", &d_id, &d, None),
        (p_pid, "podman", &p_id, &p, None),
        (pc_pid, "podman", &pc_id, &pc, Some(&pod_id)),
    ] {
        let found = process(&processes, pid).unwrap_or_else(|| panic!("PID {pid} not listed"));
        let c = &found["container"];
        assert_eq!(c["runtime"], runtime, "{found}");
        assert_eq!(c["id"].as_str(), Some(id.as_str()), "{found}");
        assert_eq!(c["name"].as_str(), Some(name.as_str()), "{found}");
        assert_eq!(
            c["pod"]["uid"].as_str(),
            want_pod.map(String::as_str),
            "{found}"
        );
        assert_eq!(found["frozen"], false, "{found}");
    }

    // The runtimes' pause and unpause.
    let all = [d_pid, p_pid, pc_pid];
    world.docker(&["pause", &d]).unwrap();
    world.podman(&["pause", &p, &pc]).unwrap();
    for pid in all {
        assert!(kernel_frozen(pid), "PID {pid} is not frozen after pause");
    }
    wait_bpftop_frozen(&all, true);
    world.docker(&["unpause", &d]).unwrap();
    world.podman(&["unpause", &p, &pc]).unwrap();
    wait_bpftop_frozen(&all, false);

    // bpftop's own freeze and thaw, as the interface does them.
    let mut freezer = Freezer::new(Path::new("/proc"));
    let cgroups: Vec<String> = all.iter().map(|&pid| v2_cgroup(pid)).collect();
    let status = freezer.freeze(&cgroups, None);
    assert!(!status.error, "{}", status.text);
    freezer.confirm();
    for pid in all {
        assert!(kernel_frozen(pid), "PID {pid} not frozen by bpftop");
        wait_for(&format!("PID {pid} to stop"), || {
            (state(pid) == 'D').then_some(())
        });
    }
    wait_bpftop_frozen(&all, true);
    let status = freezer.thaw(&cgroups);
    assert!(!status.error, "{}", status.text);
    for pid in all {
        assert!(
            !kernel_frozen(pid),
            "PID {pid} still frozen after bpftop's thaw"
        );
    }
    // What the runtime paused, bpftop thaws.
    world.docker(&["pause", &d]).unwrap();
    let status = freezer.thaw(std::slice::from_ref(&cgroups[0]));
    assert!(!status.error, "{}", status.text);
    assert!(!kernel_frozen(d_pid));
    wait_bpftop_frozen(&all, false);
    drop(freezer);
    drop(world);
}
