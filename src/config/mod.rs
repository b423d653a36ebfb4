//! The user's settings, kept in TOML at $XDG_CONFIG_HOME/bpftop/config.toml.
//!
//! A file that cannot be used is reported (file and line) and never
//! silently overwritten: saving over it first moves it aside. The file is
//! read and written with no capability effective and without following
//! links (see [`dir`]).

mod dir;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::present::sanitize::printable;
use crate::privileges::as_invoking_user;
use dir::ConfigDir;

/// Accepted rewind lengths, minutes (0: no rewind).
pub const REWIND_MINUTES_RANGE: std::ops::RangeInclusive<u32> = 0..=120;

/// Minutes kept for rewinding unless the config file says otherwise.
pub const REWIND_MINUTES_DEFAULT: u32 = 10;

/// Accepted refresh delays, ms.
pub const DELAY_MS_RANGE: std::ops::RangeInclusive<u64> = 100..=60_000;

/// Accepted numbers of refreshes whose exits the exited screen keeps.
pub const EXITED_REFRESHES_RANGE: std::ops::RangeInclusive<usize> = 1..=1000;

/// Everything the user can set. Keys missing from the file take their
/// default; unknown keys make the file broken (a typo must not be ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Column ids, left to right, e.g. "PID", "USER", "CPU%".
    pub columns: Vec<String>,
    /// Column id to sort by.
    pub sort_key: String,
    pub sort_descending: bool,
    /// The I/O screen's (Tab) columns and sort, as the three above.
    pub io_columns: Vec<String>,
    pub io_sort_key: String,
    pub io_sort_descending: bool,
    pub tree: bool,
    /// Time between refreshes, ms; within [`DELAY_MS_RANGE`].
    pub delay_ms: u64,
    pub theme: String,
    /// Header meter ids: "cpus", "cpu", "memory", "swap", "tasks", "load",
    /// "uptime", "pressure", "backend", "network", "gpu".
    pub header_meters: Vec<String>,
    pub show_kernel_threads: bool,
    pub show_threads: bool,
    pub mouse: bool,
    /// A folded tree row shows the sums of its subtree.
    pub aggregate_folded: bool,
    /// Inside a cgroup with cpu.max / memory.max (a container), the CPU and
    /// memory meters measure against those limits.
    pub meters_to_limits: bool,
    /// The exited screen lists the exits of this many refreshes; within
    /// [`EXITED_REFRESHES_RANGE`].
    pub exited_refreshes: usize,
    /// Minutes of refreshes the interface keeps for rewinding; within
    /// [`REWIND_MINUTES_RANGE`], 0: none.
    pub rewind_minutes: u32,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for Config {
    fn default() -> Self {
        Config {
            columns: strings(&[
                "PID", "USER", "PRI", "NI", "VIRT", "RES", "SHR", "S", "CPU%", "MEM%", "TIME+",
                "Command",
            ]),
            sort_key: "CPU%".to_owned(),
            sort_descending: true,
            io_columns: strings(&[
                "PID",
                "USER",
                "IO_PRIORITY",
                "IO_RATE",
                "IO_READ_RATE",
                "IO_WRITE_RATE",
                "Command",
            ]),
            io_sort_key: "IO_RATE".to_owned(),
            io_sort_descending: true,
            tree: false,
            delay_ms: 1500,
            theme: "default".to_owned(),
            header_meters: strings(&[
                "cpus", "cpu", "memory", "swap", "tasks", "load", "uptime", "pressure", "backend",
                "gpu",
            ]),
            show_kernel_threads: false,
            show_threads: false,
            mouse: true,
            aggregate_folded: true,
            meters_to_limits: false,
            exited_refreshes: 40,
            rewind_minutes: REWIND_MINUTES_DEFAULT,
        }
    }
}

/// Where the config lives: $XDG_CONFIG_HOME/bpftop/config.toml, else
/// $HOME/.config/bpftop/config.toml; None without either.
pub fn config_path() -> Option<PathBuf> {
    config_path_from(
        std::env::var_os("XDG_CONFIG_HOME").as_deref(),
        std::env::var_os("HOME").as_deref(),
    )
}

/// [`config_path`] for given values of $XDG_CONFIG_HOME and $HOME. The XDG
/// spec says to ignore a relative (or empty) XDG_CONFIG_HOME.
pub fn config_path_from(xdg: Option<&OsStr>, home: Option<&OsStr>) -> Option<PathBuf> {
    let absolute = |v: &OsStr| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    let base = match xdg.and_then(absolute) {
        Some(dir) => dir,
        None => home.and_then(absolute)?.join(".config"),
    };
    Some(base.join("bpftop").join("config.toml"))
}

