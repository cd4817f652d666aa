//! The background tasks of one socket: a writer that sends queued frames, and a reader
//! that matches replies to pending commands, queues pushes and records how the
//! connection ended.
//!
//! Pushes go through a small backlog before the user's bounded push queue. While the
//! queue is full the reader stops reading the socket (back-pressure to the server),
//! except while a command awaits its reply: then it keeps reading, up to a backlog as
//! large as the queue, so a caller that waits for a reply without taking pushes does
//! not stall itself, and without limit while a join is pending, so the replayed pushes
//! of one join never hold up the reply to the next (as in a reconnect).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use plenary_proto::WireFormat;
use plenary_proto::v1::{
    ClientFrame, Position, Push, Reply, client_frame::Command, reply, server_frame,
};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::codec;
use crate::error::{ClientError, CloseInfo};
use crate::position::{self, Tracker};
use crate::push::LinkState;
use crate::transport::Socket;

/// Frames waiting for the writer.
const OUT_QUEUE: usize = 256;
/// How long the reader keeps reading after a close frame, so the close reply is sent.
const CLOSE_LINGER: Duration = Duration::from_secs(1);

/// Locks a mutex, ignoring poisoning: every critical section here leaves the data
/// consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the reader must do besides answering when a reply arrives.
enum PendingKind {
    Other,
    Join(String),
    Leave(String),
    /// The reader's own rejoin of a context after a `resync` notice.
    Rejoin(String),
}

impl PendingKind {
    /// Joins keep the reader reading (see the module documentation).
    fn is_join(&self) -> bool {
        matches!(self, PendingKind::Join(_) | PendingKind::Rejoin(_))
    }
}

struct Pending {
    kind: PendingKind,
    reply: oneshot::Sender<Option<reply::Result>>,
}

/// State shared by the connection handle and its reader task.
struct ConnState {
    /// Commands awaiting their reply, by id; `None` once the connection has ended.
    pending: Mutex<Option<HashMap<u64, Pending>>>,
    /// How many entries of `pending` there are, and how many of them are joins.
    pending_count: AtomicUsize,
    pending_joins: AtomicUsize,
    /// Tells the reader that a command is now pending.
    wake: Notify,
    /// How the connection ended.
    ended: Mutex<Option<CloseInfo>>,
}

impl ConnState {
    fn ended_error(&self) -> ClientError {
        lock(&self.ended)
            .clone()
            .unwrap_or_else(|| CloseInfo {
                code: CloseInfo::ABNORMAL,
                reason: "connection ended".to_owned(),
            })
            .into()
    }

    fn register(&self, id: u64, pending: Pending) -> bool {
        let is_join = pending.kind.is_join();
        let mut map = lock(&self.pending);
        let Some(map) = map.as_mut() else {
            return false;
        };
        map.insert(id, pending);
        self.pending_count.fetch_add(1, Ordering::SeqCst);
        if is_join {
            self.pending_joins.fetch_add(1, Ordering::SeqCst);
        }
        self.wake.notify_one();
        true
    }

    fn unregister(&self, id: u64) -> Option<Pending> {
        let pending = lock(&self.pending).as_mut()?.remove(&id)?;
        self.pending_count.fetch_sub(1, Ordering::SeqCst);
        if pending.kind.is_join() {
            self.pending_joins.fetch_sub(1, Ordering::SeqCst);
        }
        Some(pending)
    }

    /// Fails every waiting command (their senders are dropped) and refuses new ones.
    fn fail_pending(&self) {
        let pending = lock(&self.pending).take();
        drop(pending);
        self.pending_count.store(0, Ordering::SeqCst);
        self.pending_joins.store(0, Ordering::SeqCst);
    }

    fn record_end(&self, info: CloseInfo) {
        let mut ended = lock(&self.ended);
        if ended.is_none() {
            *ended = Some(info);
        }
    }
}

/// Everything the reader task needs from the client, which outlives connections.
pub(crate) struct Links {
    /// Command ids, shared with the client: the reader sends rejoins of its own.
    pub(crate) ids: Arc<AtomicU64>,
    pub(crate) tracker: Arc<Mutex<Tracker>>,
    pub(crate) pushes: mpsc::Sender<Push>,
    pub(crate) link: watch::Sender<LinkState>,
    pub(crate) generation: u64,
}

