//! The web console over HTTP (in-process): sessions bound to the API's, CSRF and Origin checks,
//! escaping, assets and CSP, and the account pages end to end.

use axum::http::Method;
use repopal_tests::{
    TestApp,
    auth::PASSWORD,
    console::{Browser, ORIGIN, csrf_of, location},
    shapes::{Created, Page},
};
use serde::Deserialize;
use serde_json::Value;

/// One of the signed-in user's sessions, as `GET /api/v1/auth/sessions` lists it.
#[derive(Deserialize)]
struct SessionItem {
    id: String,
    current: bool,
}

fn header(res: &repopal_tests::http::TestResponse, name: &str) -> String {
    res.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn sign_up_lands_on_the_dashboard_with_a_strict_csp_and_a_bound_cookie() {
    let app = TestApp::builder().build().await;
    let mut b = Browser::default();
    let page = b.get(&app, "/signup").await;
    assert_eq!(page.status, 200);
    assert!(header(&page, "content-type").starts_with("text/html"));
    let csp = header(&page, "content-security-policy");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(header(&page, "cache-control"), "no-store");
    // Every input on the form is labelled.
    let html = page.text();
    for id in ["full_name", "email", "password", "organization_name"] {
        assert!(
            html.contains(&format!("<label for=\"{id}\">")),
            "label for {id}"
        );
    }

    let to = b
        .sign_up(
            &app,
            "Ada Lovelace",
            "ada@example.com",
            "Analytical Engines",
        )
        .await;
    assert_eq!(to, "/");
    let set = b
        .cookies
        .get("repopal_session")
        .cloned()
        .expect("session cookie");
    assert!(set.contains('.'), "id.mac");
    let home = b.get(&app, "/").await;
    assert_eq!(home.status, 303);
    let dash_path = location(&home);
    assert_eq!(dash_path, "/orgs/analytical-engines");
    let dash = b.get(&app, &dash_path).await;
    assert_eq!(dash.status, 200, "{}", dash.text());
    assert!(dash.text().contains("Analytical Engines"));
    assert!(dash.text().contains("Ada Lovelace"));

    // The cookie's attributes.
    let mut fresh = Browser::default();
    fresh.get(&app, "/signup").await;
    let res = fresh
        .post(
            &app,
            "/signup",
            &[
                ("full_name", "Bob"),
                ("email", "bob@example.com"),
                ("password", PASSWORD),
                ("organization_name", "Bobs"),
            ],
        )
        .await;
    let cookie = res.set_cookie("repopal_session").expect("set-cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "http PUBLIC_URL: no Secure");

    // The API stays bearer-only: the console cookie is not a credential there.
    let me = app
        .request(
            axum::http::Request::builder()
                .uri("/api/v1/auth/me")
                .header("cookie", b.session_cookie().expect("cookie"))
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(me.error_code(), (401, "unauthorized".into()));
}

#[tokio::test]
async fn the_session_cookie_is_secure_and_host_prefixed_over_https() {
    let app = TestApp::builder()
        .envs(&[("PUBLIC_URL", "https://repopal.example")])
        .build()
        .await;
    let page = app.browser_get("/login", None).await;
    let pre = page
        .set_cookie("__Host-repopal_pre")
        .expect("anonymous cookie");
    assert!(
        pre.contains("Secure") && pre.contains("Path=/") && !pre.contains("Domain"),
        "{pre}"
    );
    assert!(
        header(&page, "strict-transport-security").contains("max-age"),
        "HSTS on https"
    );
}

#[tokio::test]
async fn forms_without_their_token_or_from_another_origin_are_refused() {
    let app = TestApp::builder().build().await;
    let mut b = Browser::default();
    b.sign_up(&app, "Eve Target", "target@example.com", "Target Org")
        .await;
    let profile = b.get(&app, "/profile").await;
    let csrf = csrf_of(&profile.text()).expect("token on the page");

    // No token.
    let res = b
        .post_raw(
            &app,
            "/profile/name",
            &[("full_name", "Pwned")],
            Some(ORIGIN),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert!(header(&res, "content-type").starts_with("text/html"));
    // A wrong token (another session's, or made up).
    let res = b
        .post_raw(
            &app,
            "/profile/name",
            &[("csrf", "0".repeat(64).as_str()), ("full_name", "Pwned")],
            Some(ORIGIN),
        )
        .await;
    assert_eq!(res.status, 403);
    // The right token from another site.
    let res = b
        .post_raw(
            &app,
            "/profile/name",
            &[("csrf", csrf.as_str()), ("full_name", "Pwned")],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(res.status, 403);
    // `Origin: null` (a sandboxed frame or a no-referrer page) is another origin too.
    let res = b
        .post_raw(
            &app,
            "/profile/name",
            &[("csrf", csrf.as_str()), ("full_name", "Pwned")],
            Some("null"),
        )
        .await;
    assert_eq!(res.status, 403);
    // A cross-site post arrives without the (SameSite=Lax) cookie: refused, not sent to sign in.
    let mut cookieless = Browser::default();
    let res = cookieless
        .post_raw(
            &app,
            "/profile/name",
            &[("csrf", csrf.as_str()), ("full_name", "Pwned")],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(res.status, 403);
    // Logging someone out is a state change too.
    let res = b.post_raw(&app, "/logout", &[], Some(ORIGIN)).await;
    assert_eq!(res.status, 403);
    // An anonymous form (login CSRF) without the browser's token.
    let mut stranger = Browser::default();
    let res = stranger
        .post_raw(
            &app,
            "/login",
            &[("email", "target@example.com"), ("password", PASSWORD)],
            Some(ORIGIN),
        )
        .await;
    assert_eq!(res.status, 403);
    assert!(stranger.session_cookie().is_none());

    let name: String = sqlx::query_scalar("SELECT full_name FROM users WHERE email = $1")
        .bind("target@example.com")
        .fetch_one(&app.db.pool)
        .await
        .expect("user");
    assert_eq!(name, "Eve Target", "no refused form changed anything");

    // The same form, done right, works.
    let res = b
        .post_raw(
            &app,
            "/profile/name",
            &[("csrf", csrf.as_str()), ("full_name", "Eve Renamed")],
            Some(ORIGIN),
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(location(&res), "/profile?notice=profile_saved");
}

#[tokio::test]
async fn a_revoked_session_cookie_is_refused_and_logout_ends_the_api_session_too() {
    let app = TestApp::builder().build().await;
    let mut b = Browser::default();
    b.sign_up(&app, "Rita", "rita@example.com", "Rita Org")
        .await;
    assert_eq!(b.get(&app, "/profile").await.status, 200);

    // The same person signs in to the API and revokes the console's session from there.
    let api = app.login_ok("rita@example.com").await;
    let as_api = app.caller(Some(&api));
    let sessions: Page<SessionItem> = as_api
        .call(Method::GET, "/api/v1/auth/sessions", None, 200)
        .await;
    let console_session = sessions
        .items
        .into_iter()
        .find(|s| !s.current)
        .expect("the console's session")
        .id;
    let _: Value = as_api
        .call(
            Method::DELETE,
            &format!("/api/v1/auth/sessions/{console_session}"),
            None,
            200,
        )
        .await;
    let res = b.get(&app, "/profile").await;
    assert_eq!(res.status, 303);
    assert_eq!(location(&res), "/login?next=%2Fprofile");

    // A cookie with a forged MAC is no session either.
    let mut forged = Browser::default();
    forged.cookies.insert(
        "repopal_session".into(),
        format!("{console_session}.{}", "ab".repeat(32)),
    );
    assert_eq!(forged.get(&app, "/profile").await.status, 303);

    // Console logout ends the server-side session the cookie pointed at.
    let mut c = Browser::default();
    c.get(&app, "/login").await;
    let res = c
        .post(
            &app,
            "/login",
            &[("email", "rita@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let cookie = c.session_cookie().expect("signed in");
    c.get(&app, "/profile").await;
    let res = c.post(&app, "/logout", &[]).await;
    assert_eq!(location(&res), "/login?notice=signed_out");
    let replay = app.browser_get("/profile", Some(&cookie)).await;
    assert_eq!(replay.status, 303, "the old cookie no longer works");
    let active: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE u.email = $1 AND s.revoked_at IS NULL",
    )
    .bind("rita@example.com")
    .fetch_one(&app.db.pool)
    .await
    .expect("count");
    assert_eq!(active, 1, "only the API session is left");

    // A password change through the API ends every other session, the console's included.
    let mut d = Browser::default();
    d.get(&app, "/login").await;
    d.post(
        &app,
        "/login",
        &[("email", "rita@example.com"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(d.get(&app, "/profile").await.status, 200);
    let _: Value = as_api
        .call(
            Method::POST,
            "/api/v1/auth/change-password",
            Some(serde_json::json!({"current_password": PASSWORD, "new_password": "Another-long-pass-42"})),
            200,
        )
        .await;
    assert_eq!(d.get(&app, "/profile").await.status, 303);
}

#[tokio::test]
async fn user_text_with_markup_is_shown_as_text() {
    let app = TestApp::builder().build().await;
    let mut b = Browser::default();
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    b.sign_up(&app, evil, "mallory@example.com", "\"><b>Org</b>")
        .await;
    let home = b.get(&app, "/").await;
    let dash = b.get(&app, &location(&home)).await;
    // askama writes `<` and `>` as numeric references; either form is text.
    let unescape = |s: String| s.replace("&#60;", "&lt;").replace("&#62;", "&gt;");
    let html = unescape(dash.text());
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(html.contains("&lt;b&gt;Org&lt;/b&gt;"), "{html}");
    let profile = unescape(b.get(&app, "/profile").await.text());
    assert!(profile.contains("&lt;img src=x onerror=alert(2)&gt;"));
    // The only scripts are the console's own file.
    assert_eq!(profile.matches("<script").count(), 1);
}

#[tokio::test]
async fn field_errors_come_from_the_api_validation_and_keep_what_was_typed() {
    let app = TestApp::builder().build().await;
    let mut b = Browser::default();
    b.get(&app, "/signup").await;
    let res = b
        .post(
            &app,
            "/signup",
            &[
                ("full_name", "Short Pass"),
                ("email", "not-an-email"),
                ("password", "short"),
                ("organization_name", "Kept Org"),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    let html = res.text();
    assert!(html.contains("id=\"email-error\""), "{html}");
    assert!(html.contains("id=\"password-error\""), "{html}");
    assert!(!html.contains("id=\"full_name-error\""));
    assert!(html.contains("value=\"Kept Org\""));
    assert!(
        !html.contains("value=\"short\""),
        "a password is never echoed"
    );
    // Wrong password on login: one message, no session.
    let mut c = Browser::default();
    c.get(&app, "/login").await;
    let res = c
        .post(
            &app,
            "/login",
            &[
                ("email", "nobody@example.com"),
                ("password", "whatever-it-is"),
            ],
        )
        .await;
    assert_eq!(res.status, 401);
    assert!(res.text().contains("Invalid email or password."));
    assert!(c.session_cookie().is_none());
}

#[tokio::test]
async fn assets_are_content_hashed_and_cached_for_a_year() {
    let app = TestApp::builder().build().await;
    let page = app.browser_get("/login", None).await.text();
    let css = page
        .split("href=\"")
        .find_map(|s| s.split('"').next().filter(|h| h.ends_with(".css")))
        .expect("stylesheet link")
        .to_owned();
    assert!(css.starts_with("/assets/console.") && css.len() > "/assets/console..css".len() + 8);
    let res = app.get(&css).await;
    assert_eq!(res.status, 200);
    assert_eq!(
        header(&res, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(header(&res, "content-type").starts_with("text/css"));
    let stale = app.get("/assets/console.0000000000000000.css").await;
    assert_eq!(stale.status, 404);
    assert_ne!(
        header(&stale, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    // Nothing from another origin.
    assert!(!page.contains("https://"), "no CDN");
}

#[tokio::test]
async fn password_reset_email_verification_and_invitations_work_from_their_links() {
    let app = TestApp::builder().build().await;
    let mut admin = Browser::default();
    admin
        .sign_up(&app, "Admin", "admin@example.com", "Links Org")
        .await;

    // Verify: the emailed token confirms the address through the page's button.
    let token = app.mailed_token("admin@example.com").await;
    let page = admin
        .get(&app, &format!("/verify-email?token={token}"))
        .await;
    assert_eq!(page.status, 200);
    let res = admin
        .post(&app, "/verify-email", &[("token", token.as_str())])
        .await;
    assert_eq!(location(&res), "/profile?notice=email_verified");
    let verified: bool = sqlx::query_scalar(
        "SELECT email_verified_at IS NOT NULL FROM users WHERE email = 'admin@example.com'",
    )
    .fetch_one(&app.db.pool)
    .await
    .expect("user");
    assert!(verified);

    // Forgot + reset.
    let mut anon = Browser::default();
    anon.get(&app, "/forgot-password").await;
    let res = anon
        .post(&app, "/forgot-password", &[("email", "admin@example.com")])
        .await;
    assert_eq!(location(&res), "/login?notice=reset_sent");
    let token = app.mailed_token("admin@example.com").await;
    anon.get(&app, &format!("/reset-password?token={token}"))
        .await;
    let res = anon
        .post(
            &app,
            "/reset-password",
            &[
                ("token", token.as_str()),
                ("new_password", "Brand-new-password-7"),
            ],
        )
        .await;
    assert_eq!(
        location(&res),
        "/login?notice=password_reset",
        "{}",
        res.text()
    );
    // The reset ended the admin's console session.
    assert_eq!(admin.get(&app, "/profile").await.status, 303);
    admin.get(&app, "/login").await;
    let res = admin
        .post(
            &app,
            "/login",
            &[
                ("email", "admin@example.com"),
                ("password", "Brand-new-password-7"),
            ],
        )
        .await;
    assert_eq!(res.status, 303);

    // An invitation to someone without an account: sign up from the link, then accept.
    let api = app
        .login_ok_with("admin@example.com", "Brand-new-password-7")
        .await;
    let as_api = app.caller_with_token(&api);
    let orgs: Page = as_api.call(Method::GET, "/api/v1/orgs", None, 200).await;
    let org = orgs.items[0]["id"].as_str().expect("org").to_owned();
    let _: Created = as_api
        .in_org(&org)
        .call(
            Method::POST,
            "invitations",
            Some(serde_json::json!({"email": "newbie@example.com", "role": "developer"})),
            201,
        )
        .await;
    let token = app.mailed_token("newbie@example.com").await;
    let mut newbie = Browser::default();
    let page = newbie
        .get(&app, &format!("/accept-invitation?token={token}"))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Join Links Org"));
    assert!(page.text().contains("value=\"newbie@example.com\""));
    let res = newbie
        .post(
            &app,
            "/signup",
            &[
                ("full_name", "New Bie"),
                ("email", "newbie@example.com"),
                ("password", PASSWORD),
                ("invitation", token.as_str()),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let accept = newbie.get(&app, &location(&res)).await;
    assert!(accept.text().contains("Accept the invitation"));
    let res = newbie
        .post(&app, "/accept-invitation", &[("token", token.as_str())])
        .await;
    assert_eq!(location(&res), "/orgs/links-org?notice=invitation_accepted");
    let dash = newbie
        .get(&app, "/orgs/links-org?notice=invitation_accepted")
        .await;
    assert_eq!(dash.status, 200);
    assert!(dash.text().contains("You joined the organisation."));
    // Someone else's organisation is a 404 page, not a leak.
    let mut outsider = Browser::default();
    outsider
        .sign_up(&app, "Out", "out@example.com", "Elsewhere")
        .await;
    let res = outsider.get(&app, "/orgs/links-org").await;
    assert_eq!(res.status, 404);
    assert!(header(&res, "content-type").starts_with("text/html"));
}
