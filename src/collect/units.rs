//! systemd units and slices from a cgroup v2 path ("/system.slice/nginx.service").
//! Pure functions: the caller classifies each distinct path once and caches it.

/// The systemd unit and slice a cgroup belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct UnitInfo {
    /// The deepest ".service" or ".scope" component, as systemd names it
    /// (still escaped, so it can be passed to systemctl).
    pub unit: Option<String>,
    /// The deepest ".slice" component.
    pub slice: Option<String>,
}

/// The unit and slice of a cgroup path. The root, an empty path or a path
/// outside any unit gives None fields.
pub fn unit_of(path: &str) -> UnitInfo {
    let parts = components(path);
    let deepest = |suffixes: &[&str]| {
        parts
            .iter()
            .rev()
            .find(|c| suffixes.iter().any(|s| has_suffix_and_stem(c, s)))
            .map(|c| printable(c))
    };
    UnitInfo {
        unit: deepest(&[".service", ".scope"]),
        slice: deepest(&[".slice"]),
    }
}

/// A name ending in `suffix` with something before it (".service" alone is
/// no unit).
fn has_suffix_and_stem(name: &str, suffix: &str) -> bool {
    name.len() > suffix.len() && name.ends_with(suffix)
}

/// The non-empty components of a cgroup path, without the " (deleted)" the
/// kernel appends for a cgroup removed while a process still refers to it.
pub(crate) fn components(path: &str) -> Vec<&str> {
    let path = path.strip_suffix(" (deleted)").unwrap_or(path);
    path.split('/').filter(|c| !c.is_empty()).collect()
}

