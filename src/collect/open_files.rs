//! A process's open files, read on demand for one process (only while
//! someone looks at them, never per refresh): each descriptor of
//! /proc/PID/fd with its type and path, and for a socket its endpoints
//! from the socket tables of the process's own network namespace
//! (/proc/PID/net/{tcp,tcp6,udp,udp6,unix}), found by inode.

use std::collections::HashMap;
use std::fs::{self, FileType};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use super::environ::refusal;

/// One open file of a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFile {
    /// The descriptor number, or `cwd` / `exe` / `root`.
    pub fd: String,
    /// `REG`, `DIR`, `CHR`, `BLK`, `FIFO`, `TCP`, `TCP6`, `UDP`, `UDP6`,
    /// `UNIX`, `SOCK` (another family), `a_inode` or `?`.
    pub kind: &'static str,
    /// The path, the socket's endpoints and state, or the kernel's name
    /// (`pipe:[123]`, `anon_inode:[eventfd]`); raw bytes.
    pub name: Vec<u8>,
}

/// The open files of `pid`, descriptors in numeric order after the
/// working directory and the executable. Err: why not, as a sentence.
pub fn list(proc_root: &Path, pid: u32) -> Result<Vec<OpenFile>, String> {
    let dir = proc_root.join(pid.to_string());
    let entries =
        fs::read_dir(dir.join("fd")).map_err(|e| refusal(&dir, pid, "open files of", &e))?;
    let mut fds: Vec<(u32, Vec<u8>, Option<FileType>)> = Vec::new();
    for entry in entries.flatten() {
        let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        // The directory lists without ptrace access; its links do not.
        let target = match fs::read_link(entry.path()) {
            Ok(target) => target,
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(refusal(&dir, pid, "open files of", &e));
            }
            // Closed between the listing and here.
            Err(_) => continue,
        };
        let kind = fs::metadata(entry.path()).ok().map(|m| m.file_type());
        fds.push((fd, target.as_os_str().as_bytes().to_vec(), kind));
    }
    fds.sort_by_key(|(fd, _, _)| *fd);
    let sockets = if fds.iter().any(|(_, t, _)| socket_inode(t).is_some()) {
        SocketTables::read(&dir.join("net"))
    } else {
        SocketTables::default()
    };
    let mut files = Vec::with_capacity(fds.len() + 2);
    for special in ["cwd", "exe"] {
        let path = dir.join(special);
        if let Ok(target) = fs::read_link(&path) {
            let kind = fs::metadata(&path).ok().map(|m| m.file_type());
            files.push(OpenFile {
                fd: special.to_owned(),
                kind: kind.map_or("?", type_name),
                name: target.as_os_str().as_bytes().to_vec(),
            });
        }
    }
    for (fd, target, kind) in fds {
        let (kind, name) = match socket_inode(&target) {
            Some(inode) => match sockets.by_inode.get(&inode) {
                Some((kind, name)) => (*kind, name.clone()),
                None => ("SOCK", target),
            },
            None if target.starts_with(b"anon_inode:") => ("a_inode", target),
            None => (kind.map_or("?", type_name), target),
        };
        files.push(OpenFile {
            fd: fd.to_string(),
            kind,
            name,
        });
    }
    Ok(files)
}

fn type_name(t: FileType) -> &'static str {
    if t.is_file() {
        "REG"
    } else if t.is_dir() {
        "DIR"
    } else if t.is_char_device() {
        "CHR"
    } else if t.is_block_device() {
        "BLK"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "SOCK"
    } else {
        "?"
    }
}

/// The inode of a `socket:[N]` link target.
fn socket_inode(target: &[u8]) -> Option<u64> {
    let inner = target.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    std::str::from_utf8(inner).ok()?.parse().ok()
}

