//! The session's socket: frames in and out in the negotiated format, writes within the
//! write time-out, and the polite close (close frame, then the client's input drained).

use std::{sync::Arc, time::Duration};

use futures_util::{FutureExt, Sink, SinkExt, Stream, StreamExt, future::poll_fn};
use plenary_proto::{
    DecodeError, WireFormat,
    encoded::{self, EncodedPush},
    v1::{ClientFrame, JoinOk, ServerFrame},
    wire,
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite},
    time::{Instant, timeout},
};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{
        self, Message, Utf8Bytes,
        protocol::{CloseFrame, frame::coding::CloseCode as WsCloseCode},
    },
};

use crate::protocol::CloseCode;

/// After the close frame, the client's input is read and dropped until its own close
/// frame arrives, for at most this long and at most this many bytes and frames.
const CLOSE_LINGER: Duration = Duration::from_secs(1);
const CLOSE_DRAIN_BYTES: usize = 1 << 20;
const CLOSE_DRAIN_FRAMES: usize = 10_000;

/// What a session runs over: WebSocket messages in and out. A TCP WebSocket in
/// production; in-memory channels in tests.
pub trait Transport:
    Sink<Message, Error = tungstenite::Error>
    + Stream<Item = Result<Message, tungstenite::Error>>
    + Unpin
    + Send
{
    /// The raw bytes under the messages, drained on close once the client's framing
    /// broke. `None` (the default) for a transport of whole messages.
    fn raw_input(&mut self) -> Option<&mut (dyn AsyncRead + Unpin + Send)> {
        None
    }
}

impl<S> Transport for WebSocketStream<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    fn raw_input(&mut self) -> Option<&mut (dyn AsyncRead + Unpin + Send)> {
        Some(self.get_mut())
    }
}

/// Why a session ended.
#[derive(Debug)]
pub(super) struct End {
    /// The close code to send; `None` when the client closed or the connection broke.
    pub(super) code: Option<CloseCode>,
    pub(super) reason: String,
    /// Whether the client's frames can still be told apart: a read error may leave the
    /// frame decoder in the middle of a frame.
    framing_intact: bool,
}

impl End {
    pub(super) fn gone(reason: impl Into<String>) -> Self {
        End {
            code: None,
            reason: reason.into(),
            framing_intact: true,
        }
    }
    pub(super) fn close(code: CloseCode, reason: impl Into<String>) -> Self {
        End {
            code: Some(code),
            reason: reason.into(),
            framing_intact: true,
        }
    }
    fn framing_lost(self) -> Self {
        End {
            framing_intact: false,
            ..self
        }
    }
}

/// Maps a read error to how the session ends.
pub(super) fn read_failure(e: tungstenite::Error) -> End {
    match e {
        tungstenite::Error::Capacity(e) => {
            End::close(CloseCode::MessageTooBig, format!("message too big: {e}")).framing_lost()
        }
        tungstenite::Error::Protocol(e) => {
            End::close(CloseCode::ProtocolError, format!("protocol error: {e}")).framing_lost()
        }
        tungstenite::Error::Utf8(_) => {
            End::close(CloseCode::ProtocolError, "text frame is not valid UTF-8").framing_lost()
        }
        other => End::gone(format!("connection lost: {other}")),
    }
}

fn slow_consumer() -> End {
    End::close(CloseCode::SlowConsumer, "slow consumer: write timed out")
}

/// What may still be read from a client after the close frame.
struct DrainBudget {
    bytes: usize,
    frames: usize,
}

impl DrainBudget {
    /// Spends one read of `bytes`; false once the budget is spent.
    fn spend(&mut self, bytes: usize) -> bool {
        self.bytes = self.bytes.saturating_sub(bytes);
        self.frames = self.frames.saturating_sub(1);
        self.bytes > 0 && self.frames > 0
    }
}

/// A session's transport with its wire format and write time-out.
pub(super) struct Connection<T> {
    ws: T,
    format: WireFormat,
    write_timeout: Duration,
}

impl<T: Transport> Connection<T> {
    pub(super) fn new(ws: T, format: WireFormat, write_timeout: Duration) -> Self {
        Connection {
            ws,
            format,
            write_timeout,
        }
    }

    /// The client's next message (cancel-safe).
    pub(super) async fn read(&mut self) -> Option<Result<Message, tungstenite::Error>> {
        self.ws.next().await
    }

    /// A data message as a client frame; `None` for control messages (pings, pongs).
    pub(super) fn decode(&self, message: Message) -> Option<Result<ClientFrame, DecodeError>> {
        Some(match (self.format, message) {
            (WireFormat::Json, Message::Text(text)) => {
                wire::decode_client_frame_json(text.as_str())
            }
            (WireFormat::Proto, Message::Binary(bytes)) => wire::decode_client_frame_proto(&bytes),
            (WireFormat::Json, Message::Binary(_)) => Err(DecodeError::WrongFrameType {
                got: "binary",
                expected: WireFormat::JSON_SUBPROTOCOL,
            }),
            (WireFormat::Proto, Message::Text(_)) => Err(DecodeError::WrongFrameType {
                got: "text",
                expected: WireFormat::PROTO_SUBPROTOCOL,
            }),
            _ => return None,
        })
    }

    fn encode(&self, frame: &ServerFrame) -> Message {
        match self.format {
            WireFormat::Json => Message::text(wire::encode_json(frame)),
            WireFormat::Proto => Message::binary(wire::encode_proto(frame)),
        }
    }