/// One open socket and its tasks. Dropping it stops the tasks (and so closes the
/// socket without a close frame).
pub(crate) struct Connection {
    format: WireFormat,
    out: mpsc::Sender<Message>,
    state: Arc<ConnState>,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl Connection {
    /// Starts the tasks for `socket` and marks the link open for `links.generation`.
    pub(crate) fn start(socket: Socket, format: WireFormat, links: Links) -> Self {
        let state = Arc::new(ConnState {
            pending: Mutex::new(Some(HashMap::new())),
            pending_count: AtomicUsize::new(0),
            pending_joins: AtomicUsize::new(0),
            wake: Notify::new(),
            ended: Mutex::new(None),
        });
        let (sink, stream) = socket.split();
        let (out, out_rx) = mpsc::channel(OUT_QUEUE);
        let (stop_writer, stop_rx) = oneshot::channel();
        links.link.send_replace(LinkState {
            generation: links.generation,
            open: true,
        });
        let writer = tokio::spawn(write_loop(sink, out_rx, stop_rx));
        let reader = Reader {
            state: Arc::clone(&state),
            backlog: VecDeque::new(),
            backlog_limit: links.pushes.max_capacity(),
            links,
            format,
            out: out.clone(),
            resyncing: HashMap::new(),
        };
        let reader = tokio::spawn(reader.run(stream, stop_writer));
        Connection {
            format,
            out,
            state,
            reader,
            writer,
        }
    }

    /// Sends `command` with `id` and waits for its reply's result. Error replies come
    /// back as `Some(reply::Result::Error)`; the caller maps them.
    pub(crate) async fn request(
        &self,
        id: u64,
        command: Command,
    ) -> Result<Option<reply::Result>, ClientError> {
        let kind = match &command {
            Command::Join(join) => PendingKind::Join(join.context_id.clone()),
            // The private stream is tracked like a context with an empty id.
            Command::PrivateOpen(_) => PendingKind::Join(String::new()),
            Command::Leave(leave) => PendingKind::Leave(leave.context_id.clone()),
            _ => PendingKind::Other,
        };
        let (reply, answer) = oneshot::channel();
        if !self.state.register(id, Pending { kind, reply }) {
            return Err(self.state.ended_error());
        }
        let frame = ClientFrame {
            id,
            command: Some(command),
        };
        if self
            .out
            .send(codec::encode(self.format, &frame))
            .await
            .is_err()
        {
            self.state.unregister(id);
            return Err(self.state.ended_error());
        }
        answer.await.map_err(|_| self.state.ended_error())
    }

    /// How the connection ended, once it has.
    pub(crate) fn close_info(&self) -> Option<CloseInfo> {
        lock(&self.state.ended).clone()
    }

    /// True until the connection has ended.
    pub(crate) fn is_open(&self) -> bool {
        lock(&self.state.ended).is_none() && !self.reader.is_finished()
    }

    /// Sends a normal close frame and waits up to `wait` for the server's answer.
    pub(crate) async fn close(mut self, wait: Duration) {
        let frame = Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        }));
        let _ = tokio::time::timeout(wait, async {
            if self.out.send(frame).await.is_ok() {
                let _ = (&mut self.reader).await;
            }
        })
        .await;
    }

    /// Stops both tasks and waits until they are gone, so nothing more is queued.
    pub(crate) async fn shutdown(&mut self) {
        self.reader.abort();
        self.writer.abort();
        let _ = (&mut self.reader).await;
        let _ = (&mut self.writer).await;
        self.state.fail_pending();
        self.state.record_end(CloseInfo {
            code: CloseInfo::ABNORMAL,
            reason: "closed by this client".to_owned(),
        });
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.reader.abort();
        self.writer.abort();
    }
}

async fn write_loop(
    mut sink: SplitSink<Socket, Message>,
    mut frames: mpsc::Receiver<Message>,
    mut stop: oneshot::Receiver<()>,
) {
    loop {
        let next = tokio::select! {
            frame = frames.recv() => frame,
            _ = &mut stop => None,
        };
        let Some(frame) = next else { break };
        if let Err(e) = sink.send(frame).await {
            tracing::debug!(error = %e, "WebSocket write failed");
            break;
        }
    }
}

/// A step of the ordered way from the socket to the push queue.
enum Item {
    Push(Box<Push>),
    /// Everything a join replayed is queued: its context continues after `position`.
    Joined {
        context_id: String,
        position: Position,
    },
}

