//! Which container a cgroup v2 path belongs to, and the container's name.
//!
//! [`container_of`] is pure: the caller classifies each distinct path once
//! and caches it. [`ContainerNames`] reads the runtimes' own state files, at
//! most once per container id.
//!
//! Layouts recognised (the deepest matching component wins, so a container
//! inside a container is reported as the inner one; `<id>` is exactly 64
//! lowercase hex digits, anything else is not a container):
//!
//! | runtime | example path |
//! | --- | --- |
//! | docker, systemd driver | `/system.slice/docker-<id>.scope` |
//! | docker, cgroupfs driver | `/docker/<id>` (at any depth) |
//! | docker, rootless | `/user.slice/user-1000.slice/user@1000.service/docker-<id>.scope` |
//! | podman, rootful | `/machine.slice/libpod-<id>.scope` |
//! | podman, rootless | `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-<id>.scope` |
//! | podman, cgroupfs | `/libpod_parent/libpod-<id>` |
//! | podman pod, systemd | `/machine.slice/machine-libpod_pod_<pod>.slice/libpod-<id>.scope` |
//! | podman pod, cgroupfs | `/libpod_parent/<pod>/libpod-<id>` |
//! | containerd (CRI) | `/kubepods.slice/…/cri-containerd-<id>.scope` |
//! | containerd, cgroupfs | `/kubepods/burstable/pod<uid>/<id>` (bare id under kubepods) |
//! | CRI-O | `/kubepods.slice/…/crio-<id>.scope`, cgroupfs `…/pod<uid>/crio-<id>` |
//! | LXC | `/lxc.payload.<name>` (and below), legacy `/lxc/<name>` |
//! | systemd-nspawn | `/machine.slice/machine-<name>.scope`, `/machine.slice/systemd-nspawn@<name>.service` |
//!
//! Conmon, podman's and CRI-O's monitor (`libpod-conmon-<id>.scope`,
//! `crio-conmon-<id>.scope`), is not the container and is not reported.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::units::{components, printable, unescape_unit};

/// A container runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Runtime {
    Docker,
    Podman,
    Containerd,
    CriO,
    Lxc,
    Nspawn,
}

impl Runtime {
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Podman => "podman",
            Runtime::Containerd => "containerd",
            Runtime::CriO => "cri-o",
            Runtime::Lxc => "lxc",
            Runtime::Nspawn => "nspawn",
        }
    }
}

/// The pod a container runs in: a Kubernetes pod or a podman pod.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pod {
    /// A Kubernetes pod's UID, with dashes ("3f1c…-…"); a podman pod's
    /// 64-hex id.
    pub uid: String,
    /// Kubernetes QoS class: "besteffort", "burstable" or "guaranteed";
    /// None for podman pods.
    pub qos: Option<String>,
}

impl Pod {
    /// How the pod is shown beside its container's name: a podman pod by
    /// its first 12 hex digits (as `podman pod ps` shows it), a Kubernetes
    /// pod by its UID's first group.
    pub fn short_id(&self) -> &str {
        if is_id(&self.uid) {
            self.uid.get(..12).unwrap_or(&self.uid)
        } else {
            self.uid.split('-').next().unwrap_or(&self.uid)
        }
    }
}

/// The container a cgroup belongs to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Container {
    pub runtime: Runtime,
    /// The full 64-hex id; for LXC and nspawn, the container's name.
    pub id: String,
    /// Set when the container runs in a Kubernetes pod.
    pub pod: Option<Pod>,
    /// The user whose systemd instance (`user@<uid>.service`) holds the
    /// container: a rootless container's owner.
    pub owner_uid: Option<u32>,
}

impl Container {
    /// The first 12 characters of a hex id, as `docker ps` shows it;
    /// other ids (names) whole.
    pub fn short_id(&self) -> &str {
        if is_id(&self.id) {
            self.id.get(..12).unwrap_or(&self.id)
        } else {
            &self.id
        }
    }
}

/// The container of a cgroup path, None when it is in none.
pub fn container_of(path: &str) -> Option<Container> {
    let parts = components(path);
    let (at, (runtime, id)) = (0..parts.len())
        .rev()
        .find_map(|i| container_at(&parts, i).map(|found| (i, found)))?;
    let ancestors = parts.get(..at).unwrap_or_default();
    Some(Container {
        runtime,
        id,
        pod: pod_of(runtime, ancestors),
        owner_uid: owner_of(ancestors),
    })
}

/// Whether component `i` of `parts` is a container's cgroup.
fn container_at(parts: &[&str], i: usize) -> Option<(Runtime, String)> {
    let name = parts.get(i)?;
    let ancestors = parts.get(..i)?;
    let parent = ancestors.last().copied();
    scope_container(name)
        .or_else(|| cgroupfs_container(name, parent, ancestors))
        .or_else(|| machine(name, parent))
}

/// systemd-driver containers: "<prefix><id>.scope". The conmon scopes
/// ("libpod-conmon-<id>.scope") fail the id check, so they are skipped.
fn scope_container(name: &str) -> Option<(Runtime, String)> {
    const PREFIXES: [(&str, Runtime); 4] = [
        ("docker-", Runtime::Docker),
        ("libpod-", Runtime::Podman),
        ("cri-containerd-", Runtime::Containerd),
        ("crio-", Runtime::CriO),
    ];
    let stem = name.strip_suffix(".scope")?;
    PREFIXES.iter().find_map(|&(prefix, runtime)| {
        let id = stem.strip_prefix(prefix).filter(|id| is_id(id))?;
        Some((runtime, id.to_owned()))
    })
}

