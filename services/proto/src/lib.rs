//! Plenary's protocol: the Rust types generated from `proto/plenary/v1/` and the two
//! wire encodings of client frames.
//!
//! Layout:
//! - [`v1`]: WebSocket frames (`client.proto`), with [`v1::events`] (the event log,
//!   `events.proto`), [`v1::admin`] (the admin gRPC API, `admin.proto`) and
//!   [`v1::internal`] (between nodes, `internal.proto`).
//! - [`json`]: serde helpers that give enum fields their proto names in JSON.
//! - [`wire`]: the `plenary.v1.json` and `plenary.v1.proto` subprotocols: encode and
//!   decode any frame in either format.

pub mod json;
pub mod wire;

/// Generated from `proto/plenary/v1/*.proto`; never edit by hand.
#[allow(
    unreachable_pub,
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::large_enum_variant
)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/plenary.v1.rs"));

    /// The event log (`events.proto`).
    pub mod events {
        include!(concat!(env!("OUT_DIR"), "/plenary.v1.events.rs"));
    }

    /// The admin gRPC API (`admin.proto`).
    pub mod admin {
        include!(concat!(env!("OUT_DIR"), "/plenary.v1.admin.rs"));
    }

    /// Messages between nodes (`internal.proto`).
    pub mod internal {
        include!(concat!(env!("OUT_DIR"), "/plenary.v1.internal.rs"));
    }
}

pub use wire::{DecodeError, WireFormat};
