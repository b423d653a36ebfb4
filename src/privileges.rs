//! Privileges: bpftop refuses to run setuid/setgid, and gives up the
//! capabilities it no longer needs once its BPF programs are loaded.
//!
//! What a running bpftop still needs, found by testing as root on Linux 6.18
//! (`tests/privileges.rs` checks the result):
//!
//! * Nothing for the BPF side. Creating an iterator fd from an attached link
//!   (`BPF_ITER_CREATE`, every refresh), reading it, reading the mmapped
//!   records map and looking up the network counters through map fds need no
//!   capability on kernels ≥ 6.5. Before 6.5 every `bpf()` command was gated
//!   by `kernel.unprivileged_bpf_disabled` unless the caller had CAP_BPF or
//!   CAP_SYS_ADMIN: [`bpf_gate_open`] probes that gate with the capabilities
//!   lowered, and CAP_BPF (or CAP_SYS_ADMIN where there is no CAP_BPF) is kept
//!   only when the probe is refused. CAP_PERFMON, CAP_SYS_RESOURCE (memlock)
//!   and CAP_NET_ADMIN only matter while loading and attaching.
//! * CAP_DAC_READ_SEARCH: container names come from docker/podman metadata
//!   under /var/lib, readable by root only.
//! * CAP_SYS_PTRACE: /proc/PID/fdinfo (DRM usage), /proc/PID/io (procfs
//!   backend) and /proc/PID/smaps_rollup (the interface's PSS and USS of the
//!   selected process) of other users' processes are ptrace-read checked.
//!   Kept when GPU discovery is on, the backend is procfs, or in the
//!   interface. /proc/PID/cmdline, cgroup and stat are world-readable and
//!   need nothing.
//! * The interactive interface only: CAP_KILL (signal other users'
//!   processes), CAP_SYS_NICE (renice, CPU affinity, I/O priority) and
//!   CAP_DAC_OVERRIDE (write cgroup.freeze); CAP_SYS_PTRACE too, so that
//!   root sees every process's environment and open files (`e`, `l`).
//!   Batch and serve modes never act on processes. What a process shows of
//!   another's private files (environment, open files) is read
//!   [`with_user_rights`]: a capability copy run by an ordinary user shows
//!   only what that user could read.
//!
//! * One exception to "nothing for the BPF side": when the system outgrows
//!   the records map, the collector loads its programs again with a larger
//!   map, which needs CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN before 5.8).
//!   Those stay in the permitted set only — not effective — and
//!   [`with_load_caps`] raises them for that reload alone.
//!
//! Only capabilities the process holds are kept: nothing is ever gained.

use caps::{CapSet, Capability, CapsHashSet};

/// The message when the process runs setuid or setgid.
pub const SETID_MESSAGE: &str =
    "bpftop must not run setuid/setgid: grant capabilities instead, see README";

/// Whether real and effective ids differ (a setuid or setgid execution).
/// Pure: takes the ids.
pub fn is_setid(ruid: u32, euid: u32, rgid: u32, egid: u32) -> bool {
    ruid != euid || rgid != egid
}

/// Err(message) when this process runs setuid or setgid.
pub fn refuse_setid() -> Result<(), &'static str> {
    // SAFETY: these getters cannot fail and touch no memory.
    let (ruid, euid, rgid, egid) = unsafe {
        (
            libc::getuid(),
            libc::geteuid(),
            libc::getgid(),
            libc::getegid(),
        )
    };
    if is_setid(ruid, euid, rgid, egid) {
        Err(SETID_MESSAGE)
    } else {
        Ok(())
    }
}

/// How bpftop runs, for what it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Interactive,
    Batch,
    Serve,
}

/// What decides the capabilities kept after loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    pub mode: Mode,
    /// GPU discovery is on (DRM fdinfo of every process).
    pub gpu: bool,
    /// The process backend is procfs (/proc/PID/io).
    pub procfs_backend: bool,
    /// `bpf()` commands on existing fds are refused without a capability
    /// (kernels before 6.5 with unprivileged BPF disabled).
    pub bpf_gate_closed: bool,
}

