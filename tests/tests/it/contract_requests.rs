//! Request schemas as strict as the server (issue 13 item 1): the document names the server's
//! formats (`api/src/request_formats.rs`) on every request field that has one, and the server
//! accepts and refuses what those formats say, at the edges the fuzzer probes.

use axum::http::Method;
use repopal_tests::{TestApp, app::ErrorEnvelope};
use serde_json::{Value, json};

/// The schema a property resolves to: its own, or the component its `$ref` (or nullable `oneOf`) names.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let reference = schema["$ref"].as_str().or_else(|| {
        schema["oneOf"]
            .as_array()?
            .iter()
            .find_map(|s| s["$ref"].as_str())
    });
    match reference {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

fn property<'a>(doc: &'a Value, schema: &str, field: &str) -> &'a Value {
    let property = &doc["components"]["schemas"][schema]["properties"][field];
    assert!(
        !property.is_null(),
        "{schema}.{field} is not in the document"
    );
    resolve(doc, property)
}

#[tokio::test]
async fn request_fields_carry_the_formats_the_server_checks() {
    let app = TestApp::builder().build().await;
    let doc: Value = app.get("/openapi.json").await.json();

    for (schema, field) in [
        ("RegisterIn", "password"),
        ("ChangePasswordIn", "new_password"),
        ("ResetPasswordIn", "new_password"),
    ] {
        let p = property(&doc, schema, field);
        assert_eq!(
            (p["minLength"].as_u64(), p["maxLength"].as_u64()),
            (Some(8), Some(128)),
            "{schema}.{field}"
        );
        assert!(
            p["pattern"].as_str().is_some_and(|s| s.contains("(?=")),
            "{schema}.{field}: {p}"
        );
    }
    for (schema, field) in [("RegisterIn", "email"), ("InviteIn", "email")] {
        let p = property(&doc, schema, field);
        assert_eq!(p["maxLength"].as_u64(), Some(254), "{schema}.{field}");
        assert!(p["pattern"].is_string(), "{schema}.{field}");
    }
    for (schema, field, max) in [
        ("RegisterIn", "full_name", 200),
        ("RegisterIn", "organization_name", 200),
        ("ProfilePatch", "full_name", 200),
        ("OrgIn", "name", 200),
        ("OrgPatch", "name", 200),
        ("IntegrationCreateIn", "name", 100),
        ("IntegrationUpdateIn", "name", 100),
        ("CommentIn", "body", 4000),
    ] {
        let p = property(&doc, schema, field);
        assert_eq!(
            (p["minLength"].as_u64(), p["maxLength"].as_u64()),
            (Some(1), Some(max)),
            "{schema}.{field}"
        );
        assert!(
            p["pattern"].is_string(),
            "{schema}.{field}: not only whitespace"
        );
    }
    for (schema, field) in [("OrgIn", "slug"), ("OrgPatch", "slug")] {
        let p = property(&doc, schema, field);
        assert_eq!(
            (p["minLength"].as_u64(), p["maxLength"].as_u64()),
            (Some(3), Some(48)),
            "{schema}.{field}"
        );
    }
    for (schema, field) in [("InviteIn", "role"), ("RoleIn", "role")] {
        let p = property(&doc, schema, field);
        assert_eq!(
            p["enum"],
            json!(["org_admin", "team_lead", "developer", "viewer"]),
            "{schema}.{field}"
        );
    }
    let kinds = property(&doc, "IntegrationCreateIn", "type");
    assert!(
        kinds["enum"]
            .as_array()
            .is_some_and(|k| k.contains(&json!("http"))),
        "{kinds}"
    );
    for (schema, field, prefix) in [
        ("RefreshIn", "refresh_token", "rpr_"),
        ("VerifyEmailIn", "token", "rpv_"),
        ("ResetPasswordIn", "token", "rpp_"),
        ("AcceptIn", "token", "rpi_"),
    ] {
        let p = property(&doc, schema, field);
        assert_eq!(
            p["pattern"],
            json!(format!("^{prefix}[A-Za-z0-9_-]{{43}}$")),
            "{schema}.{field}"
        );
    }
    let channels = property(&doc, "RepositoryPatch", "slack_channels");
    assert_eq!(channels["maxItems"].as_u64(), Some(20));
}