/// What [`load`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadOutcome {
    /// No file: use defaults.
    Missing,
    Loaded(Config),
    /// Unusable: `message` names the file and, where known, the line, e.g.
    /// "~/.config/bpftop/config.toml line 3: unknown field `colums`, …".
    Broken {
        message: String,
    },
}

/// The ids the config's lists may hold (from the interface's tables).
#[derive(Debug, Clone, Copy)]
pub struct Vocabulary<'a> {
    pub columns: &'a [&'a str],
    pub meters: &'a [&'a str],
}

/// The directory and file name of a config path.
fn split(path: &Path) -> Option<(&Path, &OsStr)> {
    Some((path.parent()?, path.file_name()?))
}

/// The text of the config at `path`; None when it does not exist.
fn read_text(path: &Path) -> Result<Option<String>, String> {
    let (dir, name) = split(path).ok_or("not a file path")?;
    let read = as_invoking_user(|| match ConfigDir::open(dir, false)? {
        Some(dir) => dir.read(name),
        None => Ok(None),
    })?;
    match read {
        Ok(Some(bytes)) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| "is not UTF-8 text".to_owned()),
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// Reads and validates the config at `path`; the column and meter ids
/// must come from `vocabulary`, each at most once.
pub fn load(path: &Path, vocabulary: &Vocabulary<'_>) -> LoadOutcome {
    let text = match read_text(path) {
        Ok(Some(text)) => text,
        Ok(None) => return LoadOutcome::Missing,
        Err(e) => {
            return LoadOutcome::Broken {
                message: printable(format!("{}: {e}", shown(path)).as_bytes()),
            }
        }
    };
    match parse(&text).and_then(|config| check_ids(&text, vocabulary).map(|()| config)) {
        Ok(config) => LoadOutcome::Loaded(config),
        Err((line, what)) => {
            let message = match line {
                Some(line) => format!("{} line {line}: {what}", shown(path)),
                None => format!("{}: {what}", shown(path)),
            };
            // The message quotes the file, which may hold any character.
            LoadOutcome::Broken {
                message: printable(message.as_bytes()),
            }
        }
    }
}

/// Every column and meter id known and listed once; errors name the line.
fn check_ids(text: &str, vocabulary: &Vocabulary<'_>) -> Result<(), (Option<usize>, String)> {
    #[derive(Deserialize)]
    struct Lists {
        columns: Option<Vec<toml::Spanned<String>>>,
        io_columns: Option<Vec<toml::Spanned<String>>>,
        header_meters: Option<Vec<toml::Spanned<String>>>,
    }
    let lists: Lists = toml::from_str(text).map_err(|e| (None, one_line(e.message())))?;
    let checks = [
        (lists.columns, vocabulary.columns, "column"),
        (lists.io_columns, vocabulary.columns, "column"),
        (lists.header_meters, vocabulary.meters, "meter"),
    ];
    for (ids, known, what) in checks {
        let mut seen: Vec<&str> = Vec::new();
        for id in ids.iter().flatten() {
            let line = Some(line_of(text, id.span().start));
            let name = id.get_ref().as_str();
            if !known.contains(&name) {
                return Err((line, format!("unknown {what} `{name}`")));
            }
            if seen.contains(&name) {
                return Err((line, format!("{what} `{name}` is listed twice")));
            }
            seen.push(name);
        }
    }
    Ok(())
}

/// Parses and validates; errors are (1-based line if known, message).
fn parse(text: &str) -> Result<Config, (Option<usize>, String)> {
    let config: Config = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|span| line_of(text, span.start));
        (line, one_line(e.message()))
    })?;
    if !EXITED_REFRESHES_RANGE.contains(&config.exited_refreshes) {
        return Err((
            key_line(text, "exited_refreshes"),
            format!(
                "exited_refreshes must be {} to {}, not {}",
                EXITED_REFRESHES_RANGE.start(),
                EXITED_REFRESHES_RANGE.end(),
                config.exited_refreshes
            ),
        ));
    }
    if !DELAY_MS_RANGE.contains(&config.delay_ms) {
        return Err((
            key_line(text, "delay_ms"),
            format!(
                "delay_ms must be {} to {}, not {}",
                DELAY_MS_RANGE.start(),
                DELAY_MS_RANGE.end(),
                config.delay_ms
            ),
        ));
    }
    if !REWIND_MINUTES_RANGE.contains(&config.rewind_minutes) {
        return Err((
            None,
            format!(
                "rewind_minutes must be {} to {}, not {}",
                REWIND_MINUTES_RANGE.start(),
                REWIND_MINUTES_RANGE.end(),
                config.rewind_minutes
            ),
        ));
    }
    Ok(config)
}

