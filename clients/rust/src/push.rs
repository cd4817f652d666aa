//! The queue of pushes, one object for the client's whole life across reconnects.

use std::sync::{Arc, Mutex};

use plenary_proto::v1::Push;
use tokio::sync::{mpsc, watch};

use crate::position::Tracker;

/// Whether the client's current connection is up; `generation` counts connections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LinkState {
    pub(crate) generation: u64,
    pub(crate) open: bool,
}

/// Pushes of every joined context, in the order the server sent them, including those a
/// recovering join replayed (`JoinOk.missed`).
///
/// [`recv`](PushStream::recv) returns `None` once the connection has ended and every
/// queued push was taken; after [`Client::reconnect`](crate::Client::reconnect) it yields
/// again. After a rejoin that could not recover (a `JoinOk` with a snapshot), queued
/// pushes of that context that the snapshot already covers are skipped.
#[derive(Debug)]
pub struct PushStream {
    rx: mpsc::Receiver<Push>,
    link: watch::Receiver<LinkState>,
    tracker: Arc<Mutex<Tracker>>,
}

impl PushStream {
    pub(crate) fn new(
        rx: mpsc::Receiver<Push>,
        link: watch::Receiver<LinkState>,
        tracker: Arc<Mutex<Tracker>>,
    ) -> Self {
        PushStream { rx, link, tracker }
    }

    /// The next push; `None` when the connection is down and nothing is queued.
    pub async fn recv(&mut self) -> Option<Push> {
        loop {
            match self.rx.try_recv() {
                Ok(push) => match self.admitted(push) {
                    Some(push) => return Some(push),
                    None => continue,
                },
                Err(mpsc::error::TryRecvError::Disconnected) => return None,
                Err(mpsc::error::TryRecvError::Empty) => {}
            }
            // A dropped client (no link sender left) counts as a closed connection.
            let open = self.link.borrow_and_update().open && self.link.has_changed().is_ok();
            if !open {
                // The reader task queues its last pushes before it marks the link
                // closed, so this look finds them all.
                return self.try_recv();
            }
            let received = tokio::select! {
                push = self.rx.recv() => Some(push),
                _ = self.link.changed() => None,
            };
            match received {
                Some(Some(push)) => {
                    if let Some(push) = self.admitted(push) {
                        return Some(push);
                    }
                }
                Some(None) => return None,
                None => {}
            }
        }
    }

    /// A queued push without waiting, if there is one.
    pub fn try_recv(&mut self) -> Option<Push> {
        while let Ok(push) = self.rx.try_recv() {
            if let Some(push) = self.admitted(push) {
                return Some(push);
            }
        }
        None
    }

    /// How many pushes are queued (before filtering).
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// True when no push is queued.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    fn admitted(&self, push: Push) -> Option<Push> {
        let mut tracker = self.tracker.lock().unwrap_or_else(|e| e.into_inner());
        tracker.admit(&push).then_some(push)
    }
}
