//! Per-user state for private chat (issue 5). Today only the pure model of one
//! connection between two users is here; the user and conversation actors that will
//! run it are not built yet.

pub mod connection;