/// The capabilities worth keeping for `needs`, before intersecting with
/// what the process holds. Pure.
pub fn wanted(needs: &Needs) -> Vec<Capability> {
    let mut keep = vec![Capability::CAP_DAC_READ_SEARCH];
    if needs.gpu || needs.procfs_backend || needs.mode == Mode::Interactive {
        keep.push(Capability::CAP_SYS_PTRACE);
    }
    if needs.bpf_gate_closed && !needs.procfs_backend {
        keep.push(Capability::CAP_BPF);
        keep.push(Capability::CAP_SYS_ADMIN);
    }
    if needs.mode == Mode::Interactive {
        keep.push(Capability::CAP_KILL);
        keep.push(Capability::CAP_SYS_NICE);
        keep.push(Capability::CAP_DAC_OVERRIDE);
    }
    keep
}

/// `wanted` limited to `held`. CAP_SYS_ADMIN stands in for CAP_BPF only
/// where CAP_BPF is not held (kernels before 5.8). Pure.
pub fn kept(needs: &Needs, held: &CapsHashSet) -> CapsHashSet {
    let mut keep: CapsHashSet = wanted(needs)
        .into_iter()
        .filter(|c| held.contains(c))
        .collect();
    if keep.contains(&Capability::CAP_BPF) {
        keep.remove(&Capability::CAP_SYS_ADMIN);
    }
    keep
}

/// The capabilities kept permitted but not effective, for reloading the
/// programs when the records map must grow: CAP_BPF and CAP_PERFMON, or
/// CAP_SYS_ADMIN where CAP_BPF is not held (kernels before 5.8). Pure.
pub fn reload_caps(held: &CapsHashSet) -> CapsHashSet {
    let wanted: &[Capability] = if held.contains(&Capability::CAP_BPF) {
        &[Capability::CAP_BPF, Capability::CAP_PERFMON]
    } else {
        &[Capability::CAP_SYS_ADMIN]
    };
    wanted
        .iter()
        .filter(|c| held.contains(c))
        .copied()
        .collect()
}

/// Runs `f` (a program load) with the permitted reload capabilities raised
/// in the effective set, then lowers them again.
pub fn with_load_caps<T>(f: impl FnOnce() -> T) -> T {
    let (Ok(effective), Ok(permitted)) = (
        caps::read(None, CapSet::Effective),
        caps::read(None, CapSet::Permitted),
    ) else {
        return f();
    };
    let raised: CapsHashSet = effective.union(&reload_caps(&permitted)).copied().collect();
    if raised == effective || caps::set(None, CapSet::Effective, &raised).is_err() {
        return f();
    }
    let result = f();
    let _ = caps::set(None, CapSet::Effective, &effective);
    result
}

/// Runs `f` with the calling thread's effective capabilities lowered to
/// none, then raises them again: files named by the environment (the config)
/// are then opened with no more rights than the user who started bpftop.
/// Err (and `f` not run) when the set cannot be lowered.
pub fn as_invoking_user<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let effective = caps::read(None, CapSet::Effective)
        .map_err(|e| format!("cannot read the capabilities: {e}"))?;
    if effective.is_empty() {
        return Ok(f());
    }
    caps::clear(None, CapSet::Effective)
        .map_err(|e| format!("cannot lower the capabilities: {e}"))?;
    let result = f();
    // Permitted is unchanged, so raising back what was effective succeeds.
    let _ = caps::set(None, CapSet::Effective, &effective);
    Ok(result)
}

/// Runs `f` with the rights of the user who started bpftop: as it is for
/// root, with the effective capabilities lowered for anyone else. For what
/// bpftop shows of another process's private files (its environment, its
/// open files), which file capabilities must not widen.
pub fn with_user_rights<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } == 0 {
        Ok(f())
    } else {
        as_invoking_user(f)
    }
}

/// Capability names, lower case and sorted: "cap_kill, cap_sys_nice".
pub fn describe(set: &CapsHashSet) -> String {
    let mut names: Vec<String> = set.iter().map(|c| c.to_string().to_lowercase()).collect();
    names.sort();
    if names.is_empty() {
        "nothing".to_owned()
    } else {
        names.join(", ")
    }
}

