//! [`Client`]: one logical session with a gateway, over one socket at a time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use plenary_proto::v1::{
    Ack, BlockUser, Connect, ConnectOk, ConnectionAction, ConnectionActionKind, DeleteMessage,
    DirectDelete, DirectHistory, DirectHistoryOk, DirectRead, DirectSend, FindPeople, History,
    HistoryOk, Join, JoinOk, Leave, LikeMessage, LikeOk, PeopleOk, PinMessage, Ping, Pong,
    Position, PrivateOk, PrivateOpen, Push, Refresh, SendMessage, SendOk, UnblockUser,
    UnlikeMessage, UnpinMessage, UpdateSettings, client_frame::Command, reply,
};
use plenary_proto::v1::{
    InteractionAction, InteractionActionKind, InteractionOk, InteractionSpec, React, Reaction,
    SaveInteraction, Vote, VoteOk,
};
use tokio::sync::{mpsc, watch};

use crate::config::ClientConfig;
use crate::connection::{Connection, Links, lock};
use crate::error::{ClientError, CloseInfo};
use crate::position::Tracker;
use crate::push::{LinkState, PushStream};
use crate::transport;

/// How long [`Client::close`] waits for the server to answer the close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// A connected, authenticated client. See the [crate documentation](crate).
pub struct Client {
    config: ClientConfig,
    connect_ok: ConnectOk,
    conn: Connection,
    generation: u64,
    next_id: Arc<AtomicU64>,
    tracker: Arc<Mutex<Tracker>>,
    push_tx: mpsc::Sender<Push>,
    link: watch::Sender<LinkState>,
    pushes: tokio::sync::Mutex<Option<PushStream>>,
    /// The private stream's answer to the last `reconnect`.
    private_reopened: Option<PrivateOk>,
}

/// The `context_id` of private pushes, and the key of the private stream in
/// [`Client::position`] and [`Client::joined`].
pub const PRIVATE_STREAM: &str = "";

/// A command's reply of one expected kind.
trait FromReply: Sized {
    fn from_reply(result: reply::Result) -> Result<Self, ClientError>;
}

/// Each reply type unwraps its own variant, or reports what came instead.
macro_rules! from_reply {
    ($($ty:ty => $variant:ident),* $(,)?) => {
        $(impl FromReply for $ty {
            fn from_reply(result: reply::Result) -> Result<Self, ClientError> {
                match result {
                    reply::Result::$variant(value) => Ok(value),
                    other => Err(ClientError::UnexpectedReply(format!(
                        "expected {}, got {other:?}",
                        stringify!($variant)
                    ))),
                }
            }
        })*
    };
}

from_reply!(
    Ack => Ack,
    SendOk => Send,
    LikeOk => Like,
    JoinOk => Join,
    Pong => Pong,
    PrivateOk => PrivateOpen,
    DirectHistoryOk => DmHistory,
    HistoryOk => History,
    PeopleOk => People,
    InteractionOk => Interaction,
    VoteOk => Vote,
);

impl Client {
    /// Opens a socket as `config` says, sends `connect` and waits for `ConnectOk`, all
    /// within `config.connect_timeout`. An error reply becomes [`ClientError::Server`],
    /// a close before the reply [`ClientError::Closed`] with the server's code.
    pub async fn connect(config: ClientConfig) -> Result<(Client, ConnectOk), ClientError> {
        let tracker = Arc::new(Mutex::new(Tracker::default()));
        let (push_tx, push_rx) = mpsc::channel(config.push_buffer.max(1));
        let (link, link_rx) = watch::channel(LinkState::default());
        let next_id = Arc::new(AtomicU64::new(1));
        let generation = 1;
        let links = Links {
            ids: Arc::clone(&next_id),
            tracker: Arc::clone(&tracker),
            pushes: push_tx.clone(),
            link: link.clone(),
            generation,
        };
        let (conn, connect_ok) = open(&config, links, &next_id).await?;
        let pushes = PushStream::new(push_rx, link_rx, Arc::clone(&tracker));
        let client = Client {
            config,
            connect_ok: connect_ok.clone(),
            conn,
            generation,
            next_id,
            tracker,
            push_tx,
            link,
            pushes: tokio::sync::Mutex::new(Some(pushes)),
            private_reopened: None,
        };
        Ok((client, connect_ok))
    }

