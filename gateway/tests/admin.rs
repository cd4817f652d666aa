//! The admin port: gRPC admin API with API-key auth, metrics and health endpoints.

mod common;

use common::*;
use plenary_client::v1::QaMode;
use plenary_proto::v1::admin::{
    CreateContextRequest, GetContextRequest, GetPresenceRequest, UpdateContextRequest,
    admin_client::AdminClient,
};
use tonic::{Code, Request, transport::Channel};

async fn admin(server: &TestServer) -> AdminClient<Channel> {
    AdminClient::connect(format!("http://{}", server.admin))
        .await
        .unwrap()
}

#[tokio::test]
async fn create_update_get_and_presence() {
    let server = start(|c| c.require_created_contexts = true).await;
    let mut api = admin(&server).await;

    let err = api
        .get_context(Request::new(GetContextRequest { id: "w1".into() }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "no key, no access");

    let created = api
        .create_context(authed(CreateContextRequest {
            id: "w1".into(),
            name: "Launch webinar".into(),
            starts_at_ms: 1_000,
            ends_at_ms: 2_000,
            registered_attendees: 500,
            qa_mode: QaMode::MultiThread as i32,
            slow_mode_secs: 0,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.name, "Launch webinar");
    assert_eq!(created.seq, 1);
    let again = api
        .create_context(authed(CreateContextRequest {
            id: "w1".into(),
            ..Default::default()
        }))
        .await;
    assert_eq!(again.unwrap_err().code(), Code::AlreadyExists);
    let bad = api
        .create_context(authed(CreateContextRequest {
            id: "w2".into(),
            starts_at_ms: 5,
            ends_at_ms: 1,
            ..Default::default()
        }))
        .await;
    assert_eq!(bad.unwrap_err().code(), Code::InvalidArgument);

    let updated = api
        .update_context(authed(UpdateContextRequest {
            id: "w1".into(),
            registered_attendees: Some(800),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (updated.name.as_str(), updated.registered_attendees),
        ("Launch webinar", 800)
    );
    let missing = api
        .get_context(authed(GetContextRequest { id: "nope".into() }))
        .await;
    assert_eq!(missing.unwrap_err().code(), Code::NotFound);

    // Attendees see the settings on join, and a live update as a push.
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    let info = alice.join("w1").await.unwrap().context.unwrap();
    assert_eq!(info.registered_attendees, 800);
    assert_eq!(info.qa_mode, QaMode::MultiThread as i32);
    let _alice2 = {
        let c = connect(&server.ws_url, attendee_token("alice")).await;
        c.join("w1").await.unwrap();
        c
    };
    let moderator = connect(&server.ws_url, moderator_token("mod", "w1")).await;
    moderator.join("w1").await.unwrap();
    let presence = api
        .get_presence(authed(GetPresenceRequest {
            context_id: "w1".into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            presence.attendees,
            presence.moderators,
            presence.connections
        ),
        (1, 1, 3)
    );

    api.update_context(authed(UpdateContextRequest {
        id: "w1".into(),
        name: Some("Renamed".into()),
        ..Default::default()
    }))
    .await
    .unwrap();
    expect_push(&alice, |p| match &p.body {
        Some(plenary_client::v1::push::Body::Context(c)) => {
            assert_eq!(c.name, "Renamed");
            Some(())
        }
        _ => None,
    })
    .await;
    server.stop().await;
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).await.unwrap();
    let status = body.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, body)
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let server = start(|_| {}).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    alice.join("m").await.unwrap();
    alice.send("m", "hello", "", 0).await.unwrap();
    assert_eq!(http_get(server.admin, "/healthz").await.0, 200);
    assert_eq!(http_get(server.admin, "/readyz").await.0, 200);
    let (status, body) = http_get(server.admin, "/metrics").await;
    assert_eq!(status, 200);
    for name in [
        "plenary_connections",
        "plenary_commands_total",
        "plenary_events_appended_total",
    ] {
        assert!(body.contains(name), "{name} missing from /metrics");
    }
    // The in-process reporting says how much it ingested and how far behind it is
    // (once its first round has run).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    let reporting = [
        "plenary_reporting_ingested_total",
        "plenary_reporting_lag_events",
    ];
    loop {
        let body = http_get(server.admin, "/metrics").await.1;
        if reporting.iter().all(|name| body.contains(name)) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{reporting:?} missing from /metrics"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn moderator_activity_lists_moderators_only_not_the_admin_api() {
    let server = start(|_| {}).await;
    let mut api = admin(&server).await;
    api.create_context(authed(CreateContextRequest {
        id: "w1".into(),
        ..Default::default()
    }))
    .await
    .unwrap();
    api.update_context(authed(UpdateContextRequest {
        id: "w1".into(),
        name: Some("Renamed".into()),
        ..Default::default()
    }))
    .await
    .unwrap();
    let get = |api: &mut AdminClient<Channel>| {
        let mut api = api.clone();
        async move {
            api.get_context(authed(GetContextRequest { id: "w1".into() }))
                .await
                .unwrap()
                .into_inner()
                .moderator_activity
        }
    };
    let activity = get(&mut api).await;
    assert!(activity.is_empty(), "{activity:?}");
    let moderator = connect(&server.ws_url, moderator_token("mod", "w1")).await;
    moderator.join("w1").await.unwrap();
    moderator.send("w1", "welcome", "", 0).await.unwrap();
    let users: Vec<String> = get(&mut api).await.into_iter().map(|a| a.user_id).collect();
    assert_eq!(users, ["mod"]);
    server.stop().await;
}

#[tokio::test]
async fn context_names_are_cleaned_like_display_names() {
    let server = start(|_| {}).await;
    let mut api = admin(&server).await;
    let created = api
        .create_context(authed(CreateContextRequest {
            id: "w1".into(),
            name: "\u{202E}Launch\u{0}\u{7} webinar\u{200B}".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.name, "Launch webinar");
    let updated = api
        .update_context(authed(UpdateContextRequest {
            id: "w1".into(),
            name: Some("Q&A\u{1b}[31m\nday".into()),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.name, "Q&A[31m day");
    server.stop().await;
}
