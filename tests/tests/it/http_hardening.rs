//! Attacks on the HTTP layer: rate-limit evasion (NAT, IPv6 rotation, spoofed X-Forwarded-For),
//! password-hashing floods, webhook body floods, scraping /metrics, and missing response headers
//! or open CORS. Each test performs the attack against the real router and asserts it fails.

use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use common::{
    config::{ApiConfig, Config},
    crypto::signature,
};
use futures::future::join_all;
use repopal_api::AppState;
use repopal_tests::{
    TestApp, TestDb,
    auth::PASSWORD,
    http::{TEST_METRICS_TOKEN, TEST_WEBHOOK_SECRET, TestResponse, send, test_env},
};
use serde_json::{Value, json};

/// The app with extra settings (`None` removes a default), and its state for observing counters.
async fn app_with(extra: &[(&str, Option<&str>)]) -> (TestApp, AppState) {
    let db = TestDb::new().await;
    let mut env = test_env(&db.url);
    for (k, v) in extra {
        match v {
            Some(v) => env.insert((*k).to_owned(), (*v).to_owned()),
            None => env.remove(*k),
        };
    }
    let config = Config::from_source(&env).expect("config");
    let api = ApiConfig::from_source(&env).expect("api config");
    let state = repopal_api::state(db.pool.clone(), config, api).expect("state");
    let router = repopal_api::app(state.clone());
    (TestApp { db, router }, state)
}

/// A request from peer `ip` with optional extra headers and JSON body.
fn request(
    ip: &str,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<serde_json::Value>,
) -> Request<Body> {
    let peer: std::net::SocketAddr = std::net::SocketAddr::new(ip.parse().expect("ip"), 40000);
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .extension(axum::extract::ConnectInfo(peer));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .expect("request")
}

/// A wrong password for a fresh email each time (so account lockout never answers instead of
/// the rate limit).
fn bad_login() -> Option<serde_json::Value> {
    let email = format!("victim-{}@example.com", uuid::Uuid::new_v4().simple());
    Some(json!({"email": email, "password": "Wrong-horse-1"}))
}

fn is_rate_limited(res: &TestResponse) -> bool {
    res.status == 429
        && res.json()["error"]["code"] == "rate_limited"
        && res.headers.contains_key("retry-after")
}

#[tokio::test]
async fn a_nat_team_reading_me_is_never_limited_while_login_is() {
    let (app, _) = app_with(&[("AUTH_RATE_LIMIT_PER_MINUTE", Some("5"))]).await;
    let user = app.register("team@example.com", None).await; // from the harness's own address
    let office = "198.51.100.7";
    let from_office = app.caller(Some(&user)).from_ip(office);
    for _ in 0..100 {
        let _: Value = from_office
            .call(Method::GET, "/api/v1/auth/me", None, 200)
            .await;
    }
    for _ in 0..10 {
        let _: Value = from_office
            .call(Method::GET, "/api/v1/auth/sessions", None, 200)
            .await;
    }
    for i in 0..8 {
        let res = app
            .request(request(
                office,
                Method::POST,
                "/api/v1/auth/login",
                &[],
                bad_login(),
            ))
            .await;
        if i < 5 {
            assert_eq!(res.status, 401, "{}", res.text());
        } else {
            assert!(is_rate_limited(&res), "{} {}", res.status, res.text());
        }
    }
}

#[tokio::test]
async fn an_ipv6_attacker_rotating_inside_one_64_shares_one_bucket() {
    let (app, _) = app_with(&[("AUTH_RATE_LIMIT_PER_MINUTE", Some("3"))]).await;
    let mut limited = 0;
    for i in 1..=10 {
        let ip = format!("2001:db8:1:2:{i:x}:{i:x}:0:{i:x}");
        let res = app
            .request(request(
                &ip,
                Method::POST,
                "/api/v1/auth/login",
                &[],
                bad_login(),
            ))
            .await;
        if is_rate_limited(&res) {
            limited += 1;
        }
    }
    assert_eq!(limited, 7, "only the /64's allowance of 3 got through");
    // Another /64 has its own allowance.
    let res = app
        .request(request(
            "2001:db8:1:3::1",
            Method::POST,
            "/api/v1/auth/login",
            &[],
            bad_login(),
        ))
        .await;
    assert_eq!(res.status, 401);
}

async fn audit_ips(app: &TestApp) -> Vec<Option<String>> {
    sqlx::query_scalar(
        "SELECT ip FROM audit_logs WHERE action = 'auth.login' ORDER BY created_at, id",
    )
    .fetch_all(&app.db.pool)
    .await
    .expect("audit rows")
}