/// Whether a `bpf()` command on a non-map fd gets past the syscall-wide
/// capability gate with the current effective set: EPERM means the gate
/// refused it; anything else (EBADF, EINVAL) means it was let through.
fn bpf_gate_passes() -> bool {
    const BPF_MAP_LOOKUP_ELEM: libc::c_long = 1;
    // map_fd = -1, key and value null: the kernel stops at the fd.
    let mut attr = [0u64; 4];
    attr[0] = u64::from(u32::MAX);
    // SAFETY: attr is a valid, sufficiently long bpf_attr for this command.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_MAP_LOOKUP_ELEM,
            attr.as_mut_ptr(),
            std::mem::size_of_val(&attr),
        )
    };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EPERM)
}

/// Probes whether BPF fds stay usable without CAP_BPF/CAP_SYS_ADMIN: the
/// effective set is lowered to `without` for the probe, then restored.
/// Returns true when no probe is possible (nothing to lower).
pub fn bpf_gate_open(without: &CapsHashSet) -> bool {
    let Ok(effective) = caps::read(None, CapSet::Effective) else {
        return true;
    };
    let lowered: CapsHashSet = effective.intersection(without).copied().collect();
    if lowered == effective {
        return bpf_gate_passes();
    }
    if caps::set(None, CapSet::Effective, &lowered).is_err() {
        return true;
    }
    let open = bpf_gate_passes();
    let _ = caps::set(None, CapSet::Effective, &effective);
    open
}

/// The permitted set of this process (empty when unreadable).
pub fn held() -> CapsHashSet {
    caps::read(None, CapSet::Permitted).unwrap_or_default()
}

/// The capabilities this process would keep after loading with `needs`
/// (`bpf_gate_closed` is probed here), from what it holds now.
pub fn would_keep(mode: Mode, gpu: bool, procfs_backend: bool) -> CapsHashSet {
    let held = caps::read(None, CapSet::Permitted).unwrap_or_default();
    let mut needs = Needs {
        mode,
        gpu,
        procfs_backend,
        bpf_gate_closed: false,
    };
    let without_bpf = kept(&needs, &held);
    needs.bpf_gate_closed = !procfs_backend && !bpf_gate_open(&without_bpf);
    kept(&needs, &held)
}

