//! `workflow_runs`: GitHub Actions runs (one row per attempt) as deliveries report them; listing,
//! stats and the stream ordering incidents use (their jobs are in `workflow_jobs`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor, QueryBuilder};
use uuid::Uuid;

use crate::{
    Error,
    domain::{Conclusion, Evaluation, OrgId, RepositoryId, RunStatus, WorkflowRunId},
};

/// One run attempt as a delivery describes it.
#[derive(Debug, Clone, Default)]
pub struct RunIn {
    pub run_id: i64,
    pub run_attempt: i32,
    pub run_number: i64,
    pub workflow_id: i64,
    pub workflow_name: String,
    pub branch: String,
    pub head_sha: String,
    pub event: Option<String>,
    pub status: String,
    pub conclusion: Option<String>,
    pub actor: Option<String>,
    pub commit_author: Option<String>,
    pub commit_message: Option<String>,
    pub html_url: Option<String>,
    pub check_suite_id: Option<i64>,
    pub run_started_at: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct WorkflowRun {
    pub id: WorkflowRunId,
    pub org_id: OrgId,
    pub repository_id: RepositoryId,
    pub repository: String,
    pub run_id: i64,
    pub run_attempt: i32,
    pub run_number: i64,
    pub workflow_id: i64,
    pub workflow_name: String,
    pub branch: String,
    pub head_sha: String,
    pub event: Option<String>,
    pub status: String,
    pub conclusion: Option<String>,
    pub actor: Option<String>,
    pub commit_author: Option<String>,
    pub commit_message: Option<String>,
    pub html_url: Option<String>,
    pub check_suite_id: Option<i64>,
    pub run_started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub evaluation: Option<Evaluation>,
    pub received_at: DateTime<Utc>,
}

/// Records a run attempt, or updates it. A completed attempt never goes back to an earlier status
/// (deliveries arrive out of order). Returns the row's id.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    org: OrgId,
    repository: RepositoryId,
    run: &RunIn,
) -> Result<WorkflowRunId, Error> {
    let completed = RunStatus::is_completed(&run.status);
    let completed_at = completed.then(|| run.updated_at.unwrap_or_else(Utc::now));
    let duration_ms = match (completed_at, run.run_started_at) {
        (Some(end), Some(start)) if end >= start => Some((end - start).num_milliseconds()),
        _ => None,
    };
    Ok(sqlx::query_scalar!(
        r#"INSERT INTO workflow_runs (org_id, repository_id, run_id, run_attempt, run_number, workflow_id,
             workflow_name, branch, head_sha, event, status, conclusion, actor, commit_author, commit_message,
             html_url, check_suite_id, run_started_at, github_created_at, github_updated_at, completed_at, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
         ON CONFLICT (org_id, run_id, run_attempt) DO UPDATE SET
             status = CASE WHEN workflow_runs.status = $23 THEN workflow_runs.status ELSE EXCLUDED.status END,
             -- The run's own completed result replaces one taken from its check suite until evaluated.
             conclusion = CASE
                 WHEN EXCLUDED.status = $23 AND workflow_runs.evaluation IS NULL THEN EXCLUDED.conclusion
                 WHEN workflow_runs.status = $23 THEN workflow_runs.conclusion
                 ELSE EXCLUDED.conclusion END,
             completed_at = coalesce(workflow_runs.completed_at, EXCLUDED.completed_at),
             duration_ms = coalesce(workflow_runs.duration_ms, EXCLUDED.duration_ms),
             workflow_name = CASE WHEN EXCLUDED.workflow_name <> '' THEN EXCLUDED.workflow_name ELSE workflow_runs.workflow_name END,
             event = coalesce(EXCLUDED.event, workflow_runs.event),
             actor = coalesce(EXCLUDED.actor, workflow_runs.actor),
             commit_author = coalesce(EXCLUDED.commit_author, workflow_runs.commit_author),
             commit_message = coalesce(EXCLUDED.commit_message, workflow_runs.commit_message),
             html_url = coalesce(EXCLUDED.html_url, workflow_runs.html_url),
             check_suite_id = coalesce(EXCLUDED.check_suite_id, workflow_runs.check_suite_id),
             run_started_at = coalesce(EXCLUDED.run_started_at, workflow_runs.run_started_at),
             github_updated_at = greatest(EXCLUDED.github_updated_at, workflow_runs.github_updated_at),
             updated_at = now()
         RETURNING id AS "id: WorkflowRunId""#,
        org as OrgId,
        repository as RepositoryId,
        run.run_id,
        run.run_attempt,
        run.run_number,
        run.workflow_id,
        run.workflow_name,
        run.branch,
        run.head_sha,
        run.event,
        run.status,
        run.conclusion,
        run.actor,
        run.commit_author,
        run.commit_message,
        run.html_url,
        run.check_suite_id,
        run.run_started_at,
        run.created_at,
        run.updated_at,
        completed_at,
        duration_ms,
        RunStatus::Completed as RunStatus,
    )
    .fetch_one(db)
    .await?)
}