#[tokio::test]
async fn spoofed_forwarded_for_is_ignored_unless_a_trusted_proxy_added_it() {
    let (app, _) = app_with(&[
        ("AUTH_RATE_LIMIT_PER_MINUTE", Some("3")),
        ("TRUSTED_PROXY_CIDRS", Some("10.0.0.0/8")),
    ])
    .await;
    // An attacker connecting directly invents a new X-Forwarded-For for every attempt.
    for i in 1..=6 {
        let spoof = format!("203.0.113.{i}");
        let res = app
            .request(request(
                "192.0.2.66",
                Method::POST,
                "/api/v1/auth/login",
                &[("x-forwarded-for", &spoof)],
                bad_login(),
            ))
            .await;
        if i <= 3 {
            assert_eq!(res.status, 401, "{}", res.text());
        } else {
            assert!(is_rate_limited(&res), "spoofed hop {i} got a fresh bucket");
        }
    }
    let ips = audit_ips(&app).await;
    assert_eq!(ips.len(), 3);
    assert!(
        ips.iter().all(|ip| ip.as_deref() == Some("192.0.2.66")),
        "{ips:?}"
    );

    // Behind the trusted proxy, each client (the hop the proxy added) has its own bucket and is
    // the address audited; what the client itself put in the header is not believed.
    for i in 1..=6 {
        let xff = format!("6.6.6.6, 198.51.100.{i}");
        let res = app
            .request(request(
                "10.1.2.3",
                Method::POST,
                "/api/v1/auth/login",
                &[("x-forwarded-for", &xff)],
                bad_login(),
            ))
            .await;
        assert_eq!(res.status, 401, "client {i} is not limited by others");
    }
    let ips = audit_ips(&app).await;
    assert_eq!(ips.len(), 9);
    for (i, ip) in ips[3..].iter().enumerate() {
        assert_eq!(
            ip.as_deref(),
            Some(format!("198.51.100.{}", i + 1).as_str())
        );
    }
}

#[tokio::test]
async fn metrics_need_the_token_and_are_absent_without_settings() {
    let (app, _) = app_with(&[]).await;
    for auth in [
        None,
        Some("Bearer wrong-token-0123456789"),
        Some(TEST_METRICS_TOKEN),
    ] {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", *a)).collect();
        let res = app
            .request(request(
                "192.0.2.1",
                Method::GET,
                "/metrics",
                &headers,
                None,
            ))
            .await;
        assert_eq!(res.status, 401, "{auth:?}");
        assert_eq!(res.headers["www-authenticate"], "Bearer");
        assert_eq!(res.json()["error"]["code"], "unauthorized");
    }
    let res = app.metrics().await;
    assert_eq!(res.status, 200);
    assert!(res.text().contains("http_requests_total"));

    let (bare, _) = app_with(&[("METRICS_TOKEN", None)]).await;
    assert_eq!(bare.get("/metrics").await.status, 404);

    // With its own listener, the public port has no /metrics even with the right token.
    let (public, state) = app_with(&[("METRICS_ADDR", Some("127.0.0.1:0"))]).await;
    assert_eq!(public.metrics().await.status, 404);
    let private = repopal_api::metrics_app(state);
    let req = |auth: &str| {
        Request::builder()
            .uri("/metrics")
            .header("authorization", auth)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(send(&private, req("Bearer nope")).await.status, 401);
    let ok = send(&private, req(&format!("Bearer {TEST_METRICS_TOKEN}"))).await;
    assert_eq!(ok.status, 200);
}

fn assert_hardened(res: &TestResponse, what: &str) {
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("content-security-policy", "frame-ancestors 'none'"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(
            res.headers.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{name} on {what}"
        );
    }
}

#[tokio::test]
async fn security_headers_are_on_every_answer_and_hsts_only_on_https() {
    let (app, _) = app_with(&[]).await;
    let ok = app.get("/healthz").await;
    assert_eq!(ok.status, 200);
    assert_hardened(&ok, "a 200");
    let user = app.register("hdr@example.com", None).await;
    let login = app.login(&user.email, PASSWORD).await;
    assert_eq!(login.status, 200);
    assert_hardened(&login, "a login carrying tokens");
    let unauthorized = app.get("/api/v1/auth/me").await;
    assert_eq!(unauthorized.status, 401);
    assert_hardened(&unauthorized, "a 401");
    assert_eq!(unauthorized.headers["www-authenticate"], "Bearer");
    let missing = app.get("/no/such/page").await;
    assert_eq!(missing.status, 404);
    assert_hardened(&missing, "a 404");
    assert!(
        !ok.headers.contains_key("strict-transport-security"),
        "no HSTS over http"
    );

    let (https, _) = app_with(&[("PUBLIC_URL", Some("https://repopal.example"))]).await;
    for res in [https.get("/healthz").await, https.get("/nope").await] {
        assert_eq!(
            res.headers["strict-transport-security"],
            "max-age=31536000; includeSubDomains"
        );
    }
}

fn preflight(origin: &str) -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/v1/auth/login")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .body(Body::empty())
        .expect("the preflight request is well-formed")
}