/// cgroupfs-driver containers, which are recognised by their parent.
fn cgroupfs_container(
    name: &str,
    parent: Option<&str>,
    ancestors: &[&str],
) -> Option<(Runtime, String)> {
    let hex = |s: &str| is_id(s).then(|| s.to_owned());
    match parent {
        // "/docker/<id>"
        Some("docker") => return hex(name).map(|id| (Runtime::Docker, id)),
        // "/libpod_parent/libpod-<id>", and in a pod
        // "/libpod_parent/<pod>/libpod-<id>"
        Some("libpod_parent") => return podman_cgroupfs(name),
        Some(pod)
            if is_id(pod)
                && ancestors.len() >= 2
                && ancestors.get(ancestors.len() - 2) == Some(&"libpod_parent") =>
        {
            return podman_cgroupfs(name)
        }
        // "/lxc/<name>" (LXC before 4.0)
        Some("lxc") => return Some((Runtime::Lxc, printable(name))),
        _ => {}
    }
    // "/lxc.payload.<name>" (LXC 4.0 and later, LXD)
    if let Some(lxc) = name.strip_prefix("lxc.payload.").filter(|n| !n.is_empty()) {
        return Some((Runtime::Lxc, printable(lxc)));
    }
    // "/kubepods/burstable/pod<uid>/crio-<id>" (CRI-O with cgroupfs)
    if let Some(id) = name.strip_prefix("crio-").and_then(hex) {
        return Some((Runtime::CriO, id));
    }
    // "/kubepods/burstable/pod<uid>/<id>": a bare id under kubepods is
    // containerd's (the CRI runtime that names cgroups by id alone).
    let id = hex(name)?;
    ancestors
        .iter()
        .any(|a| is_kubepods(a))
        .then_some((Runtime::Containerd, id))
}

/// podman's cgroupfs-driver container cgroup "libpod-<id>".
fn podman_cgroupfs(name: &str) -> Option<(Runtime, String)> {
    let id = name.strip_prefix("libpod-").filter(|id| is_id(id))?;
    Some((Runtime::Podman, id.to_owned()))
}

/// A podman pod's cgroup: systemd driver "machine-libpod_pod_<id>.slice"
/// (rootless "user-libpod_pod_<id>.slice", or "libpod-pod-<id>.slice"),
/// cgroupfs driver "<id>" directly under "libpod_parent".
fn podman_pod(name: &str, above: &[&str]) -> Option<Pod> {
    let id = match name.strip_suffix(".slice") {
        Some(stem) => stem
            .strip_prefix("libpod-pod-")
            .or_else(|| {
                let (before, id) = stem.rsplit_once("libpod_pod_")?;
                (before.is_empty() || before.ends_with('-')).then_some(id)
            })
            .filter(|id| is_id(id))?,
        None => Some(name).filter(|id| is_id(id) && above.last() == Some(&"libpod_parent"))?,
    };
    Some(Pod {
        uid: id.to_owned(),
        qos: None,
    })
}

/// systemd-nspawn and other registered machines (libvirt's "machine-qemu…"
/// too): "/machine.slice/machine-<name>.scope", or the payload of
/// "/machine.slice/systemd-nspawn@<name>.service" (machinectl start).
fn machine(name: &str, parent: Option<&str>) -> Option<(Runtime, String)> {
    if parent != Some("machine.slice") {
        return None;
    }
    let escaped = name
        .strip_suffix(".scope")
        .and_then(|s| s.strip_prefix("machine-"))
        .or_else(|| {
            name.strip_suffix(".service")
                .and_then(|s| s.strip_prefix("systemd-nspawn@"))
        })?;
    let name = unescape_unit(escaped);
    (!name.is_empty()).then_some((Runtime::Nspawn, name))
}

/// A component of the kubelet's hierarchy: "kubepods" (cgroupfs) or a
/// kubepods slice ("kubepods.slice", "kubepods-burstable.slice", and
/// "kubelet-kubepods.slice" when the kubelet runs nested, as in kind).
fn is_kubepods(name: &str) -> bool {
    name == "kubepods"
        || name
            .strip_suffix(".slice")
            .is_some_and(|s| s.split('-').any(|p| p == "kubepods"))
}

/// The pod of a container of `runtime` whose cgroup is below `ancestors`:
/// the deepest Kubernetes pod cgroup among them, or for podman, its pod
/// (the container's parent).
fn pod_of(runtime: Runtime, ancestors: &[&str]) -> Option<Pod> {
    if runtime == Runtime::Podman {
        let (parent, above) = ancestors.split_last()?;
        if let Some(pod) = podman_pod(parent, above) {
            return Some(pod);
        }
    }
    (0..ancestors.len()).rev().find_map(|i| {
        let name = ancestors.get(i)?;
        let above = ancestors.get(..i)?;
        pod_slice(name).or_else(|| cgroupfs_pod(name, above))
    })
}

/// systemd driver: "kubepods-burstable-pod<uid>.slice",
/// "kubepods-besteffort-pod<uid>.slice", "kubepods-pod<uid>.slice"
/// (guaranteed). The uid's dashes are written as '_' there, since systemd
/// reads '-' in a slice name as nesting.
fn pod_slice(name: &str) -> Option<Pod> {
    let stem = name.strip_suffix(".slice")?;
    let (prefix, pod) = stem.rsplit_once('-')?;
    let uid = pod.strip_prefix("pod")?.replace('_', "-");
    let (kube, qos) = match prefix.rsplit_once('-') {
        Some((kube, qos @ ("besteffort" | "burstable"))) => (kube, qos),
        _ => (prefix, "guaranteed"),
    };
    let nested_kube = kube.strip_suffix("-kubepods").is_some();
    if (kube != "kubepods" && !nested_kube) || !is_pod_uid(&uid) {
        return None;
    }
    Some(Pod {
        uid,
        qos: Some(qos.to_owned()),
    })
}

