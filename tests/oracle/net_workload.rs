//! Network workloads: pairs of processes moving known payloads over
//! loopback. Each side sums the byte counts its own system calls returned;
//! that sum is the truth the eBPF counters are compared with.
//!
//! Every workload forks a peer before it starts any thread, runs both
//! roles, and prints `ready <peer pid> <sent> <received> <peer sent> <peer
//! received>` once all traffic is done; both processes then stay alive.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::workload::{idle, ready};

/// Bytes a role sent and received, as its system calls returned them.
#[derive(Default, Clone, Copy)]
struct Moved {
    sent: u64,
    received: u64,
}

/// Forks; the child runs `peer` and reports what it moved through a pipe,
/// the parent runs `own`, then both idle. Nothing else in either process
/// touches a socket.
fn pair(own: impl FnOnce() -> Moved, peer: impl FnOnce() -> Moved) -> ! {
    let mut fds = [0; 2];
    // SAFETY: pipe fills two fds we then own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe failed");
    // SAFETY: the fds were just created and are not used elsewhere.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: single-threaded here; the child only runs its role.
    let child = unsafe { libc::fork() };
    assert!(child >= 0, "fork failed");
    if child == 0 {
        // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number only.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
        drop(read_end);
        let moved = peer();
        let mut report = std::fs::File::from(write_end);
        let _ = writeln!(report, "{} {}", moved.sent, moved.received);
        drop(report);
        idle()
    }
    drop(write_end);
    let moved = own();
    let mut line = String::new();
    BufReader::new(std::fs::File::from(read_end))
        .read_line(&mut line)
        .expect("reading the peer's report");
    ready(&format!(
        "{child} {} {} {}",
        moved.sent,
        moved.received,
        line.trim()
    ));
    idle()
}

fn send_all(stream: &mut impl Write, total: u64) -> u64 {
    let chunk = vec![0x5au8; 64 * 1024];
    let mut sent = 0;
    while sent < total {
        let n = (total - sent).min(chunk.len() as u64) as usize;
        match stream.write(&chunk[..n]) {
            Ok(0) => break,
            Ok(w) => sent += w as u64,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("send failed: {e}"),
        }
    }
    sent
}

fn receive_up_to(stream: &mut impl Read, total: u64) -> u64 {
    let mut buf = vec![0u8; 64 * 1024];
    let mut received = 0;
    while received < total {
        let n = (total - received).min(buf.len() as u64) as usize;
        match stream.read(&mut buf[..n]) {
            Ok(0) => break,
            Ok(r) => received += r as u64,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("receive failed: {e}"),
        }
    }
    received
}

fn loopback_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("binding a loopback listener")
}

/// `bytes` from the parent to the peer over TCP, then `bytes` back.
fn tcp(bytes: u64) -> ! {
    let listener = loopback_listener();
    let addr = listener.local_addr().expect("listener address");
    pair(
        || {
            let (mut conn, _) = listener.accept().expect("accept");
            let sent = send_all(&mut conn, bytes);
            let received = receive_up_to(&mut conn, bytes);
            Moved { sent, received }
        },
        || {
            let mut conn = TcpStream::connect(addr).expect("connect");
            let received = receive_up_to(&mut conn, bytes);
            let sent = send_all(&mut conn, bytes);
            Moved { sent, received }
        },
    )
}

/// The peer sends `count` datagrams of `size` bytes to the parent.
fn udp(count: u64, size: usize) -> ! {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("binding a UDP socket");
    // Room for the whole burst, so loopback does not drop datagrams
    // (SO_RCVBUFFORCE ignores rmem_max; as root it always works).
    let room: libc::c_int = 8 << 20;
    // SAFETY: setsockopt with an int option value on our socket.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&room as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
    let addr = socket.local_addr().expect("socket address");
    pair(
        || {
            socket
                .set_read_timeout(Some(Duration::from_secs(2)))
                .expect("read timeout");
            let mut buf = vec![0u8; 65536];
            let mut moved = Moved::default();
            for _ in 0..count {
                match socket.recv(&mut buf) {
                    Ok(n) => moved.received += n as u64,
                    Err(_) => break, // silence: the rest was dropped
                }
            }
            moved
        },
        || {
            let out = UdpSocket::bind("127.0.0.1:0").expect("binding the sender");
            out.connect(addr).expect("connecting the sender");
            let payload = vec![0xa5u8; size];
            let mut moved = Moved::default();
            for i in 0..count {
                moved.sent += out.send(&payload).expect("UDP send") as u64;
                if i % 64 == 63 {
                    thread::sleep(Duration::from_millis(1));
                }
            }
            moved
        },
    )
}

