//! kernel.task_delayacct, read at each refresh from a file kept open (one
//! pread): the walk follows `task->delays` only while the kernel counts
//! stalls, and saves that load per task otherwise.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

pub struct DelayAcctSwitch {
    /// None where the kernel has no such switch (no delay accounting).
    file: Option<File>,
}

impl DelayAcctSwitch {
    pub fn open(proc_root: &Path) -> Self {
        DelayAcctSwitch {
            file: File::open(proc_root.join("sys/kernel/task_delayacct")).ok(),
        }
    }

    /// Whether delay accounting counts now.
    pub fn on(&self) -> bool {
        let mut buf = [0u8; 4];
        self.file
            .as_ref()
            .and_then(|f| f.read_at(&mut buf, 0).ok())
            .is_some_and(|n| n > 0 && buf[0] == b'1')
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_file_and_is_off_without_one() {
        let dir = std::env::temp_dir().join(format!("bpftop-delayacct-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sys/kernel")).unwrap();
        let path = dir.join("sys/kernel/task_delayacct");
        std::fs::write(&path, "1\n").unwrap();
        let switch = DelayAcctSwitch::open(&dir);
        assert!(switch.on());
        std::fs::write(&path, "0\n").unwrap();
        assert!(!switch.on(), "read again at each refresh");
        assert!(!DelayAcctSwitch::open(&dir.join("none")).on());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