/// cgroupfs driver: "/kubepods/<qos>/pod<uid>", "/kubepods/pod<uid>"
/// (guaranteed).
fn cgroupfs_pod(name: &str, above: &[&str]) -> Option<Pod> {
    let uid = name.strip_prefix("pod").filter(|u| is_pod_uid(u))?;
    let qos = match above {
        [.., "kubepods"] => "guaranteed",
        [.., "kubepods", qos @ ("besteffort" | "burstable")] => qos,
        _ => return None,
    };
    Some(Pod {
        uid: uid.to_owned(),
        qos: Some(qos.to_owned()),
    })
}

/// A pod UID: a UUID, or the hex hash of a static pod.
fn is_pod_uid(uid: &str) -> bool {
    !uid.is_empty() && uid.len() <= 64 && uid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// The uid of the deepest "user@<uid>.service" among `ancestors`.
fn owner_of(ancestors: &[&str]) -> Option<u32> {
    ancestors.iter().rev().find_map(|name| {
        name.strip_prefix("user@")?
            .strip_suffix(".service")?
            .parse()
            .ok()
    })
}

/// A container id as docker, podman, containerd and CRI-O make them.
fn is_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Largest state file read; docker's and podman's are a few KiB per
/// container.
const MAX_FILE_BYTES: u64 = 4 << 20;

/// Container names from the runtimes' state files, cached per container.
#[derive(Debug)]
pub struct ContainerNames {
    /// Filesystem root: "/" normally, a fixture tree in tests.
    root: PathBuf,
    /// Every lookup's result, failures included, so that each container
    /// costs at most one lookup for as long as it is remembered.
    cache: HashMap<(Runtime, String), Option<String>>,
}

impl ContainerNames {
    pub fn new(root: &Path) -> Self {
        ContainerNames {
            root: root.to_path_buf(),
            cache: HashMap::new(),
        }
    }

    /// The container's name, None when it cannot be found cheaply
    /// (containerd and CRI-O keep theirs behind their APIs).
    pub fn name(&mut self, c: &Container) -> Option<String> {
        match c.runtime {
            // Their id is the name.
            Runtime::Lxc | Runtime::Nspawn => return Some(c.id.clone()),
            Runtime::Containerd | Runtime::CriO => return None,
            Runtime::Docker | Runtime::Podman => {}
        }
        let key = (c.runtime, c.id.clone());
        if let Some(known) = self.cache.get(&key) {
            return known.clone();
        }
        let name = self.look_up(c);
        self.cache.insert(key, name.clone());
        name
    }

    /// Forgets containers for which `live` is false, bounding the cache.
    pub fn retain(&mut self, live: impl Fn(Runtime, &str) -> bool) {
        self.cache.retain(|(runtime, id), _| live(*runtime, id));
    }

    fn look_up(&self, c: &Container) -> Option<String> {
        // The id becomes a path component: only a real id may.
        if !is_id(&c.id) {
            return None;
        }
        // Root's containers live in the system store even when started
        // from root's own user session.
        let home = match c.owner_uid {
            Some(uid) if uid != 0 => Some(self.home_of(uid)?),
            _ => None,
        };
        match c.runtime {
            Runtime::Docker => {
                let dir = self.store(home.as_deref(), "var/lib/docker", ".local/share/docker");
                let file = dir.join("containers").join(&c.id).join("config.v2.json");
                docker_name(&read_capped(&file)?)
            }
            Runtime::Podman => {
                let dir = self.store(
                    home.as_deref(),
                    "var/lib/containers/storage",
                    ".local/share/containers/storage",
                );
                let file = dir.join("overlay-containers/containers.json");
                podman_name(&read_capped(&file)?, &c.id)
            }
            _ => None,
        }
    }

    /// The system store under the root, or the user's store under `home`.
    fn store(&self, home: Option<&Path>, system: &str, user: &str) -> PathBuf {
        match home {
            Some(home) => home.join(user),
            None => self.root.join(system),
        }
    }

    /// `uid`'s home directory, under the root.
    fn home_of(&self, uid: u32) -> Option<PathBuf> {
        let passwd = read_capped(&self.root.join("etc/passwd"))?;
        let home = home_in_passwd(&String::from_utf8_lossy(&passwd), uid)?;
        Some(self.root.join(home.trim_start_matches('/')))
    }
}

/// The home directory of `uid` in a passwd text (the first entry wins, as
/// getpwuid() does); only absolute paths count.
fn home_in_passwd(text: &str, uid: u32) -> Option<String> {
    text.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        match fields.as_slice() {
            [_, _, id, _, _, home, ..] if id.parse() == Ok(uid) && home.starts_with('/') => {
                Some((*home).to_owned())
            }
            _ => None,
        }
    })
}

/// "Name" of docker's config.v2.json, without its leading '/'.
fn docker_name(json: &[u8]) -> Option<String> {
    let config: Value = serde_json::from_slice(json).ok()?;
    let name = config.get("Name")?.as_str()?;
    clean_name(name.strip_prefix('/').unwrap_or(name))
}

/// The first of the "names" of the entry with "id" `id` in podman's
/// containers.json.
fn podman_name(json: &[u8], id: &str) -> Option<String> {
    let list: Value = serde_json::from_slice(json).ok()?;
    let entry = list
        .as_array()?
        .iter()
        .find(|e| e.get("id").and_then(Value::as_str) == Some(id))?;
    clean_name(entry.get("names")?.as_array()?.first()?.as_str()?)
}

