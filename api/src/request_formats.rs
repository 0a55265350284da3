//! Named string formats of request fields: one schema per server-side check, so the request
//! schemas of `/openapi.json` accept exactly what the handlers accept (see README, The contract).
//!
//! Request structs name these with `#[schema(value_type = …)]`; the patterns use only regex syntax
//! common to ECMA-262 and Python (what generated clients and schemathesis evaluate).

use utoipa::ToSchema;

/// A new password: 8–128 characters mixing at least three of: `a–z`, `A–Z`, `0–9`, and any other
/// character (`common::domain::NewPassword`).
#[derive(ToSchema)]
#[schema(
    value_type = String,
    format = Password,
    min_length = 8,
    max_length = 128,
    pattern = r"^(?:(?=[\s\S]*[a-z])(?=[\s\S]*[A-Z])(?=[\s\S]*[0-9])|(?=[\s\S]*[a-z])(?=[\s\S]*[A-Z])(?=[\s\S]*[^A-Za-z0-9])|(?=[\s\S]*[a-z])(?=[\s\S]*[0-9])(?=[\s\S]*[^A-Za-z0-9])|(?=[\s\S]*[A-Z])(?=[\s\S]*[0-9])(?=[\s\S]*[^A-Za-z0-9]))",
    example = "Correct-horse-42"
)]
pub struct NewPasswordText(pub String);

/// An email address: one `@`, a non-empty local part, a domain with a dot inside it, no
/// whitespace or control characters, at most 254 characters (`common::domain::Email`; leading
/// and trailing whitespace is trimmed and the address lower-cased).
#[derive(ToSchema)]
#[schema(
    value_type = String,
    max_length = 254,
    pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@.\s\x00-\x1f\x7f-\x9f][^@\s\x00-\x1f\x7f-\x9f]*\.[^@\s\x00-\x1f\x7f-\x9f]*[^@.\s\x00-\x1f\x7f-\x9f]$",
    example = "ada@example.com"
)]
pub struct EmailText(pub String);

/// Declares a text format: 1–`$max` characters, not only whitespace (Rust's `char::is_whitespace`
/// set, listed in the pattern); surrounding whitespace is trimmed by the handler.
macro_rules! text_format {
    ($(#[$doc:meta])* $name:ident, $max:tt) => {
        $(#[$doc])*
        #[derive(ToSchema)]
        #[schema(
            value_type = String,
            min_length = 1,
            max_length = $max,
            pattern = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
        )]
        pub struct $name(pub String);
    };
}

text_format!(
    /// A name shown to people (a person, an organisation): 1–200 characters, not only whitespace.
    DisplayName,
    200
);
text_format!(
    /// An integration's name: 1–100 characters, not only whitespace.
    IntegrationName,
    100
);
text_format!(
    /// A comment on an incident: 1–4000 characters, not only whitespace.
    CommentText,
    4000
);

/// An organisation's slug: 3–48 lower-case letters, digits and single dashes, starting and
/// ending with a letter or digit.
#[derive(ToSchema)]
#[schema(
    value_type = String,
    min_length = 3,
    max_length = 48,
    pattern = r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    example = "acme-platform"
)]
pub struct Slug(pub String);

/// Declares a token format: a readable prefix and 43 characters of URL-safe base64 (32 random
/// bytes, `common::crypto::tokens`). A well-formed token that is unknown, used or expired is
/// refused like a malformed one.
macro_rules! token_format {
    ($(#[$doc:meta])* $name:ident, $pattern:literal) => {
        $(#[$doc])*
        #[derive(ToSchema)]
        #[schema(value_type = String, format = Password, min_length = 47, max_length = 47, pattern = $pattern)]
        pub struct $name(pub String);
    };
}

token_format!(
    /// A refresh token (`rpr_…`); an unknown one is 401.
    RefreshToken,
    "^rpr_[A-Za-z0-9_-]{43}$"
);
token_format!(
    /// An email-verification token (`rpv_…`) from the verification email; an unknown one is 400 `invalid_token`.
    VerifyToken,
    "^rpv_[A-Za-z0-9_-]{43}$"
);
token_format!(
    /// A password-reset token (`rpp_…`) from the reset email; an unknown one is 400 `invalid_token`.
    ResetToken,
    "^rpp_[A-Za-z0-9_-]{43}$"
);
token_format!(
    /// An invitation token (`rpi_…`) from the invitation email; an unknown one is 400 `invalid_token`.
    InviteToken,
    "^rpi_[A-Za-z0-9_-]{43}$"
);

/// A Slack channel: its id or `#name`, 1–80 letters, digits, `#`, `-` and `_`.
#[derive(ToSchema)]
#[schema(value_type = String, pattern = r"^[A-Za-z0-9#_-]{1,80}$", example = "#ci-alerts")]
pub struct SlackChannel(pub String);
