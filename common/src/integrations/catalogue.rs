//! The integration catalogue: every supported type (from `super::providers`) with the JSON Schemas
//! of its `config` and `credentials`, and validation against them (the `jsonschema` crate).
//! Problems are reported per field in RepoPal's own words, so a credential value is never echoed
//! back.

use std::sync::LazyLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::IntegrationKind;

/// One integration type of the catalogue.
#[derive(Debug, Clone, Serialize)]
pub struct IntegrationType {
    #[serde(rename = "type")]
    pub kind: IntegrationKind,
    pub title: &'static str,
    pub description: &'static str,
    /// What `POST …/{id}/test` and each health check do.
    pub connection_test: &'static str,
    /// Connected through an OAuth flow as well as by pasting credentials.
    pub oauth: bool,
    pub config_schema: Value,
    pub credentials_schema: Value,
}

pub(super) fn object(properties: Value, required: &[&str]) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

pub(super) const HTTP_URL: &str = "^https?://[^\\s/?#]+([/?#][^\\s]*)?$";

/// The catalogue entries, built once from the providers (in `IntegrationKind` order).
static CATALOGUE: LazyLock<Vec<IntegrationType>> =
    LazyLock::new(|| super::providers::all().map(|p| p.entry()).collect());

type Validators = (
    IntegrationKind,
    jsonschema::Validator,
    jsonschema::Validator,
);

static VALIDATORS: LazyLock<Vec<Validators>> = LazyLock::new(|| {
    CATALOGUE
        .iter()
        .map(|t| {
            let compile = |s: &Value| {
                jsonschema::validator_for(s)
                    .unwrap_or_else(|e| panic!("catalogue schema for {} is invalid: {e}", t.kind))
            };
            (
                t.kind,
                compile(&t.config_schema),
                compile(&t.credentials_schema),
            )
        })
        .collect()
});

pub fn all() -> &'static [IntegrationType] {
    &CATALOGUE
}

/// The catalogue entry of `kind`.
pub fn find(kind: IntegrationKind) -> Option<&'static IntegrationType> {
    CATALOGUE.iter().find(|t| t.kind == kind)
}

/// Parses a client's `type`: the problem on `type` when it is not in the catalogue.
pub fn parse_kind(kind: &str) -> Result<IntegrationKind, (String, String)> {
    kind.parse().map_err(|_| {
        (
            "type".to_owned(),
            format!("must be one of: {}", kinds().join(", ")),
        )
    })
}

pub fn kinds() -> Vec<&'static str> {
    IntegrationKind::ALL.iter().map(|k| k.as_str()).collect()
}

/// Which part of an integration a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Config,
    Credentials,
}

/// `(field, problem)` for each way `value` breaks the `part` schema of `kind`. Fields are dotted
/// paths (`credentials.bot_token`).
pub fn validate(kind: IntegrationKind, part: Part, value: &Value) -> Vec<(String, String)> {
    let Some((_, config, credentials)) = VALIDATORS.iter().find(|(k, ..)| *k == kind) else {
        return vec![("type".into(), "has no schema".into())];
    };
    let (validator, prefix) = match part {
        Part::Config => (config, "config"),
        Part::Credentials => (credentials, "credentials"),
    };
    let mut problems: Vec<(String, String)> = validator
        .iter_errors(value)
        .flat_map(|e| {
            let path: String = e
                .instance_path()
                .as_str()
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| format!(".{s}"))
                .collect();
            let field = format!("{prefix}{path}");
            describe(e.kind(), &field)
        })
        .collect();
    problems.sort();
    problems.dedup();
    problems
}

/// RepoPal's words for one schema error; never quotes the offending value.
fn describe(kind: &ValidationErrorKind, field: &str) -> Vec<(String, String)> {
    let one = |problem: String| vec![(field.to_owned(), problem)];
    match kind {
        ValidationErrorKind::Required { property } => vec![(
            format!("{field}.{}", property.as_str().unwrap_or("?")),
            "is required".into(),
        )],
        ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|p| (format!("{field}.{p}"), "is not a known field".into()))
            .collect(),
        ValidationErrorKind::Type { kind } => one(format!(
            "must be {}",
            match kind {
                TypeKind::Single(t) => format!(
                    "a{} {t}",
                    if t.as_str().starts_with(['a', 'i', 'o']) {
                        "n"
                    } else {
                        ""
                    }
                ),
                TypeKind::Multiple(_) => "of another type".into(),
            }
        )),
        ValidationErrorKind::Pattern { .. } => one("does not have the expected format".into()),
        ValidationErrorKind::MinLength { limit } => {
            one(format!("must be at least {limit} characters"))
        }
        ValidationErrorKind::MaxLength { limit } => {
            one(format!("must be at most {limit} characters"))
        }
        ValidationErrorKind::Minimum { limit } => one(format!("must be at least {limit}")),
        ValidationErrorKind::Maximum { limit } => one(format!("must be at most {limit}")),
        ValidationErrorKind::Enum { options } => one(format!("must be one of {options}")),
        _ => one("is not valid".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_compiles_and_types_are_unique() {
        assert_eq!(VALIDATORS.len(), 5);
        assert_eq!(kinds(), ["github", "github_app", "slack", "argocd", "http"]);
    }

    #[test]
    fn problems_name_fields_and_never_quote_values() {
        let secret = "not-a-slack-token-SECRET";
        let problems = validate(
            IntegrationKind::Slack,
            Part::Credentials,
            &json!({"bot_token": secret, "extra": 1}),
        );
        assert_eq!(
            problems,
            [
                (
                    "credentials.bot_token".to_owned(),
                    "does not have the expected format".to_owned()
                ),
                (
                    "credentials.extra".to_owned(),
                    "is not a known field".to_owned()
                ),
            ]
        );
        assert!(!format!("{problems:?}").contains("SECRET"));
        assert_eq!(
            validate(IntegrationKind::ArgoCd, Part::Config, &json!({})),
            [("config.server_url".to_owned(), "is required".to_owned())]
        );
        assert_eq!(
            validate(
                IntegrationKind::Http,
                Part::Config,
                &json!({"url": "ftp://x", "expected_status": 7})
            ),
            [
                (
                    "config.expected_status".to_owned(),
                    "must be at least 100".to_owned()
                ),
                (
                    "config.url".to_owned(),
                    "does not have the expected format".to_owned()
                ),
            ]
        );
        assert_eq!(
            validate(
                IntegrationKind::GithubApp,
                Part::Config,
                &json!({"installation_id": "7"})
            ),
            [(
                "config.installation_id".to_owned(),
                "must be an integer".to_owned()
            )]
        );
        assert_eq!(parse_kind("nope").unwrap_err().0, "type");
        assert!(
            validate(
                IntegrationKind::Http,
                Part::Config,
                &json!({"url": "https://status.example.com/healthz"})
            )
            .is_empty()
        );
        assert!(validate(IntegrationKind::Http, Part::Credentials, &json!({})).is_empty());
    }
}
