//! SSRF attacks on user-typed URLs (issue 11 items 5 and 18): internal addresses in every spelling refused at create and update, redirects and DNS rebinding that try to reach them, a worker check that meets one, and an absurd `Retry-After` that must not stop the checks.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::http::Method;
use common::net::{Outbound, OutboundError, Policy, Resolve};
use repopal_tests::{
    Setup, TestApp,
    app::Caller,
    auth::Session,
    fake_argocd::ARGOCD_TOKEN,
    fake_faults::Fault,
    fake_target::FakeTarget,
    resources::{ConnectionTest, Integration},
    shapes::{Created, Page, field_code},
    worker::{InProcessWorker, test_worker_config},
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const LOOPBACK_2: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Every spelling of an internal destination the default policy must refuse.
const INTERNAL: &[&str] = &[
    "http://127.0.0.1/",
    "http://127.0.0.1:8080/api",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f.0.0.1/",
    "http://0x7f000001/",
    "http://127.1/",
    "http://127.0.0.1./",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::127.0.0.1]/",
    "http://[::1]/",
    "http://localhost/",
    "http://localhost./",
    "http://LOCALHOST:9000/",
    "http://api.localhost/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/",
    "http://2852039166/",
    "http://[fe80::1]/",
    "http://0.0.0.0/",
    "http://0/",
    "http://[::]/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://[fd00::1]/",
    "https://[::ffff:10.1.2.3]:8443/",
];

struct Org {
    app: TestApp,
    admin: Session,
    org: String,
}

impl Org {
    async fn start(outbound_allowed: &str) -> Self {
        let app = TestApp::builder()
            .envs(&[("OUTBOUND_ALLOWED_CIDRS", outbound_allowed)])
            .build()
            .await;
        let admin = app.register("ssrf-admin@example.com", Some("Sierra")).await;
        let org = admin.first_org();
        Self { app, admin, org }
    }

    /// The org's admin, with paths under the organisation.
    fn admin(&self) -> Caller<'_> {
        self.app.caller(Some(&self.admin)).in_org(&self.org)
    }

    /// Creates an integration of `kind`, expecting `status`.
    async fn create<Out: DeserializeOwned>(
        &self,
        kind: &str,
        config: Value,
        credentials: Value,
        status: u16,
    ) -> Out {
        self.admin()
            .call(
                Method::POST,
                "integrations",
                Some(json!({"type": kind, "name": format!("{kind} target"), "config": config, "credentials": credentials})),
                status,
            )
            .await
    }
}

/// `body` (a whole 422 answer) refuses `url` in `field` as a destination not allowed.
fn assert_refused(body: &Value, field: &str, url: &str) {
    assert_eq!(body["success"], false, "{url}");
    assert_eq!(
        body["error"]["code"], "destination_not_allowed",
        "{url}: {body}"
    );
    assert_eq!(
        field_code(body, field).as_deref(),
        Some("destination_not_allowed"),
        "{url}: {body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not allowed")),
        "{url}: {body}"
    );
}

async fn integration_count(o: &Org) -> usize {
    let list: Page<Integration> = o.admin().call(Method::GET, "integrations", None, 200).await;
    list.items.len()
}

