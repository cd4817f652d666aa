//! The `Reporting` gRPC service: report rows streamed from the store, with how far
//! ingestion had got in the response's initial metadata.

use std::{pin::Pin, sync::Arc, sync::atomic::Ordering};

use futures_util::{Stream, StreamExt};
use plenary_proto::v1::reporting::{
    ActivityRequest, ActivityRow, BlockedUserRow, Bucket, ContextStatsRow, CsvChunk, ExportRequest,
    IngestStatus, InteractionResultRow, ModeratorPerformanceRow, ModeratorTranscriptRow,
    PeerTranscriptRow, PollVoteRow, Report, ReportRequest, StatusRequest, UserStatsRow,
    reporting_server::Reporting,
};
use tonic::{Request, Response, Status, metadata::MetadataValue};

use crate::{
    csv_out,
    ingest::Progress,
    store::ACTIVITY_MAX_RANGE_MS,
    store::{Store, StoreError},
};

/// What a caller may read, put in the request's extensions by the server's
/// interceptor (the admin API key: everything; a token: its `report_contexts`). A
/// request without one is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    Contexts(Vec<String>),
}

impl Scope {
    /// A report of one context (`context_id`): the scope must hold it, and a limited
    /// scope must name it.
    fn context<T>(request: &Request<T>, context_id: &str) -> Result<(), Status> {
        match request.extensions().get::<Scope>() {
            Some(Scope::All) => Ok(()),
            Some(Scope::Contexts(allowed)) if allowed.iter().any(|c| c == context_id) => Ok(()),
            Some(Scope::Contexts(allowed)) => Err(Status::permission_denied(format!(
                "this token reads the reports of {} only: set context_id to one of them",
                allowed.join(", ")
            ))),
            None => Err(Status::permission_denied("no access scope")),
        }
    }

    /// A report beyond contexts (user stats, private chat): the admin API key only.
    fn everything<T>(request: &Request<T>) -> Result<(), Status> {
        match request.extensions().get::<Scope>() {
            Some(Scope::All) => Ok(()),
            _ => Err(Status::permission_denied(
                "user stats and private chat transcripts need the admin API key",
            )),
        }
    }
}

/// A stream of report rows.
pub type Rows<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

#[derive(Clone, Debug)]
pub struct ReportingService {
    store: Store,
    progress: Arc<Progress>,
}

impl ReportingService {
    pub fn new(store: Store, progress: Arc<Progress>) -> Self {
        ReportingService { store, progress }
    }

    /// A response of rows, saying in its metadata how far ingestion had got.
    async fn respond<T: Send + 'static>(
        &self,
        rows: impl Stream<Item = Result<T, StoreError>> + Send + 'static,
    ) -> Result<Response<Rows<T>>, Status> {
        let cursor = self.store.cursor().await.map_err(unavailable)?;
        let rows: Rows<T> = Box::pin(rows.map(|row| row.map_err(unavailable)));
        let mut response = Response::new(rows);
        let metadata = response.metadata_mut();
        metadata.insert(
            "x-plenary-as-of-position",
            MetadataValue::from(cursor.position),
        );
        metadata.insert(
            "x-plenary-as-of-ms",
            MetadataValue::from(cursor.last_event_ms),
        );
        Ok(response)
    }
}

fn unavailable(e: StoreError) -> Status {
    Status::unavailable(e.to_string())
}

impl ReportingService {
    /// Moderator performance rows (computed whole: one row per context and moderator),
    /// as a stream like the other reports.
    async fn performance_rows(
        &self,
        request: &ReportRequest,
    ) -> Result<
        impl Stream<Item = Result<ModeratorPerformanceRow, StoreError>> + Send + 'static,
        Status,
    > {
        let rows = self
            .store
            .moderator_performance(request)
            .await
            .map_err(unavailable)?;
        Ok(futures_util::stream::iter(rows.into_iter().map(Ok)))
    }
}

