//! `workflow_runs` and `workflow_jobs`: GitHub Actions runs (one row per attempt) and their jobs,
//! as deliveries and the jobs API report them; listing, stats and the stream ordering incidents use.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor, QueryBuilder};
use uuid::Uuid;

use crate::{Error, domain::OrgId};

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
    pub id: Uuid,
    pub org_id: OrgId,
    pub repository_id: Uuid,
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
    pub evaluation: Option<String>,
    pub received_at: DateTime<Utc>,
}

const COLUMNS: &str = "w.id, w.org_id, w.repository_id, r.full_name AS repository, w.run_id, w.run_attempt,
    w.run_number, w.workflow_id, w.workflow_name, w.branch, w.head_sha, w.event, w.status, w.conclusion,
    w.actor, w.commit_author, w.commit_message, w.html_url, w.check_suite_id, w.run_started_at,
    w.completed_at, w.duration_ms, w.evaluation, w.received_at";

/// Records a run attempt, or updates it. A completed attempt never goes back to an earlier status
/// (deliveries arrive out of order). Returns the row's id.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    org: OrgId,
    repository: Uuid,
    run: &RunIn,
) -> Result<Uuid, Error> {
    let completed = run.status == "completed";
    let completed_at = completed.then(|| run.updated_at.unwrap_or_else(Utc::now));
    let duration_ms = match (completed_at, run.run_started_at) {
        (Some(end), Some(start)) if end >= start => Some((end - start).num_milliseconds()),
        _ => None,
    };
    Ok(sqlx::query_scalar(
        "INSERT INTO workflow_runs (org_id, repository_id, run_id, run_attempt, run_number, workflow_id,
             workflow_name, branch, head_sha, event, status, conclusion, actor, commit_author, commit_message,
             html_url, check_suite_id, run_started_at, github_created_at, github_updated_at, completed_at, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
         ON CONFLICT (org_id, run_id, run_attempt) DO UPDATE SET
             status = CASE WHEN workflow_runs.status = 'completed' THEN workflow_runs.status ELSE EXCLUDED.status END,
             -- The run's own completed result replaces one taken from its check suite until evaluated.
             conclusion = CASE
                 WHEN EXCLUDED.status = 'completed' AND workflow_runs.evaluation IS NULL THEN EXCLUDED.conclusion
                 WHEN workflow_runs.status = 'completed' THEN workflow_runs.conclusion
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
         RETURNING id",
    )
    .bind(org)
    .bind(repository)
    .bind(run.run_id)
    .bind(run.run_attempt)
    .bind(run.run_number)
    .bind(run.workflow_id)
    .bind(&run.workflow_name)
    .bind(&run.branch)
    .bind(&run.head_sha)
    .bind(&run.event)
    .bind(&run.status)
    .bind(&run.conclusion)
    .bind(&run.actor)
    .bind(&run.commit_author)
    .bind(&run.commit_message)
    .bind(&run.html_url)
    .bind(run.check_suite_id)
    .bind(run.run_started_at)
    .bind(run.created_at)
    .bind(run.updated_at)
    .bind(completed_at)
    .bind(duration_ms)
    .fetch_one(db)
    .await?)
}

/// A check suite finished: its run attempts that are not completed yet take its result. Returns
/// every attempt of the suite still waiting for incident evaluation (including ones completed
/// earlier whose evaluation was interrupted), so a retried delivery finishes the job.
pub async fn complete_by_check_suite(
    db: impl PgExecutor<'_>,
    org: OrgId,
    repository: Uuid,
    check_suite_id: i64,
    conclusion: Option<&str>,
    at: DateTime<Utc>,
) -> Result<Vec<Uuid>, Error> {
    Ok(sqlx::query_scalar(
        "UPDATE workflow_runs SET
             conclusion = CASE WHEN status = 'completed' THEN conclusion ELSE $4 END,
             completed_at = coalesce(completed_at, $5),
             duration_ms = coalesce(duration_ms, CASE WHEN run_started_at <= $5
                                THEN (extract(epoch FROM $5 - run_started_at) * 1000)::bigint END),
             status = 'completed', updated_at = now()
         WHERE org_id = $1 AND repository_id = $2 AND check_suite_id = $3 AND evaluation IS NULL
         RETURNING id",
    )
    .bind(org)
    .bind(repository)
    .bind(check_suite_id)
    .bind(conclusion)
    .bind(at)
    .fetch_all(db)
    .await?)
}

/// The attempt, locked for incident evaluation.
pub async fn lock(tx: &mut PgConnection, id: Uuid) -> Result<Option<WorkflowRun>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM workflow_runs w JOIN repositories r ON r.id = w.repository_id
         WHERE w.id = $1 FOR UPDATE OF w"
    )))
    .bind(id)
    .fetch_optional(tx)
    .await?)
}

/// True when the same workflow on the same branch of the same repository already has a completed
/// decisive result (success, failure, timed out) that is newer than `run`: a higher run number, or
/// a higher attempt of the same run.
pub async fn newer_result_exists(tx: &mut PgConnection, run: &WorkflowRun) -> Result<bool, Error> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM workflow_runs
         WHERE org_id = $1 AND repository_id = $2 AND workflow_id = $3 AND branch = $4
           AND status = 'completed' AND conclusion IN ('success', 'failure', 'timed_out')
           AND (run_number, run_attempt) > ($5, $6))",
    )
    .bind(run.org_id)
    .bind(run.repository_id)
    .bind(run.workflow_id)
    .bind(&run.branch)
    .bind(run.run_number)
    .bind(run.run_attempt)
    .fetch_one(tx)
    .await?)
}