#[tokio::test]
async fn create_and_update_refuse_internal_destinations_in_every_spelling() {
    let o = Org::start("").await;
    for url in INTERNAL {
        let res: Value = o.create("http", json!({"url": url}), json!({}), 422).await;
        assert_refused(&res, "config.url", url);
        let res: Value = o
            .create(
                "argocd",
                json!({"server_url": url}),
                json!({"token": ARGOCD_TOKEN}),
                422,
            )
            .await;
        assert_refused(&res, "config.server_url", url);
    }
    assert_eq!(integration_count(&o).await, 0, "nothing was created");

    // A public address is fine (nothing contacts it here: no worker runs).
    let Created { id: probe } = o
        .create(
            "http",
            json!({"url": "http://1.1.1.1/healthz"}),
            json!({}),
            201,
        )
        .await;
    let Created { id: argo } = o
        .create(
            "argocd",
            json!({"server_url": "https://1.1.1.1"}),
            json!({"token": ARGOCD_TOKEN}),
            201,
        )
        .await;

    for url in INTERNAL {
        // PATCH of the config.
        let res: Value = o
            .admin()
            .call(
                Method::PATCH,
                &format!("integrations/{probe}"),
                Some(json!({"config": {"url": url}})),
                422,
            )
            .await;
        assert_refused(&res, "config.url", url);
        // PATCH …/credentials with a new config (refused before any connection test).
        let res: Value = o
            .admin()
            .call(
                Method::PATCH,
                &format!("integrations/{argo}/credentials"),
                Some(
                    json!({"credentials": {"token": ARGOCD_TOKEN}, "config": {"server_url": url}}),
                ),
                422,
            )
            .await;
        assert_refused(&res, "config.server_url", url);
    }
    // The stored destinations are unchanged.
    let got: Integration = o
        .admin()
        .call(Method::GET, &format!("integrations/{probe}"), None, 200)
        .await;
    assert_eq!(got.config["url"], "http://1.1.1.1/healthz");
    let got: Integration = o
        .admin()
        .call(Method::GET, &format!("integrations/{argo}"), None, 200)
        .await;
    assert_eq!(got.config["server_url"], "https://1.1.1.1");
}

#[tokio::test]
async fn an_allow_everything_list_still_refuses_loopback_and_metadata() {
    let o = Org::start("0.0.0.0/0,::/0").await;
    for url in [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::1]/",
        "http://localhost/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://0.0.0.0/",
    ] {
        let res: Value = o.create("http", json!({"url": url}), json!({}), 422).await;
        assert_refused(&res, "config.url", url);
    }
    // What the list does open: private networks.
    let _: Created = o
        .create("http", json!({"url": "http://10.0.0.1/"}), json!({}), 201)
        .await;
}

/// The API's connection test of an http integration at the bouncer on 127.0.0.2 (the only
/// address opened), which redirects to `to`.
async fn test_through_bouncer(to: &str) -> ConnectionTest {
    let o = Org::start("127.0.0.2/32").await;
    let bouncer = FakeTarget::redirecting(SocketAddr::new(LOOPBACK_2, 0), to)
        .await
        .expect("bind 127.0.0.2");
    let Created { id } = o
        .create(
            "http",
            json!({"url": format!("{}/status", bouncer.url)}),
            json!({}),
            201,
        )
        .await;
    let report = o
        .admin()
        .call(Method::POST, &format!("integrations/{id}/test"), None, 200)
        .await;
    assert_eq!(
        bouncer.hits(),
        1,
        "the first hop was allowed, and not retried"
    );
    report
}

#[tokio::test]
async fn a_redirect_to_a_refused_address_is_never_followed() {
    let target = FakeTarget::start(SocketAddr::new(LOOPBACK, 0))
        .await
        .expect("bind");
    let port = target.addr.port();
    for to in [
        format!("http://127.0.0.1:{port}/secret"),
        format!("http://2130706433:{port}/secret"),
        format!("http://[::ffff:127.0.0.1]:{port}/secret"),
        format!("http://localhost:{port}/secret"),
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/".to_owned(),
    ] {
        let report = test_through_bouncer(&to).await;
        assert!(!report.ok, "{to}: {report:?}");
        assert!(
            report.error_text().contains("destination not allowed"),
            "{to}: {report:?}"
        );
        assert_eq!(report.attempts, 1, "a refusal is not retried: {report:?}");
    }
    assert_eq!(target.hits(), 0, "the redirect target was never contacted");

    // Control: the same bounce to an allowed address is followed.
    let allowed = FakeTarget::start(SocketAddr::new(LOOPBACK_2, 0))
        .await
        .expect("bind");
    let report = test_through_bouncer(&format!("{}/fine", allowed.url)).await;
    assert!(report.ok, "{report:?}");
    assert_eq!(allowed.hits(), 1);
}