#[tokio::test]
async fn cors_is_closed_by_default_and_open_only_to_listed_origins() {
    let (closed, _) = app_with(&[]).await;
    let res = closed.request(preflight("https://evil.example")).await;
    assert!(!res.headers.contains_key("access-control-allow-origin"));
    let res = closed
        .request(request(
            "192.0.2.1",
            Method::GET,
            "/healthz",
            &[("origin", "https://evil.example")],
            None,
        ))
        .await;
    assert!(!res.headers.contains_key("access-control-allow-origin"));

    let (open, _) = app_with(&[(
        "CORS_ALLOWED_ORIGINS",
        Some("https://app.example, http://localhost:3000"),
    )])
    .await;
    let res = open.request(preflight("https://app.example")).await;
    assert!(res.status.is_success(), "{}", res.status);
    assert_eq!(
        res.headers["access-control-allow-origin"],
        "https://app.example"
    );
    assert!(res.headers.contains_key("access-control-allow-methods"));
    assert!(!res.headers.contains_key("access-control-allow-credentials"));
    let res = open.request(preflight("https://evil.example")).await;
    for name in [
        "access-control-allow-origin",
        "access-control-allow-methods",
        "access-control-allow-headers",
    ] {
        assert!(!res.headers.contains_key(name), "{name} for another origin");
    }
}

#[tokio::test]
async fn a_password_hashing_flood_gets_503_and_bogus_resets_cost_no_hash() {
    let (app, state) = app_with(&[
        ("PASSWORD_HASH_CONCURRENCY", Some("1")),
        ("PASSWORD_HASH_MAX_WAIT_MS", Some("1")),
    ])
    .await;
    let registrations = (0..12).map(|i| {
        let body = json!({"email": format!("flood{i}@example.com"), "password": PASSWORD, "full_name": "F"});
        app.request(request(
            &format!("192.0.2.{}", i + 10),
            Method::POST,
            "/api/v1/auth/register",
            &[],
            Some(body),
        ))
    });
    let results = join_all(registrations).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status.as_u16()).collect();
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 503),
        "{statuses:?}"
    );
    assert!(statuses.contains(&201), "{statuses:?}");
    let busy: Vec<&TestResponse> = results.iter().filter(|r| r.status == 503).collect();
    assert!(!busy.is_empty(), "{statuses:?}");
    for res in busy {
        assert_eq!(res.json()["error"]["code"], "server_busy");
        assert!(res.headers.contains_key("retry-after"));
    }

    let before = state.identity.passwords.computed();
    let resets = (0..24).map(|i| {
        let body = json!({"token": format!("rpp_bogus{i}"), "new_password": PASSWORD});
        app.request(request(
            &format!("192.0.2.{}", i + 100),
            Method::POST,
            "/api/v1/auth/reset-password",
            &[],
            Some(body),
        ))
    });
    for res in join_all(resets).await {
        assert_eq!(res.status, 400, "{}", res.text());
        assert_eq!(res.json()["error"]["code"], "invalid_token");
    }
    assert_eq!(
        state.identity.passwords.computed(),
        before,
        "no hash for a bogus token"
    );
}

/// A webhook request whose body arrives as the test sends it (a client that keeps a slow
/// upload open); dropping the sender without finishing models a disconnect.
fn streaming_delivery(
    signature: &str,
) -> (
    Request<Body>,
    futures::channel::mpsc::UnboundedSender<Result<Vec<u8>, std::io::Error>>,
) {
    let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Vec<u8>, std::io::Error>>();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/webhooks/github")
        .header("content-type", "application/json")
        .header("x-github-event", "ping")
        .header("x-github-delivery", "slow")
        .header("x-hub-signature-256", signature)
        .body(Body::from_stream(rx))
        .expect("the streaming webhook request is well-formed");
    (req, tx)
}