    /// The configuration this client connects with.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The `ConnectOk` of the current connection.
    pub fn connect_ok(&self) -> &ConnectOk {
        &self.connect_ok
    }

    /// True while the current connection is up.
    pub fn is_open(&self) -> bool {
        self.conn.is_open()
    }

    /// How the current connection ended (close code and reason), once it has.
    pub fn close_info(&self) -> Option<CloseInfo> {
        self.conn.close_info()
    }

    /// Sends any command and waits for its reply. Error replies become
    /// [`ClientError::Server`]; a reply without a result is
    /// [`ClientError::UnexpectedReply`].
    pub async fn request(&self, command: Command) -> Result<reply::Result, ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        match self.conn.request(id, command).await? {
            Some(reply::Result::Error(error)) => Err(ClientError::from_server(error)),
            Some(result) => Ok(result),
            None => Err(ClientError::UnexpectedReply(format!(
                "reply {id} carries no result"
            ))),
        }
    }

    /// Sends a command and unwraps the reply kind it answers with.
    async fn call<T: FromReply>(&self, command: Command) -> Result<T, ClientError> {
        T::from_reply(self.request(command).await?)
    }

    /// Joins `context_id` from scratch: the `JoinOk` holds a snapshot.
    pub async fn join(&self, context_id: &str) -> Result<JoinOk, ClientError> {
        self.join_with(context_id, None).await
    }

    /// Joins `context_id` asking for the events after `since`. When the answer has
    /// `recovered: true`, its `missed` pushes are also queued on the push stream, before
    /// any later push; don't apply them twice.
    pub async fn join_since(
        &self,
        context_id: &str,
        since: Position,
    ) -> Result<JoinOk, ClientError> {
        self.join_with(context_id, Some(since)).await
    }

    async fn join_with(
        &self,
        context_id: &str,
        since: Option<Position>,
    ) -> Result<JoinOk, ClientError> {
        self.call(Command::Join(Join {
            context_id: context_id.to_owned(),
            since,
        }))
        .await
    }

    /// Leaves `context_id`; it is no longer rejoined on [`reconnect`](Self::reconnect).
    pub async fn leave(&self, context_id: &str) -> Result<Ack, ClientError> {
        self.call(Command::Leave(Leave {
            context_id: context_id.to_owned(),
        }))
        .await
    }

    /// Posts a chat message. `client_msg_id` makes resends idempotent; `reply_to` is the
    /// id of the message answered, 0 for none.
    pub async fn send(
        &self,
        context_id: &str,
        text: &str,
        client_msg_id: &str,
        reply_to: u64,
    ) -> Result<SendOk, ClientError> {
        self.send_message(SendMessage {
            context_id: context_id.to_owned(),
            text: text.to_owned(),
            client_msg_id: client_msg_id.to_owned(),
            reply_to,
            backchannel: false,
            thread_id: 0,
        })
        .await
    }

    /// Asks a question in the Q&A (attendees). `thread_id` 0: my thread (single-thread
    /// mode) or a new thread (multi-thread mode).
    pub async fn ask(
        &self,
        context_id: &str,
        text: &str,
        client_msg_id: &str,
        thread_id: u64,
    ) -> Result<SendOk, ClientError> {
        self.call(Command::Ask(plenary_proto::v1::Ask {
            context_id: context_id.to_owned(),
            text: text.to_owned(),
            client_msg_id: client_msg_id.to_owned(),
            thread_id,
        }))
        .await
    }

    /// Answers in a Q&A thread (moderators; claims a pending thread).
    pub async fn answer(
        &self,
        context_id: &str,
        thread_id: u64,
        text: &str,
        client_msg_id: &str,
    ) -> Result<SendOk, ClientError> {
        self.send_message(SendMessage {
            context_id: context_id.to_owned(),
            text: text.to_owned(),
            client_msg_id: client_msg_id.to_owned(),
            reply_to: 0,
            backchannel: false,
            thread_id,
        })
        .await
    }

    /// Moves a Q&A thread through the queue (moderators).
    pub async fn thread_action(
        &self,
        context_id: &str,
        thread_id: u64,
        action: plenary_proto::v1::ThreadActionKind,
    ) -> Result<Ack, ClientError> {
        self.call(Command::ThreadAction(plenary_proto::v1::ThreadAction {
            context_id: context_id.to_owned(),
            thread_id,
            action: action as i32,
        }))
        .await
    }

    /// Publishes a question with its answer to the feed (moderators).
    pub async fn publish_qa(
        &self,
        context_id: &str,
        thread_id: u64,
        question_id: u64,
        answer_id: u64,
    ) -> Result<Ack, ClientError> {
        self.call(Command::PublishQa(plenary_proto::v1::PublishQa {
            context_id: context_id.to_owned(),
            thread_id,
            question_id,
            answer_id,
        }))
        .await
    }

    /// Removes a published Q&A from the feed (moderators).
    pub async fn unpublish(&self, context_id: &str, item_id: u64) -> Result<Ack, ClientError> {
        self.call(Command::Unpublish(plenary_proto::v1::Unpublish {
            context_id: context_id.to_owned(),
            item_id,
        }))
        .await
    }

    /// Sends a message to the moderator-only backchannel (moderators).
    pub async fn send_backchannel(
        &self,
        context_id: &str,
        text: &str,
        client_msg_id: &str,
        reply_to: u64,
    ) -> Result<SendOk, ClientError> {
        self.send_message(SendMessage {
            context_id: context_id.to_owned(),
            text: text.to_owned(),
            client_msg_id: client_msg_id.to_owned(),
            reply_to,
            backchannel: true,
            thread_id: 0,
        })
        .await
    }

    /// Sends any `send` command.
    pub async fn send_message(&self, message: SendMessage) -> Result<SendOk, ClientError> {
        self.call(Command::Send(message)).await
    }

    /// Posts an update to everyone in the context (moderators).
    pub async fn post_update(
        &self,
        context_id: &str,
        title: &str,
        text: &str,
        toast: bool,
    ) -> Result<Ack, ClientError> {
        self.call(Command::PostUpdate(plenary_proto::v1::PostUpdate {
            context_id: context_id.to_owned(),
            title: title.to_owned(),
            text: text.to_owned(),
            toast,
        }))
        .await
    }

    /// Moderators: saves a draft interaction (`interaction_id` 0: a new one).
    pub async fn save_interaction(
        &self,
        context_id: &str,
        interaction_id: u64,
        spec: InteractionSpec,
    ) -> Result<InteractionOk, ClientError> {
        self.call(Command::SaveInteraction(SaveInteraction {
            context_id: context_id.to_owned(),
            interaction_id,
            spec: Some(spec),
            client_save_id: String::new(),
        }))
        .await
    }

    /// Moderators: publishes, shows or hides results of, ends, unpublishes or deletes
    /// an interaction.
    pub async fn interaction_action(
        &self,
        context_id: &str,
        interaction_id: u64,
        action: InteractionActionKind,
    ) -> Result<InteractionOk, ClientError> {
        self.call(Command::InteractionAction(InteractionAction {
            context_id: context_id.to_owned(),
            interaction_id,
            action: action as i32,
        }))
        .await
    }

    /// Votes on a published poll or quiz question: the chosen options' indexes.
    pub async fn vote(
        &self,
        context_id: &str,
        interaction_id: u64,
        client_vote_id: &str,
        options: &[u32],
    ) -> Result<VoteOk, ClientError> {
        self.cast(Vote {
            context_id: context_id.to_owned(),
            interaction_id,
            client_vote_id: client_vote_id.to_owned(),
            options: options.to_vec(),
            rating: 0,
            text: String::new(),
            survey: Vec::new(),
        })
        .await
    }

    /// Votes on any interaction (a rating: `rating` 1 to 5; a crowd vote: neither
    /// options nor rating).
    pub async fn cast(&self, vote: Vote) -> Result<VoteOk, ClientError> {
        self.call(Command::Vote(vote)).await
    }

    /// Sends a reaction to a joined context; `crowd` (moderators only) makes it a crowd
    /// reaction. Everyone sees the counts per window in `Reactions` pushes.
    pub async fn react(
        &self,
        context_id: &str,
        reaction: Reaction,
        crowd: bool,
    ) -> Result<Ack, ClientError> {
        self.call(Command::React(React {
            context_id: context_id.to_owned(),
            reaction: reaction as i32,
            crowd,
        }))
        .await
    }

    /// Likes a message.
    pub async fn like(&self, context_id: &str, message_id: u64) -> Result<LikeOk, ClientError> {
        self.call(Command::Like(LikeMessage {
            context_id: context_id.to_owned(),
            message_id,
        }))
        .await
    }

    /// Takes back a like.
    pub async fn unlike(&self, context_id: &str, message_id: u64) -> Result<LikeOk, ClientError> {
        self.call(Command::Unlike(UnlikeMessage {
            context_id: context_id.to_owned(),
            message_id,
        }))
        .await
    }

    /// Deletes a message (one's own, or any as a moderator).
    pub async fn delete(&self, context_id: &str, message_id: u64) -> Result<Ack, ClientError> {
        self.call(Command::Delete(DeleteMessage {
            context_id: context_id.to_owned(),
            message_id,
        }))
        .await
    }

    /// Pins a message to the feed (moderators).
    pub async fn pin(&self, context_id: &str, message_id: u64) -> Result<Ack, ClientError> {
        self.call(Command::Pin(PinMessage {
            context_id: context_id.to_owned(),
            message_id,
        }))
        .await
    }

    /// Unpins a message (moderators).
    pub async fn unpin(&self, context_id: &str, message_id: u64) -> Result<Ack, ClientError> {
        self.call(Command::Unpin(UnpinMessage {
            context_id: context_id.to_owned(),
            message_id,
        }))
        .await
    }

    /// Blocks a user from the context's chat (moderators).
    pub async fn block(&self, context_id: &str, user_id: &str) -> Result<Ack, ClientError> {
        self.call(Command::Block(BlockUser {
            context_id: context_id.to_owned(),
            user_id: user_id.to_owned(),
        }))
        .await
    }

    /// Lifts a block (moderators).
    pub async fn unblock(&self, context_id: &str, user_id: &str) -> Result<Ack, ClientError> {
        self.call(Command::Unblock(UnblockUser {
            context_id: context_id.to_owned(),
            user_id: user_id.to_owned(),
        }))
        .await
    }

    /// An application-level ping.
    pub async fn ping(&self) -> Result<Pong, ClientError> {
        self.call(Command::Ping(Ping {})).await
    }

    /// Hands the server a fresh token for this connection before the current one
    /// expires (the same user's); once accepted, [`reconnect`](Self::reconnect) uses it
    /// too. A refused token leaves both as they were.
    pub async fn refresh(&mut self, token: &str) -> Result<Ack, ClientError> {
        let ack = self
            .call(Command::Refresh(Refresh {
                token: token.to_owned(),
            }))
            .await?;
        self.config.token = token.to_owned();
        Ok(ack)
    }

    /// Opens this user's private stream (connections, private messages, settings). Its
    /// pushes come on the push stream with an empty `context_id`
    /// ([`PRIVATE_STREAM`]); [`reconnect`](Self::reconnect) reopens it from its last
    /// position.
    pub async fn private_open(&self) -> Result<PrivateOk, ClientError> {
        self.private_open_with(None).await
    }

    /// Opens the private stream asking for the pushes after `since`.
    pub async fn private_open_since(&self, since: Position) -> Result<PrivateOk, ClientError> {
        self.private_open_with(Some(since)).await
    }

    async fn private_open_with(&self, since: Option<Position>) -> Result<PrivateOk, ClientError> {
        self.call(Command::PrivateOpen(PrivateOpen { since })).await
    }

    /// Requests, accepts, ignores or removes the connection with `user_id`.
    pub async fn connection(
        &self,
        user_id: &str,
        action: ConnectionActionKind,
    ) -> Result<Ack, ClientError> {
        self.call(Command::Connection(ConnectionAction {
            user_id: user_id.to_owned(),
            action: action as i32,
        }))
        .await
    }

    /// Sends a private message to a connected user; `client_msg_id` makes resends
    /// idempotent.
    pub async fn dm_send(
        &self,
        user_id: &str,
        text: &str,
        client_msg_id: &str,
    ) -> Result<SendOk, ClientError> {
        self.call(Command::DmSend(DirectSend {
            user_id: user_id.to_owned(),
            text: text.to_owned(),
            client_msg_id: client_msg_id.to_owned(),
        }))
        .await
    }

    /// Deletes one of your private messages to or from `user_id`.
    pub async fn dm_delete(&self, user_id: &str, message_id: u64) -> Result<Ack, ClientError> {
        self.call(Command::DmDelete(DirectDelete {
            user_id: user_id.to_owned(),
            message_id,
        }))
        .await
    }

    /// Marks the conversation with `user_id` read up to `message_id`.
    pub async fn dm_read(&self, user_id: &str, message_id: u64) -> Result<Ack, ClientError> {
        self.call(Command::DmRead(DirectRead {
            user_id: user_id.to_owned(),
            message_id,
        }))
        .await
    }

    /// A page of the conversation with `user_id`: messages before `before_id` (0: the
    /// latest), oldest first.
    pub async fn dm_history(
        &self,
        user_id: &str,
        before_id: u64,
        limit: u32,
    ) -> Result<DirectHistoryOk, ClientError> {
        self.call(Command::DmHistory(DirectHistory {
            user_id: user_id.to_owned(),
            before_id,
            limit,
        }))
        .await
    }

    /// A page of a joined context's group chat (`backchannel`: the moderators'
    /// backchannel) older than `before_id` (0: the newest), oldest first.
    pub async fn history(
        &self,
        context_id: &str,
        before_id: u64,
        limit: u32,
        backchannel: bool,
    ) -> Result<HistoryOk, ClientError> {
        self.history_page(context_id, before_id, limit, backchannel, 0)
            .await
    }

    /// A page of a Q&A thread of a joined context (its attendee, or a moderator) older
    /// than `before_id` (0: the newest), oldest first.
    pub async fn thread_history(
        &self,
        context_id: &str,
        thread_id: u64,
        before_id: u64,
        limit: u32,
    ) -> Result<HistoryOk, ClientError> {
        self.history_page(context_id, before_id, limit, false, thread_id)
            .await
    }

    async fn history_page(
        &self,
        context_id: &str,
        before_id: u64,
        limit: u32,
        backchannel: bool,
        thread_id: u64,
    ) -> Result<HistoryOk, ClientError> {
        self.call(Command::History(History {
            context_id: context_id.to_owned(),
            before_id,
            limit,
            backchannel,
            thread_id,
        }))
        .await
    }

    /// Changes this user's settings (unset fields keep their value).
    pub async fn update_settings(&self, settings: UpdateSettings) -> Result<Ack, ClientError> {
        self.call(Command::Settings(settings)).await
    }

    /// People who share a joined context with this connection: matching `query`, or
    /// suggestions when it is empty.
    pub async fn find_people(&self, query: &str, limit: u32) -> Result<PeopleOk, ClientError> {
        self.call(Command::People(FindPeople {
            query: query.to_owned(),
            limit,
        }))
        .await
    }

    /// The next push; `None` when the connection is down and no push is queued (or the
    /// push stream was taken with [`take_pushes`](Self::take_pushes)). Concurrent
    /// callers take turns.
    pub async fn next_push(&self) -> Option<Push> {
        let mut pushes = self.pushes.lock().await;
        pushes.as_mut()?.recv().await
    }

    /// Takes the push stream out of the client, to read it in another task. It keeps
    /// working across [`reconnect`](Self::reconnect)s. `None` if it was taken before.
    pub fn take_pushes(&mut self) -> Option<PushStream> {
        self.pushes.get_mut().take()
    }

    /// The last position queued for `context_id`, if it is joined.
    pub fn position(&self, context_id: &str) -> Option<Position> {
        lock(&self.tracker).position(context_id)
    }

    /// The joined contexts with their last queued positions, sorted by id.
    pub fn joined(&self) -> Vec<(String, Position)> {
        lock(&self.tracker).joined()
    }

    /// Drops the current connection (if it is still up), opens a new one with the same
    /// configuration, and rejoins every joined context from its last position (and
    /// reopens the private stream, if it was open: its answer is kept for
    /// [`take_private_reopened`](Self::take_private_reopened)). The
    /// `JoinOk`s come back in context id order. Recovered joins have had their `missed`
    /// pushes queued on the push stream; for a join with `recovered: false` start over
    /// from its snapshot (queued pushes it covers are skipped).
    ///
    /// On error the client stays disconnected and the positions are kept, so calling
    /// this again retries.
    pub async fn reconnect(&mut self) -> Result<Vec<JoinOk>, ClientError> {
        self.conn.shutdown().await;
        let old = self.generation;
        self.link.send_if_modified(|link| {
            let ours = link.generation == old && link.open;
            if ours {
                link.open = false;
            }
            ours
        });
        self.generation += 1;
        let links = Links {
            ids: Arc::clone(&self.next_id),
            tracker: Arc::clone(&self.tracker),
            pushes: self.push_tx.clone(),
            link: self.link.clone(),
            generation: self.generation,
        };
        let (conn, connect_ok) = open(&self.config, links, &self.next_id).await?;
        self.conn = conn;
        self.connect_ok = connect_ok;
        let joins = lock(&self.tracker).joined();
        let mut results = Vec::with_capacity(joins.len());
        for (context_id, since) in joins {
            if context_id == PRIVATE_STREAM {
                self.private_reopened = Some(self.private_open_since(since).await?);
            } else {
                results.push(self.join_since(&context_id, since).await?);
            }
        }
        Ok(results)
    }

    /// The private stream's answer to the last [`reconnect`](Self::reconnect), if it
    /// was open. When `recovered` is false, start over from its `snapshot` (queued
    /// private pushes it covers are skipped).
    pub fn take_private_reopened(&mut self) -> Option<PrivateOk> {
        self.private_reopened.take()
    }

    /// Closes the connection normally (close code 1000), waiting briefly for the
    /// server's answer.
    pub async fn close(self) {
        let Client { conn, .. } = self;
        conn.close(CLOSE_WAIT).await;
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("user_id", &self.connect_ok.user_id)
            .field("generation", &self.generation)
            .field("open", &self.is_open())
            .finish_non_exhaustive()
    }
}

/// Opens a socket, starts its tasks and authenticates, within the connect time-out.
async fn open(
    config: &ClientConfig,
    links: Links,
    next_id: &AtomicU64,
) -> Result<(Connection, ConnectOk), ClientError> {
    let attempt = async {
        let socket = transport::open(config).await?;
        let conn = Connection::start(socket, config.format, links);
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let connect = Command::Connect(Connect {
            token: config.token.clone(),
        });
        let ok = match conn.request(id, connect).await? {
            Some(reply::Result::Connect(ok)) => ok,
            Some(reply::Result::Error(error)) => return Err(ClientError::from_server(error)),
            other => {
                return Err(ClientError::UnexpectedReply(format!(
                    "expected ConnectOk, got {other:?}"
                )));
            }
        };
        Ok((conn, ok))
    };
    tokio::time::timeout(config.connect_timeout, attempt)
        .await
        .unwrap_or(Err(ClientError::Timeout(config.connect_timeout)))
}
