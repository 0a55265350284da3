//! Accounts: register, login with lockout, profile, password change and reset, email verification.

use crate::domain::{AuditAction, AuditResource, LoginMethod};
use chrono::Utc;
use secrecy::SecretString;
use serde_json::json;

use super::{Caller, ClientMeta, Identity, SignedIn, audit, orgs::create_org_in, queue_email};
use crate::{
    Error,
    crypto::tokens,
    domain::{Email, EmailPurpose, NewPassword, SessionEndReason, UserId},
    repo::{
        audit_logs::NewEntry,
        email_tokens,
        login_attempts::{self, Reservation},
        oauth, sessions,
        users::{self, User, UserOrg},
    },
};

/// Input of `register`, already parsed at the edge.
#[derive(Debug, Clone)]
pub struct Registration {
    pub email: Email,
    pub password: NewPassword,
    pub full_name: String,
    pub organization_name: Option<String>,
}

const VERIFY_TTL_HOURS: i64 = 48;
const RESET_TTL_MINUTES: i64 = 60;
/// How recent a sign-in must be to set a first password without the emailed link.
const FIRST_PASSWORD_WINDOW_MINUTES: i64 = 10;

fn invalid_credentials() -> Error {
    Error::unauthorized("invalid_credentials", "Invalid email or password.")
}