/// A scripted resolver: the first `honest` lookups answer `first`, every later one `then`.
struct Rebinding {
    calls: AtomicUsize,
    honest: usize,
    first: Vec<IpAddr>,
    then: Vec<IpAddr>,
}

impl Resolve for Rebinding {
    fn lookup<'a>(
        &'a self,
        _host: &'a str,
        port: u16,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = std::io::Result<Vec<SocketAddr>>> + Send + 'a>,
    > {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let ips = if n < self.honest {
            &self.first
        } else {
            &self.then
        };
        let addrs = ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect();
        Box::pin(std::future::ready(Ok(addrs)))
    }
}

fn outbound(allowed: &str, resolver: Arc<Rebinding>) -> Outbound {
    Outbound::with_resolver(
        Policy::new(&[allowed.parse().expect("a CIDR")]),
        Duration::from_secs(2),
        resolver,
    )
}

#[tokio::test]
async fn dns_rebinding_cannot_reach_a_refused_address() {
    // The same port on an allowed address (127.0.0.2) and a refused one (127.0.0.1).
    let (good, evil) = FakeTarget::pair(LOOPBACK_2, LOOPBACK).await;
    let port = good.addr.port();
    let url = format!("http://status.example.test:{port}/health");

    // Allowed at the check, refused for any later lookup: the connection uses the checked
    // address, never a second answer.
    let resolver = Arc::new(Rebinding {
        calls: AtomicUsize::new(0),
        honest: 1,
        first: vec![LOOPBACK_2],
        then: vec![LOOPBACK],
    });
    let client = outbound("127.0.0.2/32", resolver.clone());
    let res = client
        .send(Method::GET, &url, None)
        .await
        .expect("first request");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        resolver.calls.load(Ordering::SeqCst),
        1,
        "one lookup per hop"
    );
    assert_eq!((good.hits(), evil.hits()), (1, 0));

    // The next request looks up again, gets the rebound answer, and is refused.
    let err = client
        .send(Method::GET, &url, None)
        .await
        .expect_err("refused");
    assert!(matches!(err, OutboundError::NotAllowed(_)), "{err:?}");
    assert_eq!((good.hits(), evil.hits()), (1, 0));

    // A mixed answer (one allowed, one refused address) is refused as a whole.
    let mixed = Arc::new(Rebinding {
        calls: AtomicUsize::new(0),
        honest: usize::MAX,
        first: vec![LOOPBACK_2, LOOPBACK],
        then: vec![],
    });
    let err = outbound("127.0.0.2/32", mixed)
        .send(Method::GET, &url, None)
        .await
        .expect_err("refused");
    assert!(matches!(err, OutboundError::NotAllowed(_)), "{err:?}");

    // A public-looking name that bounces to loopback: the bounce is refused, its target untouched.
    let bouncer =
        FakeTarget::redirecting(SocketAddr::new(LOOPBACK_2, 0), &format!("{}/x", evil.url))
            .await
            .expect("bind");
    let named = Arc::new(Rebinding {
        calls: AtomicUsize::new(0),
        honest: usize::MAX,
        first: vec![LOOPBACK_2],
        then: vec![],
    });
    let err = outbound("127.0.0.2/32", named)
        .send(
            Method::GET,
            &format!("http://status.example.test:{}/", bouncer.addr.port()),
            None,
        )
        .await
        .expect_err("refused");
    assert!(matches!(err, OutboundError::NotAllowed(_)), "{err:?}");
    assert_eq!((bouncer.hits(), evil.hits()), (1, 0));
}

/// A worker with the default policy (nothing opened) beside an API that allowed the fake.
fn strict_worker(h: &Setup) -> InProcessWorker {
    let mut env: Vec<(&str, &str)> = h.env().iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("OUTBOUND_ALLOWED_CIDRS", ""));
    InProcessWorker::start_with(h.app.db.pool.clone(), test_worker_config(&[]), &env)
}

