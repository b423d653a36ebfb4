//! cgroup v2: where it is mounted, a process's cgroup path as
//! /proc/PID/cgroup gives it, the path of a cgroup given its id, and how a
//! cgroup path that is not UTF-8 is written as text.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A cgroup path (bytes, as the kernel prints it in /proc/PID/cgroup) as
/// text, reversibly: the one place where cgroup names that are not UTF-8
/// are handled.
///
/// Valid UTF-8 is kept as it is, except for one thing: each byte that is not
/// part of valid UTF-8 (always 0x80 or above) is written `\xNN`, two
/// lower-case hex digits. A backslash that would otherwise read as the start
/// of such an escape (one followed by a backslash, by an escape, or by `x`
/// and a hex number 80-ff) is written `\\`; every other backslash stays
/// as it is, so systemd's `\x2d` in unit names reads as before.
/// [`decode_path`] turns the text back into the exact bytes.
pub fn encode_path(bytes: &[u8]) -> String {
    enum Token<'a> {
        Text(&'a str),
        Raw(u8),
    }
    let mut tokens = Vec::new();
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let mut rest = valid;
        // One token per backslash, so that what follows it is known.
        while let Some(at) = rest.find('\\') {
            if at > 0 {
                tokens.push(Token::Text(&rest[..at]));
            }
            tokens.push(Token::Text("\\"));
            rest = &rest[at + 1..];
        }
        if !rest.is_empty() {
            tokens.push(Token::Text(rest));
        }
        tokens.extend(chunk.invalid().iter().map(|&b| Token::Raw(b)));
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Raw(b) => out.push_str(&format!("\\x{b:02x}")),
            Token::Text("\\") => {
                let ambiguous = match tokens.get(i + 1) {
                    None => false,
                    Some(Token::Raw(_)) => true,
                    Some(Token::Text(next)) => {
                        next.starts_with('\\') || raw_escape(next.as_bytes()).is_some()
                    }
                };
                out.push_str(if ambiguous { "\\\\" } else { "\\" });
            }
            Token::Text(text) => out.push_str(text),
        }
    }
    out
}

/// The byte of an escape `xNN` (after its backslash) with NN in 80-ff.
fn raw_escape(after_backslash: &[u8]) -> Option<u8> {
    let [b'x', hi, lo, ..] = after_backslash else {
        return None;
    };
    let hex = |d: u8| char::from(d).to_digit(16);
    let byte = u8::try_from(hex(*hi)? * 16 + hex(*lo)?).ok()?;
    (byte >= 0x80).then_some(byte)
}

/// The cgroup v2 path from /proc/PID/cgroup (its "0::" line), as text: bytes
/// that are not UTF-8 escaped reversibly (see [`encode_path`]).
/// None on a v1-only system.
pub fn parse_cgroup_v2(text: &[u8]) -> Option<String> {
    text.split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"0::"))
        .map(encode_path)
}

/// The bytes of a cgroup path written by [`encode_path`].
pub fn decode_path(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let after = bytes.get(i + 1..).unwrap_or_default();
        if b != b'\\' {
            out.push(b);
            i += 1;
        } else if after.first() == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else if let Some(raw) = raw_escape(after) {
            out.push(raw);
            i += 4;
        } else {
            out.push(b'\\');
            i += 1;
        }
    }
    out
}

/// The cgroup2 mount point from a mountinfo text, wherever it is
/// (/sys/fs/cgroup on unified systems, /sys/fs/cgroup/unified on hybrid ones).
pub fn cgroup2_mount_from_mountinfo(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        // "36 25 0:31 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw"
        // Fields are separated by single spaces; the kernel escapes only
        // space, tab, newline and backslash inside them, so other
        // whitespace (\r, U+00A0, ...) belongs to the field.
        let (left, right) = line.split_once(" - ")?;
        let fstype = right.split(' ').next()?;
        if fstype != "cgroup2" {
            return None;
        }
        let mount_point = left.split(' ').nth(4)?;
        Some(PathBuf::from(unescape_mountinfo(mount_point)))
    })
}

/// The mount point of the cgroup v1 hierarchy whose super options hold
/// `option` (a controller such as `freezer`, or `name=systemd` for
/// systemd's named hierarchy), from a mountinfo text.
pub fn v1_mount_from_mountinfo(mountinfo: &str, option: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        // "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer"
        let (left, right) = line.split_once(" - ")?;
        let mut fields = right.split(' ');
        if fields.next()? != "cgroup" {
            return None;
        }
        let options = fields.nth(1)?;
        if !options.split(',').any(|o| o == option) {
            return None;
        }
        let mount_point = left.split(' ').nth(4)?;
        Some(PathBuf::from(unescape_mountinfo(mount_point)))
    })
}

