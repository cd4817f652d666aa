//! The event-sourced actor runtime every stream's actor runs on: contexts, users and
//! conversations alike. An actor is a state machine ([`Machine`]: decide, apply,
//! views) plugged into [`run`], which does the rest the same way for all of them:
//!
//! - **load**: the latest snapshot and the log's tail, replayed ([`Journal::load`]);
//! - **batches with group commit**: the bounded mailbox is drained up to `batch_max`
//!   requests at a time; each is decided against the state the ones before it left,
//!   its events applied in memory, and the whole batch appended in one write;
//! - **held replies**: nothing is answered or published before that write succeeds
//!   ([`Held`]);
//! - **one failure policy**: a failed append stops the actor (see [`Journal::commit`]);
//! - **snapshots** every `snapshot_every` events, on SQLite and Redis alike;
//! - **recovery**: the last events kept for "what did I miss since" ([`Journal::since`]);
//! - **stop**: when it stops for a reason, whatever is still queued is refused with a
//!   retryable error; an idle actor **passivates** (the registry starts a fresh one
//!   from the log on the next request, once this one has exited).

mod archive;
mod journal;

use std::{future::Future, sync::Arc, time::Duration};

use plenary_bus::StoredEvent;
use plenary_bus::{EventLog, redis::Fence};
use plenary_proto::v1::events::{
    Actor, ContextEvent, ConversationEvent, UserEvent, context_event, conversation_event,
    user_event,
};
use tokio::{
    sync::{mpsc, watch},
    time::Instant,
};
use tracing::{Instrument, Span, debug, error};

use crate::{
    Snapshots,
    context::{ContextConfig, Rejection},
    telemetry::{self, ActorKind},
};

pub(crate) use archive::{ArchiveReads, unavailable as log_unavailable};
pub(crate) use journal::Journal;

/// What every actor is started with (by the registry).
pub(crate) struct Start {
    pub(crate) id: Arc<str>,
    pub(crate) config: Arc<ContextConfig>,
    pub(crate) log: EventLog,
    /// The shard lease the actor writes under (cluster mode).
    pub(crate) fence: Option<Fence>,
    /// The actor this one replaces: this one loads only once that one has exited.
    pub(crate) predecessor: Exited,
    /// Runs when the actor has stopped (the registry forgets it).
    pub(crate) on_exit: Box<dyn FnOnce() + Send>,
}

impl Start {
    /// Spawns `machine` on the runtime, in `span` (a root span: an actor outlives the
    /// session whose command started it), keeping its last `window` events for
    /// recovery. Returns its mailbox.
    pub(crate) fn spawn<M: Machine>(
        self,
        machine: M,
        window: usize,
        span: Span,
    ) -> mpsc::Sender<M::Request> {
        let (tx, rx) = mpsc::channel(self.config.mailbox);
        let journal = Journal::new(self.id, self.config, self.log, self.fence, window);
        let (predecessor, on_exit) = (self.predecessor, self.on_exit);
        tokio::spawn(
            async move {
                predecessor.wait().await;
                run(machine, journal, rx, on_exit).await;
            }
            .instrument(span),
        );
        tx
    }

    /// Spawns a task that refuses every request with `why` (a stream id no actor can
    /// serve): its mailbox is closed at once, what was queued is refused, and it exits.
    pub(crate) fn refuse_all<R: Send + 'static>(
        self,
        why: Rejection,
        refuse: fn(R, &Rejection),
    ) -> mpsc::Sender<R> {
        let (tx, mut rx) = mpsc::channel(self.config.mailbox);
        let on_exit = self.on_exit;
        tokio::spawn(async move {
            rx.close();
            while let Some(request) = rx.recv().await {
                refuse(request, &why);
            }
            on_exit();
        });
        tx
    }
}

/// A stream's state, as the runtime replays and snapshots it.
pub(crate) trait Replayed: Snapshots + Send + Sync {
    /// `(epoch, seq)` of the last event applied (`(0, 0)` for an empty stream).
    fn position(&self) -> (u64, u64);
    /// Fixes the stream's epoch (from the log, or before its first event).
    fn set_epoch(&mut self, epoch: u64);
    /// Folds one event into the state.
    fn apply(&mut self, event: &Self::Event);
    /// The event type of this kind of stream.
    type Event: Event;
}