/// Sockets of one network namespace by inode: kind and description.
#[derive(Debug, Default)]
pub struct SocketTables {
    pub by_inode: HashMap<u64, (&'static str, Vec<u8>)>,
}

impl SocketTables {
    /// Reads the tables under a `net` directory; a missing table (no IPv6)
    /// adds nothing.
    pub fn read(net: &Path) -> SocketTables {
        let mut tables = SocketTables::default();
        for (file, kind, tcp) in [
            ("tcp", "TCP", true),
            ("tcp6", "TCP6", true),
            ("udp", "UDP", false),
            ("udp6", "UDP6", false),
        ] {
            if let Ok(text) = fs::read(net.join(file)) {
                tables.add_inet(&text, kind, tcp);
            }
        }
        if let Ok(text) = fs::read(net.join("unix")) {
            tables.add_unix(&text);
        }
        tables
    }

    /// Lines of /proc/net/{tcp,udp}[6]: `sl local rem st … uid timeout
    /// inode`.
    pub fn add_inet(&mut self, text: &[u8], kind: &'static str, tcp: bool) {
        for line in text.split(|b| *b == b'\n').skip(1) {
            let fields: Vec<&[u8]> = line
                .split(|b| b.is_ascii_whitespace())
                .filter(|f| !f.is_empty())
                .collect();
            let (Some(local), Some(remote), Some(state), Some(inode)) = (
                fields.get(1).and_then(|f| endpoint(f)),
                fields.get(2).and_then(|f| endpoint(f)),
                fields.get(3).and_then(|f| hex_u32(f)),
                fields.get(9).and_then(|f| decimal(f)),
            ) else {
                continue;
            };
            let connected = !remote.ends_with(":0");
            let mut name = local;
            if connected {
                name.push_str(" -> ");
                name.push_str(&remote);
            }
            match (tcp, tcp_state(state)) {
                (true, Some(state)) => {
                    name.push_str(" (");
                    name.push_str(state);
                    name.push(')');
                }
                (true, None) => {}
                (false, _) if !connected => name.push_str(" (unconnected)"),
                (false, _) => {}
            }
            self.by_inode.insert(inode, (kind, name.into_bytes()));
        }
    }

    /// Lines of /proc/net/unix: `Num RefCount Protocol Flags Type St Inode
    /// [Path]`; the path may hold spaces (everything after the inode).
    pub fn add_unix(&mut self, text: &[u8]) {
        for line in text.split(|b| *b == b'\n').skip(1) {
            let mut rest = line;
            let mut fields = Vec::new();
            while fields.len() < 7 {
                let start = rest.iter().position(|b| *b != b' ').unwrap_or(rest.len());
                rest = &rest[start..];
                if rest.is_empty() {
                    break;
                }
                let end = rest.iter().position(|b| *b == b' ').unwrap_or(rest.len());
                fields.push(&rest[..end]);
                rest = &rest[end..];
            }
            let Some(inode) = fields.get(6).and_then(|f| decimal(f)) else {
                continue;
            };
            let path = rest.strip_prefix(b" ").unwrap_or(rest);
            let name = if path.is_empty() {
                b"(unnamed)".to_vec()
            } else {
                path.to_vec()
            };
            self.by_inode.insert(inode, ("UNIX", name));
        }
    }
}

fn hex_u32(field: &[u8]) -> Option<u32> {
    u32::from_str_radix(std::str::from_utf8(field).ok()?, 16).ok()
}

fn decimal(field: &[u8]) -> Option<u64> {
    std::str::from_utf8(field).ok()?.parse().ok()
}

/// `ADDR:PORT` as the kernel prints it: the address as 32-bit words in
/// host byte order (one for IPv4, four for IPv6), the port in hex.
fn endpoint(field: &[u8]) -> Option<String> {
    let colon = field.iter().position(|b| *b == b':')?;
    let (addr, port) = (&field[..colon], &field[colon + 1..]);
    let port = u16::from_str_radix(std::str::from_utf8(port).ok()?, 16).ok()?;
    match addr.len() {
        8 => {
            let ip = Ipv4Addr::from(hex_u32(addr)?.to_ne_bytes());
            Some(format!("{ip}:{port}"))
        }
        32 => {
            let mut bytes = [0u8; 16];
            for (i, word) in addr.chunks(8).enumerate() {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&hex_u32(word)?.to_ne_bytes());
            }
            let ip = Ipv6Addr::from(bytes);
            Some(format!("[{ip}]:{port}"))
        }
        _ => None,
    }
}