/// An activity request's range (required, at most 90 days) and bucket in ms.
fn activity_of(filter: ReportRequest, bucket: i32) -> Result<(ReportRequest, u64), Status> {
    let filter = checked_range(filter)?;
    require_range(&filter)?;
    if filter.to_ms - filter.from_ms > ACTIVITY_MAX_RANGE_MS {
        return Err(Status::invalid_argument(
            "activity over time covers at most 90 days",
        ));
    }
    let bucket_ms = match Bucket::try_from(bucket) {
        Ok(Bucket::Minute) => 60_000,
        Ok(Bucket::Hour) => 3_600_000,
        Ok(Bucket::Unspecified) | Err(_) => {
            return Err(Status::invalid_argument(
                "bucket: BUCKET_MINUTE or BUCKET_HOUR",
            ));
        }
    };
    Ok((filter, bucket_ms))
}

/// Context stats and activity are over a time range: both ends are required.
fn require_range(request: &ReportRequest) -> Result<(), Status> {
    if request.from_ms == 0 || request.to_ms == 0 {
        return Err(Status::invalid_argument(
            "this report needs a time range: set from_ms and to_ms",
        ));
    }
    Ok(())
}

/// The request of a per-context report, after its scope and range are checked.
fn checked(request: Request<ReportRequest>) -> Result<ReportRequest, Status> {
    Scope::context(&request, &request.get_ref().context_id)?;
    checked_range(request.into_inner())
}

/// A request whose range, if closed, ends after it starts.
fn checked_range(request: ReportRequest) -> Result<ReportRequest, Status> {
    if request.to_ms != 0 && request.to_ms <= request.from_ms {
        return Err(Status::invalid_argument(
            "to_ms must be after from_ms (or 0 for open-ended)",
        ));
    }
    Ok(request)
}

#[tonic::async_trait]
impl Reporting for ReportingService {
    type BlockedUsersStream = Rows<BlockedUserRow>;
    type PollVotesStream = Rows<PollVoteRow>;
    type ContextStatsStream = Rows<ContextStatsRow>;
    type ExportStream = Rows<CsvChunk>;
    type UserStatsStream = Rows<UserStatsRow>;
    type PeerTranscriptsStream = Rows<PeerTranscriptRow>;
    type ModeratorTranscriptsStream = Rows<ModeratorTranscriptRow>;
    type ModeratorPerformanceStream = Rows<ModeratorPerformanceRow>;
    type ActivityOverTimeStream = Rows<ActivityRow>;
    type InteractionResultsStream = Rows<InteractionResultRow>;

    async fn interaction_results(
        &self,
        request: Request<ReportRequest>,
    ) -> Result<Response<Self::InteractionResultsStream>, Status> {
        let request = checked(request)?;
        self.respond(self.store.interaction_results(&request)).await
    }

    async fn activity_over_time(
        &self,
        request: Request<ActivityRequest>,
    ) -> Result<Response<Self::ActivityOverTimeStream>, Status> {
        let context = request
            .get_ref()
            .filter
            .as_ref()
            .map(|f| f.context_id.clone())
            .unwrap_or_default();
        Scope::context(&request, &context)?;
        let ActivityRequest { filter, bucket } = request.into_inner();
        let (filter, bucket_ms) = activity_of(filter.unwrap_or_default(), bucket)?;
        let rows = self
            .store
            .activity(&filter, bucket_ms)
            .await
            .map_err(unavailable)?;
        self.respond(rows).await
    }

    async fn moderator_performance(
        &self,
        request: Request<ReportRequest>,
    ) -> Result<Response<Self::ModeratorPerformanceStream>, Status> {
        let request = checked(request)?;
        self.respond(self.performance_rows(&request).await?).await
    }

    async fn user_stats(
        &self,
        request: Request<ReportRequest>,
    ) -> Result<Response<Self::UserStatsStream>, Status> {
        Scope::everything(&request)?;
        self.respond(self.store.user_stats()).await
    }

    async fn peer_transcripts(
        &self,
        request: Request<ReportRequest>,
    ) -> Result<Response<Self::PeerTranscriptsStream>, Status> {
        Scope::everything(&request)?;
        let request = checked_range(request.into_inner())?;
        self.respond(self.store.peer_transcripts(&request)).await
    }

    async fn moderator_transcripts(
        &self,
        request: Request<ReportRequest>,
    ) -> Result<Response<Self::ModeratorTranscriptsStream>, Status> {
        let request = checked(request)?;
        self.respond(self.store.moderator_transcripts(&request))
            .await
    }

