//! The admin port: the gRPC admin API and, in embedded mode, the reporting service
//! (both API-key auth), plus `/metrics`, `/healthz` and `/readyz`, served together by
//! one axum router.

use std::sync::{
    Arc, OnceLock,
    atomic::{AtomicBool, Ordering},
};

use axum::{Router, http::StatusCode, response::IntoResponse, routing::get};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use plenary_actors::{
    ContextRegistry, Rejection,
    context::{AdminCommand, ContextView, SettingsPatch},
};
use plenary_proto::v1::reporting::reporting_server::ReportingServer;
use plenary_proto::v1::{
    QaMode,
    admin::{
        Context, CreateContextRequest, GetContextRequest, GetPresenceRequest,
        Presence as PresenceReply, UpdateContextRequest,
        admin_server::{Admin, AdminServer},
    },
    events::{Actor, ContextSettings},
};
use plenary_reporting::{ReportingService, Scope};
use tonic::{Request, Response, Status};

use crate::presence::Presence;

/// The actor recorded on events caused through the admin API: not a moderator (it
/// never shows in `moderator_activity`).
fn admin_actor() -> Actor {
    Actor {
        user_id: "admin-api".into(),
        email: String::new(),
        given_name: "Admin".into(),
        family_name: "API".into(),
        moderator: false,
    }
}

fn status_of(rejection: Rejection) -> Status {
    match rejection {
        Rejection::ContextNotFound(_) | Rejection::NotFound(_) => {
            Status::not_found(rejection.to_string())
        }
        Rejection::ContextExists(_) | Rejection::AlreadyVoted => {
            Status::already_exists(rejection.to_string())
        }
        Rejection::BadRequest(_) | Rejection::InvalidText { .. } => {
            Status::invalid_argument(rejection.to_string())
        }
        Rejection::Unavailable(_) => Status::unavailable(rejection.to_string()),
        // gRPC's code for "may have completed".
        Rejection::OutcomeUnknown(_) => Status::deadline_exceeded(rejection.to_string()),
        Rejection::Forbidden | Rejection::Blocked => {
            Status::permission_denied(rejection.to_string())
        }
        Rejection::LimitReached(_) => Status::resource_exhausted(rejection.to_string()),
        Rejection::AlreadyClaimed(_)
        | Rejection::InvalidState(_)
        | Rejection::NotConnected
        | Rejection::PrivateChatDisabled => Status::failed_precondition(rejection.to_string()),
    }
}

fn context_reply(view: ContextView) -> Context {
    Context {
        id: view.id,
        name: view.settings.name,
        starts_at_ms: view.settings.starts_at_ms,
        ends_at_ms: view.settings.ends_at_ms,
        registered_attendees: view.settings.registered_attendees,
        qa_mode: view.settings.qa_mode,
        created_at_ms: view.created_at_ms,
        epoch: view.epoch,
        seq: view.seq,
        moderator_activity: view
            .moderator_activity
            .into_iter()
            .map(
                |(user_id, email, last_action_ms)| plenary_proto::v1::admin::ModeratorActivity {
                    user_id,
                    email,
                    last_action_ms,
                },
            )
            .collect(),
    }
}

fn check_id(id: &str) -> Result<(), Status> {
    plenary_actors::context::validate_context_id(id).map_err(Status::invalid_argument)
}

fn check_qa_mode(mode: i32) -> Result<(), Status> {
    QaMode::try_from(mode)
        .map(|_| ())
        .map_err(|_| Status::invalid_argument(format!("unknown qa_mode {mode}")))
}

/// The gRPC admin service.
#[derive(Debug)]
pub struct AdminService {
    pub registry: Arc<ContextRegistry>,
    pub presence: Arc<Presence>,
    /// Cluster mode: presence is summed over the live nodes.
    pub cluster: Option<Arc<crate::cluster::ClusterNode>>,
}

impl AdminService {
    /// Runs an admin command on a context and answers with the context as it is after.
    async fn run(&self, id: &str, command: AdminCommand) -> Result<Response<Context>, Status> {
        let view = self
            .registry
            .admin(id, admin_actor(), command)
            .await
            .map_err(status_of)?;
        Ok(Response::new(context_reply(view)))
    }
}

#[tonic::async_trait]
impl Admin for AdminService {
    async fn create_context(
        &self,
        request: Request<CreateContextRequest>,
    ) -> Result<Response<Context>, Status> {
        let r = request.into_inner();
        check_id(&r.id)?;
        check_qa_mode(r.qa_mode)?;
        let settings = ContextSettings {
            // The name is shown to attendees (answers "as the session"): cleaned like
            // a display name from a token.
            name: crate::text::clean_name(&r.name),
            starts_at_ms: r.starts_at_ms,
            ends_at_ms: r.ends_at_ms,
            registered_attendees: r.registered_attendees,
            qa_mode: r.qa_mode,
        };
        self.run(&r.id, AdminCommand::Create(settings)).await
    }

    async fn update_context(
        &self,
        request: Request<UpdateContextRequest>,
    ) -> Result<Response<Context>, Status> {
        let r = request.into_inner();
        check_id(&r.id)?;
        if let Some(mode) = r.qa_mode {
            check_qa_mode(mode)?;
        }
        let patch = SettingsPatch {
            name: r.name.as_deref().map(crate::text::clean_name),
            starts_at_ms: r.starts_at_ms,
            ends_at_ms: r.ends_at_ms,
            registered_attendees: r.registered_attendees,
            qa_mode: r.qa_mode,
        };
        self.run(&r.id, AdminCommand::Update(patch)).await
    }

