//! A process's environment from /proc/PID/environ, read on demand for one
//! process (never per refresh). The file is ptrace-read checked: another
//! user's process needs CAP_SYS_PTRACE, and the refusal is said plainly.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The variables (`NAME=value`, raw bytes) in the order the process holds
/// them; empty for a kernel thread or a zombie. Err: why they cannot be
/// read, as a sentence.
pub fn read(proc_root: &Path, pid: u32) -> Result<Vec<Vec<u8>>, String> {
    let dir = proc_root.join(pid.to_string());
    match std::fs::read(dir.join("environ")) {
        Ok(bytes) => Ok(split_environ(&bytes)),
        Err(e) => Err(refusal(&dir, pid, "environment of", &e)),
    }
}

/// NUL-separated entries, without empty ones.
pub fn split_environ(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split(|b| *b == 0)
        .filter(|entry| !entry.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// Why a ptrace-checked file of process `pid` (its directory `dir`) could
/// not be read: `what` names it ("environment of", "open files of").
pub fn refusal(dir: &Path, pid: u32, what: &str, e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::PermissionDenied => {
            // SAFETY: geteuid has no preconditions.
            let me = unsafe { libc::geteuid() };
            match std::fs::metadata(dir).map(|m| m.uid()) {
                Ok(owner) if owner != me => format!(
                    "permission denied: {what} PID {pid} belongs to another user (needs root with CAP_SYS_PTRACE)"
                ),
                _ => format!("permission denied: {what} PID {pid}"),
            }
        }
        io::ErrorKind::NotFound => format!("PID {pid} has exited"),
        _ => format!("{what} PID {pid}: {e}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn entries_split_at_nul_and_keep_their_bytes() {
        let vars = split_environ(b"A=1\0B=two words\0C=\xff\0\0");
        assert_eq!(
            vars,
            vec![b"A=1".to_vec(), b"B=two words".to_vec(), b"C=\xff".to_vec()]
        );
        assert!(split_environ(b"").is_empty());
    }

    #[test]
    fn a_missing_process_and_a_refusal_are_said_plainly() {
        let root = std::env::temp_dir().join(format!("bpftop-environ-{}", std::process::id()));
        std::fs::create_dir_all(root.join("7")).unwrap();
        std::fs::write(root.join("7/environ"), b"HOME=/root\0TERM=xterm\0").unwrap();
        assert_eq!(
            read(&root, 7).unwrap(),
            vec![b"HOME=/root".to_vec(), b"TERM=xterm".to_vec()]
        );
        assert_eq!(read(&root, 8).unwrap_err(), "PID 8 has exited");
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        // The fixture directory is this user's own: no "another user".
        assert_eq!(
            refusal(&root.join("7"), 7, "environment of", &denied),
            "permission denied: environment of PID 7"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