    async fn export(
        &self,
        request: Request<ExportRequest>,
    ) -> Result<Response<Self::ExportStream>, Status> {
        let report_kind = Report::try_from(request.get_ref().report);
        if matches!(report_kind, Ok(Report::UserStats | Report::PeerTranscripts)) {
            Scope::everything(&request)?;
        } else {
            let context = request
                .get_ref()
                .filter
                .as_ref()
                .map(|f| f.context_id.as_str());
            Scope::context(&request, context.unwrap_or_default())?;
        }
        let ExportRequest {
            report,
            filter,
            bucket,
        } = request.into_inner();
        let filter = checked_range(filter.unwrap_or_default())?;
        let chunks = |bytes: Result<Vec<u8>, StoreError>| bytes.map(|data| CsvChunk { data });
        match Report::try_from(report) {
            Ok(Report::BlockedUsers) => {
                let rows = csv_out::encode(self.store.blocked_users(&filter));
                self.respond(rows.map(chunks)).await
            }
            Ok(Report::PollVotes) => {
                let rows = csv_out::encode(self.store.poll_votes(&filter));
                self.respond(rows.map(chunks)).await
            }
            Ok(Report::ContextStats) => {
                require_range(&filter)?;
                let rows = csv_out::encode(self.store.context_stats(&filter));
                self.respond(rows.map(chunks)).await
            }
            Ok(Report::UserStats) => {
                let rows = csv_out::encode(self.store.user_stats());
                self.respond(rows.map(chunks)).await
            }
            Ok(Report::PeerTranscripts) => {
                let rows = csv_out::encode(self.store.peer_transcripts(&filter));
                self.respond(rows.map(chunks)).await
            }
            Ok(Report::ModeratorTranscripts) => {
                let rows = csv_out::encode(self.store.moderator_transcripts(&filter));
                self.respond(rows.map(chunks)).await
            }
            Ok(Report::ActivityOverTime) => {
                let (filter, bucket_ms) = activity_of(filter, bucket)?;
                let rows = self
                    .store
                    .activity(&filter, bucket_ms)
                    .await
                    .map_err(unavailable)?;
                self.respond(csv_out::encode(rows).map(chunks)).await
            }
            Ok(Report::InteractionResults) => {
                let rows = csv_out::encode(self.store.interaction_results(&filter));
                self.respond(rows.map(chunks)).await
            }
            Ok(Report::ModeratorPerformance) => {
                let rows = csv_out::encode(self.performance_rows(&filter).await?);
                self.respond(rows.map(chunks)).await
            }
            Ok(Report::Unspecified) | Err(_) => Err(Status::invalid_argument(
                "report: one of REPORT_BLOCKED_USERS, REPORT_POLL_VOTES, REPORT_CONTEXT_STATS, \
                 REPORT_USER_STATS, REPORT_PEER_TRANSCRIPTS, REPORT_MODERATOR_TRANSCRIPTS, \
                 REPORT_MODERATOR_PERFORMANCE, REPORT_INTERACTION_RESULTS, \
                 REPORT_ACTIVITY_OVER_TIME",
            )),
        }
    }

    async fn context_stats(
        &self,
        request: Request<ReportRequest>,
    ) -> Result<Response<Self::ContextStatsStream>, Status> {
        let request = checked(request)?;
        require_range(&request)?;
        self.respond(self.store.context_stats(&request)).await
    }

    async fn blocked_users(
        &self,
        request: Request<ReportRequest>,
    ) -> Result<Response<Self::BlockedUsersStream>, Status> {
        let request = checked(request)?;
        self.respond(self.store.blocked_users(&request)).await
    }

    async fn poll_votes(
        &self,
        request: Request<ReportRequest>,
    ) -> Result<Response<Self::PollVotesStream>, Status> {
        let request = checked(request)?;
        self.respond(self.store.poll_votes(&request)).await
    }

    async fn status(&self, _: Request<StatusRequest>) -> Result<Response<IngestStatus>, Status> {
        let cursor = self.store.cursor().await.map_err(unavailable)?;
        Ok(Response::new(IngestStatus {
            position: cursor.position,
            last_event_ms: cursor.last_event_ms,
            ingested: self.progress.ingested.load(Ordering::Relaxed),
            unreadable: self.progress.unreadable.load(Ordering::Relaxed),
        }))
    }
}
