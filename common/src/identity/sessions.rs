//! Sessions: issuing, rotating refresh tokens with reuse detection, listing and revoking.

use crate::domain::{AuditAction, AuditResource, LoginMethod};
use chrono::Utc;
use serde_json::json;
use sqlx::PgConnection;

use super::{Caller, ClientMeta, Identity, IssuedTokens, SignedIn, audit};
use crate::{
    Error,
    crypto::tokens,
    domain::{SessionEndReason, SessionId, UserId},
    repo::{audit_logs::NewEntry, sessions, sessions::Session, users},
};

const REFRESH_PREFIX: &str = "rpr_";

impl Identity {
    /// Starts a session for `user` inside `tx` and returns its first tokens.
    pub(crate) async fn start_session(
        &self,
        tx: &mut PgConnection,
        user: UserId,
        meta: &ClientMeta,
    ) -> Result<IssuedTokens, Error> {
        let ttl = chrono::Duration::from_std(self.auth.refresh_token_ttl)
            .unwrap_or(chrono::Duration::days(30));
        let session = sessions::insert(
            &mut *tx,
            user,
            meta.user_agent.as_deref(),
            meta.ip.as_deref(),
            Utc::now() + ttl,
        )
        .await?;
        self.tokens_for(tx, user, session.id).await
    }

    /// Records a successful login by `method` (`password`, `github`), then starts the session as
    /// [`Self::signed_in`] does.
    pub(crate) async fn logged_in(
        &self,
        mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
        user: users::User,
        meta: &ClientMeta,
        method: LoginMethod,
    ) -> Result<SignedIn, Error> {
        audit(
            &mut *tx,
            meta,
            NewEntry::success(AuditAction::AuthLogin)
                .actor(user.id)
                .resource(AuditResource::User, user.id)
                .meta(json!({ "method": method })),
        )
        .await?;
        self.signed_in(tx, user, meta).await
    }

    /// Starts a session for `user`, commits `tx` and returns what sign-in answers.
    pub(crate) async fn signed_in(
        &self,
        mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
        user: users::User,
        meta: &ClientMeta,
    ) -> Result<SignedIn, Error> {
        let tokens = self.start_session(&mut tx, user.id, meta).await?;
        let orgs = users::orgs(&mut *tx, user.id).await?;
        tx.commit().await?;
        Ok(SignedIn { user, orgs, tokens })
    }

    async fn tokens_for(
        &self,
        tx: &mut PgConnection,
        user: UserId,
        session: SessionId,
    ) -> Result<IssuedTokens, Error> {
        let (refresh_token, hash) = tokens::generate(REFRESH_PREFIX);
        sessions::insert_refresh_token(&mut *tx, session, &hash).await?;
        let (access_token, expires_in) = self.tokens.issue(user, session)?;
        Ok(IssuedTokens {
            access_token,
            refresh_token,
            expires_in,
        })
    }

    /// Resolves an access token to its caller; `None` when the token is invalid or its session
    /// has been revoked or has expired (revocation takes effect at once).
    pub async fn authenticate(&self, access_token: &str) -> Result<Option<Caller>, Error> {
        let Some(claims) = self.tokens.verify(access_token) else {
            return Ok(None);
        };
        let Some(session) = sessions::find_active(&self.pool, claims.sid).await? else {
            return Ok(None);
        };
        if session.user_id != claims.sub {
            return Ok(None);
        }
        let Some(user) = users::find(&self.pool, claims.sub).await? else {
            return Ok(None);
        };
        Ok(Some(Caller {
            user_id: user.id,
            session_id: session.id,
            is_super_admin: user.is_super_admin,
        }))
    }

    /// Resolves a console session (the cookie names the session) to its caller; `None` when the
    /// session was revoked, expired or its user is gone, so logout, revocation and a password
    /// change end the console's cookie exactly as they end API tokens.
    pub async fn authenticate_session(&self, id: SessionId) -> Result<Option<Caller>, Error> {
        let Some(session) = sessions::find_active(&self.pool, id).await? else {
            return Ok(None);
        };
        let Some(user) = users::find(&self.pool, session.user_id).await? else {
            return Ok(None);
        };
        Ok(Some(Caller {
            user_id: user.id,
            session_id: session.id,
            is_super_admin: user.is_super_admin,
        }))
    }

    /// Rotates a refresh token. Presenting one that was already used revokes its whole session.
    pub async fn refresh(
        &self,
        meta: &ClientMeta,
        refresh_token: &str,
    ) -> Result<IssuedTokens, Error> {
        let invalid = || {
            Error::unauthorized(
                "invalid_refresh_token",
                "The refresh token is invalid or expired.",
            )
        };
        let mut tx = self.pool.begin().await?;
        let Some(found) =
            sessions::spend_refresh_token(&mut tx, &tokens::hash(refresh_token)).await?
        else {
            return Err(invalid());
        };
        if found.already_used {
            let revoked = sessions::revoke(
                &mut *tx,
                found.user_id,
                found.session_id,
                SessionEndReason::RefreshTokenReuse,
            )
            .await?;
            audit(
                &mut *tx,
                meta,
                NewEntry::failure(AuditAction::AuthRefreshReuse)
                    .actor(found.user_id)
                    .resource(AuditResource::Session, found.session_id)
                    .meta(json!({ "session_revoked": revoked })),
            )
            .await?;
            tx.commit().await?;
            tracing::warn!(session_id = %found.session_id, "refresh token reuse: session revoked");
            return Err(Error::unauthorized(
                "refresh_token_reused",
                "This refresh token was already used; the session has been ended. Sign in again.",
            ));
        }
        if !found.session_active {
            return Err(invalid());
        }
        sessions::touch(
            &mut *tx,
            found.session_id,
            meta.ip.as_deref(),
            meta.user_agent.as_deref(),
        )
        .await?;
        let issued = self
            .tokens_for(&mut tx, found.user_id, found.session_id)
            .await?;
        tx.commit().await?;
        Ok(issued)
    }

    /// Ends the caller's current session.
    pub async fn logout(&self, meta: &ClientMeta, caller: Caller) -> Result<(), Error> {
        let mut tx = self.pool.begin().await?;
        sessions::revoke(
            &mut *tx,
            caller.user_id,
            caller.session_id,
            SessionEndReason::Logout,
        )
        .await?;
        audit(
            &mut *tx,
            meta,
            NewEntry::success(AuditAction::AuthLogout)
                .actor(caller.user_id)
                .resource(AuditResource::Session, caller.session_id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_sessions(&self, caller: Caller) -> Result<Vec<Session>, Error> {
        sessions::list_active(&self.pool, caller.user_id).await
    }

    /// Ends one of the caller's sessions (404 when it is not theirs or already ended).
    pub async fn end_session(
        &self,
        meta: &ClientMeta,
        caller: Caller,
        session: SessionId,
    ) -> Result<(), Error> {
        let mut tx = self.pool.begin().await?;
        if !sessions::revoke(
            &mut *tx,
            caller.user_id,
            session,
            SessionEndReason::EndedByUser,
        )
        .await?
        {
            return Err(Error::NotFound);
        }
        audit(
            &mut *tx,
            meta,
            NewEntry::success(AuditAction::AuthSessionEnd)
                .actor(caller.user_id)
                .resource(AuditResource::Session, session),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