/// The cgroup of a /proc/PID/cgroup text in the v1 hierarchy whose
/// controller list holds `controller` (`freezer`, `name=systemd`), escaped
/// as cgroup paths are.
pub fn parse_cgroup_v1(text: &[u8], controller: &[u8]) -> Option<String> {
    text.split(|&b| b == b'\n').find_map(|line| {
        let mut fields = line.splitn(3, |&b| b == b':');
        let _id = fields.next()?;
        let controllers = fields.next()?;
        let path = fields.next()?;
        controllers
            .split(|&b| b == b',')
            .any(|c| c == controller)
            .then(|| encode_path(path))
    })
}

/// The hierarchy processes' cgroups are named in: cgroup v2, or, on hosts
/// that mount none, systemd's v1 named hierarchy (`name=systemd`), whose
/// paths carry the same slices, units and container scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hierarchy {
    V2(PathBuf),
    V1Systemd(PathBuf),
}

impl Hierarchy {
    pub fn find(proc_root: &Path) -> Option<Hierarchy> {
        let text = fs::read_to_string(proc_root.join("self/mountinfo")).ok()?;
        Hierarchy::from_mountinfo(&text)
    }

    pub fn from_mountinfo(mountinfo: &str) -> Option<Hierarchy> {
        cgroup2_mount_from_mountinfo(mountinfo)
            .map(Hierarchy::V2)
            .or_else(|| {
                v1_mount_from_mountinfo(mountinfo, "name=systemd").map(Hierarchy::V1Systemd)
            })
    }

    pub fn mount(&self) -> &Path {
        match self {
            Hierarchy::V2(mount) | Hierarchy::V1Systemd(mount) => mount,
        }
    }

    /// A process's cgroup in this hierarchy, from its /proc/PID/cgroup.
    pub fn path_in(&self, proc_pid_cgroup: &[u8]) -> Option<String> {
        match self {
            Hierarchy::V2(_) => parse_cgroup_v2(proc_pid_cgroup),
            Hierarchy::V1Systemd(_) => parse_cgroup_v1(proc_pid_cgroup, b"name=systemd"),
        }
    }
}