/// What woke the reader.
enum Event {
    Room,
    Message(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
    Wake,
}

struct Reader {
    state: Arc<ConnState>,
    links: Links,
    backlog: VecDeque<Item>,
    backlog_limit: usize,
    format: WireFormat,
    /// For the reader's own rejoins.
    out: mpsc::Sender<Message>,
    /// Contexts being rejoined after a `resync` notice, with that notice (handed to the
    /// user if the rejoin cannot recover).
    resyncing: HashMap<String, Push>,
}

impl Reader {
    async fn run(mut self, mut stream: SplitStream<Socket>, stop_writer: oneshot::Sender<()>) {
        let ended = loop {
            self.flush_ready();
            let may_read = self.may_read();
            let event = tokio::select! {
                biased;
                permit = self.links.pushes.reserve(), if !self.backlog.is_empty() => {
                    // Free the slot again; `flush_ready` takes it.
                    drop(permit);
                    Event::Room
                }
                message = stream.next(), if may_read => Event::Message(message),
                () = self.state.wake.notified(), if !may_read => Event::Wake,
            };
            let message = match event {
                Event::Room | Event::Wake => continue,
                Event::Message(message) => message,
            };
            let message = match message {
                None => {
                    break CloseInfo {
                        code: CloseInfo::ABNORMAL,
                        reason: "connection ended without a close frame".to_owned(),
                    };
                }
                Some(Err(e)) => {
                    break CloseInfo {
                        code: CloseInfo::ABNORMAL,
                        reason: e.to_string(),
                    };
                }
                Some(Ok(Message::Close(frame))) => {
                    // Keep reading briefly so the close reply goes out and the server
                    // ends the TCP connection.
                    let _ = tokio::time::timeout(CLOSE_LINGER, async {
                        while let Some(Ok(_)) = stream.next().await {}
                    })
                    .await;
                    break match frame {
                        Some(frame) => CloseInfo {
                            code: frame.code.into(),
                            reason: frame.reason.to_string(),
                        },
                        None => CloseInfo {
                            code: CloseInfo::NO_STATUS,
                            reason: String::new(),
                        },
                    };
                }
                Some(Ok(message)) => message,
            };
            match codec::decode(&message) {
                None => {}
                Some(Ok(frame)) => match frame.frame {
                    Some(server_frame::Frame::Push(push)) => self.on_push(push),
                    Some(server_frame::Frame::Reply(reply)) => self.on_reply(reply),
                    None => tracing::warn!("server frame with neither reply nor push"),
                },
                Some(Err(e)) => tracing::warn!(error = %e, "undecodable frame from the server"),
            }
        };

        tracing::debug!(code = ended.code, reason = %ended.reason, "connection ended");
        self.state.record_end(ended);
        self.state.fail_pending();
        let _ = stop_writer.send(());
        // The user still gets every push that arrived, then the end of the stream.
        while !self.backlog.is_empty() {
            self.flush_ready();
            if self.backlog.is_empty() {
                break;
            }
            // `Err`: nobody reads the queue any more; the next flush drops the rest.
            drop(self.links.pushes.reserve().await);
        }
        let generation = self.links.generation;
        self.links.link.send_if_modified(|link| {
            let ours = link.generation == generation && link.open;
            if ours {
                link.open = false;
            }
            ours
        });
    }

    /// Whether to read the socket now (see the module documentation).
    fn may_read(&self) -> bool {
        self.backlog.is_empty()
            || self.state.pending_joins.load(Ordering::SeqCst) > 0
            || (self.state.pending_count.load(Ordering::SeqCst) > 0
                && self.backlog.len() < self.backlog_limit)
    }

    /// Moves backlog items into the push queue while it has room, recording positions.
    fn flush_ready(&mut self) {
        while let Some(item) = self.backlog.front() {
            match item {
                Item::Joined { .. } => {}
                Item::Push(_) => match self.links.pushes.try_reserve() {
                    Ok(permit) => {
                        if let Some(Item::Push(push)) = self.backlog.pop_front() {
                            let context_id = push.context_id.clone();
                            let position = position::of_push(&push);
                            permit.send(*push);
                            lock(&self.links.tracker).on_push(&context_id, position);
                        }
                        continue;
                    }
                    Err(mpsc::error::TrySendError::Full(())) => return,
                    // Nobody reads the queue: the push counts as delivered.
                    Err(mpsc::error::TrySendError::Closed(())) => {
                        if let Some(Item::Push(push)) = self.backlog.pop_front() {
                            lock(&self.links.tracker)
                                .on_push(&push.context_id, position::of_push(&push));
                        }
                        continue;
                    }
                },
            }
            if let Some(Item::Joined {
                context_id,
                position,
            }) = self.backlog.pop_front()
            {
                lock(&self.links.tracker).on_joined(&context_id, position);
            }
        }
    }

    /// A join (or the private stream's opening) succeeded: queue what it replayed,
    /// then its position.
    fn joined(&mut self, context_id: &str, ok: &plenary_proto::v1::JoinOk) {
        lock(&self.links.tracker).on_join_reply(context_id, ok);
        self.backlog
            .extend(ok.missed.iter().cloned().map(|p| Item::Push(Box::new(p))));
        self.backlog.push_back(Item::Joined {
            context_id: context_id.to_owned(),
            position: position::join_position(ok),
        });
        // Usually everything fits, so the position is current when the caller resumes.
        self.flush_ready();
    }

