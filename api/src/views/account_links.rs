//! Account pages reached by a token or an emailed link: forgotten and reset passwords, email
//! verification and accepting an invitation (with sign-up for an invitee without account).

use askama::Template;
use axum::{
    extract::{Query, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
};
use common::domain::Email;
use secrecy::SecretString;
use serde::Deserialize;

use super::{
    account::{PageQuery, SignupPage, anonymous_page, token_of},
    page::{ConsoleError, FieldErrors, Layout, new_password, ok, render},
    session::{MaybeSigned, Posted},
};
use crate::{error::ApiError, extract::Client, state::AppState};

// ---- forgotten password ----

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    l: Layout,
}

pub async fn forgot_page(
    State(state): State<AppState>,
    MaybeSigned(signed): MaybeSigned,
    headers: HeaderMap,
) -> Response {
    anonymous_page(
        &state,
        &headers,
        signed.as_ref(),
        "Forgotten password",
        |l| ForgotPage { l },
    )
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

pub async fn forgot(
    State(state): State<AppState>,
    Client(meta): Client,
    Posted { form, .. }: Posted<ForgotForm>,
) -> Response {
    // The same answer whether or not the address has an account.
    if let Ok(email) = Email::parse(&form.email)
        && let Err(e) = state.identity.forgot_password(&meta, &email).await
    {
        return ConsoleError::from(e).into_response();
    }
    Redirect::to("/login?notice=reset_sent").into_response()
}

/// A page that carries the token of an emailed link into its form (reset, verification).
pub(super) trait TokenPage: Template {
    const TITLE: &'static str;
    fn with(l: Layout, token: String, error: Option<String>) -> Self;

    /// The page again after a failed post: the problem, answered with its status.
    fn failed(csrf: &str, token: String, e: ApiError) -> Response
    where
        Self: Sized,
    {
        let page = Self::with(Layout::anonymous(Self::TITLE, csrf), token, Some(e.message));
        render(e.status, &page)
    }
}

/// A token page's template struct; only the template and the title differ.
macro_rules! token_page {
    ($name:ident, $path:tt, $title:tt) => {
        #[derive(Template)]
        #[template(path = $path)]
        pub(super) struct $name {
            l: Layout,
            token: String,
            error: Option<String>,
        }

        impl TokenPage for $name {
            const TITLE: &'static str = $title;
            fn with(l: Layout, token: String, error: Option<String>) -> Self {
                Self { l, token, error }
            }
        }
    };
}

token_page!(ResetPage, "reset.html", "Choose a new password");
// The link in the verification email opens a confirmation button (link scanners that fetch the
// page confirm nothing).
token_page!(VerifyPage, "verify.html", "Confirm your email");

/// `GET` of a token page: the token from the link, in a form the person posts.
pub(super) async fn token_page<P: TokenPage>(
    State(state): State<AppState>,
    MaybeSigned(signed): MaybeSigned,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let token = q.token.unwrap_or_default();
    anonymous_page(&state, &headers, signed.as_ref(), P::TITLE, |l| {
        P::with(l, token, None)
    })
}

#[derive(Deserialize)]
pub struct ResetForm {
    token: Option<SecretString>,
    new_password: Option<SecretString>,
    #[serde(default)]
    csrf: String,
}

pub async fn reset(
    State(state): State<AppState>,
    Client(meta): Client,
    Posted { form, .. }: Posted<ResetForm>,
) -> Response {
    let password = form.new_password.unwrap_or_else(|| SecretString::from(""));
    let result = match new_password(&password) {
        Ok(new) => state
            .identity
            .reset_password(&meta, token_of(&form.token), &new)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Redirect::to("/login?notice=password_reset").into_response(),
        Err(e) => ResetPage::failed(&form.csrf, token_of(&form.token).to_owned(), e),
    }
}

// ---- email verification ----

#[derive(Deserialize)]
pub struct TokenForm {
    token: Option<SecretString>,
    #[serde(default)]
    csrf: String,
}

pub async fn verify(
    State(state): State<AppState>,
    Client(meta): Client,
    Posted { form, signed }: Posted<TokenForm>,
) -> Response {
    match state
        .identity
        .verify_email(&meta, token_of(&form.token))
        .await
    {
        Ok(_) if signed.is_some() => Redirect::to("/profile?notice=email_verified").into_response(),
        Ok(_) => Redirect::to("/login?notice=email_verified").into_response(),
        Err(e) => VerifyPage::failed(&form.csrf, String::new(), ApiError::from(e)),
    }
}

// ---- invitations ----

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    l: Layout,
    token: String,
    org_name: String,
    email: String,
    role: String,
    error: Option<String>,
}

pub async fn invitation_page(
    State(state): State<AppState>,
    MaybeSigned(signed): MaybeSigned,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let token = q.token.unwrap_or_default();
    let (org, invitation) = match state.identity.invitation_preview(&token).await {
        Ok(found) => found,
        Err(e) => return ConsoleError::from(e).into_response(),
    };
    match signed {
        Some(s) => {
            let l = match Layout::signed(&state, &s, "Invitation").await {
                Ok(l) => l,
                Err(e) => return e.into_response(),
            };
            ok(&InvitationPage {
                l,
                token,
                org_name: org.name,
                email: invitation.email,
                role: invitation.role.to_string(),
                error: None,
            })
        }
        None => {
            // An invitee without an account signs up here, with the invited address.
            let title = format!("Join {}", org.name);
            anonymous_page(&state, &headers, None, &title, |l| SignupPage {
                l,
                full_name: String::new(),
                email: invitation.email,
                organization_name: String::new(),
                invitation: token,
                errors: FieldErrors::new(),
                error: None,
            })
        }
    }
}

pub async fn accept_invitation(
    State(state): State<AppState>,
    Client(meta): Client,
    Posted { form, signed }: Posted<TokenForm>,
) -> Response {
    let Some(signed) = signed else {
        return Redirect::to("/login").into_response();
    };
    match state
        .identity
        .accept_invitation(&meta, signed.caller, token_of(&form.token))
        .await
    {
        Ok(org) => {
            Redirect::to(&format!("/orgs/{}?notice=invitation_accepted", org.slug)).into_response()
        }
        Err(e) => ConsoleError::from(e).into_response(),
    }
}
