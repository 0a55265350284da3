//! Argo CD's vocabulary, as its API spells it: an application's health and sync status.

crate::closed_set! {
    /// `status.health.status` of an application.
    pub enum AppHealth {
        Healthy = "Healthy",
        Progressing = "Progressing",
        Degraded = "Degraded",
        Suspended = "Suspended",
        Missing = "Missing",
        Unknown = "Unknown",
    }
}

crate::closed_set! {
    /// `status.sync.status` of an application.
    pub enum AppSync {
        Synced = "Synced",
        OutOfSync = "OutOfSync",
        Unknown = "Unknown",
    }
}

impl AppHealth {
    /// The server's value; anything it may add later counts as `Unknown`.
    pub fn parse_lenient(s: Option<&str>) -> Self {
        s.and_then(|s| s.parse().ok()).unwrap_or(Self::Unknown)
    }

    /// Broken enough to open an incident at once.
    pub fn is_broken(self) -> bool {
        matches!(self, Self::Degraded | Self::Missing)
    }
}

impl AppSync {
    /// The server's value; anything it may add later counts as `Unknown`.
    pub fn parse_lenient(s: Option<&str>) -> Self {
        s.and_then(|s| s.parse().ok()).unwrap_or(Self::Unknown)
    }
}
