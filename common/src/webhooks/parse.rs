//! Reading a delivery's body: JSON, or form-encoded with the JSON in `payload`; the fields RepoPal
//! routes on (`action`, `installation.id`, `repository.id`).

use serde::Deserialize;

/// What a delivery body says, and the JSON document itself.
#[derive(Debug, Clone)]
pub struct ParsedDelivery {
    pub json: Vec<u8>,
    pub action: Option<String>,
    pub installation_id: Option<i64>,
    pub repository_id: Option<i64>,
}

#[derive(Deserialize)]
struct Id {
    id: i64,
}

#[derive(Deserialize)]
struct Envelope {
    action: Option<String>,
    installation: Option<Id>,
    repository: Option<Id>,
}

/// Parses a body sent as `application/json` or `application/x-www-form-urlencoded` (`payload=`).
pub fn parse_delivery(content_type: &str, body: &[u8]) -> Result<ParsedDelivery, String> {
    let json: Vec<u8> = if content_type.starts_with("application/x-www-form-urlencoded") {
        url::form_urlencoded::parse(body)
            .find(|(k, _)| k == "payload")
            .map(|(_, v)| v.into_owned().into_bytes())
            .ok_or("form-encoded deliveries carry the JSON in a `payload` field")?
    } else if content_type.is_empty() || content_type.starts_with("application/json") {
        body.to_vec()
    } else {
        return Err(format!("unsupported content type {content_type}"));
    };
    let envelope: Envelope =
        serde_json::from_slice(&json).map_err(|e| format!("payload is not a JSON object: {e}"))?;
    Ok(ParsedDelivery {
        action: envelope.action.map(|a| a.replace('\0', "\u{FFFD}")),
        installation_id: envelope.installation.map(|i| i.id),
        repository_id: envelope.repository.map(|r| r.id),
        json,
    })
}

/// The payload with every NUL character in its strings and keys replaced by U+FFFD, for the
/// handlers that copy fields into PostgreSQL text (which cannot hold NUL). The stored delivery
/// keeps the exact bytes GitHub sent.
pub fn without_nul(json: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    use serde_json::Value;
    fn clean(v: &mut Value) {
        match v {
            Value::String(s) if s.contains('\0') => *s = s.replace('\0', "\u{FFFD}"),
            Value::Array(items) => items.iter_mut().for_each(clean),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (k, mut v) in entries {
                    clean(&mut v);
                    map.insert(k.replace('\0', "\u{FFFD}"), v);
                }
            }
            _ => {}
        }
    }
    // A NUL can only be written `\u0000` in JSON text.
    if !json.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return std::borrow::Cow::Borrowed(json);
    }
    let Ok(mut value) = serde_json::from_slice::<Value>(json) else {
        return std::borrow::Cow::Borrowed(json);
    };
    clean(&mut value);
    serde_json::to_vec(&value).map_or(std::borrow::Cow::Borrowed(json), std::borrow::Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_form_bodies() {
        let json =
            br#"{"action":"completed","installation":{"id":5},"repository":{"id":7,"name":"x"}}"#;
        let p = parse_delivery("application/json", json).unwrap();
        assert_eq!(
            (p.action.as_deref(), p.installation_id, p.repository_id),
            (Some("completed"), Some(5), Some(7))
        );
        let form = format!(
            "payload={}",
            url::form_urlencoded::byte_serialize(json).collect::<String>()
        );
        let p = parse_delivery("application/x-www-form-urlencoded", form.as_bytes()).unwrap();
        assert_eq!(p.json, json.to_vec());
        assert!(parse_delivery("application/json", b"[1,2]").is_err());
        assert!(parse_delivery("text/plain", json).is_err());
        assert!(
            parse_delivery("application/json", br#"{"zen":"hi"}"#)
                .unwrap()
                .action
                .is_none()
        );
    }
}