/// Undoes systemd's `\xNN` escaping ("machine-my\x2dbox.scope" →
/// "machine-my-box.scope"). Malformed escapes are kept as written; invalid
/// UTF-8 becomes U+FFFD and control characters '?', so the result is safe to
/// print.
pub fn unescape_unit(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match escape_at(bytes, i) {
            Some(decoded) => {
                out.push(decoded);
                i += 4;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    printable(&String::from_utf8_lossy(&out))
}

/// The byte a `\xNN` at `i` stands for.
fn escape_at(bytes: &[u8], i: usize) -> Option<u8> {
    let [b'\\', b'x', hi, lo] = bytes.get(i..i + 4)? else {
        return None;
    };
    Some(hex_value(*hi)? << 4 | hex_value(*lo)?)
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|v| u8::try_from(v).ok())
}

/// Cgroup names are chosen by whoever may create cgroups, and must not
/// drive the terminal: unsafe characters become '?'.
pub(crate) fn printable(s: &str) -> String {
    crate::present::sanitize::printable_str(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(unit: Option<&str>, slice: Option<&str>) -> UnitInfo {
        UnitInfo {
            unit: unit.map(str::to_owned),
            slice: slice.map(str::to_owned),
        }
    }

    #[test]
    fn units_and_slices_of_typical_paths() {
        let cases = [
            (
                "/system.slice/nginx.service",
                info(Some("nginx.service"), Some("system.slice")),
            ),
            (
                "/user.slice/user-1000.slice/session-3.scope",
                info(Some("session-3.scope"), Some("user-1000.slice")),
            ),
            (
                "/user.slice/user-1000.slice/user@1000.service/init.scope",
                info(Some("init.scope"), Some("user-1000.slice")),
            ),
            (
                "/user.slice/user-1000.slice/user@1000.service",
                info(Some("user@1000.service"), Some("user-1000.slice")),
            ),
            (
                "/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-123.scope",
                info(Some("app-firefox-123.scope"), Some("app.slice")),
            ),
            (
                "/system.slice/docker-0123abcd.scope",
                info(Some("docker-0123abcd.scope"), Some("system.slice")),
            ),
            // A unit's own sub-cgroups still belong to it.
            (
                "/system.slice/foo.service/payload/worker",
                info(Some("foo.service"), Some("system.slice")),
            ),
            ("/init.scope", info(Some("init.scope"), None)),
            ("/system.slice", info(None, Some("system.slice"))),
            ("/", UnitInfo::default()),
            ("", UnitInfo::default()),
            ("/kubepods/besteffort/pod1/abc", UnitInfo::default()),
            // Bare suffixes are not names.
            ("/.service/.scope/.slice", UnitInfo::default()),
        ];
        for (path, want) in cases {
            assert_eq!(unit_of(path), want, "{path}");
        }
    }

    #[test]
    fn deleted_suffix_is_ignored() {
        assert_eq!(
            unit_of("/system.slice/gone.service (deleted)"),
            info(Some("gone.service"), Some("system.slice"))
        );
        assert_eq!(unit_of("/ (deleted)"), UnitInfo::default());
    }

    #[test]
    fn control_characters_in_components_are_neutralised() {
        assert_eq!(
            unit_of("/evil\x1b]0;x\x07.slice/a\x1bb.scope")
                .unit
                .as_deref(),
            Some("a?b.scope")
        );
        assert_eq!(
            unit_of("/evil\x1b]0;x\x07.slice/a.scope").slice.as_deref(),
            Some("evil?]0;x?.slice")
        );
    }

    #[test]
    fn unescape_decodes_systemd_escapes() {
        let cases = [
            ("machine-my\\x2dbox.scope", "machine-my-box.scope"),
            ("machine-qemu\\x2d1\\x2dvm.scope", "machine-qemu-1-vm.scope"),
            ("a\\x2Db", "a-b"),
            ("caf\\xc3\\xa9", "café"),
            ("plain.service", "plain.service"),
            ("", ""),
        ];
        for (escaped, want) in cases {
            assert_eq!(unescape_unit(escaped), want, "{escaped}");
        }
    }

    #[test]
    fn unescape_keeps_malformed_escapes() {
        let cases = [
            ("a\\x2", "a\\x2"),
            ("a\\xzz", "a\\xzz"),
            ("a\\x", "a\\x"),
            ("a\\", "a\\"),
            ("a\\y41", "a\\y41"),
            ("\\\\x41", "\\A"),
        ];
        for (escaped, want) in cases {
            assert_eq!(unescape_unit(escaped), want, "{escaped}");
        }
    }

    #[test]
    fn unescape_never_yields_control_characters() {
        assert_eq!(unescape_unit("a\\x1bb\\x07c\\x00d\\x7f"), "a?b?c?d?");
        assert_eq!(unescape_unit("x\\xc2\\x9by"), "x?y"); // C1 CSI
        assert_eq!(unescape_unit("raw\x1bescape"), "raw?escape");
        assert_eq!(unescape_unit("bad\\xff"), "bad\u{fffd}");
    }

    /// Property tests: any cgroup path classifies without panicking, into
    /// a real unit name or none, never into text that drives a terminal.
    mod props {
        use super::*;
        use proptest::prelude::*;

        use crate::test_support::proptest_config as config;

        /// A path of components that look like systemd's, and some that
        /// almost do.
        fn path() -> impl Strategy<Value = String> {
            let component = prop_oneof![
                Just(".service".to_owned()),
                Just(".scope".to_owned()),
                Just(".slice".to_owned()),
                Just("user@1000.service".to_owned()),
                Just("session-3.scope".to_owned()),
                Just("machine-my\\x2dbox.scope".to_owned()),
                Just("a\u{1b}]0;pwn\u{7}.service".to_owned()),
                Just("x.slice".to_owned()),
                Just("init.scope (deleted)".to_owned()),
                "[^/]{0,12}(\\.service|\\.scope|\\.slice)?",
            ];
            (
                prop::collection::vec(component, 0..8),
                any::<bool>(),
                any::<bool>(),
            )
                .prop_map(|(parts, lead, deleted)| {
                    let mut path = parts.join("/");
                    if lead {
                        path.insert(0, '/');
                    }
                    if deleted {
                        path.push_str(" (deleted)");
                    }
                    path
                })
        }

        fn has_control(s: &str) -> bool {
            s.chars().any(char::is_control)
        }

        /// Independent of the code under test: `suffix` after a stem.
        fn named(name: &str, suffix: &str) -> bool {
            name.len() > suffix.len() && name.ends_with(suffix)
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn units_are_real_unit_names(path in prop_oneof![path(), any::<String>(), "\\PC{0,40}"]) {
                let info = unit_of(&path);
                let parts = components(&path);
                if let Some(unit) = &info.unit {
                    prop_assert!(
                        [".service", ".scope"].iter().any(|s| named(unit, s)),
                        "unit {:?} of {:?}", unit, path
                    );
                    prop_assert!(!has_control(unit));
                    prop_assert!(parts.iter().any(|c| printable(c) == *unit));
                } else {
                    prop_assert!(!parts
                        .iter()
                        .any(|c| named(c, ".service") || named(c, ".scope")));
                }
                if let Some(slice) = &info.slice {
                    prop_assert!(named(slice, ".slice"), "slice {:?}", slice);
                    prop_assert!(!has_control(slice));
                }
            }

            #[test]
            fn unescaping_never_panics_or_leaves_controls(
                name in prop_oneof![
                    any::<String>(),
                    "(\\\\x[0-9a-fA-Fg]{0,2}|\\\\|x|[^\\\\]){0,16}",
                ],
            ) {
                let plain = unescape_unit(&name);
                prop_assert!(!has_control(&plain), "{:?} -> {:?}", name, plain);
                if !name.contains('\\') {
                    prop_assert_eq!(plain, printable(&name));
                }
            }
        }
    }
}
