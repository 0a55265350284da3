//! How a session began, and why it ended before it expired.

crate::closed_set! {
    /// How a user signed in (the `method` of a login's audit entry).
    pub enum LoginMethod {
        Password = "password",
        Github = "github",
    }
}

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