/// Yields until `cond` holds (the spawned requests progress on other tasks); no sleeping.
async fn until(mut cond: impl FnMut() -> bool) {
    for _ in 0..100_000 {
        if cond() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("condition never held");
}

#[tokio::test]
async fn a_webhook_body_flood_is_bounded_by_the_inflight_budget_and_released() {
    const BUDGET: usize = 1024 * 1024;
    let budget = BUDGET.to_string();
    let (app, state) = app_with(&[("WEBHOOK_MAX_INFLIGHT_BYTES", Some(&budget))]).await;
    let forged = format!("sha256={}", "0".repeat(64));
    let half = vec![b' '; BUDGET / 2];

    // Two slow unsigned uploads take the whole budget…
    let mut senders = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let (req, tx) = streaming_delivery(&forged);
        tx.unbounded_send(Ok(half.clone())).unwrap();
        senders.push(tx);
        let router = app.router.clone();
        tasks.push(tokio::spawn(async move { send(&router, req).await }));
    }
    until(|| state.webhook_bytes.available() == 0).await;

    // …so a third (chunked) and a fourth (declared length) are refused, never buffered.
    let (req, tx) = streaming_delivery(&forged);
    tx.unbounded_send(Ok(vec![b' '; 1024])).unwrap();
    let chunked = send(&app.router, req).await;
    let declared = app
        .request(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/webhooks/github")
                .header("x-hub-signature-256", &forged)
                .body(Body::from(vec![b' '; 4096]))
                .unwrap(),
        )
        .await;
    for res in [&chunked, &declared] {
        assert_eq!(res.status, 503, "{}", res.text());
        assert_eq!(res.json()["error"]["code"], "server_busy");
        assert!(res.headers.contains_key("retry-after"));
    }
    assert_eq!(
        state.webhook_bytes.available(),
        0,
        "nothing beyond the budget"
    );

    // One slow client disconnects, the other finishes its (forged) upload: both release.
    drop(senders.remove(0));
    tasks.remove(0).abort();
    drop(senders);
    let finished = tasks.remove(0).await.unwrap();
    assert_eq!(finished.status, 401, "{}", finished.text());
    until(|| state.webhook_bytes.available() == BUDGET).await;

    // Normal deliveries are accepted again, several at once.
    let deliveries = (0..4).map(|i| {
        let body = format!(r#"{{"zen":"ok","hook_id":{i}}}"#).into_bytes();
        let req = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/webhooks/github")
            .header("content-type", "application/json")
            .header("x-github-event", "ping")
            .header("x-github-delivery", format!("after-{i}"))
            .header(
                "x-hub-signature-256",
                signature::sign(TEST_WEBHOOK_SECRET.as_bytes(), &body),
            )
            .body(Body::from(body))
            .unwrap();
        app.request(req)
    });
    for res in join_all(deliveries).await {
        assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.text());
    }
    assert_eq!(state.webhook_bytes.available(), BUDGET);
}

/// Connections that declare a large Content-Length and then send nothing hold none of the budget,
/// so they cannot starve GitHub's genuine deliveries (bytes are reserved as they arrive).
#[tokio::test]
async fn idle_declared_length_connections_do_not_starve_genuine_deliveries() {
    let db = repopal_tests::TestDb::new().await;
    let mut env = repopal_tests::http::test_env(&db.url);
    env.insert(
        "WEBHOOK_MAX_INFLIGHT_BYTES".into(),
        (1024 * 1024).to_string(),
    );
    let config = common::config::Config::from_source(&env).unwrap();
    let api = common::config::ApiConfig::from_source(&env).unwrap();
    let state = repopal_api::state(db.pool.clone(), config, api).unwrap();
    let router = repopal_api::app(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = router
        .clone()
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, served).await });

    // The attacker: headers only, 1 MiB declared, a made-up signature, then silence.
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-GitHub-Event: ping\r\nX-GitHub-Delivery: idle\r\nX-Hub-Signature-256: sha256={}\r\nContent-Length: {}\r\n\r\n",
        "0".repeat(64),
        1024 * 1024
    );
    // Ten body bytes, then silence: the handler is reading, and holds only what arrived.
    tokio::io::AsyncWriteExt::write_all(&mut idle, format!("{head}0123456789").as_bytes())
        .await
        .unwrap();
    until(|| state.webhook_bytes.available() == 1024 * 1024 - 10).await;

    // GitHub's genuine, tiny, signed delivery.
    let body = br#"{"zen":"ok","hook_id":1}"#.to_vec();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/webhooks/github")
        .header("content-type", "application/json")
        .header("x-github-event", "ping")
        .header("x-github-delivery", "genuine")
        .header(
            "x-hub-signature-256",
            common::crypto::signature::sign(
                repopal_tests::http::TEST_WEBHOOK_SECRET.as_bytes(),
                &body,
            ),
        )
        .extension(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [192, 0, 2, 9],
            1,
        ))))
        .body(Body::from(body))
        .unwrap();
    let res = repopal_tests::http::send(&router, req).await;
    assert_eq!(
        res.status,
        202,
        "genuine delivery got {} {}",
        res.status,
        res.text()
    );
    drop(idle);
}
