//! An actor's log lines carry the actor's own span (its context or stream id), never
//! the span of the session whose command happened to start it.

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use plenary_actors::{
    ContextConfig, ContextRegistry, Identity, JoinRequest,
    user::{ConnectionAction, PairCommand},
};
use plenary_bus::{Bus, EventLog, SyncMode};
use tracing::{Instrument, info_span};
use tracing_subscriber::fmt::MakeWriter;

/// Everything the subscriber writes, for reading back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn identity(id: &str) -> Arc<Identity> {
    Arc::new(Identity {
        user_id: id.into(),
        given_name: id.into(),
        ..Identity::default()
    })
}

// A current-thread runtime: the actors run on this thread, under its subscriber.
#[tokio::test]
async fn actors_started_by_a_session_log_under_their_own_span_only() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
    let config = ContextConfig {
        passivate_after: Duration::from_millis(100),
        private_passivate_after: Duration::from_millis(100),
        ..ContextConfig::default()
    };
    let registry = ContextRegistry::new(config, log, Bus::memory());
    let (alice, bob) = (identity("alice"), identity("bob"));
    registry.private_open(bob.clone(), None).await.unwrap();
    // Alice's commands start a context actor, her user actor and the conversation.
    async {
        registry
            .join(
                "w1",
                JoinRequest {
                    identity: alice.clone(),
                    since: None,
                    create: true,
                },
            )
            .await
            .unwrap();
        registry.private_open(alice.clone(), None).await.unwrap();
        registry
            .pair_command(
                &alice,
                "bob",
                None,
                PairCommand::Connection(ConnectionAction::Request),
            )
            .await
            .unwrap();
    }
    .instrument(info_span!("session", user_id = "alice"))
    .await;

    // Each of them logs when it passivates (a user actor perhaps more than once: a
    // notice from the conversation may start it again).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let expected = [
        "context{context_id=w1}",
        "user{stream=~u/alice}",
        "user{stream=~u/bob}",
        "conversation{stream=~dm/alice/bob}",
    ];
    let passivations = loop {
        let passivations: Vec<String> = captured
            .lines()
            .into_iter()
            .filter(|l| l.contains("passivating"))
            .collect();
        if expected
            .iter()
            .all(|span| passivations.iter().any(|l| l.contains(span)))
        {
            break passivations;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not every actor passivated under its own span: {:#?}",
            captured.lines()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    for line in &passivations {
        assert!(
            !line.contains("session") && !line.contains("user_id"),
            "an actor logs under the session that started it: {line}"
        );
    }
}