/// A token the server issues has the documented shape: prefix, then 43 URL-safe base64 characters.
fn assert_token_shape(token: &str, prefix: &str) {
    let rest = token
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{token:.8}… lacks {prefix}"));
    assert_eq!(rest.len(), 43, "{prefix} token length");
    assert!(
        rest.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "{prefix} token alphabet"
    );
}

/// Registers; asserts the answer's status and returns its data (the whole body for an error).
async fn register(app: &TestApp, email: &str, password: &str, name: &str, status: u16) -> Value {
    let body = json!({"email": email, "password": password, "full_name": name});
    app.caller(None)
        .call(Method::POST, "/api/v1/auth/register", Some(body), status)
        .await
}

#[tokio::test]
async fn the_server_accepts_and_refuses_what_the_formats_say() {
    let app = TestApp::builder().build().await;
    // The fields a validation error names (`details.fields[].field`).
    let fields = |res: &Value| -> Vec<String> {
        res["error"]["details"]["fields"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|f| f["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };

    // Three ASCII classes, the third being a non-ASCII letter (an "other" character): accepted.
    let res = register(&app, "umlaut@example.com", "passwörd1", "Ümit", 201).await;
    assert_token_shape(
        res["tokens"]["refresh_token"].as_str().unwrap_or(""),
        "rpr_",
    );
    // Only "other" characters, however many letters they are elsewhere: one class, refused.
    let res = register(&app, "others@example.com", "ÄÖÜäöüßé", "Other", 422).await;
    assert!(fields(&res).iter().any(|f| f == "password"), "{res}");
    // Two ASCII classes: refused; 129 characters: refused; exactly 128: accepted.
    register(&app, "two@example.com", "lowerUPPER", "Two", 422).await;
    register(
        &app,
        "long@example.com",
        &format!("Aa1{}", "x".repeat(126)),
        "Long",
        422,
    )
    .await;
    register(
        &app,
        "edge@example.com",
        &format!("Aa1{}", "x".repeat(125)),
        "Edge",
        201,
    )
    .await;
    // A name of only whitespace (the pattern's set) is refused; 200 characters are accepted.
    let res = register(
        &app,
        "blank@example.com",
        "Correct-horse-42",
        " \u{3000}\t",
        422,
    )
    .await;
    assert!(fields(&res).iter().any(|f| f == "full_name"), "{res}");
    register(
        &app,
        "wide@example.com",
        "Correct-horse-42",
        &"n".repeat(200),
        201,
    )
    .await;
    // The length counts what was sent, as `maxLength` does: 199 letters and two spaces are too many.
    let res = register(
        &app,
        "padded@example.com",
        "Correct-horse-42",
        &format!(" {} ", "n".repeat(199)),
        422,
    )
    .await;
    assert!(fields(&res).iter().any(|f| f == "full_name"), "{res}");
    // 254 characters of address are accepted even when they are more bytes.
    let wide = format!("{}@example.com", "é".repeat(242));
    register(&app, &wide, "Correct-horse-42", "Wide", 201).await;
    // An address without a dot in its domain is refused (the pattern requires one).
    let res = register(&app, "ada@localhost", "Correct-horse-42", "Ada", 422).await;
    assert!(fields(&res).iter().any(|f| f == "email"), "{res}");
}

/// serde reads a struct from an array of its fields in order; the fuzzer found `PATCH` answering 200
/// to `[null, null]`. Every body must be an object.
#[tokio::test]
async fn a_body_that_is_not_an_object_is_refused() {
    let app = TestApp::builder().build().await;
    let admin = app.register("arrays@example.com", Some("Arrays")).await;
    let org = admin.body["data"]["user"]["organizations"][0]["id"]
        .as_str()
        .expect("org id")
        .to_owned();
    let admin = app.caller(Some(&admin));
    let path = format!("/api/v1/orgs/{org}");
    for body in [
        json!([null, null]),
        json!(["Renamed", null]),
        json!("Renamed"),
        json!(7),
        json!(null),
    ] {
        let e: ErrorEnvelope = admin
            .call(Method::PATCH, &path, Some(body.clone()), 422)
            .await;
        assert_eq!(e.error.code, "validation_failed", "{body}");
    }
    let shown: Value = admin.call(Method::GET, &path, None, 200).await;
    assert_eq!(
        shown["name"], "Arrays",
        "no array body renamed the organisation"
    );
    let _: ErrorEnvelope = app
        .caller(None)
        .call(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!(["arrays@example.com", "x"])),
            422,
        )
        .await;
}
