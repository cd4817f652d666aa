//! A connection's way out. Every byte written to its socket goes through its outlet, in
//! order: the handshake, replies, pings and pongs, the close frame — all written by the
//! session through tungstenite over [`OutletIo`] — and pushes, written by the node's
//! fan-out walkers ([`crate::hub`]) straight from a frame encoded once per node.
//!
//! A write is tried at once (`try_write`, no task wake-up, no waiting); only what the
//! socket does not take is queued, for the connection's writer task, which sleeps unless
//! the socket would block. A socket that takes nothing for the write time-out, or lets
//! more than [`Outlet::tcp`]'s `max_queued` pushes pile up, is a slow consumer: the
//! outlet ends and the session closes the connection. The session's own writes
//! (replies, pongs, the close) are never refused: they are bounded by the session
//! (commands in flight, the user's command rate) and by the write time-out.

use std::{
    collections::VecDeque,
    io,
    pin::Pin,
    sync::{
        Arc, Mutex, MutexGuard, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll, ready},
    time::Duration,
};

use bytes::{Buf as _, Bytes};
use plenary_proto::WireFormat;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    time::{Instant, timeout},
};
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use crate::outbound::Outbound;

/// After a session ends, its writer goes on writing what is queued (its last replies
/// and the close frame) for at most this long.
const FINAL_FLUSH: Duration = Duration::from_secs(1);

/// Why an outlet ended before its session did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The socket took nothing for the write time-out, or too many pushes piled up.
    SlowConsumer,
    /// Writing failed: the connection is broken.
    WriteFailed,
}

/// Where an outlet's bytes go.
enum Wire {
    Tcp(TcpStream),
    /// Whole messages into a channel: the session's unit tests, which run without
    /// sockets. Never blocks, never fails while the receiver lives.
    #[cfg(test)]
    Messages(tokio::sync::mpsc::UnboundedSender<tokio_tungstenite::tungstenite::Message>),
}

/// One connection's way out.
pub struct Outlet {
    id: u64,
    wire: Wire,
    format: OnceLock<WireFormat>,
    /// Bytes not written yet, oldest first (a chunk may be the rest of a frame).
    queue: Mutex<VecDeque<Bytes>>,
    /// Pushes that may wait in `queue` before the connection is a slow consumer.
    max_queued: usize,
    write_timeout: Duration,
    /// Tells the writer task something is queued.
    wake: tokio::sync::Notify,
    /// Cancelled when the outlet ends: it failed, or the session is over.
    ended: CancellationToken,
    /// The same, for the hot path: a token's `is_cancelled` takes a lock.
    closed: AtomicBool,
    failure: OnceLock<Failure>,
    /// Whether the user wants toasts (their setting, learnt from the private stream on
    /// this connection; until it is open, the default: yes).
    toasts: AtomicBool,
}

impl std::fmt::Debug for Outlet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outlet")
            .field("format", &self.format.get())
            .field("failure", &self.failure.get())
            .finish_non_exhaustive()
    }
}

impl Outlet {
    fn new(wire: Wire, write_timeout: Duration, max_queued: usize) -> Self {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Outlet {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            wire,
            format: OnceLock::new(),
            queue: Mutex::new(VecDeque::new()),
            max_queued: max_queued.max(1),
            write_timeout,
            wake: tokio::sync::Notify::new(),
            ended: CancellationToken::new(),
            closed: AtomicBool::new(false),
            failure: OnceLock::new(),
            toasts: AtomicBool::new(true),
        }
    }

    /// The outlet of a TCP socket, with its writer task.
    pub fn tcp(stream: TcpStream, write_timeout: Duration, max_queued: usize) -> Arc<Self> {
        let outlet = Arc::new(Outlet::new(Wire::Tcp(stream), write_timeout, max_queued));
        tokio::spawn(write_loop(outlet.clone()));
        outlet
    }

    /// An outlet of whole messages into `messages` (tests).
    #[cfg(test)]
    pub fn messages(
        messages: tokio::sync::mpsc::UnboundedSender<tokio_tungstenite::tungstenite::Message>,
        format: WireFormat,
    ) -> Arc<Self> {
        let outlet = Outlet::new(Wire::Messages(messages), Duration::from_secs(10), 1 << 20);
        outlet.set_format(format);
        Arc::new(outlet)
    }

