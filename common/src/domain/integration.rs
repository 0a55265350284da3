//! The closed sets of the integrations area: types, health, checks and their recovery actions.

crate::closed_set! {
    /// An integration type of the catalogue (`common::integrations::providers` has one file each).
    pub enum IntegrationKind {
        Github = "github",
        GithubApp = "github_app",
        Slack = "slack",
        ArgoCd = "argocd",
        Http = "http",
    }
}

crate::closed_set! {
    /// An integration's health (`common::integrations::health` is its state machine).
    pub enum HealthStatus {
        Active = "active",
        Degraded = "degraded",
        Error = "error",
        /// Failing for too long: no more checks until enabled again.
        Disabled = "disabled",
        /// The provider refused the credentials: no more checks until new ones arrive.
        ReauthRequired = "reauth_required",
    }
}

impl HealthStatus {
    /// Whether scheduled checks run in this state.
    pub fn is_checked(self) -> bool {
        !matches!(self, HealthStatus::Disabled | HealthStatus::ReauthRequired)
    }
}

crate::closed_set! {
    /// What started a check: the schedule (with a due time) or a person (`POST …/test`).
    pub enum CheckSource {
        Scheduled = "scheduled",
        Manual = "manual",
    }
}

crate::closed_set! {
    /// How a connection test ended, as the API reports it.
    pub enum CheckOutcome {
        Ok = "ok",
        Failed = "failed",
    }
}

impl CheckOutcome {
    pub fn of(ok: bool) -> Self {
        if ok {
            CheckOutcome::Ok
        } else {
            CheckOutcome::Failed
        }
    }
}

crate::closed_set! {
    /// A recovery action a check or test took.
    pub enum RecoveryAction {
        /// An expired or refused token was renewed and the test repeated.
        TokenRefreshed = "token_refreshed",
        /// A vanished repository hook was installed again.
        HookReinstall = "hook_reinstall",
    }
}