/// The event type of one kind of stream, as its actors build it.
pub(crate) trait Event: StoredEvent {
    type Kind: Send;
    fn new(
        stream_id: String,
        epoch: u64,
        seq: u64,
        at_ms: u64,
        actor: Actor,
        kind: Self::Kind,
    ) -> Self;
}

macro_rules! event {
    ($($event:ty: $kind:ty, $id:ident);+) => {$(
        impl Event for $event {
            type Kind = $kind;

            fn new(
                stream_id: String,
                epoch: u64,
                seq: u64,
                at_ms: u64,
                actor: Actor,
                kind: $kind,
            ) -> Self {
                Self {
                    $id: stream_id,
                    epoch,
                    seq,
                    at_ms,
                    actor: Some(actor),
                    kind: Some(kind),
                }
            }
        }
    )+};
}

event!(
    ContextEvent: context_event::Kind, context_id;
    UserEvent: user_event::Kind, stream_id;
    ConversationEvent: conversation_event::Kind, stream_id
);

/// `Replayed` for states with `epoch` and `seq` fields and an inherent `apply`.
macro_rules! replayed {
    ($($state:ty: $event:ty),+) => {$(
        impl Replayed for $state {
            type Event = $event;

            fn position(&self) -> (u64, u64) {
                (self.epoch, self.seq)
            }

            fn set_epoch(&mut self, epoch: u64) {
                self.epoch = epoch;
            }

            fn apply(&mut self, event: &$event) {
                <$state>::apply(self, event);
            }
        }
    )+};
}

replayed!(
    crate::context::state::ContextState: ContextEvent,
    crate::user::inbox::UserState: UserEvent,
    crate::user::pair::ConversationState: ConversationEvent
);

/// The event type of a machine's stream.
pub(crate) type EventOf<M> = <<M as Machine>::State as Replayed>::Event;

/// What one kind of actor adds to the runtime: its requests, its state and what it
/// does with them. Only `handle` decides; everything else reacts.
pub(crate) trait Machine: Send + Sized + 'static {
    type Request: Send + 'static;
    type State: Replayed;
    /// For logs and the `plenary_actors_running` gauge.
    const KIND: ActorKind;

    /// The state the runtime loads, replays and snapshots.
    fn state(&mut self) -> &mut Self::State;
    /// The state of this stream before its first event (when there is no snapshot).
    fn fresh(&self) -> Self::State;
    /// How long the actor waits for a request before it passivates.
    fn passivate_after(config: &ContextConfig) -> Duration;

    /// After loading, before the first request: `tail` holds the events read.
    fn started(
        &mut self,
        _journal: &mut Journal<EventOf<Self>>,
        _tail: &[EventOf<Self>],
    ) -> impl Future<Output = Result<(), Stop>> + Send {
        async { Ok(()) }
    }
    /// Decides one request: events through [`Journal::emit`], the answer into `held`.
    fn handle(
        &mut self,
        journal: &mut Journal<EventOf<Self>>,
        request: Self::Request,
        held: &mut Vec<Held>,
    );
    /// After a successful commit of `events` (possibly none): answer `held` and
    /// publish, in the order the actor needs.
    fn committed(
        &mut self,
        journal: &mut Journal<EventOf<Self>>,
        events: Vec<EventOf<Self>>,
        held: Vec<Held>,
    ) -> impl Future<Output = Result<(), Stop>> + Send;
    /// Refuses a request the actor will not handle.
    fn refuse(request: Self::Request, why: &Rejection);

    /// When the actor wants to be woken without a request (a timer of its own).
    fn wake_at(&self) -> Option<Instant> {
        None
    }
    /// Woken at `wake_at`: may emit events, which are committed as a batch.
    fn wake(&mut self, _journal: &mut Journal<EventOf<Self>>) -> impl Future<Output = ()> + Send {
        async {}
    }
    /// There is nothing to keep (a look-up of an unknown id): stop once the mailbox is
    /// empty instead of holding memory until the idle time-out.
    fn is_gone(&self) -> bool {
        false
    }
    /// The mailbox closed and is empty (passivation, shutdown): last events, committed
    /// before the actor stops.
    fn closing(
        &mut self,
        _journal: &mut Journal<EventOf<Self>>,
    ) -> impl Future<Output = ()> + Send {
        async {}
    }
    /// Stopping cleanly (passivation): last pushes.
    fn stopping(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// Sends an answer, or the refusal given instead.
type Answer = Box<dyn FnOnce(Option<&Rejection>) + Send>;

/// An answer held back until its batch is committed.
pub(crate) struct Held(Answer);

impl Held {
    pub(crate) fn new<T: Send + 'static>(
        reply: tokio::sync::oneshot::Sender<Result<T, Rejection>>,
        result: Result<T, Rejection>,
    ) -> Self {
        Held(Box::new(move |failed| {
            // A dropped receiver means the caller went away; nothing to tell it.
            let _ = reply.send(match failed {
                Some(why) => Err(why.clone()),
                None => result,
            });
        }))
    }

    /// An answer that takes more work after the commit (reading the log): `then`
    /// runs once the batch committed and answers `reply` itself (it should not keep
    /// the actor waiting: spawn); a failed batch refuses instead.
    pub(crate) fn then<T: Send + 'static>(
        reply: tokio::sync::oneshot::Sender<Result<T, Rejection>>,
        then: impl FnOnce(tokio::sync::oneshot::Sender<Result<T, Rejection>>) + Send + 'static,
    ) -> Self {
        Held(Box::new(move |failed| match failed {
            Some(why) => drop(reply.send(Err(why.clone()))),
            None => then(reply),
        }))
    }

    /// Sends the answers.
    pub(crate) fn answer(held: Vec<Held>) {
        for h in held {
            (h.0)(None);
        }
    }

    /// Sends a refusal instead of the answers.
    pub(crate) fn fail(held: Vec<Held>, why: &Rejection) {
        for h in held {
            (h.0)(Some(why));
        }
    }
}

