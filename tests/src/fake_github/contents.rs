//! The fake's repository content endpoints, in GitHub's documented shapes: the contents API (an
//! array for a directory, an object with base64 `content` for a file), a commit with `files[]`
//! and their patches (at most 300), the workflows list; each answer carries an `ETag`, a matching
//! `If-None-Match` gets 304 without using the rate limit, and primary (403 + `x-ratelimit-*`) or
//! secondary (429 + `retry-after`) rate limits can be scripted.

use std::collections::{BTreeMap, HashMap, VecDeque};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use base64::Engine;
use serde_json::{Value, json};

use super::{FakeGithub, Need, Shared, repo_auth};

/// A scripted rate-limit answer for the next content request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    /// 403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` this many seconds ahead.
    Primary(u64),
    /// 429 with `retry-after: secs`.
    Secondary(u64),
}

/// A commit's message and its (filename, patch) changes.
type Commit = (String, Vec<(String, String)>);

#[derive(Default)]
pub(super) struct Contents {
    /// (repository, ref, path) → text.
    files: BTreeMap<(String, String, String), String>,
    /// (repository, sha) → (message, [(filename, patch)]).
    commits: HashMap<(String, String), Commit>,
    limits: VecDeque<RateLimit>,
    /// Requests that cost rate limit, and conditional ones answered 304.
    counted: usize,
    not_modified: usize,
}

impl FakeGithub {
    /// Puts a file at `path` on `git_ref` of `repo` (`owner/name`).
    pub fn put_file(&self, repo: &str, git_ref: &str, path: &str, text: &str) {
        self.lock().contents.files.insert(
            (repo.to_owned(), git_ref.to_owned(), path.to_owned()),
            text.to_owned(),
        );
    }

    /// A commit of `repo` with these (filename, patch) changes.
    pub fn put_commit(&self, repo: &str, sha: &str, message: &str, files: &[(String, String)]) {
        self.lock().contents.commits.insert(
            (repo.to_owned(), sha.to_owned()),
            (message.to_owned(), files.to_vec()),
        );
    }

    /// The next content requests answer these rate limits, in order.
    pub fn rate_limit_next(&self, limits: &[RateLimit]) {
        self.lock().contents.limits.extend(limits.iter().copied());
    }

    /// (content requests that cost rate limit, conditional requests answered 304).
    pub fn content_counts(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.contents.counted, inner.contents.not_modified)
    }
}

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/repos/{owner}/{repo}/contents", get(root_contents))
        .route("/repos/{owner}/{repo}/contents/{*path}", get(contents))
        .route("/repos/{owner}/{repo}/commits/{sha}", get(commit))
        .route("/repos/{owner}/{repo}/actions/workflows", get(workflows))
}

#[derive(serde::Deserialize)]
struct RefQuery {
    #[serde(rename = "ref")]
    git_ref: Option<String>,
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})),
    )
        .into_response()
}

/// Authorises, applies a scripted rate limit, then answers `body` with an ETag (304 when the
/// request's `If-None-Match` matches; that costs no rate limit).
fn answer(
    s: &Shared,
    headers: &HeaderMap,
    call: String,
    body: impl FnOnce(&super::Inner) -> Option<Value>,
) -> Response {
    let mut inner = s.lock().expect("state");
    if let Err(r) = repo_auth(&mut inner, headers, call, Need::Read) {
        return *r;
    }
    if let Some(limit) = inner.contents.limits.pop_front() {
        return match limit {
            RateLimit::Primary(secs) => {
                let reset = chrono::Utc::now().timestamp() + secs as i64;
                (
                    StatusCode::FORBIDDEN,
                    [
                        ("x-ratelimit-limit", "5000".to_owned()),
                        ("x-ratelimit-remaining", "0".to_owned()),
                        ("x-ratelimit-used", "5000".to_owned()),
                        ("x-ratelimit-reset", reset.to_string()),
                    ],
                    Json(json!({
                        "message": "API rate limit exceeded for installation ID 27182.",
                        "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"
                    })),
                )
                    .into_response()
            }
            RateLimit::Secondary(secs) => (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", secs.to_string())],
                Json(json!({
                    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
                })),
            )
                .into_response(),
        };
    }
    let Some(value) = body(&inner) else {
        inner.contents.counted += 1;
        return not_found();
    };
    let text = serde_json::to_vec(&value).expect("json");
    let etag = format!("W/\"{}\"", hex_digest(&text));
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag);
    if matches {
        inner.contents.not_modified += 1;
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    inner.contents.counted += 1;
    (
        [
            (header::ETAG, etag),
            (
                header::CONTENT_TYPE,
                "application/json; charset=utf-8".to_owned(),
            ),
        ],
        text,
    )
        .into_response()
}

fn hex_digest(bytes: &[u8]) -> String {
    use std::hash::{DefaultHasher, Hasher};
    let mut h = DefaultHasher::new();
    h.write(bytes);
    format!("{:016x}", h.finish())
}

