//! The HTTP side: /metrics and /healthz, served by hyper on one thread.
//!
//! Handlers only clone the current exposition (a reference count) and write
//! it out, so a scrape never collects, never renders and never waits for the
//! collector. hyper is event-driven: a slow or stalled client holds a
//! connection slot, not a thread. Slots are bounded, in all and per peer,
//! and handed out by `pool`; a connection refused a slot is answered 503
//! by `refuse`.

use std::convert::Infallible;
use std::future::{poll_fn, Future};
use std::net::TcpListener as StdListener;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, ACCEPT, ALLOW, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use super::exposition::{OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};
use super::pool::{self, Id, Pool};
use super::refuse::refuse;
use super::state::Shared;

/// Connections served at once (see `pool` for who gets one).
pub const MAX_CONNECTIONS: usize = pool::LIMITS.total;
/// A client has this long to send a request's headers, from connecting or
/// from its previous response: hyper counts idle keep-alive time too, so
/// this is also how long an idle connection stays open. A few seconds is
/// plenty for any real client, and it bounds how long a connection held
/// open by someone who sends nothing (or dribbles headers) takes a slot.
/// Prometheus scrapes every 15 s or more and simply reconnects.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// After this long a connection is asked to close once its current request
/// is answered (clients reconnect), so that a client which stops reading
/// cannot hold a slot for ever.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(300);
/// How long a connection asked to close may take to finish its response.
const CLOSE_GRACE: Duration = Duration::from_secs(30);

/// How much nicer than the collector the serving thread runs.
const SERVING_NICENESS: i32 = 10;

/// Serves until the listener fails; runs on the calling thread, which is
/// made nicer first: when scrapers keep the CPUs busy, the collector (and
/// everything else on the machine) still gets them first.
pub fn serve(listener: StdListener, shared: Arc<Shared>) -> anyhow::Result<()> {
    lower_priority();
    deepen_backlog(&listener);
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    runtime.block_on(accept_loop(listener, shared))
}

/// The pool of connections, shared by the accept loop and the connection
/// tasks. Its handle per connection is the sender whose drop tells the
/// connection's task that it has been displaced.
type Connections = Arc<Mutex<Pool<oneshot::Sender<()>>>>;

fn lock(connections: &Connections) -> MutexGuard<'_, Pool<oneshot::Sender<()>>> {
    // Bookkeeping only: a panic elsewhere leaves nothing half-done in it.
    connections.lock().unwrap_or_else(|e| e.into_inner())
}

async fn accept_loop(listener: StdListener, shared: Arc<Shared>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let connections: Connections = Arc::new(Mutex::new(Pool::new(pool::LIMITS)));
    let lingering = Arc::new(AtomicUsize::new(0));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait for
                // connections to close instead of spinning.
                eprintln!("bpftop: accepting a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (displace, displaced) = oneshot::channel();
        let admitted = lock(&connections).admit(peer.ip(), Instant::now(), displace);
        match admitted {
            Ok(admitted) => {
                // Dropping the displaced connection's sender closes it.
                drop(admitted.displaced);
                let slot = Slot {
                    connections: Arc::clone(&connections),
                    id: admitted.id,
                };
                tokio::spawn(connection(
                    stream,
                    slot,
                    displaced,
                    Arc::clone(&shared),
                    Arc::clone(&lingering),
                ));
            }
            Err(_) => refuse(stream, &lingering),
        }
    }
}

/// Serves one connection until it closes, times out or is displaced.
async fn connection(
    stream: TcpStream,
    slot: Slot,
    mut displaced: oneshot::Receiver<()>,
    shared: Arc<Shared>,
    lingering: Arc<AtomicUsize>,
) {
    let (connections, id) = (Arc::clone(&slot.connections), slot.id);
    let asked = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&asked);
    let service = service_fn(move |req| {
        // A complete request: the connection is in use, not idle.
        seen.store(true, Ordering::Relaxed);
        lock(&connections).touch(id, Instant::now());
        let response = respond(&req, &shared);
        async move { Ok::<_, Infallible>(response) }
    });
    let mut conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
    // Asked to close after CONNECTION_LIFETIME, dropped if it has not
    // within CLOSE_GRACE.
    match tokio::time::timeout(
        CONNECTION_LIFETIME,
        until_displaced(&mut conn, &mut displaced),
    )
    .await
    {
        Ok(Ended::Done) => {}
        Ok(Ended::Displaced) => {
            // A connection that never completed a request has had nothing
            // written to it, so it can still be told why it is closed; one
            // that has is between requests, and is closed as an idle
            // keep-alive connection would be.
            if !asked.load(Ordering::Relaxed) {
                refuse(conn.into_parts().io.into_inner(), &lingering);
            }
        }
        Err(_) => {
            Pin::new(&mut conn).graceful_shutdown();
            let closing = until_displaced(&mut conn, &mut displaced);
            let _ = tokio::time::timeout(CLOSE_GRACE, closing).await;
        }
    }
    drop(slot);
}

enum Ended {
    Done,
    Displaced,
}

/// Runs `work` until it is done or the pool has dropped the sender of
/// `displaced` (the connection was displaced by another).
async fn until_displaced<F: Future + Unpin>(
    mut work: F,
    displaced: &mut oneshot::Receiver<()>,
) -> Ended {
    poll_fn(|cx| {
        if Pin::new(&mut *displaced).poll(cx).is_ready() {
            return Poll::Ready(Ended::Displaced);
        }
        Pin::new(&mut work).poll(cx).map(|_| Ended::Done)
    })
    .await
}