/// Why an actor stops before its mailbox closes.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The log refused this actor's lease: another node owns the stream now.
    Fenced,
    /// The log could not be read, or did not take (or confirm) an append: memory may
    /// hold events the log does not.
    LogUnavailable,
    /// A conversation could not tell a user of a committed change: it stops and tells
    /// them first thing when it starts again.
    Undelivered,
}

impl Stop {
    /// What the requests still queued are told.
    fn rejection(&self) -> Rejection {
        Rejection::Unavailable(
            match self {
                Stop::Fenced => "moved to another node; retry",
                Stop::LogUnavailable => "the event log is unavailable; retry",
                Stop::Undelivered => "a user's devices cannot be reached just now; retry",
            }
            .into(),
        )
    }
}

/// Runs an actor to its end: load, then batches until the mailbox closes or idles out.
/// Whatever is still queued when it stops for a reason is refused; `on_exit` runs last
/// (the registry forgets the actor, and a successor waiting for it may load).
pub(crate) async fn run<M: Machine>(
    mut machine: M,
    mut journal: Journal<EventOf<M>>,
    mut rx: mpsc::Receiver<M::Request>,
    on_exit: impl FnOnce(),
) {
    telemetry::actor_running(M::KIND, true);
    let result = live(&mut machine, &mut journal, &mut rx).await;
    if result.is_ok() {
        machine.stopping().await;
    }
    telemetry::actor_running(M::KIND, false);
    if let Err(stop) = result {
        let why = stop.rejection();
        rx.close();
        while let Some(request) = rx.recv().await {
            M::refuse(request, &why);
        }
    }
    on_exit();
}