/// mountinfo escapes space, tab, newline and backslash as \ooo.
pub(crate) fn unescape_mountinfo(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            std::str::from_utf8(d)
                .ok()
                .and_then(|d| u8::from_str_radix(d, 8).ok())
        });
        match (bytes[i], octal) {
            (b'\\', Some(b)) => {
                out.push(b);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The cgroup2 mount point of this system.
pub fn find_cgroup2_mount(proc_root: &Path) -> Option<PathBuf> {
    let text = fs::read_to_string(proc_root.join("self/mountinfo")).ok()?;
    cgroup2_mount_from_mountinfo(&text)
}

/// Maps cgroup ids (kernfs ids, equal to the cgroup directory's inode) to
/// paths. Only ids not seen before are resolved, each by reading the cgroup
/// file of one process in that cgroup: the cost is per new cgroup, never per
/// process or per refresh.
#[derive(Debug)]
pub struct CgroupResolver {
    proc_root: PathBuf,
    mount: Option<PathBuf>,
    /// None: the id has no v2 path (a v1-only hierarchy), remembered so
    /// that it is not looked up again every refresh.
    paths: FxHashMap<u64, Option<Arc<str>>>,
}

impl CgroupResolver {
    pub fn new(proc_root: &Path) -> Self {
        CgroupResolver {
            proc_root: proc_root.to_path_buf(),
            mount: find_cgroup2_mount(proc_root),
            paths: FxHashMap::default(),
        }
    }

    pub fn mount(&self) -> Option<&Path> {
        self.mount.as_deref()
    }

    /// Whether `id` was resolved before (to a path or to none).
    pub fn knows(&self, id: u64) -> bool {
        self.paths.contains_key(&id)
    }

    /// The path of cgroup `id`, which process `pid` was seen in.
    pub fn resolve(&mut self, id: u64, pid: u32) -> Option<Arc<str>> {
        if let Some(path) = self.paths.get(&id) {
            return path.clone();
        }
        // A process gone before we read it tells nothing: retry next time.
        let text = fs::read(self.proc_root.join(format!("{pid}/cgroup"))).ok()?;
        let Some(path) = parse_cgroup_v2(&text) else {
            self.paths.insert(id, None);
            return None;
        };
        // The process may have moved since the walk; only an inode match
        // proves the path belongs to this id (a mismatch is retried next
        // time). Without a visible mount (another mount namespace) the path
        // cannot be checked and is trusted.
        if let Some(mount) = &self.mount {
            let dir = mount.join(OsStr::from_bytes(&decode_path(
                path.trim_start_matches('/'),
            )));
            if fs::metadata(&dir).ok()?.ino() != id {
                return None;
            }
        }
        let path: Arc<str> = path.into();
        self.paths.insert(id, Some(path.clone()));
        Some(path)
    }

    /// Forgets ids not in `live` (removed cgroups), bounding the cache.
    pub fn retain(&mut self, live: impl Fn(u64) -> bool) {
        self.paths.retain(|id, _| live(*id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_v2_line() {
        let hybrid = b"12:memory:/user.slice\n1:name=systemd:/user.slice/session-1.scope\n\
            0::/x\n";
        assert_eq!(parse_cgroup_v2(hybrid).as_deref(), Some("/x"));
        assert_eq!(parse_cgroup_v2(b"4:memory:/a\n1:cpu:/\n"), None);
        assert_eq!(
            parse_cgroup_v2(b"0::/system.slice/gone.service (deleted)\n").as_deref(),
            Some("/system.slice/gone.service (deleted)")
        );
        assert_eq!(parse_cgroup_v2(b"0::/").as_deref(), Some("/"));
        // Names that are not UTF-8 keep their bytes, escaped.
        assert_eq!(
            parse_cgroup_v2(b"0::/t/a\xff\xfeb\n").as_deref(),
            Some("/t/a\\xff\\xfeb")
        );
    }

    #[test]
    fn v1_only_hosts_name_cgroups_in_systemds_hierarchy() {
        let v1_only =
            "30 25 0:26 / /sys/fs/cgroup/systemd rw,nosuid - cgroup cgroup rw,xattr,name=systemd\n\
            31 25 0:27 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n";
        let h = Hierarchy::V1Systemd(PathBuf::from("/sys/fs/cgroup/systemd"));
        assert_eq!(Hierarchy::from_mountinfo(v1_only), Some(h.clone()));
        let text = b"5:freezer:/docker/abc\n1:name=systemd:/system.slice/nginx.service\n0::/\n";
        assert_eq!(
            h.path_in(text).as_deref(),
            Some("/system.slice/nginx.service")
        );
        assert_eq!(
            parse_cgroup_v1(text, b"freezer").as_deref(),
            Some("/docker/abc")
        );
        // Where cgroup2 is mounted (hybrid), it wins.
        let hybrid =
            format!("{v1_only}32 25 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
        let h = Hierarchy::V2(PathBuf::from("/sys/fs/cgroup/unified"));
        assert_eq!(Hierarchy::from_mountinfo(&hybrid), Some(h.clone()));
        assert_eq!(h.path_in(text).as_deref(), Some("/"));
        assert_eq!(
            Hierarchy::from_mountinfo("31 25 0:27 / /x rw - cgroup cgroup rw,cpu\n"),
            None
        );
    }

    #[test]
    fn finds_cgroup2_in_hybrid_and_unified_layouts() {
        let hybrid = "25 1 0:23 / /sys rw - sysfs sysfs rw\n\
            30 25 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro\n\
            31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n\
            32 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";
        assert_eq!(
            cgroup2_mount_from_mountinfo(hybrid),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        let unified = "40 1 0:35 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw\n";
        assert_eq!(
            cgroup2_mount_from_mountinfo(unified),
            Some(PathBuf::from("/sys/fs/cgroup"))
        );
        let v1_only = "32 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";
        assert_eq!(cgroup2_mount_from_mountinfo(v1_only), None);
        assert_eq!(cgroup2_mount_from_mountinfo("garbage\n - \n"), None);
    }

    #[test]
    fn mount_points_with_spaces_are_unescaped() {
        let info = "40 1 0:35 / /mnt/cg\\040two rw - cgroup2 none rw\n";
        assert_eq!(
            cgroup2_mount_from_mountinfo(info),
            Some(PathBuf::from("/mnt/cg two"))
        );
    }

    #[test]
    fn own_cgroup_resolves_by_inode() {
        let proc_root = Path::new("/proc");
        let mut resolver = CgroupResolver::new(proc_root);
        let Some(mount) = resolver.mount().map(Path::to_path_buf) else {
            return; // no cgroup2 on this machine: nothing to resolve against
        };
        let own = fs::read("/proc/self/cgroup").unwrap_or_default();
        let Some(path) = parse_cgroup_v2(&own) else {
            return;
        };
        let dir = mount.join(path.trim_start_matches('/'));
        let Ok(meta) = fs::metadata(&dir) else {
            return;
        };
        let pid = std::process::id();
        assert_eq!(
            resolver.resolve(meta.ino(), pid).as_deref(),
            Some(path.as_str())
        );
        // A wrong id for the same process is refused, not mislabelled.
        assert_eq!(resolver.resolve(meta.ino() + 1_000_000_007, pid), None);
    }

    #[test]
    fn paths_that_are_not_utf8_are_escaped_reversibly() {
        let cases: [(&[u8], &str); 8] = [
            (b"/system.slice/a.service", "/system.slice/a.service"),
            (b"/t/a\xff\xfeb", r"/t/a\xff\xfeb"),
            // systemd's own escapes read as before.
            (
                b"/system-systemd\\x2dfsck.slice",
                r"/system-systemd\x2dfsck.slice",
            ),
            (b"/a\\b", r"/a\b"),
            (b"/a\\", r"/a\"),
            // Backslashes that would read as an escape are doubled.
            (b"/a\\xff", r"/a\\xff"),
            (b"/a\\\\b", r"/a\\\b"),
            (b"/a\\\xff", r"/a\\\xff"),
        ];
        for (bytes, text) in cases {
            assert_eq!(encode_path(bytes), text, "{bytes:?}");
            assert_eq!(decode_path(text), bytes, "{text}");
        }
        // A UTF-8 character split by an invalid byte.
        let split = b"/\xc3\xff\xa9";
        assert_eq!(encode_path(split), r"/\xc3\xff\xa9");
        assert_eq!(decode_path(&encode_path(split)), split);
    }

    /// Property tests: no mountinfo text makes discovery panic, and a
    /// cgroup2 mount point survives the kernel's escaping.
    mod props {
        use super::*;
        use proptest::prelude::*;

        use crate::test_support::proptest_config as config;

        /// A path as mountinfo prints it: space, tab, newline and backslash
        /// as \ooo.
        fn escape(path: &str) -> String {
            path.chars()
                .map(|c| match c {
                    ' ' | '\t' | '\n' | '\\' => format!("\\{:03o}", u32::from(c)),
                    c => c.to_string(),
                })
                .collect()
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn arbitrary_text_never_panics(raw in prop::collection::vec(any::<u8>(), 0..2048)) {
                let _ = cgroup2_mount_from_mountinfo(&String::from_utf8_lossy(&raw));
                let _ = unescape_mountinfo(&String::from_utf8_lossy(&raw));
            }

            #[test]
            fn path_escaping_is_reversible(raw in prop::collection::vec(any::<u8>(), 0..64)) {
                let text = encode_path(&raw);
                prop_assert_eq!(decode_path(&text), raw.clone());
                if let Ok(valid) = std::str::from_utf8(&raw) {
                    if !valid.contains('\\') {
                        prop_assert_eq!(text, valid);
                    }
                }
            }

            #[test]
            fn path_escaping_of_backslash_soup_is_reversible(
                raw in prop::collection::vec(
                    prop::sample::select(vec![b'\\', b'x', b'8', b'f', b'F', b'2', 0xff, 0xc3, 0xa9]),
                    0..24,
                ),
            ) {
                prop_assert_eq!(decode_path(&encode_path(&raw)), raw);
            }

            #[test]
            fn stray_backslashes_never_panic(s in "([\\\\]|[0-7]|[89]|\u{e9}|x){0,24}") {
                let _ = unescape_mountinfo(&s);
            }

            #[test]
            fn cgroup2_mount_point_survives_escaping(
                others in prop::collection::vec(
                    (
                        "/([^\0\\s]|[ \t\n\\\\]){0,20}",
                        "[a-z0-9]{1,8}".prop_filter("not cgroup2", |t| t != "cgroup2"),
                    ),
                    0..5,
                ),
                // The kernel leaves whitespace other than space, tab and
                // newline (\r, \v, U+00A0, ...) unescaped.
                mount in "/([^\0 \t\n\\\\]|[\r\x0b\u{a0}]|[ \t\n\\\\]){0,40}",
                optional in "( shared:[0-9]{1,3}| master:[0-9]{1,3}){0,3}",
            ) {
                let mut text = String::new();
                for (i, (point, fstype)) in others.iter().enumerate() {
                    text.push_str(&format!(
                        "{} 1 0:{i} / {} rw - {fstype} {fstype} rw\n",
                        20 + i,
                        escape(point)
                    ));
                }
                text.push_str(&format!(
                    "40 1 0:35 / {} rw,nosuid{optional} - cgroup2 cgroup2 rw,nsdelegate\n",
                    escape(&mount)
                ));
                text.push_str("41 1 0:36 / /other rw - cgroup2 cgroup2 rw\n");
                prop_assert_eq!(cgroup2_mount_from_mountinfo(&text), Some(PathBuf::from(mount)));
            }
        }
    }
}