    /// Queues a push for the user. A `resync` notice (pushes of its context may have
    /// been missed) is answered here: the reader rejoins the context from the last
    /// position it received, and the user sees the missed pushes in order instead of the
    /// notice. Until that answer, the context's pushes are dropped: they were sent before
    /// the server took the rejoin, so its answer covers them.
    fn on_push(&mut self, push: Push) {
        if self.resyncing.contains_key(&push.context_id) {
            return;
        }
        if matches!(push.body, Some(plenary_proto::v1::push::Body::Resync(_)))
            && self.rejoin(&push.context_id)
        {
            self.resyncing.insert(push.context_id.clone(), push);
            return;
        }
        self.backlog.push_back(Item::Push(Box::new(push)));
    }

    /// Sends a rejoin of `context_id` from the last position received; false when the
    /// context is not joined, a join of it is already under way, or the writer is full.
    fn rejoin(&mut self, context_id: &str) -> bool {
        let Some(mut since) = lock(&self.links.tracker).position(context_id) else {
            return false;
        };
        let join_pending = lock(&self.state.pending).as_ref().is_some_and(|pending| {
            pending.values().any(|p| {
                matches!(&p.kind, PendingKind::Join(c) | PendingKind::Rejoin(c) if c == context_id)
            })
        });
        if join_pending {
            return false;
        }
        for item in &self.backlog {
            let position = match item {
                Item::Push(push) if push.context_id == context_id => position::of_push(push),
                Item::Joined {
                    context_id: c,
                    position,
                } if c == context_id => *position,
                _ => continue,
            };
            if position::key(position) > position::key(since) {
                since = position;
            }
        }
        let id = self.links.ids.fetch_add(1, Ordering::Relaxed);
        let command = if context_id.is_empty() {
            Command::PrivateOpen(plenary_proto::v1::PrivateOpen { since: Some(since) })
        } else {
            Command::Join(plenary_proto::v1::Join {
                context_id: context_id.to_owned(),
                since: Some(since),
            })
        };
        // Nobody waits for this answer: `on_reply` handles it.
        let (reply, _) = oneshot::channel();
        let kind = PendingKind::Rejoin(context_id.to_owned());
        if !self.state.register(id, Pending { kind, reply }) {
            return false;
        }
        let frame = ClientFrame {
            id,
            command: Some(command),
        };
        if self
            .out
            .try_send(codec::encode(self.format, &frame))
            .is_err()
        {
            self.state.unregister(id);
            return false;
        }
        tracing::debug!(
            context_id,
            "resync: rejoining from the last position received"
        );
        true
    }

    /// The answer to the reader's own rejoin: when it recovered, the missed pushes are
    /// queued as for any join; otherwise the user gets the `resync` notice and starts
    /// over with a join of their own, as without this client.
    fn rejoined(&mut self, context_id: &str, result: Option<&reply::Result>) {
        let notice = self.resyncing.remove(context_id);
        let ok = match result {
            Some(reply::Result::Join(ok)) if ok.recovered => Some(ok.clone()),
            Some(reply::Result::PrivateOpen(ok)) if ok.recovered => {
                Some(plenary_proto::v1::JoinOk {
                    epoch: ok.epoch,
                    seq: ok.seq,
                    recovered: true,
                    missed: ok.missed.clone(),
                    ..Default::default()
                })
            }
            _ => None,
        };
        match (ok, notice) {
            (Some(ok), _) => self.joined(context_id, &ok),
            (None, Some(notice)) => {
                tracing::debug!(
                    context_id,
                    "resync: the rejoin did not recover; the user must"
                );
                self.backlog.push_back(Item::Push(Box::new(notice)));
            }
            (None, None) => {}
        }
    }

    fn on_reply(&mut self, reply: Reply) {
        let Some(pending) = self.state.unregister(reply.id) else {
            tracing::warn!(id = reply.id, result = ?reply.result, "reply to no pending command");
            return;
        };
        match (&pending.kind, &reply.result) {
            (PendingKind::Rejoin(context_id), result) => self.rejoined(context_id, result.as_ref()),
            (PendingKind::Join(context_id), Some(reply::Result::Join(ok))) => {
                self.joined(context_id, ok);
            }
            (PendingKind::Join(context_id), Some(reply::Result::PrivateOpen(ok))) => {
                let ok = plenary_proto::v1::JoinOk {
                    epoch: ok.epoch,
                    seq: ok.seq,
                    recovered: ok.recovered,
                    missed: ok.missed.clone(),
                    ..Default::default()
                };
                self.joined(context_id, &ok);
            }
            (PendingKind::Leave(context_id), Some(reply::Result::Ack(_))) => {
                lock(&self.links.tracker).on_leave(context_id);
            }
            _ => {}
        }
        // The caller may have given up waiting; the reply's effects are recorded anyway.
        let _ = pending.reply.send(reply.result);
    }
}
