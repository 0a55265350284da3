//! The fake's GitHub Actions endpoints: a run's jobs (the published `job-paginated.json` shape),
//! a job's log (a redirect to a plain-text download, as GitHub does), and re-runs.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};

use super::{Inner, Need, Shared, repo_auth};

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt}/jobs",
            get(run_jobs),
        )
        .route(
            "/repos/{owner}/{repo}/actions/jobs/{job_id}/logs",
            get(job_logs),
        )
        .route("/log-downloads/{job_id}", get(download_log))
        .route("/repos/{owner}/{repo}/actions/runs/{run_id}", get(get_run))
        .route(
            "/repos/{owner}/{repo}/actions/runs/{run_id}/rerun",
            post(rerun),
        )
        .route(
            "/repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs",
            post(rerun),
        )
}

pub(super) fn set_run_jobs(inner: &mut Inner, run_id: i64, jobs: &[(&str, &str, Option<&str>)]) {
    let example: Value =
        serde_json::from_str(include_str!("../../fixtures/github/job-paginated.json"))
            .expect("fixture");
    let template = example["jobs"][0].clone();
    let mut list = Vec::new();
    for (i, (name, conclusion, failed_step)) in jobs.iter().enumerate() {
        let id = run_id * 10 + i as i64;
        let mut job = template.clone();
        job["id"] = json!(id);
        job["run_id"] = json!(run_id);
        job["name"] = json!(name);
        job["conclusion"] = json!(conclusion);
        job["html_url"] = json!(format!(
            "https://github.com/acme/repo/actions/runs/{run_id}/job/{id}"
        ));
        let mut steps = template["steps"].as_array().cloned().unwrap_or_default();
        if let Some(step) = failed_step {
            let mut s = steps.first().cloned().unwrap_or_else(|| json!({}));
            s["name"] = json!(step);
            s["conclusion"] = json!("failure");
            s["number"] = json!(steps.len() + 1);
            steps.push(s);
            inner.job_logs.insert(
                id,
                (1..=40)
                    .map(|n| format!("2026-11-21T00:00:{n:02}Z {name} log line {n}"))
                    .chain([format!("Error: {step} failed with exit code 1")])
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
        job["steps"] = json!(steps);
        list.push(job);
    }
    inner
        .run_jobs
        .insert(run_id, json!({"total_count": list.len(), "jobs": list}));
}

type RunPath = Path<(String, String, i64)>;
type AttemptPath = Path<(String, String, i64, i64)>;

async fn run_jobs(
    State(s): State<Shared>,
    Path((owner, repo, run_id, attempt)): AttemptPath,
    headers: HeaderMap,
) -> Response {
    let mut inner = s.lock().expect("state");
    let call = format!("GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt}/jobs");
    if let Err(r) = repo_auth(&mut inner, &headers, call, Need::Read) {
        return *r;
    }
    match inner.run_jobs.get(&run_id) {
        Some(jobs) => Json(jobs.clone()).into_response(),
        None => Json(json!({"total_count": 0, "jobs": []})).into_response(),
    }
}

async fn job_logs(
    State(s): State<Shared>,
    Path((owner, repo, job_id)): RunPath,
    headers: HeaderMap,
) -> Response {
    let mut inner = s.lock().expect("state");
    let call = format!("GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs");
    if let Err(r) = repo_auth(&mut inner, &headers, call, Need::Read) {
        return *r;
    }
    if !inner.job_logs.contains_key(&job_id) {
        return (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found"}))).into_response();
    }
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("/log-downloads/{job_id}"))],
    )
        .into_response()
}

async fn download_log(State(s): State<Shared>, Path(job_id): Path<i64>) -> Response {
    let inner = s.lock().expect("state");
    match inner.job_logs.get(&job_id) {
        Some(text) => ([(header::CONTENT_TYPE, "text/plain")], text.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A run's state on the fake: its attempt number and whether it is running.
#[derive(Debug, Clone, Copy)]
pub(super) struct RunState {
    pub attempt: i64,
    pub running: bool,
}

impl Default for RunState {
    fn default() -> Self {
        Self {
            attempt: 1,
            running: false,
        }
    }
}

/// `GET …/actions/runs/{run_id}`: the published `workflow-run` example with this run's id, attempt
/// and status.
async fn get_run(
    State(s): State<Shared>,
    Path((owner, repo, run_id)): RunPath,
    headers: HeaderMap,
) -> Response {
    let mut inner = s.lock().expect("state");
    let call = format!("GET /repos/{owner}/{repo}/actions/runs/{run_id}");
    if let Err(r) = repo_auth(&mut inner, &headers, call, Need::Read) {
        return *r;
    }
    let state = inner.runs.get(&run_id).copied().unwrap_or_default();
    let mut run: Value =
        serde_json::from_str(include_str!("../../fixtures/github/workflow-run.json"))
            .expect("fixture");
    run["id"] = json!(run_id);
    run["run_attempt"] = json!(state.attempt);
    run["status"] = json!(if state.running { "queued" } else { "completed" });
    run["conclusion"] = if state.running {
        Value::Null
    } else {
        json!("failure")
    };
    Json(run).into_response()
}

/// `POST …/rerun` and `…/rerun-failed-jobs`: a completed run gets a new attempt (201); a running
/// one is refused (403), as GitHub does. With answers held (`hold_reruns`), the re-run happens but
/// the answer waits until released.
async fn rerun(
    State(s): State<Shared>,
    Path((owner, repo, run_id)): RunPath,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    let release = {
        let mut inner = s.lock().expect("state");
        let what = uri.path().rsplit('/').next().unwrap_or_default().to_owned();
        let call = format!("POST /repos/{owner}/{repo}/actions/runs/{run_id}/{what}");
        if let Err(r) = repo_auth(&mut inner, &headers, call, Need::Read) {
            return *r;
        }
        let state = inner.runs.entry(run_id).or_default();
        if state.running {
            return (
                StatusCode::FORBIDDEN,
                Json(json!({"message": "This workflow is already running", "documentation_url": "https://docs.github.com/rest/actions/workflow-runs#re-run-a-workflow"})),
            )
                .into_response();
        }
        state.attempt += 1;
        state.running = true;
        if inner.hold_reruns {
            inner.held_reruns += 1;
            Some(inner.release.clone())
        } else {
            None
        }
    };
    if let Some(release) = release {
        let released = release.notified();
        // Released between the lock above and now: do not wait for a wake-up already sent.
        let still_held = s.lock().expect("state").hold_reruns;
        if still_held {
            released.await;
        }
        s.lock().expect("state").held_reruns -= 1;
    }
    StatusCode::CREATED.into_response()
}
