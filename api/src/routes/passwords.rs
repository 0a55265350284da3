//! `/api/v1/auth/…`: the account's password (change, forgotten, reset) and the proof of its
//! email address.

use axum::{extract::State, http::StatusCode, response::IntoResponse};
use common::domain::{Email, NewPassword};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::DoneOut;
use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{Client, CurrentUser, FieldErrors, ValidJson},
    state::AppState,
};

/// The `new_password` field checked by the password policy (422 naming the field otherwise).
fn new_password(raw: &SecretString) -> Result<NewPassword, ApiError> {
    let mut errors = FieldErrors::default();
    let new = errors.check("new_password", NewPassword::parse(raw));
    errors.finish()?;
    new.ok_or_else(|| ApiError::internal(&"field validation inconsistent"))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePasswordIn {
    #[schema(value_type = String, format = Password)]
    pub current_password: SecretString,
    #[schema(value_type = crate::request_formats::NewPasswordText)]
    pub new_password: SecretString,
}

/// Change the password; every other session is ended.
#[utoipa::path(post, path = "/api/v1/auth/change-password", operation_id = "passwords_change", tag = "auth", security(("bearer" = [])),
    request_body = ChangePasswordIn,
    responses((status = 200, body = DoneOut), (status = 403, description = "wrong_password", body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn change_password(
    State(state): State<AppState>,
    Client(meta): Client,
    CurrentUser(caller): CurrentUser,
    ValidJson(body): ValidJson<ChangePasswordIn>,
) -> ApiResult<DoneOut> {
    let new = new_password(&body.new_password)?;
    state
        .identity
        .change_password(&meta, caller, &body.current_password, &new)
        .await?;
    Ok(Envelope(DoneOut { ok: true }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ForgotPasswordIn {
    pub email: String,
}

/// Email a password-reset link when the account exists (the answer is the same either way).
#[utoipa::path(post, path = "/api/v1/auth/forgot-password", operation_id = "passwords_forgot", tag = "auth", request_body = ForgotPasswordIn,
    responses((status = 202, body = DoneOut)))]
pub async fn forgot_password(
    State(state): State<AppState>,
    Client(meta): Client,
    ValidJson(body): ValidJson<ForgotPasswordIn>,
) -> Result<impl IntoResponse, ApiError> {
    if let Ok(email) = Email::parse(&body.email) {
        state.identity.forgot_password(&meta, &email).await?;
    }
    Ok((StatusCode::ACCEPTED, Envelope(DoneOut { ok: true })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetPasswordIn {
    #[schema(value_type = crate::request_formats::ResetToken)]
    pub token: SecretString,
    #[schema(value_type = crate::request_formats::NewPasswordText)]
    pub new_password: SecretString,
}

/// Set a new password with a reset token; every session is ended.
#[utoipa::path(post, path = "/api/v1/auth/reset-password", operation_id = "passwords_reset", tag = "auth", request_body = ResetPasswordIn,
    responses((status = 200, body = DoneOut), (status = 400, description = "invalid_token", body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn reset_password(
    State(state): State<AppState>,
    Client(meta): Client,
    ValidJson(body): ValidJson<ResetPasswordIn>,
) -> ApiResult<DoneOut> {
    use secrecy::ExposeSecret;
    let new = new_password(&body.new_password)?;
    state
        .identity
        .reset_password(&meta, body.token.expose_secret(), &new)
        .await?;
    Ok(Envelope(DoneOut { ok: true }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyEmailIn {
    #[schema(value_type = crate::request_formats::VerifyToken)]
    pub token: SecretString,
}

/// Confirm an email address with the token from the verification email.
#[utoipa::path(post, path = "/api/v1/auth/verify-email", operation_id = "email_verify", tag = "auth", request_body = VerifyEmailIn,
    responses((status = 200, body = DoneOut), (status = 400, description = "invalid_token", body = ErrorEnvelope)))]
pub async fn verify_email(
    State(state): State<AppState>,
    Client(meta): Client,
    ValidJson(body): ValidJson<VerifyEmailIn>,
) -> ApiResult<DoneOut> {
    use secrecy::ExposeSecret;
    state
        .identity
        .verify_email(&meta, body.token.expose_secret())
        .await?;
    Ok(Envelope(DoneOut { ok: true }))
}
