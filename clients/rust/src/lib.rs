//! A typed async client for Plenary gateways, used by the integration tests and the
//! load tester.
//!
//! A [`Client`] owns one WebSocket connection at a time. [`Client::connect`] opens the
//! socket, speaks the subprotocol chosen in [`ClientConfig::format`] (JSON text frames or
//! protobuf binary frames), sends `connect {token}` and waits for `ConnectOk`. A
//! background task then owns the socket: it matches replies to commands by id, forwards
//! pushes to a bounded queue read with [`Client::next_push`] (or a [`PushStream`] taken
//! with [`Client::take_pushes`]), answers WebSocket pings and records the close frame.
//! When the push queue is full the task stops reading the socket, which is
//! back-pressure to the server; only while a command awaits its reply does it read on
//! (buffering up to another queue's worth of pushes, and without limit while a join is
//! pending), so waiting for a reply without taking pushes does not stall.
//! Commands take `&self`, so several tasks may issue them on one client at once.
//!
//! The client remembers, per joined context, the last position (`epoch`, `seq`) it has
//! queued. [`Client::reconnect`] opens a new socket, re-joins every context with `since`
//! set to that position and feeds the missed pushes into the same push queue, so a reader
//! of the queue sees one continuous stream.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use plenary_client::{Claims, Client, ClientConfig, mint_hs256};
//!
//! let token = mint_hs256(b"secret", &Claims::new("alice"))?;
//! let (client, _hello) = Client::connect(ClientConfig::new("ws://127.0.0.1:8080/ws", token)).await?;
//! let joined = client.join("w1").await?;
//! client.send("w1", "hello", "msg-1", 0).await?;
//! while let Some(push) = client.next_push().await {
//!     println!("{} #{}: {:?}", push.context_id, push.seq, push.body);
//! }
//! # let _ = joined;
//! # Ok(())
//! # }
//! ```
//!
//! Layout:
//! - [`token`]: JWT claims and HS256 minting for test and load tokens.
//! - [`config`]: [`ClientConfig`], what to connect to and how.
//! - [`error`]: [`ClientError`] and [`CloseInfo`].
//! - `transport`: TCP (optionally from a chosen source address) and the WebSocket
//!   handshake.
//! - `codec`: frames to and from WebSocket messages in either wire format.
//! - `position`: per-context positions for recovery, and the stale-push filter.
//! - `connection`: the background reader and writer tasks of one socket.
//! - [`push`]: [`PushStream`], the queue of pushes that survives reconnects.
//! - [`client`]: [`Client`] and its typed commands.

pub mod client;
mod codec;
pub mod config;
mod connection;
pub mod error;
mod position;
pub mod push;
pub mod token;
mod transport;

pub use client::{Client, PRIVATE_STREAM};
pub use config::ClientConfig;
pub use error::{ClientError, CloseInfo};
pub use plenary_proto::WireFormat;
pub use plenary_proto::v1;
pub use push::PushStream;
pub use token::{Claims, TokenError, mint_hs256};