impl Identity {
    /// Creates an account (and, when named, an organisation it administers), sends the
    /// verification email and signs the new user in.
    pub async fn register(
        &self,
        meta: &ClientMeta,
        input: Registration,
    ) -> Result<SignedIn, Error> {
        let hash = self.passwords.hash(input.password.secret()).await?;
        let mut tx = self.pool.begin().await?;
        let user = users::insert(
            &mut tx,
            &input.email,
            input.full_name.trim(),
            Some(&hash),
            users::EmailProof::Unproven,
        )
        .await?;
        if let Some(name) = input
            .organization_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            create_org_in(&mut tx, meta, user.id, name, None).await?;
        }
        self.send_verification(&mut tx, &user).await?;
        audit(
            &mut *tx,
            meta,
            NewEntry::success(AuditAction::AuthRegister)
                .actor(user.id)
                .resource(AuditResource::User, user.id),
        )
        .await?;
        self.signed_in(tx, user, meta).await
    }

    async fn send_verification(
        &self,
        tx: &mut sqlx::PgConnection,
        user: &User,
    ) -> Result<(), Error> {
        let (token, hash) = tokens::generate("rpv_");
        email_tokens::insert(
            &mut *tx,
            user.id,
            EmailPurpose::VerifyEmail,
            &hash,
            Utc::now() + chrono::Duration::hours(VERIFY_TTL_HOURS),
        )
        .await?;
        let link = self.link("verify-email", &token);
        let body = format!(
            "Hello {},\n\nconfirm your email address for RepoPal:\n{link}\n\nOr POST the token to /api/v1/auth/verify-email: {token}\n\nThe link expires in {VERIFY_TTL_HOURS} hours.\n",
            user.full_name
        );
        queue_email(tx, &user.email, "Confirm your RepoPal email address", &body).await
    }

    fn link(&self, page: &str, token: &str) -> String {
        let mut url = self.config.public_url.clone();
        url.set_path(page);
        url.query_pairs_mut().append_pair("token", token);
        url.to_string()
    }

    fn lock_policy(&self) -> login_attempts::LockPolicy {
        login_attempts::LockPolicy {
            threshold: self.auth.lockout_threshold,
            base_secs: self.auth.lockout_base.as_secs_f64(),
            max_secs: self.auth.lockout_max.as_secs_f64(),
        }
    }

    /// Password login. Unknown email and wrong password take the same time and give the same
    /// error; repeated failures lock the account for a growing, capped time.
    pub async fn login(
        &self,
        meta: &ClientMeta,
        email: &Email,
        pw: &SecretString,
    ) -> Result<SignedIn, Error> {
        // Counted per account across every address, before any hash is checked.
        if let Reservation::Locked(until) =
            login_attempts::reserve(&self.pool, email, self.lock_policy()).await?
        {
            audit(
                &self.pool,
                meta,
                NewEntry::failure(AuditAction::AuthLogin)
                    .meta(json!({ "email": email.as_str(), "reason": "locked" })),
            )
            .await?;
            let remaining = (until - Utc::now()).num_seconds().max(1);
            return Err(Error::Locked {
                retry_after_secs: u64::try_from(remaining).unwrap_or(1),
            });
        }
        let user = users::find_by_email(&self.pool, email).await?;
        let verified = match self
            .passwords
            .verify(pw, user.as_ref().and_then(|u| u.password_hash.clone()))
            .await
        {
            Ok(v) => v,
            Err(e) => {
                // Busy (503): the password was never checked, so the attempt does not count.
                login_attempts::release(&self.pool, email, self.auth.lockout_threshold).await?;
                return Err(e);
            }
        };
        let mut tx = self.pool.begin().await?;
        login_attempts::record(&mut *tx, email, meta.ip.as_deref(), verified.matches).await?;
        let Some(user) = user.filter(|_| verified.matches) else {
            audit(
                &mut *tx,
                meta,
                NewEntry::failure(AuditAction::AuthLogin)
                    .meta(json!({ "email": email.as_str(), "reason": "invalid_credentials" })),
            )
            .await?;
            tx.commit().await?;
            return Err(invalid_credentials());
        };
        login_attempts::clear(&mut *tx, email.as_str()).await?;
        if verified.needs_rehash {
            let fresh = self.passwords.hash(pw).await?;
            users::set_password(&mut *tx, user.id, &fresh).await?;
        }
        self.logged_in(tx, user, meta, LoginMethod::Password).await
    }

    /// The caller's account and organisations.
    pub async fn me(&self, caller: Caller) -> Result<(User, Vec<UserOrg>), Error> {
        let user = users::find(&self.pool, caller.user_id)
            .await?
            .ok_or(Error::NotFound)?;
        let orgs = users::orgs(&self.pool, caller.user_id).await?;
        Ok((user, orgs))
    }

    pub async fn update_profile(
        &self,
        caller: Caller,
        full_name: &str,
    ) -> Result<(User, Vec<UserOrg>), Error> {
        users::set_full_name(&self.pool, caller.user_id, full_name.trim()).await?;
        self.me(caller).await
    }

    /// Changes the caller's password and ends every other session.
    pub async fn change_password(
        &self,
        meta: &ClientMeta,
        caller: Caller,
        current: &SecretString,
        new: &NewPassword,
    ) -> Result<(), Error> {
        let user = users::find(&self.pool, caller.user_id)
            .await?
            .ok_or(Error::NotFound)?;
        let has_password = user.password_hash.is_some();
        if has_password
            && !self
                .passwords
                .verify(current, user.password_hash.clone())
                .await?
                .matches
        {
            audit(
                &self.pool,
                meta,
                NewEntry::failure(AuditAction::AuthPasswordChange)
                    .actor(user.id)
                    .meta(json!({ "reason": "wrong_current_password" })),
            )
            .await?;
            return Err(Error::forbidden(
                "wrong_password",
                "The current password is not correct.",
            ));
        }
        if !has_password {
            // A first password on a GitHub-only account: only right after signing in (a stolen
            // long-lived session cannot add a password); otherwise the emailed reset link.
            let session = sessions::find_active(&self.pool, caller.session_id)
                .await?
                .ok_or(Error::NotFound)?;
            if Utc::now() - session.created_at
                > chrono::Duration::minutes(FIRST_PASSWORD_WINDOW_MINUTES)
            {
                audit(
                    &self.pool,
                    meta,
                    NewEntry::failure(AuditAction::AuthPasswordChange)
                        .actor(user.id)
                        .meta(json!({ "reason": "sign_in_not_recent" })),
                )
                .await?;
                return Err(Error::forbidden(
                    "recent_sign_in_required",
                    "Sign in again (within 10 minutes) or use the emailed link from forgot-password to set a first password.",
                ));
            }
        }
        let hash = self.passwords.hash(new.secret()).await?;
        let mut tx = self.pool.begin().await?;
        users::set_password(&mut *tx, user.id, &hash).await?;
        email_tokens::use_up_all(&mut *tx, user.id, EmailPurpose::ResetPassword).await?;
        let revoked = sessions::revoke_all_except(
            &mut *tx,
            user.id,
            Some(caller.session_id),
            SessionEndReason::PasswordChanged,
        )
        .await?;
        audit(
            &mut *tx,
            meta,
            NewEntry::success(AuditAction::AuthPasswordChange)
                .actor(user.id)
                .resource(AuditResource::User, user.id)
                .meta(json!({ "other_sessions_revoked": revoked, "had_password": has_password })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sends a reset link when the account exists; answers the same either way.
    pub async fn forgot_password(&self, meta: &ClientMeta, email: &Email) -> Result<(), Error> {
        let Some(user) = users::find_by_email(&self.pool, email).await? else {
            // Same amount of work is not needed here: the answer is identical and immediate both
            // ways, and the mail goes out from a job.
            return Ok(());
        };
        let (token, hash) = tokens::generate("rpp_");
        let mut tx = self.pool.begin().await?;
        email_tokens::insert(
            &mut *tx,
            user.id,
            EmailPurpose::ResetPassword,
            &hash,
            Utc::now() + chrono::Duration::minutes(RESET_TTL_MINUTES),
        )
        .await?;
        let body = format!(
            "Hello {},\n\nreset your RepoPal password here:\n{}\n\nOr POST the token to /api/v1/auth/reset-password: {token}\n\nThe link expires in {RESET_TTL_MINUTES} minutes. If you did not ask for this, ignore this email.\n",
            user.full_name,
            self.link("reset-password", &token)
        );
        queue_email(&mut tx, &user.email, "Reset your RepoPal password", &body).await?;
        audit(
            &mut *tx,
            meta,
            NewEntry::success(AuditAction::AuthPasswordResetRequest)
                .actor(user.id)
                .resource(AuditResource::User, user.id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a new password with a reset token and ends every session of the account.
    pub async fn reset_password(
        &self,
        meta: &ClientMeta,
        token: &str,
        new: &NewPassword,
    ) -> Result<(), Error> {
        let mut tx = self.pool.begin().await?;
        let user =
            email_tokens::consume(&mut tx, EmailPurpose::ResetPassword, &tokens::hash(token))
                .await?
                .ok_or_else(|| {
                    Error::rejected(
                        "invalid_token",
                        "The reset token is invalid, used or expired.",
                    )
                })?;
        // Only a valid token costs a hash; if hashing is busy the rollback keeps the token usable.
        let hash = self.passwords.hash(new.secret()).await?;
        users::set_password_proven(&mut *tx, user, &hash).await?;
        // Whoever linked GitHub while the address was unproven loses the link; the lock ends.
        let unlinked = oauth::delete_linked_unverified(&mut *tx, user).await?;
        if let Some(account) = users::find(&mut *tx, user).await? {
            login_attempts::clear(&mut *tx, &account.email).await?;
        }
        users::mark_verified(&mut *tx, user).await?;
        email_tokens::use_up_all(&mut *tx, user, EmailPurpose::ResetPassword).await?;
        let revoked =
            sessions::revoke_all_except(&mut *tx, user, None, SessionEndReason::PasswordReset)
                .await?;
        audit(
            &mut *tx,
            meta,
            NewEntry::success(AuditAction::AuthPasswordReset)
                .actor(user)
                .resource(AuditResource::User, user)
                .meta(json!({ "sessions_revoked": revoked, "unverified_links_removed": unlinked })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Confirms an email address with its token.
    pub async fn verify_email(&self, meta: &ClientMeta, token: &str) -> Result<UserId, Error> {
        let mut tx = self.pool.begin().await?;
        let user = email_tokens::consume(&mut tx, EmailPurpose::VerifyEmail, &tokens::hash(token))
            .await?
            .ok_or_else(|| {
                Error::rejected(
                    "invalid_token",
                    "The verification token is invalid, used or expired.",
                )
            })?;
        users::mark_verified(&mut *tx, user).await?;
        audit(
            &mut *tx,
            meta,
            NewEntry::success(AuditAction::AuthEmailVerified)
                .actor(user)
                .resource(AuditResource::User, user),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }
}
