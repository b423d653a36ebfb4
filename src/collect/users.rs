//! User names from /etc/passwd, parsed directly (no NSS, so static builds
//! behave like dynamic ones) and re-read only when the file changes.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// uid → name from a passwd text. Malformed lines are skipped; the first
/// entry for a uid wins, as getpwuid() does.
pub fn parse_passwd(text: &str) -> HashMap<u32, String> {
    let mut names = HashMap::new();
    for line in text.lines() {
        let mut fields = line.split(':');
        let (Some(name), Some(_pw), Some(uid)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if name.is_empty() || name.starts_with('#') {
            continue;
        }
        if let Ok(uid) = uid.parse::<u32>() {
            names.entry(uid).or_insert_with(|| name.to_owned());
        }
    }
    names
}

/// A cached passwd table.
#[derive(Debug)]
pub struct UserTable {
    path: PathBuf,
    modified: Option<SystemTime>,
    names: HashMap<u32, String>,
}

impl UserTable {
    pub fn new(passwd: &Path) -> Self {
        let mut table = UserTable {
            path: passwd.to_path_buf(),
            modified: None,
            names: HashMap::new(),
        };
        table.refresh();
        table
    }

    /// Re-reads the file if its modification time changed (one stat).
    pub fn refresh(&mut self) {
        let modified = fs::metadata(&self.path).and_then(|m| m.modified()).ok();
        if modified.is_some() && modified == self.modified {
            return;
        }
        self.modified = modified;
        self.names = fs::read_to_string(&self.path)
            .map(|t| parse_passwd(&t))
            .unwrap_or_default();
    }

    /// The uid of `name` (the lowest, if several share it).
    pub fn uid_of(&self, name: &str) -> Option<u32> {
        self.names
            .iter()
            .filter(|(_, n)| n.as_str() == name)
            .map(|(uid, _)| *uid)
            .min()
    }

    /// The name of `uid`, or the number itself when it has none (as ps does).
    pub fn name(&self, uid: u32) -> String {
        self.names
            .get(&uid)
            .cloned()
            .unwrap_or_else(|| uid.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_passwd_lines_and_skips_garbage() {
        let text = "root:x:0:0:root:/root:/bin/bash\n\
            # comment\n\
            broken line\n\
            daemon:x:1:1::/:/usr/sbin/nologin\n\
            dup:x:0:0::/:/bin/sh\n\
            bad:x:notanumber:0::/:/bin/sh\n\
            :x:5:5::/:\n";
        let names = parse_passwd(text);
        assert_eq!(names.get(&0).map(String::as_str), Some("root"));
        assert_eq!(names.get(&1).map(String::as_str), Some("daemon"));
        assert_eq!(names.len(), 2);
    }

    #[test]
    fn names_map_back_to_uids() {
        let table = UserTable::new(Path::new("/etc/passwd"));
        assert_eq!(table.uid_of("root"), Some(0));
        assert_eq!(table.uid_of("no-such-user-here"), None);
    }

    #[test]
    fn unknown_uids_show_as_numbers() {
        let table = UserTable::new(Path::new("/nonexistent/passwd"));
        assert_eq!(table.name(4242), "4242");
    }

    #[test]
    fn root_is_root_on_this_machine() {
        let table = UserTable::new(Path::new("/etc/passwd"));
        assert_eq!(table.name(0), "root");
    }

    /// Property tests: no passwd text makes the parser panic, and the
    /// first entry for each uid wins.
    mod props {
        use super::*;
        use proptest::prelude::*;

        use crate::test_support::proptest_config as config;

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn arbitrary_text_never_panics(raw in prop::collection::vec(any::<u8>(), 0..2048)) {
                for name in parse_passwd(&String::from_utf8_lossy(&raw)).values() {
                    prop_assert!(!name.is_empty() && !name.starts_with('#'));
                    prop_assert!(!name.contains(':') && !name.contains('\n'));
                }
            }

            #[test]
            fn first_entry_per_uid_wins(
                entries in prop::collection::vec(
                    ("[a-z_][a-z0-9_.-]{0,31}", 0u32..50, "[^:\n]{0,20}"),
                    0..20,
                ),
                junk in prop::collection::vec(
                    prop_oneof!["#[^\n]{0,30}", "[^:\n]{0,30}", "[a-z]{1,8}:x:[a-z]{1,5}:0::/:"],
                    0..6,
                ),
                crlf in any::<bool>(),
            ) {
                let end = if crlf { "\r\n" } else { "\n" };
                let mut text = String::new();
                let mut expected = HashMap::new();
                for (i, (name, uid, home)) in entries.iter().enumerate() {
                    if let Some(line) = junk.get(i) {
                        text.push_str(line);
                        text.push_str(end);
                    }
                    text.push_str(&format!("{name}:x:{uid}:{uid}:{home}:/{home}:/bin/sh{end}"));
                    expected.entry(*uid).or_insert_with(|| name.clone());
                }
                prop_assert_eq!(parse_passwd(&text), expected);
            }
        }
    }
}
