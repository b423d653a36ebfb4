//! The recording on disk: one SQLite database (WAL, one transaction per
//! frame) holding time-indexed frames. Schema and crash behaviour are
//! described in ARCHITECTURE.md ("The flight recorder").

use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::frame::Kind;

/// The database's name inside the recording directory.
pub const FILE_NAME: &str = "recording.db";
/// The lock that keeps a second recorder out of the same directory.
const LOCK_NAME: &str = "recording.lock";
/// SQLite's application id of a bpftop recording: "bptf".
pub const APPLICATION_ID: i32 = 0x6270_7466;
/// The storage format this bpftop writes and reads (SQLite's
/// user_version). A change of the tables or of the frame encoding bumps it.
pub const FORMAT_VERSION: i32 = 2;

const SCHEMA: &str = "
CREATE TABLE recording (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    started REAL NOT NULL,
    delay_ms INTEGER NOT NULL,
    threads INTEGER NOT NULL,
    written_by TEXT NOT NULL
);
CREATE TABLE frames (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL,
    time REAL NOT NULL,
    key_frame INTEGER,
    bytes INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX frames_by_time ON frames(time);
CREATE INDEX key_frames ON frames(id) WHERE key_frame IS NULL;
";

/// Which bpftop wrote this binary.
pub fn writer() -> String {
    format!("bpftop {}", env!("CARGO_PKG_VERSION"))
}

/// Where a frame is and what it depends on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameInfo {
    pub id: i64,
    pub session: i64,
    /// Wall-clock time of the refresh, seconds since the Unix epoch.
    pub time: f64,
    /// The key frame a delta frame builds on; its own id for a key frame.
    pub key: i64,
}

/// A session's settings.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    pub threads: bool,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Sum of the stored frames' sizes, bytes (while writing).
    frame_bytes: u64,
    /// The last key frame written (while writing).
    last_key: Option<i64>,
    /// Held while writing: no second recorder in the directory.
    _lock: Option<File>,
}

fn describe(path: &Path) -> String {
    path.display().to_string()
}

