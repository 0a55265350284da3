//! Slack's authorize page as a browser meets it (`GET /oauth/v2/authorize`): the person allows
//! the app at once, and Slack sends the browser back to `redirect_uri` with a fresh single-use
//! `code` and the `state` it was given; a wrong `client_id` or a missing `redirect_uri` is refused
//! on the page, as Slack does.

use std::collections::HashMap;

use axum::{
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{SLACK_CLIENT_ID, Shared};

pub(super) async fn authorize(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let refuse = |why: &str| (StatusCode::BAD_REQUEST, why.to_owned()).into_response();
    if q.get("client_id").map(String::as_str) != Some(SLACK_CLIENT_ID) {
        return refuse("Invalid client_id parameter");
    }
    let Some(mut to) = q.get("redirect_uri").and_then(|r| url::Url::parse(r).ok()) else {
        return refuse("Invalid redirect_uri parameter");
    };
    let code = format!("browser-{}", uuid::Uuid::new_v4().simple());
    {
        let mut inner = s.lock().expect("state");
        inner.record("oauth/v2/authorize");
        inner.codes.insert(code.clone(), false);
    }
    to.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = q.get("state") {
        to.query_pairs_mut().append_pair("state", state);
    }
    (StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response()
}