/// The parent sendfile()s `bytes` of an in-memory file into a TCP socket.
fn sendfile(bytes: u64) -> ! {
    let listener = loopback_listener();
    let addr = listener.local_addr().expect("listener address");
    pair(
        || {
            // SAFETY: memfd_create with a NUL-terminated name.
            let fd = unsafe { libc::memfd_create(c"payload".as_ptr(), 0) };
            assert!(fd >= 0, "memfd_create failed");
            // SAFETY: a fresh fd we own.
            let mut file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
            send_all(&mut file, bytes);
            let (conn, _) = listener.accept().expect("accept");
            let mut offset: libc::off_t = 0;
            let mut moved = Moved::default();
            while moved.sent < bytes {
                let left = (bytes - moved.sent) as usize;
                // SAFETY: valid fds and offset pointer.
                let n = unsafe { libc::sendfile(conn.as_raw_fd(), fd, &mut offset, left) };
                assert!(n > 0, "sendfile failed");
                moved.sent += n as u64;
            }
            moved
        },
        || {
            let mut conn = TcpStream::connect(addr).expect("connect");
            Moved {
                sent: 0,
                received: receive_up_to(&mut conn, bytes),
            }
        },
    )
}

/// `bytes` from the parent to the peer over an AF_UNIX socket pair.
fn unix(bytes: u64) -> ! {
    let (mut a, mut b) = UnixStream::pair().expect("socketpair");
    pair(
        move || Moved {
            sent: send_all(&mut a, bytes),
            received: 0,
        },
        move || Moved {
            sent: 0,
            received: receive_up_to(&mut b, bytes),
        },
    )
}

/// `threads` threads of the parent each send `bytes` to the peer on their
/// own connection; one of them then exits while the others stay.
fn threads(threads: usize, bytes: u64) -> ! {
    let listener = loopback_listener();
    let addr = listener.local_addr().expect("listener address");
    pair(
        || {
            let (done_tx, done_rx) = mpsc::channel();
            let mut parked = Vec::new();
            for i in 0..threads {
                let (mut conn, _) = listener.accept().expect("accept");
                let done_tx = done_tx.clone();
                let (stay_tx, stay_rx) = mpsc::channel::<()>();
                let handle = thread::spawn(move || {
                    let sent = send_all(&mut conn, bytes);
                    let _ = done_tx.send(sent);
                    if i > 0 {
                        // Stay alive until the process ends.
                        let _ = stay_rx.recv();
                    }
                });
                parked.push((handle, stay_tx));
            }
            let sent = (0..threads).map(|_| done_rx.recv().unwrap_or(0)).sum();
            // The first sender exits: its bytes must stay with the process.
            let (first, _) = parked.remove(0);
            first.join().expect("joining the first sender");
            std::mem::forget(parked);
            Moved { sent, received: 0 }
        },
        || {
            let receivers: Vec<_> = (0..threads)
                .map(|_| {
                    let mut conn = TcpStream::connect(addr).expect("connect");
                    thread::spawn(move || receive_up_to(&mut conn, bytes))
                })
                .collect();
            Moved {
                sent: 0,
                received: receivers.into_iter().map(|r| r.join().unwrap_or(0)).sum(),
            }
        },
    )
}

/// Runs the network workload named `kind`, if it is one.
pub fn run(kind: &str, args: &[String]) -> Option<std::convert::Infallible> {
    let arg = |i: usize, default: u64| -> u64 {
        args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default)
    };
    match kind {
        "net_tcp" => tcp(arg(0, 10 << 20)),
        "net_udp" => udp(arg(0, 1000), arg(1, 1200) as usize),
        "net_sendfile" => sendfile(arg(0, 4 << 20)),
        "net_unix" => unix(arg(0, 1 << 20)),
        "net_threads" => threads(arg(0, 4) as usize, arg(1, 1 << 20)),
        _ => None,
    }
}