fn clean_name(name: &str) -> Option<String> {
    (!name.is_empty()).then(|| printable(name))
}

/// Opens `path` for reading without following any symbolic link on the
/// way (openat2 RESOLVE_NO_SYMLINKS, Linux ≥ 5.6; None where unavailable).
/// Rootless stores are in users' homes, which their owners control: a link
/// planted there must not make a root monitor open a device of the user's
/// choosing (opening some devices has effects, e.g. a watchdog).
fn open_without_links(path: &Path) -> Option<File> {
    use std::os::fd::FromRawFd;
    use std::os::unix::ffi::OsStrExt;
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }
    const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
    const RESOLVE_NO_SYMLINKS: u64 = 0x04;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let how = OpenHow {
        flags: (libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    // SAFETY: a valid C path and open_how of the size passed; the returned
    // fd (when >= 0) is ours alone.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            c_path.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: fd was just opened and is owned by nothing else.
    Some(unsafe { File::from_raw_fd(fd) })
}

/// A regular file's contents, None when missing, reached through a link,
/// not a regular file or larger than MAX_FILE_BYTES. O_NONBLOCK keeps a
/// FIFO from blocking the monitor in open(); the type check rejects it.
fn read_capped(path: &Path) -> Option<Vec<u8>> {
    let file = open_without_links(path)?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut data = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut data).ok()?;
    (u64::try_from(data.len()).ok()? <= MAX_FILE_BYTES).then_some(data)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn links_are_never_followed() {
        let dir = std::env::temp_dir().join(format!("bpftop-links-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("real.json");
        std::fs::write(&file, b"[]").unwrap();
        let link = dir.join("link.json");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let through_dir = dir.join("sub");
        let _ = std::fs::remove_file(&through_dir);
        std::os::unix::fs::symlink(&dir, &through_dir).unwrap();
        assert!(read_capped(&file).is_some());
        assert!(
            read_capped(&link).is_none(),
            "a link to a device was opened"
        );
        assert!(
            read_capped(&through_dir.join("real.json")).is_none(),
            "a linked directory was followed"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
    use std::fs;
    use std::sync::atomic::{AtomicU32, Ordering};

    const A: &str = "4f0d3b2c6a1e9f8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d";
    const B: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const UID: &str = "3f1c2a9e-7b4d-4e2a-9c1f-0d8e7b6a5c4f";
    const UID_: &str = "3f1c2a9e_7b4d_4e2a_9c1f_0d8e7b6a5c4f";

    fn c(runtime: Runtime, id: &str) -> Container {
        Container {
            runtime,
            id: id.to_owned(),
            pod: None,
            owner_uid: None,
        }
    }

    fn pod(qos: &str) -> Option<Pod> {
        Some(Pod {
            uid: UID.to_owned(),
            qos: Some(qos.to_owned()),
        })
    }

    fn in_pod(runtime: Runtime, id: &str, qos: &str) -> Container {
        Container {
            pod: pod(qos),
            ..c(runtime, id)
        }
    }

    fn owned(runtime: Runtime, id: &str, uid: u32) -> Container {
        Container {
            owner_uid: Some(uid),
            ..c(runtime, id)
        }
    }

    #[test]
    fn runtime_layouts() {
        use Runtime::*;
        let cases: Vec<(String, Option<Container>)> = vec![
            // docker
            (format!("/system.slice/docker-{A}.scope"), Some(c(Docker, A))),
            (format!("/docker/{A}"), Some(c(Docker, A))),
            (format!("/some/parent/docker/{A}"), Some(c(Docker, A))),
            (
                format!("/user.slice/user-1000.slice/user@1000.service/docker-{A}.scope"),
                Some(owned(Docker, A, 1000)),
            ),
            // podman
            (format!("/machine.slice/libpod-{A}.scope"), Some(c(Podman, A))),
            (
                format!("/machine.slice/libpod-{A}.scope/container"),
                Some(c(Podman, A)),
            ),
            (
                format!(
                    "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{A}.scope"
                ),
                Some(owned(Podman, A, 1000)),
            ),
            (format!("/libpod_parent/libpod-{A}"), Some(c(Podman, A))),
            (format!("/machine.slice/libpod-conmon-{A}.scope"), None),
            (
                format!("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-conmon-{A}.scope"),
                None,
            ),
            // containerd
            (
                format!("/system.slice/cri-containerd-{A}.scope"),
                Some(c(Containerd, A)),
            ),
            // CRI-O
            (format!("/system.slice/crio-{A}.scope"), Some(c(CriO, A))),
            (format!("/system.slice/crio-conmon-{A}.scope"), None),
            // LXC
            ("/lxc.payload.web".into(), Some(c(Lxc, "web"))),
            (
                "/lxc.payload.web/system.slice/nginx.service".into(),
                Some(c(Lxc, "web")),
            ),
            ("/lxc/web".into(), Some(c(Lxc, "web"))),
            ("/lxc/web/init.scope".into(), Some(c(Lxc, "web"))),
            ("/lxc.monitor.web".into(), None),
            ("/lxc.payload.".into(), None),
            // systemd-nspawn and other machines
            (
                "/machine.slice/machine-my\\x2dbox.scope".into(),
                Some(c(Nspawn, "my-box")),
            ),
            (
                "/machine.slice/machine-qemu\\x2d1\\x2dvm.scope".into(),
                Some(c(Nspawn, "qemu-1-vm")),
            ),
            (
                "/machine.slice/systemd-nspawn@deb.service/payload/system.slice/cron.service"
                    .into(),
                Some(c(Nspawn, "deb")),
            ),
            ("/system.slice/machine-x.scope".into(), None),
            ("/machine.slice/machine-.scope".into(), None),
            // not containers
            ("/".into(), None),
            ("".into(), None),
            ("/system.slice/nginx.service".into(), None),
            ("/user.slice/user-1000.slice/session-3.scope".into(), None),
            (format!("/{A}"), None),
            (format!("/system.slice/{A}"), None),
        ];
        for (path, want) in cases {
            assert_eq!(container_of(&path), want, "{path}");
        }
    }

    #[test]
    fn kubernetes_pods_and_qos_classes() {
        use Runtime::*;
        let cases = [
            (
                format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_}.slice/cri-containerd-{A}.scope"),
                in_pod(Containerd, A, "burstable"),
            ),
            (
                format!("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID_}.slice/crio-{A}.scope"),
                in_pod(CriO, A, "besteffort"),
            ),
            (
                format!("/kubepods.slice/kubepods-pod{UID_}.slice/cri-containerd-{A}.scope"),
                in_pod(Containerd, A, "guaranteed"),
            ),
            (
                format!("/kubepods.slice/kubepods-pod{UID_}.slice/docker-{A}.scope"),
                in_pod(Docker, A, "guaranteed"),
            ),
            // kind: the kubelet runs inside a node container
            (
                format!("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod{UID_}.slice/cri-containerd-{A}.scope"),
                in_pod(Containerd, A, "burstable"),
            ),
            (
                format!("/kubepods/besteffort/pod{UID}/{A}"),
                in_pod(Containerd, A, "besteffort"),
            ),
            (
                format!("/kubepods/burstable/pod{UID}/{A}"),
                in_pod(Containerd, A, "burstable"),
            ),
            (
                format!("/kubepods/pod{UID}/{A}"),
                in_pod(Containerd, A, "guaranteed"),
            ),
            (
                format!("/kubepods/burstable/pod{UID}/crio-{A}"),
                in_pod(CriO, A, "burstable"),
            ),
        ];
        for (path, want) in cases {
            assert_eq!(container_of(&path), Some(want), "{path}");
        }
        // A pod cgroup without a container below it is no container.
        assert_eq!(container_of(&format!("/kubepods/pod{UID}")), None);
        assert_eq!(
            container_of(&format!("/kubepods.slice/kubepods-pod{UID_}.slice")),
            None
        );
        // A pod-looking slice outside kubepods is not a pod.
        assert_eq!(
            container_of(&format!("/other-pod{UID_}.slice/docker-{A}.scope")),
            Some(c(Docker, A))
        );
    }

    /// Paths as podman 4.3 (runc, cgroupfs driver) made them on a hybrid
    /// host: a pod with an infra container and one container, and a plain
    /// container beside it; then the systemd driver's and rootless shapes.
    #[test]
    fn podman_pods() {
        use Runtime::*;
        const POD: &str = "e59a8c55759cbacf432b17b4be898b08ddd9a6b81c5020bac579bc642f662452";
        const CTR: &str = "651d6fa69f47d2e419d9a6e7542b96b364baf7f4daca97eac1933ffe8cdfbdd3";
        const PLAIN: &str = "cf2e5a9912567b45efa6eab112e0f6252981f038c8ceba963fb30f67688ae30b";
        let podded = |id: &str, owner: Option<u32>| Container {
            pod: Some(Pod {
                uid: POD.to_owned(),
                qos: None,
            }),
            owner_uid: owner,
            ..c(Podman, id)
        };
        let cases = [
            (format!("/libpod_parent/{POD}/libpod-{CTR}"), Some(podded(CTR, None))),
            (format!("/libpod_parent/libpod-{PLAIN}"), Some(c(Podman, PLAIN))),
            (
                format!("/machine.slice/machine-libpod_pod_{POD}.slice/libpod-{CTR}.scope"),
                Some(podded(CTR, None)),
            ),
            (
                format!("/machine.slice/libpod-pod-{POD}.slice/libpod-{CTR}.scope"),
                Some(podded(CTR, None)),
            ),
            (
                format!("/user.slice/user-1000.slice/user@1000.service/user.slice/user-libpod_pod_{POD}.slice/libpod-{CTR}.scope"),
                Some(podded(CTR, Some(1000))),
            ),
            // The pod's own cgroup and its conmon are no container.
            (format!("/libpod_parent/{POD}"), None),
            (format!("/libpod_parent/{POD}/conmon"), None),
            (format!("/machine.slice/machine-libpod_pod_{POD}.slice"), None),
            (
                format!("/machine.slice/machine-libpod_pod_{POD}.slice/libpod-conmon-{CTR}.scope"),
                None,
            ),
            // A hex directory elsewhere is no pod, and holds no container.
            (format!("/other/{POD}/libpod-{CTR}"), None),
            // Neither is a slice whose id is not one.
            (
                format!("/machine.slice/machine-libpod_pod_{}.slice/libpod-{CTR}.scope", &POD[..20]),
                Some(c(Podman, CTR)),
            ),
            // Docker beside them, both drivers: never in a pod.
            (format!("/system.slice/docker-{CTR}.scope"), Some(c(Docker, CTR))),
            (format!("/docker/{CTR}"), Some(c(Docker, CTR))),
        ];
        for (path, want) in cases {
            assert_eq!(container_of(&path), want, "{path}");
        }
        let podman_pod = Pod {
            uid: POD.to_owned(),
            qos: None,
        };
        assert_eq!(podman_pod.short_id(), "e59a8c55759c");
        assert_eq!(
            pod("x").map(|p| p.short_id().to_owned()),
            Some("3f1c2a9e".into())
        );
    }

    #[test]
    fn ids_must_be_64_lowercase_hex() {
        let upper = A.to_uppercase();
        let short = &A[..63];
        let long = format!("{A}0");
        let non_hex = format!("{}g", &A[..63]);
        for id in [upper.as_str(), short, long.as_str(), non_hex.as_str(), ""] {
            for path in [
                format!("/system.slice/docker-{id}.scope"),
                format!("/docker/{id}"),
                format!("/machine.slice/libpod-{id}.scope"),
                format!("/libpod_parent/libpod-{id}"),
                format!("/system.slice/cri-containerd-{id}.scope"),
                format!("/system.slice/crio-{id}.scope"),
                format!("/kubepods/besteffort/pod{UID}/{id}"),
            ] {
                assert_eq!(container_of(&path), None, "{path}");
            }
        }
    }

    #[test]
    fn deleted_suffix_and_nesting() {
        assert_eq!(
            container_of(&format!("/system.slice/docker-{A}.scope (deleted)")),
            Some(c(Runtime::Docker, A))
        );
        // docker in docker: the inner container is the process's.
        assert_eq!(
            container_of(&format!("/system.slice/docker-{A}.scope/docker/{B}")),
            Some(c(Runtime::Docker, B))
        );
        assert_eq!(
            container_of(&format!("/docker/{A}/docker/{B}")),
            Some(c(Runtime::Docker, B))
        );
        // podman in an LXC container.
        assert_eq!(
            container_of(&format!("/lxc.payload.web/machine.slice/libpod-{B}.scope")),
            Some(c(Runtime::Podman, B))
        );
        // conmon inside a docker container belongs to the outer container.
        assert_eq!(
            container_of(&format!(
                "/system.slice/docker-{A}.scope/machine.slice/libpod-conmon-{B}.scope"
            )),
            Some(c(Runtime::Docker, A))
        );
    }

    #[test]
    fn names_are_sanitised() {
        assert_eq!(
            container_of("/lxc.payload.a\x1b[2Jb").map(|c| c.id),
            Some("a?[2Jb".to_owned())
        );
        assert_eq!(
            container_of("/machine.slice/machine-x\\x1by.scope").map(|c| c.id),
            Some("x?y".to_owned())
        );
    }

    #[test]
    fn short_ids() {
        assert_eq!(c(Runtime::Docker, A).short_id(), "4f0d3b2c6a1e");
        assert_eq!(c(Runtime::Lxc, "web").short_id(), "web");
        assert_eq!(
            c(Runtime::Lxc, "a-long-container-name").short_id(),
            "a-long-container-name"
        );
    }

    #[test]
    fn runtime_names() {
        use Runtime::*;
        let names: Vec<_> = [Docker, Podman, Containerd, CriO, Lxc, Nspawn]
            .iter()
            .map(|r| r.name())
            .collect();
        assert_eq!(
            names,
            ["docker", "podman", "containerd", "cri-o", "lxc", "nspawn"]
        );
    }

    /// A fixture root removed when dropped.
    struct Fixture(PathBuf);

    impl Fixture {
        fn new() -> Self {
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir =
                std::env::temp_dir().join(format!("bpftop-containers-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Fixture(dir)
        }

        fn write(&self, rel: &str, contents: &[u8]) {
            let path = self.0.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, contents).unwrap();
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn docker_config(id: &str) -> String {
        format!("var/lib/docker/containers/{id}/config.v2.json")
    }

    const PODMAN_ROOTFUL: &str = "var/lib/containers/storage/overlay-containers/containers.json";
    const PODMAN_ROOTLESS: &str =
        "home/alice/.local/share/containers/storage/overlay-containers/containers.json";
    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        broken line\n\
        alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n\
        alias:x:1000:1000::/home/other:/bin/sh\n\
        nohome:x:1001:1001:::/bin/sh\n";

    fn podman_list(entries: &[(&str, &str)]) -> String {
        let items: Vec<String> = entries
            .iter()
            .map(|(id, name)| {
                format!(r#"{{"id":"{id}","names":["{name}"],"image":"x","layer":"y"}}"#)
            })
            .collect();
        format!("[{}]", items.join(","))
    }

    #[test]
    fn docker_names() {
        let fx = Fixture::new();
        fx.write(&docker_config(A), br#"{"ID":"x","Name":"/web","State":{}}"#);
        fx.write(&docker_config(B), br#"{"Name":"/evil\u001b]0;x"}"#);
        let mut names = ContainerNames::new(&fx.0);
        assert_eq!(names.name(&c(Runtime::Docker, A)), Some("web".into()));
        assert_eq!(names.name(&c(Runtime::Docker, B)), Some("evil?]0;x".into()));
        // Rootless docker reads the owner's store, not the system one.
        fx.write("etc/passwd", PASSWD.as_bytes());
        fx.write(
            &format!("home/alice/.local/share/docker/containers/{B}/config.v2.json"),
            br#"{"Name":"/mine"}"#,
        );
        let mut names = ContainerNames::new(&fx.0);
        assert_eq!(
            names.name(&owned(Runtime::Docker, B, 1000)),
            Some("mine".into())
        );
    }

    #[test]
    fn podman_names_rootful_and_rootless() {
        let fx = Fixture::new();
        fx.write(
            PODMAN_ROOTFUL,
            podman_list(&[(B, "db"), (A, "web")]).as_bytes(),
        );
        fx.write(
            PODMAN_ROOTLESS,
            podman_list(&[(A, "alices-web")]).as_bytes(),
        );
        fx.write("etc/passwd", PASSWD.as_bytes());
        let mut names = ContainerNames::new(&fx.0);
        assert_eq!(names.name(&c(Runtime::Podman, A)), Some("web".into()));
        assert_eq!(names.name(&c(Runtime::Podman, B)), Some("db".into()));
        let mut names = ContainerNames::new(&fx.0);
        assert_eq!(
            names.name(&owned(Runtime::Podman, A, 1000)),
            Some("alices-web".into())
        );
        // root's session still uses the system store.
        assert_eq!(names.name(&owned(Runtime::Podman, B, 0)), Some("db".into()));
        // A user without a home, or unknown, has no store to read.
        let mut names = ContainerNames::new(&fx.0);
        assert_eq!(names.name(&owned(Runtime::Podman, A, 1001)), None);
        assert_eq!(names.name(&owned(Runtime::Podman, B, 4242)), None);
    }

    #[test]
    fn missing_and_malformed_files_give_none() {
        let fx = Fixture::new();
        let mut names = ContainerNames::new(&fx.0);
        assert_eq!(names.name(&c(Runtime::Docker, A)), None);
        assert_eq!(names.name(&c(Runtime::Podman, A)), None);
        assert_eq!(names.name(&owned(Runtime::Podman, A, 1000)), None);

        fx.write(&docker_config(A), b"{\"Name\": \"/web\"");
        fx.write(&docker_config(B), br#"{"Name": 7}"#);
        fx.write(PODMAN_ROOTFUL, br#"{"id":"not a list"}"#);
        let mut names = ContainerNames::new(&fx.0);
        assert_eq!(names.name(&c(Runtime::Docker, A)), None);
        assert_eq!(names.name(&c(Runtime::Docker, B)), None);
        assert_eq!(names.name(&c(Runtime::Podman, A)), None);

        // An id not in the list, an entry without names, an empty name.
        let list = format!(r#"[{{"id":"{A}"}},{{"id":"{B}","names":[""]}}]"#);
        fx.write(PODMAN_ROOTFUL, list.as_bytes());
        let mut names = ContainerNames::new(&fx.0);
        assert_eq!(names.name(&c(Runtime::Podman, A)), None);
        assert_eq!(names.name(&c(Runtime::Podman, B)), None);
        let other = "f".repeat(64);
        assert_eq!(names.name(&c(Runtime::Podman, &other)), None);
    }

    #[test]
    fn oversized_files_are_not_read() {
        let fx = Fixture::new();
        let mut big = br#"{"Name":"/web","pad":""#.to_vec();
        big.resize(usize::try_from(MAX_FILE_BYTES).unwrap(), b' ');
        big.extend_from_slice(br#""}"#);
        fx.write(&docker_config(A), &big);
        assert_eq!(
            ContainerNames::new(&fx.0).name(&c(Runtime::Docker, A)),
            None
        );
        // Just under the cap is fine.
        big.truncate(usize::try_from(MAX_FILE_BYTES).unwrap() - 2);
        big.extend_from_slice(br#""}"#);
        fx.write(&docker_config(A), &big);
        assert_eq!(
            ContainerNames::new(&fx.0).name(&c(Runtime::Docker, A)),
            Some("web".into())
        );
    }

    #[test]
    fn fifo_in_a_store_neither_blocks_nor_counts() {
        let fx = Fixture::new();
        let dir = fx.0.join(format!("var/lib/docker/containers/{A}"));
        fs::create_dir_all(&dir).unwrap();
        let fifo = std::ffi::CString::new(
            dir.join("config.v2.json")
                .into_os_string()
                .into_encoded_bytes(),
        )
        .unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let root = fx.0.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(ContainerNames::new(&root).name(&c(Runtime::Docker, A)));
        });
        let got = rx.recv_timeout(std::time::Duration::from_secs(5));
        assert_eq!(got, Ok(None));
    }

    #[test]
    fn failures_are_cached_without_touching_the_filesystem_again() {
        let fx = Fixture::new();
        let mut names = ContainerNames::new(&fx.0);
        assert_eq!(names.name(&c(Runtime::Docker, A)), None);
        assert_eq!(names.name(&c(Runtime::Podman, A)), None);
        fx.write(&docker_config(A), br#"{"Name":"/web"}"#);
        fx.write(PODMAN_ROOTFUL, podman_list(&[(A, "pod-web")]).as_bytes());
        // The cached failures stand...
        assert_eq!(names.name(&c(Runtime::Docker, A)), None);
        assert_eq!(names.name(&c(Runtime::Podman, A)), None);
        // ...though the files are now readable, as a fresh cache shows.
        let mut fresh = ContainerNames::new(&fx.0);
        assert_eq!(fresh.name(&c(Runtime::Docker, A)), Some("web".into()));
        assert_eq!(fresh.name(&c(Runtime::Podman, A)), Some("pod-web".into()));
        // Successes are cached too: the files can go.
        fs::remove_dir_all(fx.0.join("var")).unwrap();
        assert_eq!(fresh.name(&c(Runtime::Docker, A)), Some("web".into()));
        // Forgetting a container makes the next lookup read again.
        names.retain(|_, id| id != A);
        assert_eq!(names.name(&c(Runtime::Docker, A)), None);
        fx.write(&docker_config(A), br#"{"Name":"/again"}"#);
        assert_eq!(names.name(&c(Runtime::Docker, A)), None);
        names.retain(|runtime, _| runtime != Runtime::Docker);
        assert_eq!(names.name(&c(Runtime::Docker, A)), Some("again".into()));
    }

    #[test]
    fn names_need_no_files_for_lxc_nspawn_and_none_for_cri() {
        let fx = Fixture::new();
        let mut names = ContainerNames::new(&fx.0);
        assert_eq!(names.name(&c(Runtime::Lxc, "web")), Some("web".into()));
        assert_eq!(
            names.name(&c(Runtime::Nspawn, "my-box")),
            Some("my-box".into())
        );
        assert_eq!(names.name(&c(Runtime::Containerd, A)), None);
        assert_eq!(names.name(&c(Runtime::CriO, A)), None);
        // A forged id cannot walk out of the store (which must exist for
        // the ".." to resolve).
        fs::create_dir_all(fx.0.join("var/lib/docker/containers")).unwrap();
        fx.write("config.v2.json", br#"{"Name":"/escaped"}"#);
        let forged = c(Runtime::Docker, "../../../..");
        assert_eq!(names.name(&forged), None);
    }

    #[test]
    fn passwd_homes() {
        assert_eq!(home_in_passwd(PASSWD, 1000), Some("/home/alice".into()));
        assert_eq!(home_in_passwd(PASSWD, 0), Some("/root".into()));
        assert_eq!(home_in_passwd(PASSWD, 1001), None);
        assert_eq!(home_in_passwd(PASSWD, 7), None);
    }

    /// Property tests: any cgroup path classifies without panicking, and a
    /// runtime's id is always a real id.
    mod props {
        use super::*;
        use proptest::prelude::*;

        use crate::test_support::proptest_config as config;

        /// Independent of the code under test: 64 lowercase hex digits.
        fn real_id(s: &str) -> bool {
            s.len() == 64
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        }

        fn hex_id() -> impl Strategy<Value = String> {
            "[0-9a-f]{64}"
        }

        /// Components from the layouts [`container_of`] knows, with ids
        /// that are right, too short or in the wrong case, and junk.
        fn component() -> impl Strategy<Value = String> {
            let id = prop_oneof![hex_id(), "[0-9a-fA-F]{60,66}", "[^/]{0,8}"];
            prop_oneof![
                id.clone(),
                id.clone().prop_map(|i| format!("docker-{i}.scope")),
                id.clone().prop_map(|i| format!("libpod-{i}.scope")),
                id.clone().prop_map(|i| format!("libpod-conmon-{i}.scope")),
                id.clone().prop_map(|i| format!("cri-containerd-{i}.scope")),
                id.clone().prop_map(|i| format!("crio-{i}.scope")),
                id.clone().prop_map(|i| format!("crio-{i}")),
                id.prop_map(|i| format!("libpod-{i}")),
                Just("docker".to_owned()),
                Just("libpod_parent".to_owned()),
                Just("lxc".to_owned()),
                Just("kubepods".to_owned()),
                Just("burstable".to_owned()),
                Just("kubepods.slice".to_owned()),
                Just("kubepods-besteffort.slice".to_owned()),
                Just("machine.slice".to_owned()),
                "pod[0-9a-f-]{0,70}",
                "kubepods-(burstable-|besteffort-)?pod[0-9a-f_]{0,40}\\.slice",
                "user@[0-9]{0,12}\\.service",
                "lxc\\.payload\\.[^/]{0,10}",
                "machine-[^/]{0,12}\\.scope",
                "systemd-nspawn@[^/]{0,12}\\.service",
                "[^/]{0,12}",
            ]
        }

        fn path() -> impl Strategy<Value = String> {
            prop::collection::vec(component(), 0..8).prop_map(|c| format!("/{}", c.join("/")))
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn any_path_classifies_safely(path in prop_oneof![path(), any::<String>()]) {
                let Some(found) = container_of(&path) else {
                    return Ok(());
                };
                match found.runtime {
                    Runtime::Docker | Runtime::Podman | Runtime::Containerd | Runtime::CriO => {
                        prop_assert!(real_id(&found.id), "id {:?} from {:?}", found.id, path);
                        prop_assert_eq!(found.short_id().len(), 12);
                    }
                    Runtime::Lxc | Runtime::Nspawn => {
                        prop_assert!(!found.id.chars().any(char::is_control));
                        prop_assert!(found.id.starts_with(found.short_id()));
                    }
                }
                if let Some(pod) = &found.pod {
                    let uid_ok = !pod.uid.is_empty()
                        && pod.uid.len() <= 64
                        && pod.uid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
                    prop_assert!(uid_ok, "pod uid {:?}", pod.uid);
                }
            }

            #[test]
            fn passwd_homes_are_absolute(
                raw in prop::collection::vec(any::<u8>(), 0..1024),
                uid in 0u32..4,
            ) {
                let text = String::from_utf8_lossy(&raw);
                if let Some(home) = home_in_passwd(&text, uid) {
                    prop_assert!(home.starts_with('/') && !home.contains(':'), "{:?}", home);
                }
                let entry = format!("{text}\nu:x:{uid}:0::/home/u:/bin/sh\n");
                prop_assert!(home_in_passwd(&entry, uid).is_some());
            }

            #[test]
            fn a_runtime_scope_is_found_below_anything(
                above in path(),
                id in hex_id(),
                prefix in prop::sample::select(vec![
                    ("docker-", Runtime::Docker),
                    ("libpod-", Runtime::Podman),
                    ("cri-containerd-", Runtime::Containerd),
                    ("crio-", Runtime::CriO),
                ]),
                deleted in any::<bool>(),
            ) {
                let (prefix, runtime) = prefix;
                let suffix = if deleted { " (deleted)" } else { "" };
                let path = format!("{above}/{prefix}{id}.scope{suffix}");
                let found = container_of(&path);
                prop_assert_eq!(found.as_ref().map(|c| (c.runtime, c.id.as_str())), Some((runtime, id.as_str())));
            }
        }
    }
}
