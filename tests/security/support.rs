//! The attacker's side of the security tests: an ordinary user created for
//! the test and a copy of bpftop carrying the README's file capabilities,
//! both removed again when dropped.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_bpftop");

/// The binary under attack: this build's, or the one named by
/// `BPFTOP_SECURITY_BIN` (to see the reproductions succeed against an
/// older release).
pub fn bin() -> String {
    std::env::var("BPFTOP_SECURITY_BIN").unwrap_or_else(|_| BIN.to_owned())
}

/// Everything the README's tables suggest granting, freeze included.
pub const README_CAPS: &str =
    "cap_bpf,cap_perfmon,cap_dac_read_search,cap_sys_ptrace,cap_dac_override,cap_kill,cap_sys_nice+ep";

/// Held by every test that runs the interface as root: a starting
/// interface releases any process an earlier, killed bpftop left frozen
/// alone, so one test's start would otherwise recover (and report) another
/// test's orphan.
pub fn one_interface_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

pub use crate::common::is_root;

/// A scratch directory every user can enter, removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(what: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("bpftop-sec-{what}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An ordinary local user with a home directory of its own; deleted on drop.
pub struct Attacker {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
    _scratch: Scratch,
}

impl Attacker {
    /// None (with the reason printed) where users cannot be created.
    pub fn create(tag: &str) -> Option<Attacker> {
        let scratch = Scratch::new(&format!("home-{tag}"));
        // User names are at most 32 bytes; the pid keeps parallel runs apart.
        let name = format!("bpfsec{}{}", &tag[..tag.len().min(6)], std::process::id());
        let home = scratch.path().join("home");
        let _ = Command::new("userdel").arg(&name).output();
        let out = Command::new("useradd")
            .args(["--no-create-home", "--shell", "/bin/sh", "--user-group"])
            .arg("--home-dir")
            .arg(&home)
            .arg(&name)
            .output();
        match out {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                crate::common::skip(&format!(
                    "useradd failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
                return None;
            }
            Err(e) => {
                crate::common::skip(&format!("no useradd: {e}"));
                return None;
            }
        }
        let id = |flag: &str| -> u32 {
            let out = Command::new("id").arg(flag).arg(&name).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
        };
        let (uid, gid) = (id("-u"), id("-g"));
        std::fs::create_dir_all(&home).unwrap();
        std::os::unix::fs::chown(&home, Some(uid), Some(gid)).unwrap();
        Some(Attacker {
            name,
            uid,
            gid,
            home,
            _scratch: scratch,
        })
    }

    /// `program` run as this user, with a clean environment pointing HOME
    /// and XDG_CONFIG_HOME into the user's home.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("TERM", "xterm-256color")
            .current_dir(&self.home)
            .uid(self.uid)
            .gid(self.gid);
        cmd
    }

    /// Creates `path` (and its parents) as this user would.
    pub fn mkdir(&self, path: &Path) {
        std::fs::create_dir_all(path).unwrap();
        let mut dir = path.to_path_buf();
        while dir.starts_with(&self.home) && dir != self.home {
            std::os::unix::fs::chown(&dir, Some(self.uid), Some(self.gid)).unwrap();
            if !dir.pop() {
                break;
            }
        }
    }
}

impl Drop for Attacker {
    fn drop(&mut self) {
        let _ = Command::new("pkill")
            .args(["-KILL", "-u", &self.name])
            .output();
        let _ = Command::new("userdel").arg(&self.name).output();
    }
}

/// A copy of bpftop carrying file capabilities, in a directory any user can
/// enter; removed on drop.
pub struct CapBinary {
    pub path: PathBuf,
    _scratch: Scratch,
}

impl CapBinary {
    /// None (with the reason printed) where file capabilities cannot be set.
    pub fn with(caps: &str, tag: &str) -> Option<CapBinary> {
        let scratch = Scratch::new(&format!("bin-{tag}"));
        let path = scratch.path().join("bpftop");
        std::fs::copy(bin(), &path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        match Command::new("setcap").arg(caps).arg(&path).output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                crate::common::skip(&format!(
                    "setcap failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
                return None;
            }
            Err(e) => {
                crate::common::skip(&format!("no setcap (package libcap2-bin): {e}"));
                return None;
            }
        }
        Some(CapBinary {
            path,
            _scratch: scratch,
        })
    }
}

/// Root plus an attacker and a capability-carrying copy, or None with the
/// reason printed.
pub fn setup(tag: &str) -> Option<(Attacker, CapBinary)> {
    if !is_root() {
        crate::common::skip("needs root (to create a user and set file capabilities)");
        return None;
    }
    let attacker = Attacker::create(tag)?;
    let binary = CapBinary::with(README_CAPS, tag)?;
    Some((attacker, binary))
}

/// A tmux pane running `program` with `args` as `attacker` (no capabilities
/// but the file's) when `as_attacker`, else as root with the attacker's
/// environment (`sudo -E`).
pub fn pane(
    tag: &str,
    attacker: &Attacker,
    program: &Path,
    args: &str,
    as_attacker: bool,
) -> Option<crate::tmux::Tmux<'static>> {
    let env = format!(
        "env -i HOME={home} XDG_CONFIG_HOME={home}/.config TERM=xterm-256color NO_COLOR=1 {} {args}",
        program.display(),
        home = attacker.home.display()
    );
    let command = if as_attacker {
        format!(
            "setpriv --reuid={} --regid={} --clear-groups {env}",
            attacker.uid, attacker.gid
        )
    } else {
        env
    };
    crate::tmux::start(tag, &command)
}