fn entry(repo: &str, path: &str, kind: &str, size: usize) -> Value {
    let name = path.rsplit('/').next().unwrap_or(path);
    json!({
        "type": kind,
        "size": size,
        "name": name,
        "path": path,
        "sha": hex_digest(path.as_bytes()),
        "url": format!("https://api.github.com/repos/{repo}/contents/{path}"),
        "git_url": null,
        "html_url": format!("https://github.com/{repo}/blob/main/{path}"),
        "download_url": if kind == "file" { json!(format!("https://raw.githubusercontent.com/{repo}/main/{path}")) } else { Value::Null },
        "_links": {"self": format!("https://api.github.com/repos/{repo}/contents/{path}")}
    })
}

fn lookup(inner: &super::Inner, repo: &str, git_ref: &str, path: &str) -> Option<Value> {
    let files = &inner.contents.files;
    if let Some(text) = files.get(&(repo.to_owned(), git_ref.to_owned(), path.to_owned())) {
        let mut file = entry(repo, path, "file", text.len());
        file["encoding"] = json!("base64");
        // GitHub wraps the base64 at 60 characters.
        let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
        let wrapped: Vec<String> = encoded
            .as_bytes()
            .chunks(60)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        file["content"] = json!(wrapped.join("\n"));
        return Some(file);
    }
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut items = Vec::new();
    for ((r, g, p), text) in files {
        if r != repo || g != git_ref {
            continue;
        }
        let Some(rest) = p.strip_prefix(&prefix) else {
            continue;
        };
        match rest.split_once('/') {
            Some((dir, _)) => {
                if seen.insert(dir.to_owned()) {
                    items.push(entry(repo, &format!("{prefix}{dir}"), "dir", 0));
                }
            }
            None => items.push(entry(repo, p, "file", text.len())),
        }
    }
    (!items.is_empty()).then(|| json!(items))
}

async fn root_contents(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<RefQuery>,
) -> Response {
    let name = format!("{owner}/{repo}");
    let git_ref = q.git_ref.unwrap_or_else(|| "main".into());
    answer(
        &s,
        &headers,
        format!("GET /repos/{name}/contents"),
        |inner| lookup(inner, &name, &git_ref, ""),
    )
}

async fn contents(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, path)): Path<(String, String, String)>,
    Query(q): Query<RefQuery>,
) -> Response {
    let name = format!("{owner}/{repo}");
    let git_ref = q.git_ref.unwrap_or_else(|| "main".into());
    let path = path.trim_end_matches('/').to_owned();
    answer(
        &s,
        &headers,
        format!("GET /repos/{name}/contents/{path}"),
        |inner| lookup(inner, &name, &git_ref, &path),
    )
}

async fn commit(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, sha)): Path<(String, String, String)>,
) -> Response {
    let name = format!("{owner}/{repo}");
    answer(
        &s,
        &headers,
        format!("GET /repos/{name}/commits/{sha}"),
        |inner| {
            let (message, files) = inner.contents.commits.get(&(name.clone(), sha.clone()))?;
            let files: Vec<Value> = files
                .iter()
                .take(300)
                .map(|(filename, patch)| {
                    let additions = patch.lines().filter(|l| l.starts_with('+')).count();
                    let deletions = patch.lines().filter(|l| l.starts_with('-')).count();
                    json!({
                        "sha": hex_digest(filename.as_bytes()),
                        "filename": filename,
                        "status": "modified",
                        "additions": additions,
                        "deletions": deletions,
                        "changes": additions + deletions,
                        "blob_url": format!("https://github.com/{name}/blob/{sha}/{filename}"),
                        "patch": patch,
                    })
                })
                .collect();
            Some(json!({
                "sha": sha,
                "html_url": format!("https://github.com/{name}/commit/{sha}"),
                "commit": {"message": message, "author": {"name": "Monalisa Octocat", "email": "mona@github.com", "date": "2026-11-21T00:00:00Z"}},
                "stats": {"total": files.len()},
                "files": files,
            }))
        },
    )
}

async fn workflows(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo)): Path<(String, String)>,
) -> Response {
    let name = format!("{owner}/{repo}");
    answer(
        &s,
        &headers,
        format!("GET /repos/{name}/actions/workflows"),
        |inner| {
            let list: Vec<Value> = inner
                .contents
                .files
                .keys()
                .filter(|(r, g, p)| {
                    *r == name
                        && g == "main"
                        && p.starts_with(".github/workflows/")
                        && (p.ends_with(".yml") || p.ends_with(".yaml"))
                })
                .enumerate()
                .map(|(i, (_, _, p))| {
                    let id = 161_335 + i as i64;
                    json!({
                        "id": id,
                        "node_id": format!("MDg6V29ya2Zsb3cx{id}"),
                        "name": p.rsplit('/').next().unwrap_or(p).trim_end_matches(".yml").trim_end_matches(".yaml"),
                        "path": p,
                        "state": "active",
                        "created_at": "2026-11-20T00:00:00Z",
                        "updated_at": "2026-11-20T00:00:00Z",
                        "url": format!("https://api.github.com/repos/{name}/actions/workflows/{id}"),
                        "html_url": format!("https://github.com/{name}/blob/main/{p}"),
                        "badge_url": format!("https://github.com/{name}/workflows/CI/badge.svg"),
                    })
                })
                .collect();
            Some(json!({"total_count": list.len(), "workflows": list}))
        },
    )
}