/// A check suite's completion as a delivery reports it.
pub struct SuiteCompletion<'a> {
    pub check_suite_id: i64,
    pub conclusion: Option<&'a str>,
    /// When it completed.
    pub at: DateTime<Utc>,
}

/// A check suite finished: its run attempts that are not completed yet take its result. Returns
/// every attempt of the suite still waiting for incident evaluation (including ones completed
/// earlier whose evaluation was interrupted), so a retried delivery finishes the job.
pub async fn complete_by_check_suite(
    db: impl PgExecutor<'_>,
    org: OrgId,
    repository: RepositoryId,
    suite: &SuiteCompletion<'_>,
) -> Result<Vec<WorkflowRunId>, Error> {
    let SuiteCompletion {
        check_suite_id,
        conclusion,
        at,
    } = *suite;
    Ok(sqlx::query_scalar!(
        r#"UPDATE workflow_runs SET
             conclusion = CASE WHEN status = $6 THEN conclusion ELSE $4 END,
             completed_at = coalesce(completed_at, $5),
             duration_ms = coalesce(duration_ms, CASE WHEN run_started_at <= $5
                                THEN (extract(epoch FROM $5 - run_started_at) * 1000)::bigint END),
             status = $6, updated_at = now()
         WHERE org_id = $1 AND repository_id = $2 AND check_suite_id = $3 AND evaluation IS NULL
         RETURNING id AS "id: WorkflowRunId""#,
        org as OrgId,
        repository as RepositoryId,
        check_suite_id,
        conclusion,
        at,
        RunStatus::Completed as RunStatus,
    )
    .fetch_all(db)
    .await?)
}

/// The organisation's attempt, locked for incident evaluation.
pub async fn lock(
    tx: &mut PgConnection,
    org: OrgId,
    id: WorkflowRunId,
) -> Result<Option<WorkflowRun>, Error> {
    let locked = sqlx::query_scalar!(
        "SELECT 1 AS one FROM workflow_runs WHERE org_id = $1 AND id = $2 FOR UPDATE",
        org as OrgId,
        id as WorkflowRunId,
    )
    .fetch_optional(&mut *tx)
    .await?;
    match locked {
        Some(_) => find(tx, org, id).await,
        None => Ok(None),
    }
}

/// True when the same workflow on the same branch of the same repository already has a completed
/// decisive result (success, failure, timed out) that is newer than `run`: a higher run number, or
/// a higher attempt of the same run.
pub async fn newer_result_exists(
    tx: &mut PgConnection,
    org: OrgId,
    run: &WorkflowRun,
) -> Result<bool, Error> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM workflow_runs
         WHERE org_id = $1 AND repository_id = $2 AND workflow_id = $3 AND branch = $4
           AND status = $7 AND conclusion = ANY($8)
           AND (run_number, run_attempt) > ($5, $6)) AS "newer!""#,
        org as OrgId,
        run.repository_id as RepositoryId,
        run.workflow_id,
        run.branch,
        run.run_number,
        run.run_attempt,
        RunStatus::Completed as RunStatus,
        Conclusion::ALL as &[Conclusion],
    )
    .fetch_one(tx)
    .await?)
}