    async fn get_context(
        &self,
        request: Request<GetContextRequest>,
    ) -> Result<Response<Context>, Status> {
        let r = request.into_inner();
        check_id(&r.id)?;
        let view = self.registry.get(&r.id).await.map_err(status_of)?;
        Ok(Response::new(context_reply(view)))
    }

    async fn get_presence(
        &self,
        request: Request<GetPresenceRequest>,
    ) -> Result<Response<PresenceReply>, Status> {
        let r = request.into_inner();
        check_id(&r.context_id)?;
        let c = match &self.cluster {
            Some(node) => node
                .presence(&r.context_id)
                .await
                .map_err(|e| Status::unavailable(format!("presence unavailable: {e}")))?,
            None => self.presence.counts(&r.context_id),
        };
        Ok(Response::new(PresenceReply {
            context_id: r.context_id,
            attendees: c.attendees,
            moderators: c.moderators,
            connections: c.connections,
        }))
    }
}

/// Compares without an early exit, so the time taken does not reveal the key.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The credential of `authorization: Bearer <credential>` (empty without one).
fn bearer(request: &Request<()>) -> &str {
    request
        .metadata()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
}

/// Checks `authorization: Bearer <key>` on every admin call.
fn api_key_check(
    expected: Option<Arc<str>>,
) -> impl Fn(Request<()>) -> Result<Request<()>, Status> + Clone {
    move |request: Request<()>| {
        let Some(expected) = &expected else {
            return Err(Status::unauthenticated(
                "the admin API is disabled: set PLENARY_ADMIN_API_KEY",
            ));
        };
        if constant_time_eq(bearer(&request).as_bytes(), expected.as_bytes()) {
            Ok(request)
        } else {
            Err(Status::unauthenticated("missing or wrong API key"))
        }
    }
}

/// Who may read reports: the admin API key reads everything; a token the gateway's
/// verifier accepts reads the contexts its `report_contexts` claim lists (the service
/// checks each request against that [`Scope`]); a valid token listing none is
/// `PERMISSION_DENIED`; anything else `UNAUTHENTICATED`.
fn reporting_access(
    api_key: Option<Arc<str>>,
    verifier: crate::auth::Verifier,
) -> impl Fn(Request<()>) -> Result<Request<()>, Status> + Clone {
    move |mut request: Request<()>| {
        let presented = bearer(&request).to_owned();
        let is_key = api_key
            .as_ref()
            .is_some_and(|key| constant_time_eq(presented.as_bytes(), key.as_bytes()));
        let scope = if is_key {
            Scope::All
        } else {
            match verifier.verify(&presented) {
                Ok(v) if !v.report_contexts.is_empty() => Scope::Contexts(v.report_contexts),
                Ok(_) => {
                    return Err(Status::permission_denied(
                        "this token may read no reports: its `report_contexts` claim lists none",
                    ));
                }
                Err(e) => {
                    return Err(Status::unauthenticated(format!(
                        "reports need the admin API key or a token with `report_contexts` ({e})"
                    )));
                }
            }
        };
        request.extensions_mut().insert(scope);
        Ok(request)
    }
}

/// The process-wide Prometheus recorder (installed once).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is installed; then ours just stays empty.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Builds the admin router.
pub fn router(
    service: AdminService,
    reporting: Option<(ReportingService, crate::auth::Verifier)>,
    api_key: Option<String>,
    ready: Arc<AtomicBool>,
) -> Router {
    let metrics = metrics_handle();
    let api_key: Option<Arc<str>> = api_key.map(Arc::from);
    let check = api_key_check(api_key.clone());
    let mut grpc =
        tonic::service::Routes::new(AdminServer::with_interceptor(service, check.clone()));
    // Standard gRPC health and reflection (so `grpcurl` works without the .proto files),
    // without the key: they tell what is served, nothing of its data.
    let (health, health_service) = tonic_health::server::health_reporter();
    let serving = |name: &'static str| {
        let health = health.clone();
        tokio::spawn(async move {
            health
                .set_service_status(name, tonic_health::ServingStatus::Serving)
                .await
        });
    };
    serving("");
    serving("plenary.v1.admin.Admin");
    if let Some((reporting, verifier)) = reporting {
        grpc = grpc.add_service(ReportingServer::with_interceptor(
            reporting,
            reporting_access(api_key, verifier),
        ));
        serving("plenary.v1.reporting.Reporting");
    }
    grpc = grpc.add_service(health_service);
    match tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(plenary_proto::v1::FILE_DESCRIPTOR_SET)
        .build_v1()
    {
        Ok(reflection) => grpc = grpc.add_service(reflection),
        Err(e) => {
            tracing::warn!(error = %e, "gRPC reflection is off: the descriptors did not load")
        }
    }
    grpc.into_axum_router()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let ready = ready.load(Ordering::Relaxed);
                async move {
                    if ready {
                        (StatusCode::OK, "ready\n").into_response()
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "draining\n").into_response()
                    }
                }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let body = metrics.render();
                async move { body }
            }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_key_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
