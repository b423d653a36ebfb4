//! The HTTP side: /metrics and /healthz, served by hyper on one thread.
//!
//! Handlers only clone the current exposition (a reference count) and write
//! it out, so a scrape never collects, never renders and never waits for the
//! collector. hyper is event-driven: a slow or stalled client holds a
//! connection slot, not a thread, and the number of slots is bounded.

use std::convert::Infallible;
use std::net::TcpListener as StdListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, ACCEPT, ALLOW, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};

use super::exposition::{OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};
use super::state::Shared;

/// Connections served at once; more are closed as soon as they are
/// accepted, so a flood of clients costs a bounded amount of memory.
pub const MAX_CONNECTIONS: usize = 256;
/// A client has this long to send a request's headers; hyper counts idle
/// keep-alive time too, so this is also how long an idle connection stays
/// open (long enough for the usual 15 s scrape interval to reuse it).
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
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
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    runtime.block_on(accept_loop(listener, shared))
}

async fn accept_loop(listener: StdListener, shared: Arc<Shared>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let open = Arc::new(AtomicUsize::new(0));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: wait for
                // connections to close instead of spinning.
                eprintln!("bpftop: accepting a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if open.fetch_add(1, Ordering::AcqRel) >= MAX_CONNECTIONS {
            open.fetch_sub(1, Ordering::AcqRel);
            drop(stream);
            continue;
        }
        let slot = Slot(Arc::clone(&open));
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let response = respond(&req, &shared);
                async move { Ok::<_, Infallible>(response) }
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            // Asked to close after CONNECTION_LIFETIME, dropped if it has
            // not within CLOSE_GRACE.
            let mut conn = std::pin::pin!(conn);
            if tokio::time::timeout(CONNECTION_LIFETIME, conn.as_mut())
                .await
                .is_err()
            {
                conn.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(CLOSE_GRACE, conn).await;
            }
            drop(slot);
        });
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

/// Frees a connection slot when the connection's task ends.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
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
