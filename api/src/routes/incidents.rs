//! `/api/v1/orgs/{org_id}/incidents`: incidents opened from failing workflow runs and broken Argo
//! CD deployments, their occurrences and timeline, and what people do with them.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use common::{
    domain::{
        ApplicationId, EventKind, IncidentEventId, IncidentId, IncidentSource, IncidentStatus,
        IntegrationId, RepositoryId, Severity, UserId, WorkflowRunId,
    },
    incidents::Action,
    repo::{
        incident_events::{self, Event},
        incidents::{self, Filter, Incident, Occurrence},
    },
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::extract::IncidentPath;
use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{ActOn, FieldErrors, OrgMember, ValidJson, ValidQuery, path_id, perm},
    pagination,
    state::AppState,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentQuery {
    /// `open`, `acknowledged` or `resolved`.
    pub status: Option<String>,
    /// `critical`, `high`, `medium` or `low`.
    pub severity: Option<String>,
    /// `github_actions` or `argocd`.
    pub source: Option<String>,
    /// Repository id.
    pub repository: Option<Uuid>,
    pub branch: Option<String>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentOut {
    pub id: IncidentId,
    /// What feeds it: `github_actions` (a workflow on a branch) or `argocd` (an application).
    pub source: IncidentSource,
    /// The CI subject; null for other sources.
    pub repository_id: Option<RepositoryId>,
    pub repository: Option<String>,
    pub workflow_id: Option<i64>,
    pub workflow_name: Option<String>,
    pub branch: Option<String>,
    /// The deployment subject (`argocd`): the integration and its application; null otherwise.
    pub integration_id: Option<IntegrationId>,
    pub application_id: Option<ApplicationId>,
    pub title: String,
    pub severity: Severity,
    pub status: IncidentStatus,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub occurrence_count: i32,
    /// The commit of the first failing run (the suspect) and its author (CI incidents).
    pub head_sha: Option<String>,
    pub suspect_author: Option<String>,
    pub suspect_message: Option<String>,
    /// CI: failed jobs and steps with links and log tails, fetched from GitHub by a job. Argo CD:
    /// the application's conditions, last operation message and `link` to it in Argo CD.
    pub context: Option<serde_json::Value>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<UserId>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<UserId>,
    /// Why it was resolved (automatically: which run succeeded).
    pub resolution: Option<String>,
    /// Triage context to follow: the suspect commit's diff and the failing workflow's YAML.
    pub links: IncidentLinks,
}

/// API paths of an incident's triage context (fetched from GitHub when followed).
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentLinks {
    /// `…/repositories/{id}/commits/{head_sha}/diff`; null without a commit.
    pub suspect_commit_diff: Option<String>,
    /// `…/repositories/{id}/workflows?workflow_id={workflow_id}`: the workflow with its YAML
    /// (CI incidents).
    pub workflow: Option<String>,
    /// `…/integrations/{id}/applications`: the integration's applications (Argo CD incidents).
    pub applications: Option<String>,
}

impl From<Incident> for IncidentOut {
    fn from(i: Incident) -> Self {
        let repo_path = i
            .repository_id
            .map(|r| format!("/api/v1/orgs/{}/repositories/{r}", i.org_id));
        let links = IncidentLinks {
            suspect_commit_diff: repo_path.as_ref().and_then(|path| {
                let sha = common::github::valid_sha(i.head_sha.as_deref()?).ok()?;
                Some(format!("{path}/commits/{sha}/diff"))
            }),
            workflow: repo_path
                .as_ref()
                .zip(i.workflow_id)
                .map(|(path, w)| format!("{path}/workflows?workflow_id={w}")),
            applications: i
                .integration_id
                .map(|g| format!("/api/v1/orgs/{}/integrations/{g}/applications", i.org_id)),
        };
        Self {
            links,
            id: i.id,
            source: i.source,
            repository_id: i.repository_id,
            repository: i.repository,
            integration_id: i.integration_id,
            application_id: i.application_id,
            workflow_id: i.workflow_id,
            workflow_name: i.workflow_name,
            branch: i.branch,
            title: i.title,
            severity: i.severity,
            status: i.status,
            first_seen_at: i.first_seen_at,
            last_seen_at: i.last_seen_at,
            occurrence_count: i.occurrence_count,
            head_sha: i.head_sha,
            suspect_author: i.suspect_author,
            suspect_message: i.suspect_message,
            context: i.context,
            acknowledged_at: i.acknowledged_at,
            acknowledged_by: i.acknowledged_by,
            resolved_at: i.resolved_at,
            resolved_by: i.resolved_by,
            resolution: i.resolution,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentPageOut {
    pub items: Vec<IncidentOut>,
    pub next_cursor: Option<String>,
}

/// Incidents, most recently seen first, with filters and cursor pagination.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/incidents", operation_id = "incidents_list", tag = "incidents", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid), IncidentQuery),
    responses((status = 200, body = IncidentPageOut), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    member: OrgMember<perm::IncidentsRead>,
    ValidQuery(q): ValidQuery<IncidentQuery>,
) -> ApiResult<IncidentPageOut> {
    let status = pagination::parse_set::<IncidentStatus>("status", q.status.as_deref())?;
    let severity = pagination::parse_set::<Severity>("severity", q.severity.as_deref())?;
    let source = pagination::parse_set::<IncidentSource>("source", q.source.as_deref())?;
    let limit = pagination::limit(q.limit, 50, 200)?;
    let filter = Filter {
        status,
        severity,
        source,
        repository: q.repository.map(RepositoryId),
        branch: q.branch,
        before: pagination::time_cursor(q.cursor.as_deref())?,
        limit: limit + 1,
    };
    let rows = incidents::list(&state.services.pool, member.org_id, &filter).await?;
    let (rows, next_cursor) = pagination::page(rows, limit, |i| (i.last_seen_at, i.id.0));
    Ok(Envelope(IncidentPageOut {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OccurrenceOut {
    pub workflow_run_id: WorkflowRunId,
    pub run_id: i64,
    pub run_attempt: i32,
    pub run_number: i64,
    pub head_sha: String,
    pub conclusion: Option<String>,
    pub commit_author: Option<String>,
    pub html_url: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

impl From<Occurrence> for OccurrenceOut {
    fn from(o: Occurrence) -> Self {
        Self {
            workflow_run_id: o.workflow_run_id,
            run_id: o.run_id,
            run_attempt: o.run_attempt,
            run_number: o.run_number,
            head_sha: o.head_sha,
            conclusion: o.conclusion,
            commit_author: o.commit_author,
            html_url: o.html_url,
            occurred_at: o.occurred_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntryOut {
    pub id: IncidentEventId,
    pub kind: EventKind,
    /// Who did it; null for RepoPal itself.
    pub actor_id: Option<UserId>,
    pub body: Option<String>,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl From<Event> for TimelineEntryOut {
    fn from(e: Event) -> Self {
        Self {
            id: e.id,
            kind: e.kind,
            actor_id: e.actor_id,
            body: e.body,
            data: e.data,
            created_at: e.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentDetailOut {
    #[serde(flatten)]
    pub incident: IncidentOut,
    pub occurrences: Vec<OccurrenceOut>,
    pub timeline: Vec<TimelineEntryOut>,
}

/// One incident with its occurrences and timeline.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/incidents/{incident_id}", operation_id = "incidents_get", tag = "incidents", security(("bearer" = [])),
    params(IncidentPath),
    responses((status = 200, body = IncidentDetailOut), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    member: OrgMember<perm::IncidentsRead>,
    Path(IncidentPath {
        incident_id: id, ..
    }): Path<IncidentPath>,
) -> ApiResult<IncidentDetailOut> {
    let id = path_id(&id)?;
    let incident = incidents::find(&state.services.pool, member.org_id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let occurrences = incidents::occurrences(&state.services.pool, member.org_id, id).await?;
    let timeline = incident_events::events(&state.services.pool, member.org_id, id).await?;
    Ok(Envelope(IncidentDetailOut {
        incident: incident.into(),
        occurrences: occurrences.into_iter().map(Into::into).collect(),
        timeline: timeline.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteIn {
    /// An optional note for the timeline (at most 4000 characters).
    #[schema(max_length = 4000)]
    pub note: Option<String>,
}

/// Applies `action` to the incident `id` for `by`, with an optional note (at most 4000 characters).
async fn act(
    on: ActOn<perm::IncidentsManage, IncidentPath>,
    action: Action,
    note: Option<String>,
) -> ApiResult<IncidentOut> {
    // The length as sent (the document's `maxLength`).
    if note.as_ref().is_some_and(|n| n.chars().count() > 4000) {
        let mut errors = FieldErrors::default();
        errors.refuse("note", "must be at most 4000 characters");
        errors.finish()?;
    }
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    let incident = common::incidents::act(
        &on.state.services.pool,
        &on.acting(),
        on.id()?,
        action,
        note.as_deref(),
    )
    .await?;
    Ok(Envelope(incident.into()))
}

/// Acknowledge an open incident (409 `invalid_transition` otherwise).
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/incidents/{incident_id}/acknowledge", operation_id = "incidents_acknowledge", tag = "incidents", security(("bearer" = [])),
    params(IncidentPath),
    request_body = NoteIn,
    responses((status = 200, body = IncidentOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn acknowledge(
    on: ActOn<perm::IncidentsManage, IncidentPath>,
    ValidJson(body): ValidJson<NoteIn>,
) -> ApiResult<IncidentOut> {
    act(on, Action::Acknowledge, body.note).await
}

/// Resolve an open or acknowledged incident; the note becomes the resolution.
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/incidents/{incident_id}/resolve", operation_id = "incidents_resolve", tag = "incidents", security(("bearer" = [])),
    params(IncidentPath),
    request_body = NoteIn,
    responses((status = 200, body = IncidentOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn resolve(
    on: ActOn<perm::IncidentsManage, IncidentPath>,
    ValidJson(body): ValidJson<NoteIn>,
) -> ApiResult<IncidentOut> {
    act(on, Action::Resolve, body.note).await
}

/// Reopen a resolved incident (409 `incident_already_open` when a newer one is open for the
/// same workflow and branch).
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/incidents/{incident_id}/reopen", operation_id = "incidents_reopen", tag = "incidents", security(("bearer" = [])),
    params(IncidentPath),
    request_body = NoteIn,
    responses((status = 200, body = IncidentOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn reopen(
    on: ActOn<perm::IncidentsManage, IncidentPath>,
    ValidJson(body): ValidJson<NoteIn>,
) -> ApiResult<IncidentOut> {
    act(on, Action::Reopen, body.note).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentIn {
    /// 1–4000 characters.
    #[schema(value_type = crate::request_formats::CommentText)]
    pub body: String,
}

/// Add a comment to the incident's timeline.
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/incidents/{incident_id}/comments", operation_id = "incidents_comment", tag = "incidents", security(("bearer" = [])),
    params(IncidentPath),
    request_body = CommentIn,
    responses((status = 201, body = TimelineEntryOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn comment(
    on: ActOn<perm::IncidentsManage, IncidentPath>,
    ValidJson(body): ValidJson<CommentIn>,
) -> Result<(StatusCode, Envelope<TimelineEntryOut>), ApiError> {
    // The length as sent (the document's `maxLength`); then not only whitespace.
    let text = body.body.trim();
    if text.is_empty() || body.body.chars().count() > 4000 {
        let mut errors = FieldErrors::default();
        errors.refuse("body", "must be 1 to 4000 characters");
        errors.finish()?;
    }
    let event =
        common::incidents::comment(&on.state.services.pool, &on.acting(), on.id()?, text).await?;
    Ok((StatusCode::CREATED, Envelope(event.into())))
}