/// Records what incident evaluation did with the attempt.
pub async fn set_evaluation(
    tx: &mut PgConnection,
    org: OrgId,
    id: Uuid,
    evaluation: &str,
) -> Result<(), Error> {
    sqlx::query("UPDATE workflow_runs SET evaluation = $3 WHERE org_id = $1 AND id = $2")
        .bind(org)
        .bind(id)
        .bind(evaluation)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn find(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
) -> Result<Option<WorkflowRun>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM workflow_runs w JOIN repositories r ON r.id = w.repository_id
         WHERE w.org_id = $1 AND w.id = $2"
    )))
    .bind(org)
    .bind(id)
    .fetch_optional(db)
    .await?)
}

#[derive(Debug, Default)]
pub struct Filter {
    pub repository: Option<Uuid>,
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

/// Run attempts, newest first.
pub async fn list(
    db: impl PgExecutor<'_>,
    org: OrgId,
    f: &Filter,
) -> Result<Vec<WorkflowRun>, Error> {
    let mut q = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM workflow_runs w JOIN repositories r ON r.id = w.repository_id"
    ));
    push_filter(&mut q, org, f);
    super::paging::push_page(&mut q, "w.received_at", "w.id", f.before, f.limit);
    Ok(q.build_query_as().fetch_all(db).await?)
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Stat {
    pub repository_id: Uuid,
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
                count(*) AS runs,
                count(*) FILTER (WHERE w.conclusion IN ('failure', 'timed_out')) AS failures,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY w.duration_ms) AS median_duration_ms
         FROM workflow_runs w JOIN repositories r ON r.id = w.repository_id",
    );
    push_filter(&mut q, org, f);
    q.push(
        " AND w.status = 'completed' GROUP BY w.repository_id, r.full_name, w.workflow_id
          ORDER BY r.full_name, workflow_name LIMIT 1000",
    );
    Ok(q.build_query_as().fetch_all(db).await?)
}

/// One job of a run attempt.
#[derive(Debug, Clone, Default, Serialize, FromRow)]
pub struct JobRow {
    pub job_id: i64,
    pub run_id: i64,
    pub run_attempt: i32,
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub html_url: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Names of the steps that failed.
    pub failed_steps: sqlx::types::Json<Vec<String>>,
}

/// Records jobs (from `workflow_job` deliveries or the jobs API); a completed job keeps its result.
pub async fn upsert_jobs(
    db: impl PgExecutor<'_>,
    org: OrgId,
    repository: Uuid,
    jobs: &[JobRow],
) -> Result<(), Error> {
    if jobs.is_empty() {
        return Ok(());
    }
    let mut q = QueryBuilder::new(
        "INSERT INTO workflow_jobs (org_id, repository_id, job_id, run_id, run_attempt, name, status,
             conclusion, html_url, started_at, completed_at, failed_steps) ",
    );
    q.push_values(jobs, |mut b, j| {
        b.push_bind(org)
            .push_bind(repository)
            .push_bind(j.job_id)
            .push_bind(j.run_id)
            .push_bind(j.run_attempt)
            .push_bind(j.name.clone())
            .push_bind(j.status.clone())
            .push_bind(j.conclusion.clone())
            .push_bind(j.html_url.clone())
            .push_bind(j.started_at)
            .push_bind(j.completed_at)
            .push_bind(j.failed_steps.clone());
    });
    q.push(
        " ON CONFLICT (org_id, job_id) DO UPDATE SET
            status = CASE WHEN workflow_jobs.status = 'completed' THEN workflow_jobs.status ELSE EXCLUDED.status END,
            conclusion = CASE WHEN workflow_jobs.status = 'completed' THEN workflow_jobs.conclusion ELSE EXCLUDED.conclusion END,
            completed_at = coalesce(workflow_jobs.completed_at, EXCLUDED.completed_at),
            started_at = coalesce(workflow_jobs.started_at, EXCLUDED.started_at),
            failed_steps = CASE WHEN EXCLUDED.failed_steps <> '[]' THEN EXCLUDED.failed_steps ELSE workflow_jobs.failed_steps END,
            html_url = coalesce(EXCLUDED.html_url, workflow_jobs.html_url), updated_at = now()",
    );
    q.build().execute(db).await?;
    Ok(())
}

/// The jobs of one run attempt.
pub async fn jobs_of(
    db: impl PgExecutor<'_>,
    org: OrgId,
    run_id: i64,
    run_attempt: i32,
) -> Result<Vec<JobRow>, Error> {
    Ok(sqlx::query_as(
        "SELECT job_id, run_id, run_attempt, name, status, conclusion, html_url, started_at, completed_at, failed_steps
         FROM workflow_jobs WHERE org_id = $1 AND run_id = $2 AND run_attempt = $3 ORDER BY name, job_id",
    )
    .bind(org)
    .bind(run_id)
    .bind(run_attempt)
    .fetch_all(db)
    .await?)
}