/// A toml error message fit for a status bar: its lines joined, and the
/// list of every valid key after an unknown one replaced by the likely
/// intended key.
fn one_line(message: &str) -> String {
    let joined = message.trim().lines().collect::<Vec<_>>().join("; ");
    match joined.split_once(", expected one of ") {
        Some((head, _)) if head.starts_with("unknown field") => match suggestion(head) {
            Some(key) => format!("{head} (did you mean `{key}`?)"),
            None => head.to_owned(),
        },
        _ => joined,
    }
}

/// The known key closest to the one in "unknown field `KEY`", if it is
/// within two edits of it.
fn suggestion(head: &str) -> Option<&'static str> {
    let key = head.split('`').nth(1)?;
    keys()
        .map(|known| (edit_distance(key, known), known))
        .filter(|&(distance, _)| distance <= 2)
        .min()
        .map(|(_, known)| known)
}

/// Every key of the file with what it sets (the man page's CONFIGURATION
/// section is written from it; a test keeps it complete).
pub const KEY_HELP: &[(&str, &str)] = &[
    (
        "columns",
        "column ids, left to right (as in the setup screen); each at most once",
    ),
    ("sort_key", "the column id to sort by"),
    ("sort_descending", "true: largest first"),
    (
        "io_columns",
        "the I/O screen's (Tab) column ids, left to right; each at most once",
    ),
    ("io_sort_key", "the column id the I/O screen sorts by"),
    (
        "io_sort_descending",
        "true: the I/O screen shows the largest first",
    ),
    ("tree", "start in tree view"),
    ("delay_ms", "time between refreshes, 100 to 60000 ms"),
    ("theme", "default or mono"),
    (
        "rewind_minutes",
        "minutes of refreshes kept in memory for rewinding (, . { } L), 0 to 120 (default 10); 0: none",
    ),
    (
        "header_meters",
        "meter ids: cpus cpu memory swap tasks load uptime pressure backend network gpu",
    ),
    ("show_kernel_threads", "list kernel threads"),
    ("show_threads", "list each process's threads"),
    ("mouse", "capture the mouse"),
    (
        "aggregate_folded",
        "a folded tree row shows the sums of its subtree",
    ),
    (
        "meters_to_limits",
        "in a container: CPU and memory meters against its cgroup's cpu.max and memory.max",
    ),
    (
        "exited_refreshes",
        "the exited screen (X) lists the exits of this many refreshes, 1 to 1000 (40: a minute at the default delay)",
    ),
];

/// The keys of the file.
fn keys() -> impl Iterator<Item = &'static str> {
    KEY_HELP.iter().map(|(key, _)| *key)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = i;
        let mut prev = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let cost = diagonal + usize::from(ca != cb);
            let best = cost.min(prev + 1).min(above.saturating_add(1));
            diagonal = above;
            if let Some(slot) = row.get_mut(j + 1) {
                *slot = best;
            }
            prev = best;
        }
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
    }
    row.last().copied().unwrap_or(0)
}

/// The 1-based line holding byte `offset` of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let before = text.get(..offset).unwrap_or(text);
    before.matches('\n').count() + 1
}

/// The line of a top-level key's value, found by parsing again with spans
/// (the typed parse keeps none).
fn key_line(text: &str, key: &str) -> Option<usize> {
    let spanned: std::collections::BTreeMap<String, toml::Spanned<toml::Value>> =
        toml::from_str(text).ok()?;
    Some(line_of(text, spanned.get(key)?.span().start))
}

/// `path` for messages, with $HOME shown as "~".
fn shown(path: &Path) -> String {
    shown_with_home(path, std::env::var_os("HOME").as_deref())
}

fn shown_with_home(path: &Path, home: Option<&OsStr>) -> String {
    let home = home
        .map(Path::new)
        .filter(|h| h.is_absolute() && h != &Path::new("/"));
    match home.and_then(|h| path.strip_prefix(h).ok()) {
        Some(rest) => format!("~/{}", rest.display()),
        None => path.display().to_string(),
    }
}

