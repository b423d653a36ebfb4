//! GPU discovery on a machine without a GPU: a process holds a DRM-like
//! device node (major 226, made with mknod), and both ways of finding DRM
//! files must report exactly that fd of that process.

use bpftop::collect::bpf::drm_fds::BpfDrmScan;
use bpftop::collect::gpu::discovery::{DrmFd, DrmFdScan, ProcfsDrmScan};

use super::Workload;

pub fn drm_files_are_found() {
    let dir = std::env::temp_dir().join(format!("bpftop-drm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let holder = Workload::simple(&["drm_fd", dir.to_str().unwrap()]);
    let expected = DrmFd {
        pid: holder.pid(),
        fd: holder.note.parse().unwrap(),
        minor: 200,
    };
    let mut bpf = BpfDrmScan::open().unwrap_or_else(|e| panic!("{e:#}"));
    let mut procfs = ProcfsDrmScan::new("/proc".into());
    for (name, scan) in [
        ("bpf", &mut bpf as &mut dyn DrmFdScan),
        ("procfs", &mut procfs),
    ] {
        let found: Vec<DrmFd> = scan
            .scan()
            .unwrap()
            .into_iter()
            .filter(|f| f.pid == holder.pid())
            .collect();
        assert_eq!(found, vec![expected], "{name}: the holder's DRM files");
    }
    drop(holder);
    let _ = std::fs::remove_dir_all(&dir);
}
