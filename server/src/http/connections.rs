//! The accept loop. `axum::serve` has no timers and no limit, so a client that
//! trickles its headers, or thousands that connect and wait, would hold
//! sockets forever. Here each connection takes a slot of `max_connections`
//! (when none is free, new clients wait in the kernel's listen queue), one
//! client address may hold at most `max_connections_per_address` of them
//! (trusted proxies excepted), a connection must send its headers within
//! `header_read_timeout` (idle keep-alive connections included), a write
//! the client does not read for `write_timeout` ends it, and the router is
//! told the peer's address.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use domain::ports::ClientAddr;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

use super::counted::Counted;
use super::HttpSettings;

/// Serves `router` on `listener` until `shutdown` is cancelled; then stops
/// accepting, lets requests in progress finish for up to `grace`, and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: &HttpSettings,
    shutdown: CancellationToken,
    grace: Duration,
) {
    let slots = Arc::new(Semaphore::new(settings.max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout);
    let graceful = GracefulShutdown::new();
    // Connections open per client (an IPv4 address or an IPv6 /64).
    let per_address = Arc::new(Counted::<IpAddr>::default());
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = shutdown.cancelled() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    wait_after_accept_error(&err).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let trusted = settings
            .trusted_proxies
            .iter()
            .any(|net| net.contains(&peer.ip().to_canonical()));
        let held = if trusted {
            None
        } else {
            let client = ClientAddr(peer.ip()).key();
            match per_address.take(client, settings.max_connections_per_address, usize::MAX) {
                Ok(held) => Some(held),
                // Over its share: closed at once, its slot back in the pool.
                Err(_) => continue,
            }
        };
        let stream = WriteDeadline::new(stream, settings.write_timeout);
        let service =
            router
                .clone()
                .map_request(move |mut request: axum::http::Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request
                });
        let connection = graceful
            .watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
        tokio::spawn(async move {
            // Errors here are the client's (reset, timed out): nothing to report.
            let _ = connection.await;
            drop((slot, held));
        });
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace; closing them");
    }
}

/// A socket whose writes fail once the client has not taken any data for
/// `timeout`: hyper has no write timeout, so a client that stops reading a
/// large answer would otherwise hold its connection forever.
struct WriteDeadline<S> {
    inner: S,
    timeout: Duration,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> WriteDeadline<S> {
    fn new(inner: S, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            stalled: None,
        }
    }

    /// Passes a write's progress on; a write still waiting when the deadline
    /// (armed when it first had to wait) passes becomes an error.
    fn guard<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        use std::future::Future as _;
        match poll {
            Poll::Ready(result) => {
                self.stalled = None;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let timeout = self.timeout;
                let stalled = self
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match stalled.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client stopped reading",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteDeadline<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.guard(cx, poll)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.guard(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.guard(cx, poll)
    }
}

/// A failed accept is the peer's problem (it reset before we took it) or a
/// lack of file descriptors; the latter clears as connections close, so wait
/// a moment instead of spinning.
async fn wait_after_accept_error(err: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %err, "accept failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Raises this process's soft limit on open files to what `connections`
/// sockets plus the database pools and files need, as far as the hard limit
/// allows, and says so when that is not enough.
pub fn ensure_file_limit(connections: usize) {
    // Sockets for the database pools, the receivers being called, and files.
    const HEADROOM: u64 = 512;
    let wanted = connections as u64 + HEADROOM;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 || limit.rlim_cur >= wanted {
            return;
        }
        let raised = libc::rlimit {
            rlim_cur: wanted.min(limit.rlim_max),
            rlim_max: limit.rlim_max,
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
            limit = raised;
        }
    }
    if limit.rlim_cur < wanted {
        tracing::warn!(
            open_file_limit = limit.rlim_cur,
            max_connections = connections,
            "the open-file limit is below --max-connections plus {HEADROOM}; \
             raise `ulimit -n` or lower --max-connections"
        );
    }
}

/// The peer's socket address as the accept loop recorded it.
pub fn peer_addr<B>(request: &axum::http::Request<B>) -> Option<SocketAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test(start_paused = true)]
    async fn a_write_the_client_does_not_take_fails_after_the_timeout() {
        // A client with a 64-byte window that never reads.
        let (server, _client) = tokio::io::duplex(64);
        let mut socket = WriteDeadline::new(server, Duration::from_secs(30));
        let started = tokio::time::Instant::now();
        let error = socket.write_all(&[0u8; 1024]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_keeps_reading_is_never_cut_off() {
        let (server, mut client) = tokio::io::duplex(64);
        let reader = tokio::spawn(async move {
            let mut buffer = [0u8; 16];
            let mut total = 0;
            while total < 4096 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                total += tokio::io::AsyncReadExt::read(&mut client, &mut buffer)
                    .await
                    .unwrap();
            }
        });
        let mut socket = WriteDeadline::new(server, Duration::from_secs(30));
        // Far longer than the timeout in all, but never 30 s without progress.
        socket.write_all(&[0u8; 4096]).await.unwrap();
        reader.await.unwrap();
    }
}
