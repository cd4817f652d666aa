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
use plenary_reporting::{
    ReportingService,
    access::{bearer, constant_time_eq, reporting_access},
};
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
        Rejection::LimitReached(_) | Rejection::RateLimited { .. } => {
            Status::resource_exhausted(rejection.to_string())
        }
        Rejection::AlreadyClaimed(_)
        | Rejection::Archived(_)
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
        slow_mode_secs: view.settings.slow_mode_secs,
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
            slow_mode_secs: r.slow_mode_secs,
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
            slow_mode_secs: r.slow_mode_secs,
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
    let mut serving = vec!["", "plenary.v1.admin.Admin"];
    if let Some((reporting, verifier)) = reporting {
        grpc = grpc.add_service(ReportingServer::with_interceptor(
            reporting,
            reporting_access(api_key, verifier.tokens().clone()),
        ));
        serving.push("plenary.v1.reporting.Reporting");
    }
    let grpc = plenary_reporting::serve::with_health_and_reflection(grpc, &serving);
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
