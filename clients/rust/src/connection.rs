//! The background tasks of one socket: a writer that sends queued frames, and a reader
//! that matches replies to pending commands, queues pushes and records how the
//! connection ended.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use plenary_proto::WireFormat;
use plenary_proto::v1::{ClientFrame, Position, Push, Reply, client_frame::Command, reply, server_frame};
use tokio::sync::{mpsc, oneshot, watch};
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
}

struct Pending {
    kind: PendingKind,
    reply: oneshot::Sender<Option<reply::Result>>,
}

/// State shared by the connection handle and its reader task.
#[derive(Default)]
struct ConnState {
    /// Commands awaiting their reply, by id; `None` once the connection has ended.
    pending: Mutex<Option<HashMap<u64, Pending>>>,
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
}

/// Everything the reader task needs from the client, which outlives connections.
pub(crate) struct Links {
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
        let reader = tokio::spawn(read_loop(stream, Arc::clone(&state), links, stop_writer));
        Connection {
            format,
            out,
            state,
            reader,
            writer,
        }
    }

    /// Sends `command` with `id` and waits for its reply's result. Error replies come
    /// back as `Ok(reply::Result::Error)`; the caller maps them.
    pub(crate) async fn request(
        &self,
        id: u64,
        command: Command,
    ) -> Result<Option<reply::Result>, ClientError> {
        let kind = match &command {
            Command::Join(join) => PendingKind::Join(join.context_id.clone()),
            Command::Leave(leave) => PendingKind::Leave(leave.context_id.clone()),
            _ => PendingKind::Other,
        };
        let (reply, answer) = oneshot::channel();
        match lock(&self.state.pending).as_mut() {
            Some(pending) => {
                pending.insert(id, Pending { kind, reply });
            }
            None => return Err(self.state.ended_error()),
        }
        let frame = ClientFrame {
            id,
            command: Some(command),
        };
        if self.out.send(codec::encode(self.format, &frame)).await.is_err() {
            if let Some(pending) = lock(&self.state.pending).as_mut() {
                pending.remove(&id);
            }
            return Err(self.state.ended_error());
        }
        answer.await.map_err(|_| self.state.ended_error())
    }

    /// How the connection ended, once it has.
    pub(crate) fn close_info(&self) -> Option<CloseInfo> {
        lock(&self.state.ended).clone()
    }

    /// True until the reader task has ended.
    pub(crate) fn is_open(&self) -> bool {
        !self.reader.is_finished()
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
        let pending = lock(&self.state.pending).take();
        drop(pending);
        let mut ended = lock(&self.state.ended);
        if ended.is_none() {
            *ended = Some(CloseInfo {
                code: CloseInfo::ABNORMAL,
                reason: "closed by this client".to_owned(),
            });
        }
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

async fn read_loop(
    mut stream: SplitStream<Socket>,
    state: Arc<ConnState>,
    links: Links,
    stop_writer: oneshot::Sender<()>,
) {
    let ended = loop {
        let message = match stream.next().await {
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
                let info = match frame {
                    Some(frame) => CloseInfo {
                        code: frame.code.into(),
                        reason: frame.reason.to_string(),
                    },
                    None => CloseInfo {
                        code: CloseInfo::NO_STATUS,
                        reason: String::new(),
                    },
                };
                // Keep reading briefly so the close reply goes out and the server
                // ends the TCP connection.
                let _ = tokio::time::timeout(CLOSE_LINGER, async {
                    while let Some(Ok(_)) = stream.next().await {}
                })
                .await;
                break info;
            }
            Some(Ok(message)) => message,
        };
        let frame = match codec::decode(&message) {
            None => continue,
            Some(Ok(frame)) => frame,
            Some(Err(e)) => {
                tracing::warn!(error = %e, "undecodable frame from the server");
                continue;
            }
        };
        match frame.frame {
            Some(server_frame::Frame::Push(push)) => deliver(&links, push).await,
            Some(server_frame::Frame::Reply(reply)) => on_reply(&state, &links, reply).await,
            None => tracing::warn!("server frame with neither reply nor push"),
        }
    };

    tracing::debug!(code = ended.code, reason = %ended.reason, "connection ended");
    {
        let mut slot = lock(&state.ended);
        if slot.is_none() {
            *slot = Some(ended);
        }
    }
    // Dropping the pending senders fails every waiting command with `ended`.
    let pending = lock(&state.pending).take();
    drop(pending);
    links.link.send_if_modified(|link| {
        let ours = link.generation == links.generation && link.open;
        if ours {
            link.open = false;
        }
        ours
    });
    let _ = stop_writer.send(());
}

/// Queues `push` for the user (waiting while the queue is full), then records its
/// position.
async fn deliver(links: &Links, push: Push) {
    let context_id = push.context_id.clone();
    let position: Position = position::of_push(&push);
    // A closed queue (the user dropped the push stream) still counts as delivered.
    let _ = links.pushes.send(push).await;
    lock(&links.tracker).on_push(&context_id, position);
}

async fn on_reply(state: &ConnState, links: &Links, reply: Reply) {
    let pending = lock(&state.pending)
        .as_mut()
        .and_then(|pending| pending.remove(&reply.id));
    let Some(pending) = pending else {
        tracing::warn!(id = reply.id, result = ?reply.result, "reply to no pending command");
        return;
    };
    match (&pending.kind, &reply.result) {
        (PendingKind::Join(context_id), Some(reply::Result::Join(ok))) => {
            for push in &ok.missed {
                deliver(links, push.clone()).await;
            }
            lock(&links.tracker).on_join_ok(context_id, ok);
        }
        (PendingKind::Leave(context_id), Some(reply::Result::Ack(_))) => {
            lock(&links.tracker).on_leave(context_id);
        }
        _ => {}
    }
    // The caller may have given up waiting; the reply's effects are recorded anyway.
    let _ = pending.reply.send(reply.result);
}
