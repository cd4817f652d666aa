//! Answers that need older events from the log (history pages): read by a task of
//! their own, started once the actor's batch committed (the log then holds everything
//! the answer may show), so the actor never waits on the log. Bounded per actor: a few
//! reads at once (more are refused `RATE_LIMITED`, briefly), each within a time-out
//! (then `UNAVAILABLE`).

use std::{future::Future, sync::Arc, time::Duration};

use tokio::sync::{Semaphore, oneshot};
use tracing::{Instrument, Span, warn};

use super::Held;
use crate::context::Rejection;

/// How long reading one answer from the log may take.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// When to retry a read refused because too many run.
const RETRY_AFTER_MS: u64 = 100;

/// An actor's reads of its log, at most a few at once.
#[derive(Clone, Debug)]
pub(crate) struct ArchiveReads {
    running: Arc<Semaphore>,
}

impl ArchiveReads {
    pub(crate) fn new(at_once: usize) -> Self {
        ArchiveReads {
            running: Arc::new(Semaphore::new(at_once)),
        }
    }

    /// Answers `reply` with what `read` finds, after the batch commits: refused at
    /// once when `at_once` reads already run.
    pub(crate) fn answer<T, F>(
        &self,
        reply: oneshot::Sender<Result<T, Rejection>>,
        held: &mut Vec<Held>,
        read: F,
    ) where
        T: Send + 'static,
        F: Future<Output = Result<T, Rejection>> + Send + 'static,
    {
        let Ok(permit) = self.running.clone().try_acquire_owned() else {
            let why = Rejection::RateLimited {
                what: "history pages".into(),
                retry_after_ms: RETRY_AFTER_MS,
            };
            held.push(Held::new(reply, Err(why)));
            return;
        };
        let span = Span::current();
        held.push(Held::then(reply, move |reply| {
            let task = async move {
                let answer = tokio::time::timeout(READ_TIMEOUT, read)
                    .await
                    .unwrap_or_else(|_| {
                        warn!("reading history from the event log timed out");
                        Err(unavailable())
                    });
                drop(permit);
                let _ = reply.send(answer);
            };
            tokio::spawn(task.instrument(span));
        }));
    }
}

/// The refusal when the log cannot be read: retry.
pub(crate) fn unavailable() -> Rejection {
    Rejection::Unavailable("the event log is unavailable; retry".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_beyond_the_bound_are_refused_and_a_failed_batch_refuses_the_rest() {
        let reads = ArchiveReads::new(1);
        let (gate, opened) = oneshot::channel::<()>();
        let mut held = Vec::new();
        let (first, first_answer) = oneshot::channel();
        reads.answer(first, &mut held, async move {
            let _ = opened.await;
            Ok(1)
        });
        let (second, second_answer) = oneshot::channel::<Result<u32, Rejection>>();
        reads.answer(second, &mut held, async { Ok(2) });
        Held::answer(held);
        assert!(matches!(
            second_answer.await.unwrap(),
            Err(Rejection::RateLimited {
                retry_after_ms: 100,
                ..
            })
        ));
        gate.send(()).unwrap();
        assert_eq!(first_answer.await.unwrap(), Ok(1));
        // The permit is back: another read runs; a failed batch refuses it instead.
        let mut held = Vec::new();
        let (third, third_answer) = oneshot::channel::<Result<u32, Rejection>>();
        reads.answer(third, &mut held, async { Ok(3) });
        Held::fail(held, &unavailable());
        assert_eq!(third_answer.await.unwrap(), Err(unavailable()));
    }
}