impl Store {
    /// Opens the recording in `dir` for writing, creating the directory
    /// and the database when missing.
    pub fn open_for_writing(dir: &Path) -> anyhow::Result<Store> {
        // The recording holds every process's command line: readable by
        // its owner only (a directory made here, and the database, whose
        // WAL and index files SQLite creates with the same mode).
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create the directory {}", describe(dir)))?;
        let lock = lock(dir)?;
        let path = dir.join(FILE_NAME);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot open {}", describe(&path)))?;
        let conn =
            Connection::open(&path).with_context(|| format!("cannot open {}", describe(&path)))?;
        let mut store = Store {
            conn,
            path,
            frame_bytes: 0,
            last_key: None,
            _lock: Some(lock),
        };
        if store.is_empty()? {
            store.create()?;
        }
        store.check()?;
        // FULL: the WAL is synced at every commit, so a power loss takes at
        // most the frame being written.
        store
            .conn
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
            .map_err(|e| store.error(e))?;
        store.frame_bytes = store
            .conn
            .query_row("SELECT coalesce(sum(bytes), 0) FROM frames", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(|e| store.error(e))? as u64;
        Ok(store)
    }

    /// Opens the recording in `dir` for reading.
    pub fn open_for_reading(dir: &Path) -> anyhow::Result<Store> {
        let path = dir.join(FILE_NAME);
        if !path.exists() {
            bail!("no recording in {} ({FILE_NAME} is missing)", describe(dir));
        }
        // Read-write when allowed: reading a recording whose writer was
        // killed replays its WAL, which needs to write the index beside it.
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_WRITE)
            .or_else(|_| Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY))
            .with_context(|| format!("cannot open {}", describe(&path)))?;
        let store = Store {
            conn,
            path,
            frame_bytes: 0,
            last_key: None,
            _lock: None,
        };
        store.check()?;
        Ok(store)
    }

    fn error(&self, e: rusqlite::Error) -> anyhow::Error {
        anyhow::anyhow!("{}: {e}", describe(&self.path))
    }

    /// The file is new: no tables, no application id.
    fn is_empty(&self) -> anyhow::Result<bool> {
        let (id, tables): (i32, i64) = self
            .conn
            .query_row(
                "SELECT (SELECT application_id FROM pragma_application_id()), \
                        (SELECT count(*) FROM sqlite_schema)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.not_a_recording(e))?;
        Ok(id == 0 && tables == 0)
    }

    fn not_a_recording(&self, e: rusqlite::Error) -> anyhow::Error {
        anyhow::anyhow!("{} is not a bpftop recording ({e})", describe(&self.path))
    }

    fn create(&mut self) -> anyhow::Result<()> {
        // Before any table: freed pages are given back to the file system
        // when retention deletes frames.
        self.conn
            .execute_batch("PRAGMA auto_vacuum = INCREMENTAL;")
            .map_err(|e| self.error(e))?;
        let tx = self.conn.transaction()?;
        tx.execute_batch(SCHEMA)?;
        tx.execute(
            "INSERT INTO recording (key, value) VALUES ('written_by', ?1)",
            params![writer()],
        )?;
        tx.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {FORMAT_VERSION};"
        ))?;
        tx.commit()?;
        Ok(())
    }

    /// Refuses what is not a recording this bpftop can read, saying why.
    fn check(&self) -> anyhow::Result<()> {
        let (id, version): (i32, i32) = self
            .conn
            .query_row(
                "SELECT (SELECT application_id FROM pragma_application_id()), \
                        (SELECT user_version FROM pragma_user_version())",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.not_a_recording(e))?;
        if id != APPLICATION_ID {
            bail!(
                "{} is not a bpftop recording (an SQLite database of another program)",
                describe(&self.path)
            );
        }
        let written_by: String = self
            .conn
            .query_row(
                "SELECT value FROM recording WHERE key = 'written_by'",
                [],
                |r| r.get(0),
            )
            .optional()
            .ok()
            .flatten()
            .unwrap_or_else(|| "an unknown bpftop".to_owned());
        if version > FORMAT_VERSION {
            bail!(
                "{} was written by {written_by} in recording format {version}, newer than this \
                 bpftop ({}) reads (format {FORMAT_VERSION}): replay it with a newer bpftop",
                describe(&self.path),
                writer()
            );
        }
        if version < FORMAT_VERSION {
            bail!(
                "{} was written by {written_by} in recording format {version}, which this \
                 bpftop ({}) no longer reads (format {FORMAT_VERSION}): replay it with {written_by}",
                describe(&self.path),
                writer()
            );
        }
        Ok(())
    }

    /// Starts a recording session (one run of the recorder).
    pub fn begin_session(
        &mut self,
        started: f64,
        delay_ms: u64,
        threads: bool,
    ) -> anyhow::Result<i64> {
        self.conn
            .execute(
                "INSERT INTO sessions (started, delay_ms, threads, written_by) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![started, delay_ms as i64, threads, writer()],
            )
            .map_err(|e| self.error(e))?;
        self.last_key = None;
        Ok(self.conn.last_insert_rowid())
    }

    /// Stores one frame in its own transaction.
    pub fn append(
        &mut self,
        session: i64,
        time: f64,
        kind: Kind,
        data: &[u8],
    ) -> anyhow::Result<i64> {
        let key = match kind {
            Kind::Key => None,
            Kind::Delta => Some(
                self.last_key
                    .context("a delta frame before any key frame")?,
            ),
        };
        self.conn
            .execute(
                "INSERT INTO frames (session, time, key_frame, bytes, data) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![session, time, key, data.len() as i64, data],
            )
            .map_err(|e| self.error(e))?;
        let id = self.conn.last_insert_rowid();
        if kind == Kind::Key {
            self.last_key = Some(id);
        }
        self.frame_bytes += data.len() as u64;
        Ok(id)
    }

    /// Stores many frames (session, time, kind, data) in one transaction:
    /// for imports and benchmarks, where a commit per frame is not wanted.
    pub fn append_all<'a>(
        &mut self,
        frames: impl IntoIterator<Item = (i64, f64, Kind, &'a [u8])>,
    ) -> anyhow::Result<()> {
        self.conn
            .execute_batch("BEGIN")
            .map_err(|e| self.error(e))?;
        for (session, time, kind, data) in frames {
            if let Err(e) = self.append(session, time, kind, data) {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
        self.conn.execute_batch("COMMIT").map_err(|e| self.error(e))
    }

    /// Deletes the oldest frames, whole groups (a key frame and its deltas)
    /// at a time, while they are older than `oldest` or the frames take
    /// more than `max_bytes`. The newest group always stays.
    pub fn enforce(&mut self, oldest: Option<f64>, max_bytes: Option<u64>) -> anyhow::Result<()> {
        let mut deleted = false;
        loop {
            let Some((first_key, first_time)) = self.second_key_frame()? else {
                break;
            };
            // Everything before `first_key` is one or more whole groups,
            // the oldest ones; its frames are all older than `first_time`.
            let too_old = oldest.is_some_and(|t| first_time <= t);
            let too_big = max_bytes.is_some_and(|max| self.frame_bytes > max);
            if !too_old && !too_big {
                break;
            }
            let freed: i64 = self
                .conn
                .query_row(
                    "SELECT coalesce(sum(bytes), 0) FROM frames WHERE id < ?1",
                    params![first_key],
                    |r| r.get(0),
                )
                .map_err(|e| self.error(e))?;
            self.conn
                .execute("DELETE FROM frames WHERE id < ?1", params![first_key])
                .map_err(|e| self.error(e))?;
            self.frame_bytes = self.frame_bytes.saturating_sub(freed as u64);
            deleted = true;
        }
        if deleted {
            self.conn
                .execute_batch(
                    "DELETE FROM sessions WHERE id < (SELECT coalesce(min(session), 0) FROM frames); \
                     PRAGMA incremental_vacuum;",
                )
                .map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// The second-oldest key frame (id, time): what the oldest group ends
    /// before.
    fn second_key_frame(&self) -> anyhow::Result<Option<(i64, f64)>> {
        self.conn
            .query_row(
                "SELECT id, time FROM frames WHERE key_frame IS NULL ORDER BY id LIMIT 1 OFFSET 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// The stored frames' total size, bytes.
    pub fn frame_bytes(&self) -> u64 {
        self.frame_bytes
    }

    fn info(r: &rusqlite::Row<'_>) -> rusqlite::Result<FrameInfo> {
        let id: i64 = r.get(0)?;
        Ok(FrameInfo {
            id,
            session: r.get(1)?,
            time: r.get(2)?,
            key: r.get::<_, Option<i64>>(3)?.unwrap_or(id),
        })
    }

    /// The frames taken from `from` to `to` (inclusive), in order.
    pub fn frames_between(&self, from: f64, to: f64) -> anyhow::Result<Vec<FrameInfo>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, session, time, key_frame FROM frames \
                 WHERE time >= ?1 AND time <= ?2 ORDER BY id",
            )
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map(params![from, to], Self::info)
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    /// The last frame taken at or before `time`, else the first frame.
    pub fn frame_at(&self, time: f64) -> anyhow::Result<Option<FrameInfo>> {
        let sql = "SELECT id, session, time, key_frame FROM frames WHERE time <= ?1 \
                   ORDER BY time DESC, id DESC LIMIT 1";
        let at = self
            .conn
            .query_row(sql, params![time], Self::info)
            .optional()
            .map_err(|e| self.error(e))?;
        match at {
            Some(at) => Ok(Some(at)),
            None => self.neighbour(0, true),
        }
    }

    /// The frame right after (`later`) or before frame `id`.
    pub fn neighbour(&self, id: i64, later: bool) -> anyhow::Result<Option<FrameInfo>> {
        let sql = if later {
            "SELECT id, session, time, key_frame FROM frames WHERE id > ?1 ORDER BY id LIMIT 1"
        } else {
            "SELECT id, session, time, key_frame FROM frames WHERE id < ?1 ORDER BY id DESC LIMIT 1"
        };
        self.conn
            .query_row(sql, params![id], Self::info)
            .optional()
            .map_err(|e| self.error(e))
    }

    /// The data of the frames `from` to `to` (ids, inclusive), in order,
    /// passed one at a time to `each`.
    pub fn each_frame(
        &self,
        from: i64,
        to: i64,
        mut each: impl FnMut(FrameInfo, &[u8]) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, session, time, key_frame, data FROM frames \
                 WHERE id >= ?1 AND id <= ?2 ORDER BY id",
            )
            .map_err(|e| self.error(e))?;
        let mut rows = stmt.query(params![from, to]).map_err(|e| self.error(e))?;
        while let Some(row) = rows.next().map_err(|e| self.error(e))? {
            let info = Self::info(row).map_err(|e| self.error(e))?;
            let data = row
                .get_ref(4)
                .and_then(|v| v.as_blob().map_err(rusqlite::Error::from))
                .map_err(|e| self.error(e))?;
            each(info, data)?;
        }
        Ok(())
    }

    pub fn session(&self, id: i64) -> anyhow::Result<Session> {
        let threads: bool = self
            .conn
            .query_row(
                "SELECT threads FROM sessions WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.error(e))?
            .unwrap_or(false);
        Ok(Session { threads })
    }
}

/// An exclusive lock on the directory's lock file, or why not.
fn lock(dir: &Path) -> anyhow::Result<File> {
    use std::os::fd::AsRawFd;
    let path = dir.join(LOCK_NAME);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", describe(&path)))?;
    // SAFETY: flock on a descriptor this function owns.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if locked != 0 {
        bail!("another bpftop is recording into {} already", describe(dir));
    }
    Ok(file)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::test_support::TempDir;

    /// Frames 1..=8 at times 1..=8, key frames at 1, 4 and 7, 100 bytes
    /// each.
    fn eight_frames(dir: &Path) -> Store {
        let mut store = Store::open_for_writing(dir).unwrap();
        let session = store.begin_session(0.0, 1000, false).unwrap();
        for id in 1..=8 {
            let kind = if id % 3 == 1 { Kind::Key } else { Kind::Delta };
            store
                .append(session, id as f64, kind, &[id as u8; 100])
                .unwrap();
        }
        store
    }

    fn ids(store: &Store) -> Vec<i64> {
        let all = store.frames_between(f64::MIN, f64::MAX).unwrap();
        all.iter().map(|f| f.id).collect()
    }

    #[test]
    fn retention_deletes_whole_groups_by_age_and_by_size() {
        let dir = TempDir::new("store-retain");
        let mut store = eight_frames(dir.path());
        assert_eq!(store.frame_bytes(), 800);
        let keys: Vec<i64> = store
            .frames_between(f64::MIN, f64::MAX)
            .unwrap()
            .iter()
            .map(|f| f.key)
            .collect();
        assert_eq!(keys, [1, 1, 1, 4, 4, 4, 7, 7]);
        // Frames 1-3 are older than 4.5, but 4-6 are needed by 5 and 6.
        store.enforce(Some(4.5), None).unwrap();
        assert_eq!(ids(&store), [4, 5, 6, 7, 8]);
        store.enforce(None, Some(350)).unwrap();
        assert_eq!(ids(&store), [7, 8]);
        assert_eq!(store.frame_bytes(), 200);
        // The newest group stays, whatever the limits.
        store.enforce(Some(100.0), Some(1)).unwrap();
        assert_eq!(ids(&store), [7, 8]);
        // Reopened: the size is counted again from the frames.
        drop(store);
        let store = Store::open_for_writing(dir.path()).unwrap();
        assert_eq!(store.frame_bytes(), 200);
    }

    #[test]
    fn only_the_owner_reads_a_new_recording() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("store-mode");
        let inner = dir.path().join("rec");
        drop(eight_frames(&inner));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&inner), 0o700);
        assert_eq!(mode(&inner.join(FILE_NAME)), 0o600);
    }

    #[test]
    fn seeking_finds_the_frame_at_or_before_a_time() {
        let dir = TempDir::new("store-seek");
        let store = eight_frames(dir.path());
        assert_eq!(store.frame_at(5.5).unwrap().unwrap().id, 5);
        assert_eq!(store.frame_at(5.0).unwrap().unwrap().id, 5);
        // Before the first: the first.
        assert_eq!(store.frame_at(0.5).unwrap().unwrap().id, 1);
        assert_eq!(store.neighbour(5, true).unwrap().unwrap().id, 6);
        assert_eq!(store.neighbour(1, false).unwrap(), None);
        let mut seen = Vec::new();
        store
            .each_frame(4, 6, |info, data| {
                seen.push((info.id, info.key, data[0]));
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, [(4, 4, 4), (5, 4, 5), (6, 4, 6)]);
    }

    #[test]
    fn a_second_recorder_is_refused() {
        let dir = TempDir::new("store-lock");
        let _first = Store::open_for_writing(dir.path()).unwrap();
        let e = Store::open_for_writing(dir.path()).err().unwrap();
        assert!(format!("{e:#}").contains("recording into"), "{e:#}");
        // Readers are welcome.
        Store::open_for_reading(dir.path()).unwrap();
    }

    #[test]
    fn what_is_not_a_recording_of_this_format_is_named() {
        let dir = TempDir::new("store-refuse");
        let path = dir.path().join(FILE_NAME);
        let refused = |dir: &Path| {
            let r = format!("{:#}", Store::open_for_reading(dir).err().unwrap());
            let w = format!("{:#}", Store::open_for_writing(dir).err().unwrap());
            (r, w)
        };
        let missing = format!("{:#}", Store::open_for_reading(dir.path()).err().unwrap());
        assert!(missing.contains("no recording in"), "{missing}");
        std::fs::write(&path, b"this is not a database, just text\n".repeat(200)).unwrap();
        let (r, w) = refused(dir.path());
        assert!(r.contains("is not a bpftop recording"), "{r}");
        assert!(w.contains("is not a bpftop recording"), "{w}");
        std::fs::remove_file(&path).unwrap();
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE notes (text TEXT);")
            .unwrap();
        let (r, w) = refused(dir.path());
        assert!(r.contains("another program"), "{r}");
        assert!(w.contains("another program"), "{w}");
        std::fs::remove_file(&path).unwrap();
        drop(Store::open_for_writing(dir.path()).unwrap());
        let set_version = |v: i32| {
            Connection::open(&path)
                .unwrap()
                .execute_batch(&format!("PRAGMA user_version = {v};"))
                .unwrap();
        };
        set_version(FORMAT_VERSION + 1);
        let (r, w) = refused(dir.path());
        assert!(r.contains("newer than this bpftop"), "{r}");
        assert!(r.contains(&writer()), "{r}");
        assert!(w.contains("newer than this bpftop"), "{w}");
        set_version(FORMAT_VERSION - 1);
        let (r, _) = refused(dir.path());
        assert!(r.contains("no longer reads"), "{r}");
    }
}