async fn live<M: Machine>(
    machine: &mut M,
    journal: &mut Journal<EventOf<M>>,
    rx: &mut mpsc::Receiver<M::Request>,
) -> Result<(), Stop> {
    let fresh = machine.fresh();
    let tail = match journal.load(machine.state(), fresh).await {
        Ok(tail) => tail,
        Err(e) => {
            error!(error = %e, "cannot load the stream from the event log");
            return Err(Stop::LogUnavailable);
        }
    };
    machine.started(journal, &tail).await?;
    journal.remember_all(tail);

    let passivate_after = M::passivate_after(&journal.config);
    let idle = tokio::time::sleep(passivate_after);
    tokio::pin!(idle);
    // The machine's own timer: one timer entry, moved only when `wake_at` changes (it
    // is asked after every batch, and most batches leave it where it was).
    let wake = tokio::time::sleep(passivate_after);
    tokio::pin!(wake);
    let mut armed: Option<Instant> = None;
    // Grown by the batches that come, not sized for the largest one up front: a quiet
    // actor (most of them) keeps a few slots, not `batch_max` requests.
    let mut batch = Vec::new();
    loop {
        let wake_at = machine.wake_at();
        if let Some(at) = wake_at
            && armed != wake_at
        {
            wake.as_mut().reset(at);
        }
        armed = wake_at;
        tokio::select! {
            received = rx.recv_many(&mut batch, journal.config.batch_max) => {
                if received == 0 {
                    machine.closing(journal).await;
                    commit(machine, journal, Vec::new()).await?;
                    return Ok(());
                }
                let mut held = Vec::with_capacity(batch.len());
                for request in batch.drain(..) {
                    machine.handle(journal, request, &mut held);
                }
                commit(machine, journal, held).await?;
                idle.as_mut().reset(Instant::now() + passivate_after);
                if machine.is_gone() && rx.is_empty() {
                    // Not while more requests wait: one may create the stream.
                    debug!("stopping: the stream does not exist");
                    rx.close();
                }
            }
            () = &mut wake, if wake_at.is_some() => {
                machine.wake(journal).await;
                commit(machine, journal, Vec::new()).await?;
            }
            () = &mut idle => {
                debug!("passivating an idle actor");
                rx.close();
            }
        }
    }
}

/// Commits what a batch decided, then lets the machine answer and publish.
async fn commit<M: Machine>(
    machine: &mut M,
    journal: &mut Journal<EventOf<M>>,
    held: Vec<Held>,
) -> Result<(), Stop> {
    let (events, held) = journal.commit(held).await?;
    let wrote = !events.is_empty();
    machine.committed(journal, events, held).await?;
    if wrote {
        journal.maybe_snapshot(machine.state()).await;
    }
    Ok(())
}

/// Held by a running actor (inside its `on_exit`) and dropped when it has exited.
pub(crate) struct Running(#[allow(dead_code)] watch::Sender<()>);

/// Resolves once an actor has exited. A successor for the same stream waits for its
/// predecessor before it loads: a passivating actor still commits the requests that
/// were queued when its mailbox closed, and a successor that loaded before those
/// commits would decide on a stale state (and see its first append refused).
#[derive(Clone, Debug, Default)]
pub(crate) struct Exited(Option<watch::Receiver<()>>);

impl Exited {
    /// A pair: the actor keeps `Running` until it exits; successors wait on `Exited`.
    pub(crate) fn pair() -> (Running, Exited) {
        let (tx, rx) = watch::channel(());
        (Running(tx), Exited(Some(rx)))
    }

    pub(crate) async fn wait(self) {
        if let Some(mut rx) = self.0 {
            // Only the sender's drop ends this (nothing is ever sent).
            while rx.changed().await.is_ok() {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_successor_loads_only_once_its_predecessor_has_exited() {
        let (running, exited) = Exited::pair();
        let successor = tokio::spawn(exited.wait());
        tokio::time::sleep(Duration::from_secs(600)).await;
        assert!(
            !successor.is_finished(),
            "still waiting while the predecessor runs"
        );
        drop(running);
        successor.await.unwrap();
        // An actor with no predecessor starts at once.
        tokio::time::timeout(Duration::ZERO, Exited::default().wait())
            .await
            .unwrap();
    }

    #[test]
    fn a_held_answer_is_sent_or_replaced_by_the_refusal() {
        let (tx, mut rx) = tokio::sync::oneshot::channel::<Result<u32, Rejection>>();
        Held::answer(vec![Held::new(tx, Ok(7))]);
        assert_eq!(rx.try_recv().unwrap().unwrap(), 7);

        let (tx, mut rx) = tokio::sync::oneshot::channel::<Result<u32, Rejection>>();
        let why = Stop::LogUnavailable.rejection();
        Held::fail(vec![Held::new(tx, Ok(7))], &why);
        assert!(matches!(
            rx.try_recv().unwrap(),
            Err(Rejection::Unavailable(_))
        ));
    }
}