/// Drops every capability not in [`would_keep`] from the effective set, and
/// all but those and [`reload_caps`] from the permitted
/// and inheritable sets (and the ambient set), drops the rest from the
/// bounding set where CAP_SETPCAP allows (so that a root-owned process cannot
/// regain them through execve), and sets no_new_privs (bpftop executes
/// nothing, and file capabilities must not come back through an exec).
///
/// Capabilities are per thread: call this before any thread is started
/// (threads started later inherit the reduced sets).
pub fn drop_after_load(mode: Mode, gpu: bool, procfs_backend: bool) -> Result<CapsHashSet, String> {
    let keep = would_keep(mode, gpu, procfs_backend);
    let held = caps::read(None, CapSet::Permitted).unwrap_or_default();
    let permitted: CapsHashSet = if procfs_backend {
        keep.clone()
    } else {
        keep.union(&reload_caps(&held)).copied().collect()
    };
    let fail =
        |what: &str, e: caps::errors::CapsError| format!("dropping capabilities: {what}: {e}");
    let effective = caps::read(None, CapSet::Effective).map_err(|e| fail("read", e))?;
    if effective.contains(&Capability::CAP_SETPCAP) {
        let bounding = caps::read(None, CapSet::Bounding).unwrap_or_default();
        for cap in bounding.difference(&permitted) {
            caps::drop(None, CapSet::Bounding, *cap).map_err(|e| fail("bounding set", e))?;
        }
    }
    // Ambient capabilities would survive an exec: none are wanted.
    let _ = caps::clear(None, CapSet::Ambient);
    let effective: CapsHashSet = effective.intersection(&keep).copied().collect();
    caps::set(None, CapSet::Effective, &effective).map_err(|e| fail("effective set", e))?;
    caps::set(None, CapSet::Permitted, &permitted).map_err(|e| fail("permitted set", e))?;
    caps::clear(None, CapSet::Inheritable).map_err(|e| fail("inheritable set", e))?;
    // SAFETY: PR_SET_NO_NEW_PRIVS takes integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(format!(
            "dropping capabilities: no_new_privs: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setid_is_any_real_effective_difference() {
        assert!(!is_setid(1000, 1000, 100, 100));
        assert!(!is_setid(0, 0, 0, 0));
        assert!(is_setid(1000, 0, 100, 100), "setuid root");
        assert!(is_setid(1000, 1000, 100, 0), "setgid");
        assert!(is_setid(0, 1000, 0, 0));
    }

    fn needs(mode: Mode) -> Needs {
        Needs {
            mode,
            gpu: true,
            procfs_backend: false,
            bpf_gate_closed: false,
        }
    }

    #[test]
    fn batch_and_serve_keep_no_action_capabilities() {
        let all = caps::all();
        for mode in [Mode::Batch, Mode::Serve] {
            let k = kept(&needs(mode), &all);
            assert_eq!(describe(&k), "cap_dac_read_search, cap_sys_ptrace");
        }
        let k = kept(&needs(Mode::Interactive), &all);
        assert_eq!(
            describe(&k),
            "cap_dac_override, cap_dac_read_search, cap_kill, cap_sys_nice, cap_sys_ptrace"
        );
    }

    #[test]
    fn bpf_capabilities_only_behind_a_closed_gate() {
        let all = caps::all();
        let open = kept(&needs(Mode::Batch), &all);
        for cap in [
            Capability::CAP_BPF,
            Capability::CAP_PERFMON,
            Capability::CAP_SYS_ADMIN,
        ] {
            assert!(!open.contains(&cap));
        }
        let closed = Needs {
            bpf_gate_closed: true,
            ..needs(Mode::Batch)
        };
        let k = kept(&closed, &all);
        assert!(k.contains(&Capability::CAP_BPF));
        assert!(!k.contains(&Capability::CAP_SYS_ADMIN));
        // Before 5.8: CAP_SYS_ADMIN is what opens the gate.
        let old: CapsHashSet = [Capability::CAP_SYS_ADMIN].into_iter().collect();
        assert_eq!(describe(&kept(&closed, &old)), "cap_sys_admin");
    }

    #[test]
    fn reload_needs_bpf_and_perfmon_or_sys_admin() {
        assert_eq!(describe(&reload_caps(&caps::all())), "cap_bpf, cap_perfmon");
        let old: CapsHashSet = [Capability::CAP_SYS_ADMIN].into_iter().collect();
        assert_eq!(describe(&reload_caps(&old)), "cap_sys_admin");
        assert_eq!(describe(&reload_caps(&CapsHashSet::new())), "nothing");
    }

    #[test]
    fn as_invoking_user_lowers_and_restores() {
        let before = caps::read(None, CapSet::Effective).unwrap_or_default();
        let inside = as_invoking_user(|| caps::read(None, CapSet::Effective).unwrap_or_default());
        assert_eq!(inside.map(|set| set.len()), Ok(0));
        assert_eq!(
            caps::read(None, CapSet::Effective).unwrap_or_default(),
            before
        );
    }

    #[test]
    fn nothing_held_nothing_kept() {
        let k = kept(&needs(Mode::Interactive), &CapsHashSet::new());
        assert_eq!(describe(&k), "nothing");
        let no_gpu = Needs {
            gpu: false,
            ..needs(Mode::Batch)
        };
        assert_eq!(
            describe(&kept(&no_gpu, &caps::all())),
            "cap_dac_read_search"
        );
        // The interface keeps it for e and l (read with the user's rights)
        // and for the selected process's smaps_rollup.
        let interface_no_gpu = Needs {
            gpu: false,
            ..needs(Mode::Interactive)
        };
        assert!(kept(&interface_no_gpu, &caps::all()).contains(&Capability::CAP_SYS_PTRACE));
    }
}
