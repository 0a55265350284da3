//! The console's stylesheet and script, embedded in the binary and served under content-hashed
//! names with a year-long immutable cache lifetime (a new build means new names).

use std::sync::LazyLock;

use axum::{
    extract::Path,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

use super::page::ConsoleError;

const CSS: &str = include_str!("../../assets/console.css");
const JS: &str = include_str!("../../assets/console.js");

/// `Cache-Control` of a hashed asset.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

struct Asset {
    path: String,
    body: &'static str,
    content_type: &'static str,
}

fn hashed(stem: &str, ext: &str, body: &'static str, content_type: &'static str) -> Asset {
    let digest = Sha256::digest(body.as_bytes());
    let short = hex::encode(&digest[..8]);
    Asset {
        path: format!("/assets/{stem}.{short}.{ext}"),
        body,
        content_type,
    }
}

static ASSETS: LazyLock<[Asset; 2]> = LazyLock::new(|| {
    [
        hashed("console", "css", CSS, "text/css; charset=utf-8"),
        hashed("console", "js", JS, "text/javascript; charset=utf-8"),
    ]
});

/// The stylesheet's hashed path.
pub fn css_path() -> String {
    ASSETS[0].path.clone()
}

/// The script's hashed path.
pub fn js_path() -> String {
    ASSETS[1].path.clone()
}

/// `GET /assets/{name}`: only the current hashed names exist.
pub async fn serve(Path(name): Path<String>) -> Response {
    let wanted = format!("/assets/{name}");
    match ASSETS.iter().find(|a| a.path == wanted) {
        Some(a) => {
            let mut response = a.body.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(a.content_type),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
            response
        }
        None => ConsoleError::not_found().into_response(),
    }
}
