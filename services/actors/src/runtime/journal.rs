//! An actor's side of the event log: load and replay, the next event, the commit under
//! the shard's lease, snapshots, and the recent events kept for recovery.

use std::{collections::VecDeque, sync::Arc};

use plenary_bus::{BusError, EventLog, Snapshot, StoredEvent, now_ms, redis::Fence};
use plenary_proto::v1::{Position, events::Actor};
use tracing::warn;

use super::{Event, Held, Replayed, Stop};
use crate::{
    context::{ContextConfig, Rejection},
    telemetry,
};

/// One stream's log, as its actor writes it.
pub(crate) struct Journal<E> {
    pub(crate) id: Arc<str>,
    pub(crate) config: Arc<ContextConfig>,
    log: EventLog,
    /// The shard lease this actor writes under (cluster mode).
    fence: Option<Fence>,
    /// Seq of the last snapshot stored or loaded.
    snapshot_seq: u64,
    /// The last `window` events, for recovery.
    recent: VecDeque<E>,
    window: usize,
    /// Events of the batch being decided, not yet committed.
    uncommitted: Vec<E>,
}

impl<E: Event> Journal<E> {
    /// A journal keeping the last `window` events for recovery (0: none).
    pub(crate) fn new(
        id: Arc<str>,
        config: Arc<ContextConfig>,
        log: EventLog,
        fence: Option<Fence>,
        window: usize,
    ) -> Self {
        Journal {
            id,
            config,
            log,
            fence,
            snapshot_seq: 0,
            recent: VecDeque::new(),
            window,
            uncommitted: Vec::new(),
        }
    }

    /// The log this journal writes to, for reading older events on demand (history).
    pub(crate) fn log(&self) -> &EventLog {
        &self.log
    }

    /// Rebuilds `state` from the latest snapshot (or `fresh`) and the events after
    /// it. Returns the events read, which reach back before the snapshot by at least
    /// the recovery window where the log still has them.
    pub(super) async fn load<S: Replayed<Event = E>>(
        &mut self,
        state: &mut S,
        fresh: S,
    ) -> Result<Vec<E>, BusError> {
        self.recent.clear();
        self.uncommitted.clear();
        let loaded = self
            .log
            .load_recent::<E>(&self.id, self.window.max(self.config.recovery_window))
            .await?;
        *state = match &loaded.snapshot {
            Some(snapshot) => S::from_snapshot(&snapshot.state)
                .map_err(|_| BusError::CorruptSnapshot(self.id.to_string()))?,
            None => fresh,
        };
        self.snapshot_seq = state.position().1;
        for event in &loaded.events {
            if event.seq() > state.position().1 {
                state.apply(event);
            }
        }
        if let Some(epoch) = loaded.epoch {
            state.set_epoch(epoch);
        }
        Ok(loaded.events)
    }

    /// Keeps the loaded events for recovery (the last `window` of them).
    pub(super) fn remember_all(&mut self, events: Vec<E>) {
        let skip = events.len().saturating_sub(self.window);
        for event in events.into_iter().skip(skip) {
            self.remember(event);
        }
    }

    fn remember(&mut self, event: E) {
        if self.window == 0 {
            return;
        }
        if self.recent.len() == self.window {
            self.recent.pop_front();
        }
        self.recent.push_back(event);
    }

    /// Builds the stream's next event (its first fixes the epoch), applies it to
    /// `state` and keeps it for the commit and for recovery.
    pub(crate) fn emit<S: Replayed<Event = E>>(
        &mut self,
        state: &mut S,
        actor: Actor,
        kind: E::Kind,
    ) -> &E {
        let (mut epoch, seq) = state.position();
        if epoch == 0 {
            epoch = now_ms().max(1);
            state.set_epoch(epoch);
        }
        let event = E::new(self.id.to_string(), epoch, seq + 1, now_ms(), actor, kind);
        state.apply(&event);
        if self.window > 0 {
            self.remember(event.clone());
        }
        self.uncommitted.push(event);
        self.uncommitted.last().expect("just pushed")
    }

    /// The seq of the first event this batch emitted, not yet committed (nor
    /// published); `None` when it emitted none.
    pub(crate) fn first_uncommitted_seq(&self) -> Option<u64> {
        self.uncommitted.first().map(StoredEvent::seq)
    }

    /// Appends what the batch decided, in one write, and gives back the events and
    /// the held answers for the actor to send.
    ///
    /// The one failure policy: a failed append **stops the actor**. Its memory holds
    /// events the log may not have, and if the failure came after the log took them
    /// (a lost answer), the log holds events nobody published. A fresh actor, started
    /// by the next request once this one has exited, loads the log as it is and
    /// announces its heads, so listeners that missed those events resync. Reloading in
    /// place (what the context actor once did) fixed memory but left such events
    /// unpublished. The batch's callers get a retryable refusal: `Unavailable` when
    /// the log refused the whole append (fenced), `OutcomeUnknown` otherwise.
    pub(super) async fn commit(&mut self, held: Vec<Held>) -> Result<(Vec<E>, Vec<Held>), Stop> {
        let events = std::mem::take(&mut self.uncommitted);
        // Every event of a batch carries the stream's epoch (fixed by its first).
        let Some(epoch) = events.first().map(StoredEvent::epoch) else {
            return Ok((events, held));
        };
        let started = std::time::Instant::now();
        match self
            .log
            .append(&self.id, epoch, &events, self.fence.as_ref())
            .await
        {
            Ok(()) => {
                telemetry::log_appended(events.len(), started.elapsed());
                Ok((events, held))
            }
            Err(e) => {
                let fenced = matches!(e, BusError::Fenced(_) | BusError::NotOwner);
                telemetry::log_append_failed(&e, events.len(), fenced, "this actor stops");
                let why = if fenced {
                    Rejection::Unavailable("moved to another node; retry".into())
                } else {
                    Rejection::OutcomeUnknown(
                        "the event log did not confirm the write; retry".into(),
                    )
                };
                Held::fail(held, &why);
                Err(if fenced {
                    Stop::Fenced
                } else {
                    Stop::LogUnavailable
                })
            }
        }
    }

    /// Stores a snapshot every `snapshot_every` events, so the next start loads it and
    /// the events after it instead of every event.
    pub(super) async fn maybe_snapshot<S: Replayed<Event = E>>(&mut self, state: &S) {
        let seq = state.position().1;
        if seq < self.snapshot_seq + self.config.snapshot_every {
            return;
        }
        let snapshot = match state.to_snapshot() {
            Ok(bytes) => Snapshot { seq, state: bytes },
            Err(e) => {
                warn!(error = %e, "cannot encode a snapshot; will retry after more events");
                return;
            }
        };
        match self
            .log
            .store_snapshot(&self.id, &snapshot, self.fence.as_ref())
            .await
        {
            Ok(()) => self.snapshot_seq = seq,
            Err(e) => warn!(error = %e, "storing a snapshot failed; will retry after more events"),
        }
    }

    /// The events after `since`, for a client at `since` when the stream stands at
    /// `now`; `None` when it cannot catch up by replay (another epoch, ahead, or
    /// further behind than the recovery window).
    pub(crate) fn since(
        &self,
        now: (u64, u64),
        since: Position,
    ) -> Option<impl Iterator<Item = &E>> {
        let (epoch, seq) = now;
        if since.epoch != epoch || since.seq > seq {
            return None;
        }
        if since.seq < seq && self.recent.front()?.seq() > since.seq + 1 {
            return None;
        }
        Some(self.recent.iter().filter(move |e| e.seq() > since.seq))
    }
}