/// Connections the kernel completes and queues before they are accepted.
/// std listens with 128; a burst beyond what the serving thread has
/// accepted so far would have its handshakes dropped, and those clients
/// would retry only a second later. The kernel caps this at
/// net.core.somaxconn.
const BACKLOG: i32 = 1024;

fn deepen_backlog(listener: &StdListener) {
    use std::os::fd::AsRawFd;
    // SAFETY: listen on a socket we own has no memory-safety
    // preconditions; calling it again on a listening socket only changes
    // the backlog. Failing keeps std's.
    unsafe {
        libc::listen(listener.as_raw_fd(), BACKLOG);
    }
}

/// Raises the calling thread's nice value (Linux keeps one per thread);
/// threads it starts later inherit it, those started before keep theirs.
fn lower_priority() {
    // SAFETY: gettid, getpriority and setpriority have no memory-safety
    // preconditions; errno is cleared first because -1 is a valid
    // priority.
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        *libc::__errno_location() = 0;
        let now = libc::getpriority(libc::PRIO_PROCESS, tid);
        if now == -1 && *libc::__errno_location() != 0 {
            return;
        }
        // Failing (a seccomp filter, say) only loses the preference.
        libc::setpriority(libc::PRIO_PROCESS, tid, (now + SERVING_NICENESS).min(19));
    }
}

/// Frees a connection's place in the pool when its task ends.
struct Slot {
    connections: Connections,
    id: Id,
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.connections).release(self.id);
    }
}

fn plain(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// The whole routing: GET or HEAD, no body, two paths.
pub fn respond<B>(req: &Request<B>, shared: &Shared) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    if has_body(req) {
        // The body is never read; closing is the only way to skip it.
        let mut r = plain(StatusCode::PAYLOAD_TOO_LARGE, "requests take no body\n");
        r.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
        return r;
    }
    match req.uri().path() {
        "/metrics" => {
            let published = shared.current();
            shared.count_scrape();
            let (body, content_type) = if wants_openmetrics(req) {
                (
                    published.exposition.openmetrics.clone(),
                    OPENMETRICS_CONTENT_TYPE,
                )
            } else {
                (published.exposition.text.clone(), TEXT_CONTENT_TYPE)
            };
            let mut r = Response::new(Full::new(body));
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            r
        }
        "/healthz" => match shared.health() {
            Ok(()) => plain(StatusCode::OK, "ok\n"),
            Err(why) => {
                let mut r = Response::new(Full::new(Bytes::from(why + "\n")));
                *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                r
            }
        },
        _ => plain(
            StatusCode::NOT_FOUND,
            "not found: try /metrics or /healthz\n",
        ),
    }
}

fn has_body<B>(req: &Request<B>) -> bool {
    let length = req
        .headers()
        .get(CONTENT_LENGTH)
        .is_some_and(|v| v.as_bytes() != b"0");
    length || req.headers().contains_key(hyper::header::TRANSFER_ENCODING)
}

/// Prometheus asks for OpenMetrics first; anything else (curl, promtool,
/// older scrapers) gets the classic text format.
fn wants_openmetrics<B>(req: &Request<B>) -> bool {
    req.headers().get_all(ACCEPT).iter().any(|v| {
        v.to_str()
            .is_ok_and(|s| s.contains("application/openmetrics-text"))
    })
}

#[cfg(test)]
mod tests {
    use super::super::exposition::Exposition;
    use super::*;
    use std::time::Instant;

    fn shared() -> Shared {
        let s = Shared::new(Duration::from_secs(5));
        s.publish(
            Exposition {
                openmetrics: Bytes::from_static(b"om\n# EOF\n"),
                text: Bytes::from_static(b"text\n"),
            },
            Instant::now(),
        );
        s
    }

    fn request(method: Method, path: &str) -> hyper::http::request::Builder {
        Request::builder().method(method).uri(path)
    }

    fn body(r: &Response<Full<Bytes>>) -> String {
        use http_body_util::BodyExt;
        let rt = tokio::runtime::Builder::new_current_thread().build();
        let Ok(rt) = rt else { return String::new() };
        let bytes = rt
            .block_on(r.body().clone().collect())
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn status(b: hyper::http::request::Builder, s: &Shared) -> (StatusCode, String) {
        let req = b.body(()).unwrap_or_default();
        let r = respond(&req, s);
        (r.status(), body(&r))
    }

    #[test]
    fn metrics_are_negotiated_and_counted() {
        let s = shared();
        assert_eq!(
            status(request(Method::GET, "/metrics"), &s),
            (StatusCode::OK, "text\n".into())
        );
        let om = request(Method::GET, "/metrics").header(
            ACCEPT,
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        );
        assert_eq!(status(om, &s), (StatusCode::OK, "om\n# EOF\n".into()));
        assert_eq!(s.scrapes(), 2);
        assert_eq!(
            status(request(Method::GET, "/healthz"), &s),
            (StatusCode::OK, "ok\n".into())
        );
    }

    #[test]
    fn other_methods_paths_and_bodies_are_refused() {
        let s = shared();
        assert_eq!(
            status(request(Method::POST, "/metrics"), &s).0,
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            status(request(Method::GET, "/nope"), &s).0,
            StatusCode::NOT_FOUND
        );
        let with_body = request(Method::GET, "/metrics").header(CONTENT_LENGTH, "12");
        assert_eq!(status(with_body, &s).0, StatusCode::PAYLOAD_TOO_LARGE);
        let chunked = request(Method::GET, "/metrics").header("transfer-encoding", "chunked");
        assert_eq!(status(chunked, &s).0, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(s.scrapes(), 0);
    }
}