/// Records what incident evaluation did with the attempt.
pub async fn set_evaluation(
    tx: &mut PgConnection,
    org: OrgId,
    id: WorkflowRunId,
    evaluation: Evaluation,
) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE workflow_runs SET evaluation = $3 WHERE org_id = $1 AND id = $2",
        org as OrgId,
        id as WorkflowRunId,
        evaluation as Evaluation,
    )
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn find(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: WorkflowRunId,
) -> Result<Option<WorkflowRun>, Error> {
    Ok(sqlx::query_as!(
        WorkflowRun,
        r#"SELECT w.id AS "id: _", w.org_id AS "org_id: _", w.repository_id AS "repository_id: _",
             r.full_name AS repository, w.run_id, w.run_attempt, w.run_number, w.workflow_id, w.workflow_name,
             w.branch, w.head_sha, w.event, w.status, w.conclusion, w.actor, w.commit_author, w.commit_message,
             w.html_url, w.check_suite_id, w.run_started_at, w.completed_at, w.duration_ms,
             w.evaluation AS "evaluation: _", w.received_at
         FROM workflow_runs w JOIN repositories r ON r.id = w.repository_id
         WHERE w.org_id = $1 AND w.id = $2"#,
        org as OrgId,
        id as WorkflowRunId,
    )
    .fetch_optional(db)
    .await?)
}

#[derive(Debug, Default)]
pub struct Filter {
    pub repository: Option<RepositoryId>,
    pub workflow: Option<String>,
    pub branch: Option<String>,
    pub conclusion: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only attempts older than this one (the cursor).
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

fn push_filter(q: &mut QueryBuilder<sqlx::Postgres>, org: OrgId, f: &Filter) {
    q.push(" WHERE w.org_id = ").push_bind(org);
    if let Some(r) = f.repository {
        q.push(" AND w.repository_id = ").push_bind(r);
    }
    if let Some(w) = &f.workflow {
        q.push(" AND w.workflow_name = ").push_bind(w.clone());
    }
    if let Some(b) = &f.branch {
        q.push(" AND w.branch = ").push_bind(b.clone());
    }
    if let Some(c) = &f.conclusion {
        q.push(" AND w.conclusion = ").push_bind(c.clone());
    }
    if let Some(from) = f.from {
        q.push(" AND w.received_at >= ").push_bind(from);
    }
    if let Some(to) = f.to {
        q.push(" AND w.received_at < ").push_bind(to);
    }
}

/// Run attempts, newest first. Dynamic SQL: only the filters given are applied.
pub async fn list(
    db: impl PgExecutor<'_>,
    org: OrgId,
    f: &Filter,
) -> Result<Vec<WorkflowRun>, Error> {
    let mut q = QueryBuilder::new(
        "SELECT w.id, w.org_id, w.repository_id, r.full_name AS repository, w.run_id, w.run_attempt,
             w.run_number, w.workflow_id, w.workflow_name, w.branch, w.head_sha, w.event, w.status, w.conclusion,
             w.actor, w.commit_author, w.commit_message, w.html_url, w.check_suite_id, w.run_started_at,
             w.completed_at, w.duration_ms, w.evaluation, w.received_at
         FROM workflow_runs w JOIN repositories r ON r.id = w.repository_id",
    );
    push_filter(&mut q, org, f);
    super::paging::push_page(&mut q, "w.received_at", "w.id", f.before, f.limit);
    Ok(q.build_query_as().fetch_all(db).await?)
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Stat {
    pub repository_id: RepositoryId,
    pub repository: String,
    pub workflow_id: i64,
    pub workflow_name: String,
    pub runs: i64,
    pub failures: i64,
    pub median_duration_ms: Option<f64>,
}

/// Per repository and workflow: completed attempts, failures (failure or timed out) and the
/// median duration, over the filter's time range.
pub async fn stats(db: impl PgExecutor<'_>, org: OrgId, f: &Filter) -> Result<Vec<Stat>, Error> {
    let mut q = QueryBuilder::new(
        "SELECT w.repository_id, r.full_name AS repository, w.workflow_id, max(w.workflow_name) AS workflow_name,
                count(*) AS runs, count(*) FILTER (WHERE w.conclusion = ANY(",
    );
    q.push_bind(Conclusion::FAILURES.to_vec()).push(
        ")) AS failures,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY w.duration_ms) AS median_duration_ms
         FROM workflow_runs w JOIN repositories r ON r.id = w.repository_id",
    );
    push_filter(&mut q, org, f);
    q.push(" AND w.status = ")
        .push_bind(RunStatus::Completed)
        .push(
            " GROUP BY w.repository_id, r.full_name, w.workflow_id
          ORDER BY r.full_name, workflow_name LIMIT 1000",
        );
    Ok(q.build_query_as().fetch_all(db).await?)
}
