//! Why a session ended before it expired.

crate::closed_set! {
    /// The reason recorded on a revoked session.
    pub enum SessionEndReason {
        Logout = "logout",
        EndedByUser = "ended_by_user",
        RefreshTokenReuse = "refresh_token_reuse",
        ReclaimedByVerifiedOwner = "reclaimed_by_verified_owner",
        PasswordChanged = "password_changed",
        PasswordReset = "password_reset",
    }
}