    /// Writes one frame and flushes, within the write time-out.
    pub(super) async fn send(&mut self, frame: &ServerFrame) -> Result<(), End> {
        let message = self.encode(frame);
        self.write(message, true).await
    }

    /// Writes the reply to join `id` answered by `ok`, with `missed` (encoded once, as
    /// they were published) spliced in as its missed pushes, and flushes.
    pub(super) async fn send_join(
        &mut self,
        id: u64,
        ok: &JoinOk,
        missed: &[Arc<EncodedPush>],
    ) -> Result<(), End> {
        let payload = encoded::join_reply(self.format, id, ok, missed);
        let message = match self.format {
            WireFormat::Proto => Message::binary(payload),
            // Spliced from JSON text: UTF-8 (checked all the same: never a panic).
            WireFormat::Json => match Utf8Bytes::try_from(payload) {
                Ok(text) => Message::Text(text),
                Err(e) => return Err(End::gone(format!("join reply not UTF-8: {e}"))),
            },
        };
        self.write(message, true).await
    }

    /// Queues a message in the socket's write buffer and, with `flush`, writes it out.
    /// The write time-out only costs a timer when the socket is actually blocked: the
    /// common case completes on the first poll.
    pub(super) async fn write(&mut self, message: Message, flush: bool) -> Result<(), End> {
        let ready = match poll_fn(|cx| self.ws.poll_ready_unpin(cx)).now_or_never() {
            Some(ready) => ready,
            None => timeout(
                self.write_timeout,
                poll_fn(|cx| self.ws.poll_ready_unpin(cx)),
            )
            .await
            .map_err(|_| slow_consumer())?,
        };
        ready
            .and_then(|()| self.ws.start_send_unpin(message))
            .map_err(|e| End::gone(format!("write failed: {e}")))?;
        if flush { self.flush().await } else { Ok(()) }
    }

    /// Writes out everything buffered, within the write time-out.
    pub(super) async fn flush(&mut self) -> Result<(), End> {
        let result = match self.ws.flush().now_or_never() {
            Some(result) => result,
            None => timeout(self.write_timeout, self.ws.flush())
                .await
                .map_err(|_| slow_consumer())?,
        };
        result.map_err(|e| End::gone(format!("write failed: {e}")))
    }

    /// The client closed or the connection broke: answers a close frame if the client
    /// sent one (it is queued), and lets go.
    pub(super) async fn let_go(&mut self) {
        let _ = timeout(CLOSE_LINGER, self.ws.flush()).await;
    }

    /// Closes politely, whatever the reason: the close frame, then the client's input
    /// read and dropped until its own close frame arrives (within [`CLOSE_LINGER`] and
    /// the drain budget), so the socket ends with a FIN. A socket closed with unread
    /// input is reset by the kernel instead, and a reset can destroy what was written
    /// just before it: the last replies and the close frame, which the client then
    /// never sees (it reports 1006).
    pub(super) async fn close(&mut self, code: CloseCode, end: &End) {
        let deadline = Instant::now() + CLOSE_LINGER;
        // Close reasons are limited to 123 bytes by the protocol.
        let mut reason = end.reason.clone();
        while reason.len() > 120 {
            reason.pop();
        }
        let frame = CloseFrame {
            code: WsCloseCode::from(code as u16),
            reason: reason.into(),
        };
        if !matches!(
            tokio::time::timeout_at(deadline, self.ws.send(Message::Close(Some(frame)))).await,
            Ok(Ok(()))
        ) {
            // The close frame cannot get through: nothing would be saved by waiting.
            return;
        }
        let mut budget = DrainBudget {
            bytes: CLOSE_DRAIN_BYTES,
            frames: CLOSE_DRAIN_FRAMES,
        };
        if end.framing_intact && !self.drain_frames(deadline, &mut budget).await {
            return;
        }
        self.drain_bytes(deadline, &mut budget).await;
    }

    /// Reads and drops the client's frames until its close frame, the end of the
    /// stream, `deadline` or the end of `budget`. True when framing broke on the way, so
    /// the rest can only be drained as bytes.
    async fn drain_frames(&mut self, deadline: Instant, budget: &mut DrainBudget) -> bool {
        loop {
            let message = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Ok(Some(Ok(message))) => message,
                Ok(Some(Err(
                    tungstenite::Error::Capacity(_)
                    | tungstenite::Error::Protocol(_)
                    | tungstenite::Error::Utf8(_),
                ))) => return true,
                // The stream ended, the connection broke, or the deadline passed.
                Ok(Some(Err(_)) | None) | Err(_) => return false,
            };
            if matches!(message, Message::Close(_)) || !budget.spend(message.len()) {
                return false;
            }
        }
    }

    /// Reads and drops raw input until the client ends the stream, `deadline` or the
    /// end of `budget`: after a read error, frames can no longer be told apart.
    async fn drain_bytes(&mut self, deadline: Instant, budget: &mut DrainBudget) {
        let Some(input) = self.ws.raw_input() else {
            return;
        };
        let mut scratch = vec![0u8; 4096];
        while let Ok(Ok(n @ 1..)) =
            tokio::time::timeout_at(deadline, input.read(&mut scratch)).await
        {
            if !budget.spend(n) {
                return;
            }
        }
    }
}