/// Writes `config` to `path` atomically (a temp file in the same directory,
/// then rename), creating the directory. A file that is broken — as the
/// caller last saw it (`previous_was_broken`) or as it is now — is first
/// renamed to `config.toml.broken` (or `.broken.1`, … if that exists); its
/// new path is returned so the UI can tell the user. Err is a message for
/// the status bar.
///
/// Runs with no capability effective, follows no link at `bpftop/` or
/// `config.toml`, and writes only into a directory of the user bpftop runs
/// as, over a regular file of that user.
pub fn save(
    path: &Path,
    config: &Config,
    previous_was_broken: bool,
) -> Result<Option<PathBuf>, String> {
    as_invoking_user(|| save_as_user(path, config, previous_was_broken))?
}

fn save_as_user(
    path: &Path,
    config: &Config,
    previous_was_broken: bool,
) -> Result<Option<PathBuf>, String> {
    let fail = |what: &str, e: &dyn std::fmt::Display| format!("{what} {}: {e}", shown(path));
    let (dir_path, name) = split(path).ok_or_else(|| fail("cannot save", &"no directory"))?;
    let dir = ConfigDir::open(dir_path, true)
        .map_err(|e| fail("cannot open the directory of", &e))?
        .ok_or_else(|| fail("cannot create the directory of", &"it vanished"))?;
    dir.check_owner()
        .map_err(|e| fail("not saving into the directory of", &e))?;
    dir.check_replaceable(name)
        .map_err(|e| fail("not replacing", &e))?;
    let text = toml::to_string_pretty(config).map_err(|e| fail("cannot encode", &e))?;
    let broken_now = match dir.read(name) {
        Ok(Some(bytes)) => parse(&String::from_utf8_lossy(&bytes)).is_err(),
        Ok(None) => false,
        Err(_) => true,
    };
    let kept = if previous_was_broken || broken_now {
        keep_broken(&dir, name)
            .map_err(|e| fail("cannot move aside broken", &e))?
            .map(|kept| dir_path.join(kept))
    } else {
        None
    };
    dir.write_atomically(name, text.as_bytes())
        .map_err(|e| fail("cannot write", &e))?;
    Ok(kept)
}