/// The TCP state names of include/net/tcp_states.h.
fn tcp_state(state: u32) -> Option<&'static str> {
    Some(match state {
        1 => "ESTABLISHED",
        2 => "SYN_SENT",
        3 => "SYN_RECV",
        4 => "FIN_WAIT1",
        5 => "FIN_WAIT2",
        6 => "TIME_WAIT",
        7 => "CLOSE",
        8 => "CLOSE_WAIT",
        9 => "LAST_ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        12 => "NEW_SYN_RECV",
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn name(tables: &SocketTables, inode: u64) -> (&'static str, String) {
        let (kind, name) = tables.by_inode.get(&inode).unwrap();
        (kind, String::from_utf8_lossy(name).into_owned())
    }

    // Lines as the kernel prints them on a little-endian machine.
    const TCP: &[u8] = b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0016 0200007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 20 4 30 10 -1
";
    const TCP6: &[u8] = b"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 100 0 0 10 0
";
    const UDP: &[u8] = b"   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  7: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4545 2 0000000000000000 0
";
    const UNIX: &[u8] = b"Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 4646 /run/a socket
0000000000000000: 00000002 00000000 00000000 0002 01 4747
0000000000000000: 00000002 00000000 00010000 0001 01 4848 @abstract
";

    #[test]
    fn socket_tables_give_endpoints_and_states() {
        let mut t = SocketTables::default();
        t.add_inet(TCP, "TCP", true);
        t.add_inet(TCP6, "TCP6", true);
        t.add_inet(UDP, "UDP", false);
        t.add_unix(UNIX);
        if cfg!(target_endian = "little") {
            assert_eq!(name(&t, 4242), ("TCP", "127.0.0.1:8080 (LISTEN)".into()));
            assert_eq!(
                name(&t, 4343),
                (
                    "TCP",
                    "127.0.0.1:22 -> 127.0.0.2:54321 (ESTABLISHED)".into()
                )
            );
            assert_eq!(name(&t, 4444), ("TCP6", "[::1]:80 (LISTEN)".into()));
            assert_eq!(name(&t, 4545), ("UDP", "0.0.0.0:68 (unconnected)".into()));
        }
        assert_eq!(name(&t, 4646), ("UNIX", "/run/a socket".into()));
        assert_eq!(name(&t, 4747), ("UNIX", "(unnamed)".into()));
        assert_eq!(name(&t, 4848), ("UNIX", "@abstract".into()));
    }

    #[test]
    fn socket_links_name_their_inode() {
        assert_eq!(socket_inode(b"socket:[123]"), Some(123));
        assert_eq!(socket_inode(b"pipe:[123]"), None);
        assert_eq!(socket_inode(b"/tmp/socket:[1]"), None);
    }

    /// This process's own descriptors, against what it opened.
    #[test]
    fn this_process_lists_a_file_and_a_listening_socket_it_opened() {
        let path = std::env::temp_dir().join(format!("bpftop-open-files-{}", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let files = list(Path::new("/proc"), std::process::id()).unwrap();
        use std::os::fd::AsRawFd;
        let by_fd = |fd: i32| files.iter().find(|f| f.fd == fd.to_string()).unwrap();
        let f = by_fd(file.as_raw_fd());
        assert_eq!(
            (f.kind, f.name.as_slice()),
            ("REG", path.as_os_str().as_bytes())
        );
        let s = by_fd(listener.as_raw_fd());
        assert_eq!(s.kind, "TCP");
        assert_eq!(
            String::from_utf8_lossy(&s.name),
            format!("127.0.0.1:{port} (LISTEN)")
        );
        assert_eq!(files.first().map(|f| f.fd.as_str()), Some("cwd"));
        drop(file);
        std::fs::remove_file(&path).unwrap();
    }
}