#[tokio::test]
async fn a_worker_check_against_a_refused_destination_is_a_recorded_failure() {
    let h = TestApp::builder().health().await;
    // Created while 127.0.0.1 was allowed (the API's setting); the worker allows nothing.
    let id = h.create_argocd("Argo").await;
    let worker = strict_worker(&h);
    let check = h.check_now(id).await;
    assert_eq!(check["ok"], false, "{check}");
    assert_eq!(check["attempts"], 1, "refused once, not retried: {check}");
    let error = check["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("destination not allowed") && error.contains("loopback"),
        "{check}"
    );
    assert_eq!(h.argo.count("/api/v1/applications"), 0, "never contacted");
    let health = h.health(id).await;
    assert_eq!(health["status"], "degraded", "{health}");
    assert!(
        health["next_check_at"].is_string(),
        "checks go on: {health}"
    );
    worker.stop().await;
}

fn delay_secs(health: &Value) -> i64 {
    let at = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time")).expect("rfc3339")
    };
    (at(&health["next_check_at"]) - at(&health["last_check_at"])).num_seconds()
}

#[tokio::test]
async fn an_absurd_retry_after_is_clamped_and_the_checks_go_on() {
    // Interval one hour (HEALTH_ENV): no wait is believed past it.
    let h = TestApp::builder().health().await;
    let worker = h.start_worker();
    let id = h.create_argocd("Argo").await;
    for absurd in [
        Fault::RateLimited(99_999_999_999_999),
        Fault::RateLimitedRaw("184467440737095516160"),
        Fault::RateLimitedRaw("Fri, 31 Dec 9999 23:59:59 GMT"),
        Fault::RateLimitedRaw("-1"),
    ] {
        h.argo.set_fault(Some(absurd));
        let check = h.check_now(id).await;
        assert_eq!(check["ok"], false, "{absurd:?}: {check}");
        assert!(
            check["error"].as_str().unwrap_or_default().contains("429"),
            "{absurd:?}: {check}"
        );
        let health = h.health(id).await;
        let delay = delay_secs(&health);
        assert!(
            (0..=3601).contains(&delay),
            "{absurd:?}: the next check is within the interval, got {delay} s: {health}"
        );
        // And a second check runs.
        h.argo.set_fault(None);
        let again = h.check_now(id).await;
        assert_eq!(again["ok"], true, "{absurd:?}: {again}");
    }
    worker.stop().await;
}

/// A user-typed Argo CD server answering a huge body (found by a review): the check reads at most
/// 8 MiB of it and fails.
#[tokio::test]
async fn a_huge_answer_from_a_user_typed_server_is_not_read_whole() {
    const PAD: usize = 48 * 1024 * 1024;
    let listener = tokio::net::TcpListener::bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let body = format!("{{\"items\":[1,2,3],\"pad\":\"{}\"}}", "A".repeat(PAD));
    let router = axum::Router::new().route(
        "/api/v1/applications",
        axum::routing::get(move || {
            let b = body.clone();
            async move { ([("content-type", "application/json")], b) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    let app = TestApp::builder()
        .envs(&[("OUTBOUND_ALLOWED_CIDRS", "127.0.0.1/32")])
        .build()
        .await;
    let admin = app.register("r2-argo@example.com", Some("Argo")).await;
    let org = admin.first_org();
    let admin = app.caller(Some(&admin)).in_org(&org);
    let Created { id } = admin
        .call(
            Method::POST,
            "integrations",
            Some(json!({"type": "argocd", "name": "big", "config": {"server_url": format!("http://{addr}")},
                        "credentials": {"token": "argocd-token-123"}})),
            201,
        )
        .await;
    let report: ConnectionTest = admin
        .call(Method::POST, &format!("integrations/{id}/test"), None, 200)
        .await;
    assert!(!report.ok, "a {PAD}-byte body was accepted: {report:?}");
    assert!(
        report.error_text().contains("over 8388608 bytes"),
        "{report:?}"
    );
}
