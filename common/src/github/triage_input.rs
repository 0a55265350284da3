//! Checks of what a caller asks triage for (repository paths, refs, commit shas), each encoded
//! for GitHub's URL so that no input can reach another GitHub endpoint.

use crate::Error;

pub(super) fn invalid(message: &str) -> Error {
    Error::rejected("invalid_path", message.to_owned())
}

/// Percent-encodes one path segment or query value (RFC 3986 unreserved characters kept).
fn encode(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for b in part.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A repository path: segments that are not empty, `.` or `..`, without control characters or
/// backslashes, at most 1024 bytes; encoded for GitHub's URL.
pub fn encoded_path(path: &str) -> Result<String, Error> {
    let path = path.trim_matches('/');
    if path.len() > 1024 {
        return Err(invalid("The path is longer than 1024 bytes."));
    }
    if path.is_empty() {
        return Ok(String::new());
    }
    let mut out = Vec::new();
    for seg in path.split('/') {
        if seg.is_empty()
            || seg == "."
            || seg == ".."
            || seg.chars().any(|c| c.is_control() || c == '\\')
        {
            return Err(invalid(
                "The path must be made of names separated by single slashes, without `.` or `..`.",
            ));
        }
        out.push(encode(seg));
    }
    Ok(out.join("/"))
}

/// A git ref (branch, tag or sha) as a query value.
pub(super) fn encoded_ref(git_ref: Option<&str>) -> Result<String, Error> {
    match git_ref {
        None => Ok(String::new()),
        Some(r)
            if !r.is_empty()
                && r.len() <= 255
                && !r.contains("..")
                && !r.chars().any(|c| c.is_control() || c == ' ' || c == '\\') =>
        {
            Ok(format!("?ref={}", encode(r)))
        }
        Some(_) => Err(Error::rejected(
            "invalid_ref",
            "The ref must be a branch, tag or commit name (at most 255 characters).",
        )),
    }
}

/// A commit sha: 7 to 40 hexadecimal characters.
pub fn valid_sha(sha: &str) -> Result<&str, Error> {
    if (7..=40).contains(&sha.len()) && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(sha)
    } else {
        Err(Error::rejected(
            "invalid_sha",
            "The commit must be 7 to 40 hexadecimal characters.",
        ))
    }
}
