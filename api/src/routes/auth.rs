//! `/api/v1/auth/…`: register, login, refresh, logout and the profile. Passwords and email
//! verification are in `passwords`, the caller's sessions in `auth_sessions`.

use axum::{extract::State, http::StatusCode, response::IntoResponse};
use chrono::{DateTime, Utc};
use common::{
    domain::{Email, NewPassword, OrgId, Role, UserId},
    identity::{IssuedTokens, Registration, SignedIn},
    repo::users::{User, UserOrg},
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{Client, CurrentUser, FieldErrors, ValidJson},
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgRoleOut {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    pub id: UserId,
    pub email: String,
    pub full_name: String,
    pub email_verified: bool,
    pub is_super_admin: bool,
    pub created_at: DateTime<Utc>,
    pub organizations: Vec<OrgRoleOut>,
}

impl UserOut {
    pub fn new(user: User, orgs: Vec<UserOrg>) -> Self {
        Self {
            id: user.id,
            email: user.email,
            full_name: user.full_name,
            email_verified: user.email_verified_at.is_some(),
            is_super_admin: user.is_super_admin,
            created_at: user.created_at,
            organizations: orgs.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<UserOrg> for OrgRoleOut {
    fn from(o: UserOrg) -> Self {
        Self {
            id: o.org_id,
            slug: o.slug,
            name: o.name,
            role: o.role,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokensOut {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub token_type: &'static str,
}

impl From<IssuedTokens> for TokensOut {
    fn from(t: IssuedTokens) -> Self {
        Self {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            expires_in: t.expires_in,
            token_type: "Bearer",
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthOut {
    pub user: UserOut,
    pub tokens: TokensOut,
}

impl From<SignedIn> for AuthOut {
    fn from(s: SignedIn) -> Self {
        Self {
            user: UserOut::new(s.user, s.orgs),
            tokens: s.tokens.into(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterIn {
    #[schema(value_type = crate::request_formats::EmailText)]
    pub email: String,
    #[schema(value_type = crate::request_formats::NewPasswordText)]
    pub password: SecretString,
    #[schema(value_type = crate::request_formats::DisplayName)]
    pub full_name: String,
    /// Creates an organisation with the new user as `org_admin`.
    #[schema(value_type = Option<crate::request_formats::DisplayName>)]
    pub organization_name: Option<String>,
}

pub(crate) fn full_name(raw: &str) -> Result<String, String> {
    // The length as sent (the document's `maxLength`); then not only whitespace.
    let name = raw.trim();
    if name.is_empty() || raw.chars().count() > 200 {
        return Err("must be 1 to 200 characters".into());
    }
    Ok(name.to_owned())
}

impl RegisterIn {
    /// The same field checks for the JSON route and the console's sign-up form.
    pub(crate) fn parse(self) -> Result<Registration, ApiError> {
        let mut errors = FieldErrors::default();
        let email = errors.check("email", Email::parse(&self.email));
        let password = errors.check("password", NewPassword::parse(&self.password));
        let name = errors.check("full_name", full_name(&self.full_name));
        if let Some(org) = &self.organization_name {
            errors.require(
                "organization_name",
                !org.trim().is_empty() && org.chars().count() <= 200,
                "must be 1 to 200 characters",
            );
        }
        errors.finish()?;
        match (email, password, name) {
            (Some(email), Some(password), Some(full_name)) => Ok(Registration {
                email,
                password,
                full_name,
                organization_name: self.organization_name,
            }),
            _ => Err(ApiError::internal(&"field validation inconsistent")),
        }
    }
}

/// Create an account (optionally with an organisation) and sign in.
#[utoipa::path(post, path = "/api/v1/auth/register", operation_id = "auth_register", tag = "auth", request_body = RegisterIn,
    responses((status = 201, body = AuthOut), (status = 409, description = "email_taken", body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
pub async fn register(
    State(state): State<AppState>,
    Client(meta): Client,
    ValidJson(body): ValidJson<RegisterIn>,
) -> Result<impl IntoResponse, ApiError> {
    let signed_in = state.identity.register(&meta, body.parse()?).await?;
    Ok((StatusCode::CREATED, Envelope(AuthOut::from(signed_in))))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginIn {
    pub email: String,
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", operation_id = "auth_login", tag = "auth", request_body = LoginIn,
    responses((status = 200, body = AuthOut), (status = 401, description = "invalid_credentials", body = ErrorEnvelope),
              (status = 429, description = "account_locked or rate_limited", body = ErrorEnvelope)))]
pub async fn login(
    State(state): State<AppState>,
    Client(meta): Client,
    ValidJson(body): ValidJson<LoginIn>,
) -> ApiResult<AuthOut> {
    // A malformed email cannot match an account: same answer as a wrong password.
    let email = Email::parse(&body.email).map_err(|_| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Invalid email or password.",
        )
    })?;
    Ok(Envelope(
        state
            .identity
            .login(&meta, &email, &body.password)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshIn {
    #[schema(value_type = crate::request_formats::RefreshToken)]
    pub refresh_token: SecretString,
}

/// Exchange a refresh token for new tokens (the old refresh token stops working).
#[utoipa::path(post, path = "/api/v1/auth/refresh-token", operation_id = "auth_refresh_token", tag = "auth", request_body = RefreshIn,
    responses((status = 200, body = TokensOut), (status = 401, body = ErrorEnvelope)))]
pub async fn refresh(
    State(state): State<AppState>,
    Client(meta): Client,
    ValidJson(body): ValidJson<RefreshIn>,
) -> ApiResult<TokensOut> {
    use secrecy::ExposeSecret;
    Ok(Envelope(
        state
            .identity
            .refresh(&meta, body.refresh_token.expose_secret())
            .await?
            .into(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DoneOut {
    pub ok: bool,
}

/// End the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", operation_id = "auth_logout", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = DoneOut), (status = 401, body = ErrorEnvelope)))]
pub async fn logout(
    State(state): State<AppState>,
    Client(meta): Client,
    CurrentUser(caller): CurrentUser,
) -> ApiResult<DoneOut> {
    state.identity.logout(&meta, caller).await?;
    Ok(Envelope(DoneOut { ok: true }))
}

/// The signed-in user with organisations and roles.
#[utoipa::path(get, path = "/api/v1/auth/me", operation_id = "me_get", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserOut), (status = 401, body = ErrorEnvelope)))]
pub async fn me(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
) -> ApiResult<UserOut> {
    let (user, orgs) = state.identity.me(caller).await?;
    Ok(Envelope(UserOut::new(user, orgs)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProfilePatch {
    #[schema(value_type = Option<crate::request_formats::DisplayName>)]
    pub full_name: Option<String>,
}

/// Update the signed-in user's profile.
#[utoipa::path(patch, path = "/api/v1/auth/me", operation_id = "me_update", tag = "auth", security(("bearer" = [])), request_body = ProfilePatch,
    responses((status = 200, body = UserOut), (status = 422, body = ErrorEnvelope)))]
pub async fn update_me(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
    ValidJson(body): ValidJson<ProfilePatch>,
) -> ApiResult<UserOut> {
    let mut errors = FieldErrors::default();
    let name = body.full_name.as_deref().map(full_name).transpose();
    let name = errors.check("full_name", name);
    errors.finish()?;
    let (user, orgs) = match name.flatten() {
        Some(name) => state.identity.update_profile(caller, &name).await?,
        None => state.identity.me(caller).await?,
    };
    Ok(Envelope(UserOut::new(user, orgs)))
}
