//! The answer to a connection refused for lack of room: a short `503`,
//! then close. A client told "busy" can back off and say why it failed,
//! where a silent close looks like a broken exporter.
//!
//! The answer is written at once, by plain non-blocking system calls: a
//! fresh connection's send buffer always has room for it, so the accept
//! loop never waits on a client, and a burst of thousands of connections is
//! answered as fast as it is accepted. Only the lingering afterwards (see
//! `LINGER`) runs as a task, and at most `MAX_LINGERING` of those at once:
//! beyond that a refused connection is closed straight after its answer.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream as StdStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;

/// Refused connections lingering at once, each a file descriptor.
pub const MAX_LINGERING: usize = 256;
/// How long to keep reading (and discarding) what the client sends after
/// the answer. Closing a socket with unread data makes the kernel reset
/// the connection and drop what it had not sent yet, the answer included;
/// reading until the client closes makes the close an orderly one.
const LINGER: Duration = Duration::from_secs(2);
/// At most this much is read from a refused connection.
const READ_LIMIT: usize = 64 * 1024;

const RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Length: 33\r\n\
Retry-After: 1\r\n\
Connection: close\r\n\
\r\n\
too many connections, try again\r\n";

/// Answers 503 on `stream` and closes it, lingering in a task of its own
/// while fewer than `MAX_LINGERING` do.
pub fn refuse(stream: TcpStream, lingering: &Arc<AtomicUsize>) {
    // Non-blocking still: plain calls need no readiness from the reactor.
    let Ok(stream) = stream.into_std() else {
        return;
    };
    // What the client has sent already is read first, so that closing
    // does not reset the connection.
    let mut read = discard_received(&stream, 0);
    // Short of a full write, the client gets a cut answer: it fits an
    // empty send buffer, so this does not happen.
    let _ = (&stream).write(RESPONSE);
    if stream.shutdown(Shutdown::Write).is_err() {
        return;
    }
    if lingering.fetch_add(1, Ordering::AcqRel) >= MAX_LINGERING {
        lingering.fetch_sub(1, Ordering::AcqRel);
        discard_received(&stream, read);
        return;
    }
    let lingering = Arc::clone(lingering);
    tokio::spawn(async move {
        if let Ok(mut stream) = TcpStream::from_std(stream) {
            let _ = tokio::time::timeout(LINGER, drain(&mut stream, &mut read)).await;
        }
        lingering.fetch_sub(1, Ordering::AcqRel);
    });
}

/// Reads and drops what has arrived, without waiting; the total so far.
fn discard_received(mut stream: &StdStream, mut read: usize) -> usize {
    let mut buf = [0u8; 4096];
    while read < READ_LIMIT {
        match stream.read(&mut buf) {
            Ok(n) if n > 0 => read += n,
            _ => break,
        }
    }
    read
}

/// Reads and drops until the client closes its side.
async fn drain(stream: &mut TcpStream, read: &mut usize) {
    let mut buf = [0u8; 4096];
    while *read < READ_LIMIT {
        if stream.readable().await.is_err() {
            return;
        }
        match stream.try_read(&mut buf) {
            Ok(0) => return,
            Ok(n) => *read += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_well_formed() {
        let text = String::from_utf8_lossy(RESPONSE);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or_default();
        assert!(head.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(head.contains("\r\nConnection: close"));
        assert!(head.contains(&format!("\r\nContent-Length: {}", body.len())));
    }
}