    /// The wire format the handshake chose: pushes are written in it.
    pub fn set_format(&self, format: WireFormat) {
        let _ = self.format.set(format);
    }

    /// Pushes that may wait before the connection is a slow consumer.
    pub(crate) fn max_queued(&self) -> usize {
        self.max_queued
    }

    /// Which of `n` fan-out walkers writes this connection's pushes.
    pub(crate) fn walker(&self, n: usize) -> usize {
        (self.id % n.max(1) as u64) as usize
    }

    fn format(&self) -> WireFormat {
        self.format.get().copied().unwrap_or(WireFormat::Json)
    }

    pub fn set_toasts(&self, toasts: bool) {
        self.toasts.store(toasts, Ordering::Relaxed);
    }

    /// Resolves when the outlet ended (failed, or finished).
    pub fn ended(&self) -> WaitForCancellationFuture<'_> {
        self.ended.cancelled()
    }

    /// Why the outlet ended early, if it failed.
    pub fn failure(&self) -> Option<Failure> {
        self.failure.get().copied()
    }

    /// Ends the outlet early.
    pub(crate) fn fail(&self, failure: Failure) {
        let _ = self.failure.set(failure);
        self.finish();
    }

    /// The session is over: the writer writes what is still queued (within
    /// [`FINAL_FLUSH`]) and stops.
    pub fn finish(&self) {
        self.closed.store(true, Ordering::Release);
        self.ended.cancel();
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn stream(&self) -> Option<&TcpStream> {
        match &self.wire {
            Wire::Tcp(stream) => Some(stream),
            #[cfg(test)]
            Wire::Messages(_) => None,
        }
    }

    fn queue(&self) -> MutexGuard<'_, VecDeque<Bytes>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes a push, as this connection's user wants it (without the toast flag when
    /// they turned toasts off). False when the outlet has ended, or ends now because
    /// the push found too many others waiting (a slow consumer).
    pub fn push(&self, outbound: &Outbound) -> bool {
        let outbound = outbound.for_toasts(self.toasts.load(Ordering::Relaxed));
        match &self.wire {
            Wire::Tcp(_) => self.write(outbound.framed(self.format()), true),
            #[cfg(test)]
            Wire::Messages(tx) => {
                !self.is_closed() && tx.send(outbound.message(self.format())).is_ok()
            }
        }
    }

    /// Notes a private `settings` push's toast setting.
    pub fn learn_toasts(&self, outbound: &Outbound) {
        if let Some(toasts) = outbound.toast_setting {
            self.set_toasts(toasts);
        }
    }

    /// Writes `bytes` now if nothing is queued before them, else queues them; what the
    /// socket does not take at once is queued for the writer task. A push (`bounded`)
    /// finding `max_queued` chunks waiting ends the outlet as a slow consumer.
    fn write(&self, bytes: &Bytes, bounded: bool) -> bool {
        let Some(stream) = self.stream() else {
            return false;
        };
        if self.is_closed() {
            return false;
        }
        let mut queue = self.queue();
        if !queue.is_empty() {
            if bounded && queue.len() >= self.max_queued {
                drop(queue);
                self.fail(Failure::SlowConsumer);
                return false;
            }
            queue.push_back(bytes.clone());
            return true;
        }
        let mut written = 0;
        while written < bytes.len() {
            match stream.try_write(&bytes[written..]) {
                Ok(0) => break,
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    queue.push_back(bytes.slice(written..));
                    drop(queue);
                    self.wake.notify_one();
                    return true;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        if written < bytes.len() {
            drop(queue);
            self.fail(Failure::WriteFailed);
            return false;
        }
        true
    }
}

/// How far a flush of the queue got.
enum Flushed {
    All,
    Blocked,
    Failed,
}

/// Writes queued bytes until the queue is empty or the socket would block.
fn flush_queue(stream: &TcpStream, queue: &mut VecDeque<Bytes>) -> Flushed {
    while let Some(front) = queue.front_mut() {
        match stream.try_write(front) {
            Ok(0) => return Flushed::Failed,
            Ok(n) if n == front.len() => {
                queue.pop_front();
            }
            Ok(n) => front.advance(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Flushed::Blocked,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Flushed::Failed,
        }
    }
    Flushed::All
}

/// A TCP outlet's writer task: asleep unless the socket would block. A socket that
/// takes nothing for the write time-out ends the outlet as a slow consumer.
async fn write_loop(outlet: Arc<Outlet>) {
    let Some(stream) = outlet.stream() else {
        return;
    };
    'wait: loop {
        tokio::select! {
            biased;
            () = outlet.ended.cancelled() => break 'wait,
            () = outlet.wake.notified() => {}
        }
        loop {
            let flushed = flush_queue(stream, &mut outlet.queue());
            match flushed {
                Flushed::All => continue 'wait,
                Flushed::Failed => return outlet.fail(Failure::WriteFailed),
                Flushed::Blocked => {}
            }
            tokio::select! {
                biased;
                () = outlet.ended.cancelled() => break 'wait,
                ready = timeout(outlet.write_timeout, stream.writable()) => match ready {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return outlet.fail(Failure::WriteFailed),
                    Err(_) => return outlet.fail(Failure::SlowConsumer),
                },
            }
        }
    }
    if outlet.failure().is_some() {
        return;
    }
    // The session is over: its last replies and close frame may still be queued.
    let deadline = Instant::now() + FINAL_FLUSH;
    loop {
        match flush_queue(stream, &mut outlet.queue()) {
            Flushed::Blocked => {}
            Flushed::All | Flushed::Failed => return,
        }
        if !matches!(
            tokio::time::timeout_at(deadline, stream.writable()).await,
            Ok(Ok(()))
        ) {
            return;
        }
    }
}

/// The socket as tungstenite sees it: reads straight from the socket, writes through
/// the outlet, so tungstenite's frames (handshake, replies, pongs, close) stay whole
/// and in order with the pushes. A write is always taken whole and at once: the outlet
/// queues what the socket does not take, and its writer enforces the time-out.
pub struct OutletIo(pub Arc<Outlet>);

impl AsyncRead for OutletIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let Some(stream) = self.0.stream() else {
            return Poll::Ready(Ok(()));
        };
        loop {
            ready!(stream.poll_read_ready(cx))?;
            match stream.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for OutletIo {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.0.write(&Bytes::copy_from_slice(buf), false) {
            Poll::Ready(Ok(buf.len()))
        } else {
            Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                match self.0.failure() {
                    Some(Failure::SlowConsumer) => "slow consumer: the outlet ended",
                    _ => "the connection's outlet ended",
                },
            )))
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::{io::AsyncReadExt as _, net::TcpListener};

    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (client, accepted) = tokio::join!(client, listener.accept());
        (accepted.unwrap().0, client.unwrap())
    }

    #[tokio::test]
    async fn bytes_arrive_whole_and_in_order_whether_written_at_once_or_queued() {
        let (server, mut client) = pair().await;
        let outlet = Outlet::tcp(server, Duration::from_secs(10), 1 << 20);
        // Far more than the socket buffers take at once: most of it is queued.
        let chunks: Vec<Bytes> = (0..2_000u32)
            .map(|i| Bytes::from(vec![(i % 251) as u8; 1_000]))
            .collect();
        for chunk in &chunks {
            assert!(outlet.write(chunk, false));
        }
        let mut received = vec![0u8; 2_000 * 1_000];
        client.read_exact(&mut received).await.unwrap();
        assert_eq!(received, chunks.concat());
        assert_eq!(outlet.failure(), None);
    }

    #[tokio::test]
    async fn a_socket_that_takes_nothing_is_a_slow_consumer() {
        let (server, _client) = pair().await;
        let outlet = Outlet::tcp(server, Duration::from_millis(200), 1 << 20);
        let chunk = Bytes::from(vec![7u8; 64 * 1024]);
        // The client never reads: the socket buffers fill, the rest waits in the queue
        // until the write time-out.
        while outlet.write(&chunk, false) && outlet.queue().is_empty() {}
        outlet.ended().await;
        assert_eq!(outlet.failure(), Some(Failure::SlowConsumer));
        assert!(
            !outlet.write(&chunk, false),
            "an ended outlet takes nothing"
        );
    }

    #[tokio::test]
    async fn too_many_queued_pushes_end_the_outlet_at_once() {
        let (server, _client) = pair().await;
        let outlet = Outlet::tcp(server, Duration::from_secs(60), 4);
        let chunk = Bytes::from(vec![7u8; 64 * 1024]);
        while outlet.write(&chunk, true) {}
        assert_eq!(outlet.failure(), Some(Failure::SlowConsumer));
        assert!(outlet.queue().len() <= 4);
    }
}