/// Renames `name` to the first free `NAME.broken[.N]` and returns that
/// name; None if there is no file.
fn keep_broken(dir: &ConfigDir, name: &OsStr) -> std::io::Result<Option<std::ffi::OsString>> {
    if !dir.exists(name)? {
        return Ok(None);
    }
    let mut first = name.to_owned();
    first.push(".broken");
    let candidates = std::iter::once(first.clone()).chain((1..1000).map(|n| {
        let mut numbered = first.clone();
        numbered.push(format!(".{n}"));
        numbered
    }));
    for candidate in candidates {
        match dir.rename_new(name, &candidate) {
            Ok(()) => return Ok(Some(candidate)),
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("too many {} files", first.to_string_lossy()),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::test_support::TempDir;
    use std::fs;
    use std::os::unix::fs::symlink;

    /// The ids the tests' configs use (the interface supplies the real
    /// ones).
    const VOCABULARY: Vocabulary<'static> = Vocabulary {
        columns: &[
            "PID", "USER", "PRI", "NI", "VIRT", "RES", "SHR", "S", "CPU%", "MEM%", "TIME+",
            "Command",
        ],
        meters: &[
            "cpus", "cpu", "memory", "swap", "tasks", "load", "uptime", "pressure", "backend",
            "gpu",
        ],
    };

    /// A config path in a not yet existing subdirectory of `dir`.
    fn config_in(dir: &TempDir) -> PathBuf {
        dir.path().join("bpftop").join("config.toml")
    }

    fn write_config(dir: &TempDir, text: &str) -> PathBuf {
        let path = config_in(dir);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
    }

    fn broken_message(outcome: LoadOutcome) -> String {
        match outcome {
            LoadOutcome::Broken { message } => message,
            other => panic!("expected Broken, got {other:?}"),
        }
    }

    fn sample() -> Config {
        Config {
            columns: strings(&["PID", "Command"]),
            sort_key: "PID".to_owned(),
            sort_descending: false,
            io_columns: strings(&["Command", "PID"]),
            io_sort_key: "PID".to_owned(),
            io_sort_descending: false,
            tree: true,
            delay_ms: 250,
            theme: "mono \"quoted\" ünïcode".to_owned(),
            header_meters: strings(&["load"]),
            show_kernel_threads: true,
            show_threads: true,
            mouse: false,
            aggregate_folded: false,
            meters_to_limits: true,
            exited_refreshes: 7,
            rewind_minutes: 3,
        }
    }

    #[test]
    fn round_trip() {
        let dir = TempDir::new("config-test");
        let path = config_in(&dir);
        assert_eq!(load(&path, &VOCABULARY), LoadOutcome::Missing);
        assert_eq!(save(&path, &sample(), false).unwrap(), None);
        assert_eq!(load(&path, &VOCABULARY), LoadOutcome::Loaded(sample()));
        // Only the config is left: no temp file.
        let names: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn missing_keys_take_defaults() {
        let dir = TempDir::new("config-test");
        let path = write_config(&dir, "tree = true\ndelay_ms = 2000\n");
        let expected = Config {
            tree: true,
            delay_ms: 2000,
            ..Config::default()
        };
        assert_eq!(load(&path, &VOCABULARY), LoadOutcome::Loaded(expected));
        assert_eq!(parse("").unwrap(), Config::default());
        let defaults = Config::default();
        assert_eq!(defaults.columns.len(), 12);
        assert_eq!(defaults.columns.last().map(String::as_str), Some("Command"));
        assert_eq!(
            (defaults.sort_key.as_str(), defaults.delay_ms),
            ("CPU%", 1500)
        );
        assert!(defaults.sort_descending && defaults.mouse && defaults.aggregate_folded);
        assert!(!defaults.tree && !defaults.show_threads && !defaults.show_kernel_threads);
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let dir = TempDir::new("config-test");
        let path = write_config(&dir, "tree = true\n\ncolums = [\"PID\"]\nmouse = false\n");
        let message = broken_message(load(&path, &VOCABULARY));
        let expected = format!(
            "{} line 3: unknown field `colums` (did you mean `columns`?)",
            shown(&path)
        );
        assert_eq!(message, expected);
        let (line, message) = parse(
            "tree = true
[zzz]
a = 1
",
        )
        .unwrap_err();
        assert_eq!((line, message.as_str()), (Some(2), "unknown field `zzz`"));
    }

    #[test]
    fn messages_are_one_printable_line() {
        let dir = TempDir::new("config-test");
        let path = write_config(&dir, "tree = tru\n");
        let message = broken_message(load(&path, &VOCABULARY));
        assert!(message.starts_with(&format!("{} line 1: ", shown(&path))));
        assert!(!message.chars().any(char::is_control), "{message}");
        let path = write_config(&dir, "\"a\\u001bb\" = 1\n");
        let message = broken_message(load(&path, &VOCABULARY));
        assert!(message.contains("unknown field `a?b`"), "{message}");
    }

    #[test]
    fn suggestions_come_from_every_key() {
        let table = toml::Table::try_from(Config::default()).unwrap();
        let mut fields: Vec<&str> = table.keys().map(String::as_str).collect();
        let mut keys: Vec<&str> = super::keys().collect();
        fields.sort_unstable();
        keys.sort_unstable();
        assert_eq!(fields, keys);
        assert_eq!(suggestion("unknown field `dealy_ms`"), Some("delay_ms"));
        assert_eq!(
            suggestion("unknown field `show_thread`"),
            Some("show_threads")
        );
        assert_eq!(suggestion("unknown field `colour`"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", ""), 3);
    }

    #[test]
    fn bad_type_names_the_line() {
        let (line, message) = parse("# c\ntree = true\nmouse = \"yes\"\n").unwrap_err();
        assert_eq!(line, Some(3), "{message}");
        let (line, _) = parse("columns = [\n  \"PID\",\n  7,\n]\n").unwrap_err();
        assert_eq!(line, Some(3));
        let (line, _) = parse("tree = true\ntree = false\n").unwrap_err();
        assert_eq!(line, Some(2));
    }

    #[test]
    fn rewind_out_of_range_is_broken() {
        let (_, message) = parse("rewind_minutes = 500\n").unwrap_err();
        assert_eq!(message, "rewind_minutes must be 0 to 120, not 500");
        assert_eq!(parse("rewind_minutes = 0\n").unwrap().rewind_minutes, 0);
    }

    #[test]
    fn delay_out_of_range_is_broken() {
        let (line, message) = parse("tree = true\ndelay_ms = 5\n").unwrap_err();
        assert_eq!(line, Some(2));
        assert!(
            message.contains("delay_ms") && message.contains("100 to 60000"),
            "{message}"
        );
        assert!(parse("delay_ms = 60001").is_err());
        assert_eq!(parse("delay_ms = 100").unwrap().delay_ms, 100);
        assert_eq!(parse("delay_ms = 60000").unwrap().delay_ms, 60000);
    }

    #[test]
    fn exited_refreshes_out_of_range_is_broken() {
        let (line, message) =
            parse("tree = true\nmouse = true\nexited_refreshes = 0\n").unwrap_err();
        assert_eq!(line, Some(3));
        assert!(
            message.contains("exited_refreshes") && message.contains("1 to 1000"),
            "{message}"
        );
        assert!(parse("exited_refreshes = 1001").is_err());
        assert!(parse("exited_refreshes = -1").is_err());
        assert_eq!(
            parse("exited_refreshes = 1000").unwrap().exited_refreshes,
            1000
        );
        assert_eq!(parse("").unwrap().exited_refreshes, 40);
    }

    #[test]
    fn unreadable_file_is_broken_with_the_os_error() {
        let dir = TempDir::new("config-test");
        let path = config_in(&dir);
        fs::create_dir_all(&path).unwrap(); // a directory cannot be read
        let message = broken_message(load(&path, &VOCABULARY));
        assert!(message.starts_with(&shown(&path)), "{message}");
        assert!(message.contains("directory"), "{message}");
    }

    /// A file standing for one the user must not be able to touch through
    /// bpftop: its text, to check it is unchanged.
    fn victim(dir: &TempDir) -> (PathBuf, &'static str) {
        let path = dir.path().join("victim");
        let text = "root_secret = 1\n";
        fs::write(&path, text).unwrap();
        (path, text)
    }

    #[test]
    fn a_linked_config_is_neither_read_nor_replaced() {
        let dir = TempDir::new("config-test");
        let (target, text) = victim(&dir);
        let path = config_in(&dir);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        symlink(&target, &path).unwrap();
        let message = broken_message(load(&path, &VOCABULARY));
        assert!(message.contains("symbolic link"), "{message}");
        assert!(!message.contains("root_secret"), "{message}");
        for previous_was_broken in [true, false] {
            let e = save(&path, &sample(), previous_was_broken).unwrap_err();
            assert!(e.contains("symbolic link"), "{e}");
        }
        assert_eq!(fs::read_to_string(&target).unwrap(), text);
        assert!(fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(!target.with_file_name("victim.broken").exists());
        assert!(!path.with_file_name("config.toml.broken").exists());
    }

    #[test]
    fn a_linked_config_directory_is_refused() {
        let dir = TempDir::new("config-test");
        let (target, text) = victim(&dir);
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir_all(&elsewhere).unwrap();
        fs::write(elsewhere.join("config.toml"), "tree = true\n").unwrap();
        let path = config_in(&dir);
        symlink(&elsewhere, path.parent().unwrap()).unwrap();
        let message = broken_message(load(&path, &VOCABULARY));
        assert!(message.contains("symbolic link"), "{message}");
        let e = save(&path, &sample(), false).unwrap_err();
        assert!(e.contains("symbolic link"), "{e}");
        assert_eq!(
            fs::read_to_string(elsewhere.join("config.toml")).unwrap(),
            "tree = true\n"
        );
        assert_eq!(fs::read_to_string(&target).unwrap(), text);
    }

    #[test]
    fn special_files_are_refused_without_blocking() {
        let dir = TempDir::new("config-test");
        let path = config_in(&dir);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        // A FIFO with no writer would block a plain open for ever.
        let (tx, rx) = std::sync::mpsc::channel();
        let fifo = path.clone();
        std::thread::spawn(move || {
            let _ = tx.send(load(&fifo, &VOCABULARY));
        });
        let outcome = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("loading a FIFO config blocked");
        let message = broken_message(outcome);
        assert!(message.contains("not a regular file (a FIFO)"), "{message}");
        let e = save(&path, &sample(), true).unwrap_err();
        assert!(e.contains("FIFO"), "{e}");
        fs::remove_file(&path).unwrap();
        let device = Path::new("/dev/null");
        let message = broken_message(load(device, &VOCABULARY));
        assert!(message.contains("device"), "{message}");
    }

    #[test]
    fn an_oversized_config_is_refused() {
        let dir = TempDir::new("config-test");
        let path = write_config(&dir, &format!("# {}\n", "x".repeat(70_000)));
        let message = broken_message(load(&path, &VOCABULARY));
        assert!(message.contains("larger than 64 KiB"), "{message}");
    }

    #[test]
    fn unknown_and_repeated_ids_name_their_line() {
        let dir = TempDir::new("config-test");
        let path = write_config(
            &dir,
            "tree = true\ncolumns = [\n  \"PID\",\n  \"PDI\",\n]\n",
        );
        let message = broken_message(load(&path, &VOCABULARY));
        assert!(
            message.ends_with("line 4: unknown column `PDI`"),
            "{message}"
        );
        let path = write_config(
            &dir,
            "columns = [\"PID\", \"USER\"]\nheader_meters = [\"load\", \"load\"]\n",
        );
        let message = broken_message(load(&path, &VOCABULARY));
        assert!(
            message.ends_with("line 2: meter `load` is listed twice"),
            "{message}"
        );
        // The I/O screen's columns are checked alike.
        let path = write_config(&dir, "io_columns = [\"PID\",\n \"IO_RAET\"]\n");
        let message = broken_message(load(&path, &VOCABULARY));
        assert!(
            message.ends_with("line 2: unknown column `IO_RAET`"),
            "{message}"
        );
        // A million ids (a 214 MB process once) stop at the first repeat.
        let many = format!("columns = [{}]\n", vec!["\"PID\""; 4000].join(", "));
        let path = write_config(&dir, &many);
        let message = broken_message(load(&path, &VOCABULARY));
        assert!(
            message.ends_with("column `PID` is listed twice"),
            "{message}"
        );
    }

    #[test]
    fn a_directory_of_another_user_is_not_written() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            crate::test_support::skip("needs root to give a directory away");
            return;
        }
        let dir = TempDir::new("config-test");
        let path = config_in(&dir);
        let config_dir = path.parent().unwrap();
        fs::create_dir_all(config_dir).unwrap();
        std::os::unix::fs::chown(config_dir, Some(65534), Some(65534)).unwrap();
        let e = save(&path, &sample(), false).unwrap_err();
        assert!(e.contains("belongs to uid 65534"), "{e}");
        assert!(!path.exists());
    }

    #[test]
    fn save_over_broken_file_keeps_a_copy() {
        let dir = TempDir::new("config-test");
        let broken = "colums = 1\n";
        let path = write_config(&dir, broken);
        let kept = save(&path, &sample(), true).unwrap().unwrap();
        assert_eq!(kept, path.with_file_name("config.toml.broken"));
        assert_eq!(fs::read_to_string(&kept).unwrap(), broken);
        assert_eq!(load(&path, &VOCABULARY), LoadOutcome::Loaded(sample()));
        // Broken again, though the caller thinks it is fine: kept too, and
        // the first copy survives.
        fs::write(&path, "delay_ms = 1\n").unwrap();
        let kept2 = save(&path, &Config::default(), false).unwrap().unwrap();
        assert_eq!(kept2, path.with_file_name("config.toml.broken.1"));
        assert_eq!(fs::read_to_string(&kept).unwrap(), broken);
        assert_eq!(fs::read_to_string(&kept2).unwrap(), "delay_ms = 1\n");
        // A good file is simply replaced.
        assert_eq!(save(&path, &sample(), false).unwrap(), None);
        assert_eq!(load(&path, &VOCABULARY), LoadOutcome::Loaded(sample()));
    }

    #[test]
    fn broken_flag_without_a_file_saves_normally() {
        let dir = TempDir::new("config-test");
        let path = config_in(&dir);
        assert_eq!(save(&path, &sample(), true).unwrap(), None);
        assert_eq!(load(&path, &VOCABULARY), LoadOutcome::Loaded(sample()));
    }

    #[test]
    fn xdg_wins_over_home() {
        let os = |s: &'static str| Some(OsStr::new(s));
        let expect = |s: &str| Some(PathBuf::from(s));
        assert_eq!(
            config_path_from(os("/x"), os("/h")),
            expect("/x/bpftop/config.toml")
        );
        assert_eq!(
            config_path_from(None, os("/h")),
            expect("/h/.config/bpftop/config.toml")
        );
        // Empty or relative XDG_CONFIG_HOME is ignored, as the spec says.
        assert_eq!(
            config_path_from(os(""), os("/h")),
            expect("/h/.config/bpftop/config.toml")
        );
        assert_eq!(
            config_path_from(os("rel"), os("/h")),
            expect("/h/.config/bpftop/config.toml")
        );
        assert_eq!(config_path_from(None, None), None);
        assert_eq!(config_path_from(None, os("")), None);
    }

    #[test]
    fn home_is_shown_as_tilde() {
        let home = Some(OsStr::new("/home/u"));
        let path = Path::new("/home/u/.config/bpftop/config.toml");
        assert_eq!(shown_with_home(path, home), "~/.config/bpftop/config.toml");
        assert_eq!(shown_with_home(Path::new("/etc/x"), home), "/etc/x");
        assert_eq!(shown_with_home(Path::new("/home/uu/x"), home), "/home/uu/x");
        assert_eq!(
            shown_with_home(Path::new("/etc/x"), Some(OsStr::new("/"))),
            "/etc/x"
        );
        assert_eq!(shown_with_home(path, None), path.display().to_string());
    }

    /// Property tests: no config text makes loading panic, errors point at
    /// a line of the file in one line of text, and every config survives a
    /// save and load.
    mod props {
        use super::*;
        use proptest::prelude::*;

        use crate::test_support::proptest_config as config;

        fn any_config() -> impl Strategy<Value = Config> {
            let strings = || prop::collection::vec(any::<String>(), 0..4);
            (
                (strings(), any::<String>(), any::<bool>(), any::<bool>()),
                (
                    DELAY_MS_RANGE,
                    any::<String>(),
                    strings(),
                    REWIND_MINUTES_RANGE,
                ),
                prop::array::uniform4(any::<bool>()),
                any::<bool>(),
                (strings(), any::<String>(), any::<bool>()),
                EXITED_REFRESHES_RANGE,
            )
                .prop_map(
                    |(
                        (columns, sort_key, sort_descending, tree),
                        (delay_ms, theme, header_meters, rewind_minutes),
                        [show_kernel_threads, show_threads, mouse, aggregate_folded],
                        meters_to_limits,
                        (io_columns, io_sort_key, io_sort_descending),
                        exited_refreshes,
                    )| Config {
                        columns,
                        sort_key,
                        sort_descending,
                        io_columns,
                        io_sort_key,
                        io_sort_descending,
                        tree,
                        delay_ms,
                        theme,
                        header_meters,
                        show_kernel_threads,
                        show_threads,
                        mouse,
                        aggregate_folded,
                        meters_to_limits,
                        exited_refreshes,
                        rewind_minutes,
                    },
                )
        }

        /// The error's line is one of the text's lines (or the end of it),
        /// and the message is one line.
        fn check(text: &str) -> Result<(), TestCaseError> {
            match parse(text) {
                Ok(config) => prop_assert!(DELAY_MS_RANGE.contains(&config.delay_ms)),
                Err((line, message)) => {
                    if let Some(line) = line {
                        prop_assert!(
                            line >= 1 && line <= text.lines().count() + 1,
                            "line {}",
                            line
                        );
                    }
                    prop_assert!(!message.contains('\n'), "{:?}", message);
                }
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn arbitrary_text_never_panics(raw in prop::collection::vec(any::<u8>(), 0..1024)) {
                check(&String::from_utf8_lossy(&raw))?;
            }

            #[test]
            fn saved_configs_load_back(config in any_config()) {
                let text = toml::to_string_pretty(&config)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(parse(&text), Ok(config));
            }

            #[test]
            fn mangled_configs_never_panic(
                config in any_config(),
                at in any::<prop::sample::Index>(),
                len in 0usize..8,
                with in prop_oneof![
                    Just(String::new()),
                    Just("\"".to_owned()),
                    Just("[".to_owned()),
                    Just("\n[columns]\n".to_owned()),
                    Just("99999999999999999999999".to_owned()),
                    Just("-1".to_owned()),
                    Just("\u{0}".to_owned()),
                    Just("\\u".to_owned()),
                    any::<String>(),
                ],
            ) {
                let text = toml::to_string_pretty(&config)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let mut bytes = text.into_bytes();
                let start = at.index(bytes.len() + 1);
                let end = (start + len).min(bytes.len());
                bytes.splice(start..end, with.into_bytes());
                check(&String::from_utf8_lossy(&bytes))?;
            }

            #[test]
            fn delay_out_of_range_names_its_line(
                delay in prop_oneof![0u64..100, 60_001u64..=i64::MAX as u64],
                blank_lines in 0usize..5,
            ) {
                let text = format!("tree = true\n{}delay_ms = {delay}\n", "\n".repeat(blank_lines));
                let (line, message) = match parse(&text) {
                    Ok(_) => return Err(TestCaseError::fail("accepted")),
                    Err(e) => e,
                };
                prop_assert_eq!(line, Some(2 + blank_lines));
                prop_assert!(message.contains(&delay.to_string()), "{}", message);
            }
        }
    }
}
