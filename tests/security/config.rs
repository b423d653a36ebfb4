//! The config file as an attack path: a link at `config.toml` aimed at a
//! root-owned file, saved through the setup screen (F2, Esc) by an ordinary
//! user running the capability-carrying copy, or by root running with that
//! user's $XDG_CONFIG_HOME (`sudo -E`); and a FIFO where the config should
//! be, which once hung start-up.

use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::{bin, one_interface_at_a_time, pane, setup, Attacker, Scratch};
use crate::tmux::Tmux;

const SHOWN: Duration = Duration::from_secs(60);

/// A root-owned 0600 file in a root-owned directory, and its text.
struct Victim {
    path: PathBuf,
    _dir: Scratch,
}

const VICTIM_TEXT: &str = "root only: never moved, replaced or rewritten\n";

impl Victim {
    fn create(tag: &str) -> Victim {
        let dir = Scratch::new(&format!("victim-{tag}"));
        let path = dir.path().join("victim.conf");
        std::fs::write(&path, VICTIM_TEXT).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        Victim { path, _dir: dir }
    }

    fn assert_untouched(&self) {
        let meta = std::fs::symlink_metadata(&self.path).expect("the victim was moved");
        assert_eq!(std::fs::read_to_string(&self.path).unwrap(), VICTIM_TEXT);
        assert_eq!((meta.uid(), meta.mode() & 0o7777), (0, 0o600));
        let beside: Vec<_> = std::fs::read_dir(self.path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            beside.len(),
            1,
            "files appeared beside the victim: {beside:?}"
        );
    }
}

/// The config path in the attacker's home, its directory created.
fn config_path(attacker: &Attacker) -> PathBuf {
    let dir = attacker.home.join(".config").join("bpftop");
    attacker.mkdir(&dir);
    dir.join("config.toml")
}

fn has_header(screen: &str) -> bool {
    screen.contains("Load average") || screen.contains("Tasks")
}

/// F2 then Esc: the setup screen closes and saves.
fn save_through_setup(tmux: &Tmux) -> String {
    tmux.wait_for("the interface", SHOWN, has_header);
    tmux.keys(&["F2"]);
    tmux.wait_for("the setup screen", SHOWN, |s| {
        s.contains("Columns") || s.contains("Setup")
    });
    tmux.keys(&["Escape"]);
    let screen = tmux.wait_for("the save's status", SHOWN, |s| {
        s.contains("settings saved") || s.contains("not saved") || s.contains("cannot")
    });
    tmux.keys(&["q"]);
    screen
}

#[test]
fn a_capability_carrying_copy_does_not_write_through_a_linked_config() {
    let _one = one_interface_at_a_time();
    let Some((attacker, binary)) = setup("cfglink") else {
        return;
    };
    let victim = Victim::create("cap");
    let path = config_path(&attacker);
    symlink(&victim.path, &path).unwrap();
    let Some(tmux) = pane("cfgcap", &attacker, &binary.path, "", true) else {
        return;
    };
    let screen = save_through_setup(&tmux);
    println!("{screen}");
    victim.assert_untouched();
    assert!(screen.contains("symbolic link"), "{screen}");
    assert!(std::fs::symlink_metadata(&path)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn root_with_a_users_config_home_does_not_write_through_a_link() {
    let _one = one_interface_at_a_time();
    let Some((attacker, _binary)) = setup("cfgroot") else {
        return;
    };
    let victim = Victim::create("root");
    symlink(&victim.path, config_path(&attacker)).unwrap();
    let Some(tmux) = pane("cfgroot", &attacker, Path::new(&bin()), "", false) else {
        return;
    };
    let screen = save_through_setup(&tmux);
    println!("{screen}");
    victim.assert_untouched();
}

#[test]
fn a_fifo_config_does_not_hang_start_up() {
    let _one = one_interface_at_a_time();
    let Some((attacker, binary)) = setup("cfgfifo") else {
        return;
    };
    let path = config_path(&attacker);
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
    std::os::unix::fs::chown(&path, Some(attacker.uid), Some(attacker.gid)).unwrap();
    let Some(tmux) = pane("cfgfifo", &attacker, &binary.path, "", true) else {
        return;
    };
    let screen = tmux.wait_for("the interface despite the FIFO", SHOWN, has_header);
    tmux.keys(&["q"]);
    assert!(
        screen.contains("FIFO"),
        "no message about the FIFO:\n{screen}"
    );
}

/// The hardening keeps the feature: the same user, the same copy, its own
/// (broken) config is saved, the broken one kept beside it, both the user's.
#[test]
fn a_capability_carrying_copy_still_saves_its_users_own_config() {
    let _one = one_interface_at_a_time();
    let Some((attacker, binary)) = setup("cfgown") else {
        return;
    };
    let path = config_path(&attacker);
    std::fs::write(&path, "colums = 1\n").unwrap();
    std::os::unix::fs::chown(&path, Some(attacker.uid), Some(attacker.gid)).unwrap();
    let Some(tmux) = pane("cfgown", &attacker, &binary.path, "", true) else {
        return;
    };
    let screen = save_through_setup(&tmux);
    assert!(screen.contains("settings saved"), "{screen}");
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(saved.contains("columns = ["), "{saved}");
    let kept = path.with_file_name("config.toml.broken");
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "colums = 1\n");
    for file in [&path, &kept] {
        assert_eq!(std::fs::metadata(file).unwrap().uid(), attacker.uid);
    }
}
