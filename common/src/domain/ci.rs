//! CI vocabulary as RepoPal reads GitHub Actions: which conclusions decide an incident, and what
//! incident evaluation did with a run attempt.

crate::closed_set! {
    /// The run or check conclusions RepoPal acts on. GitHub sends others too (`cancelled`,
    /// `skipped`, `neutral`, …); those are stored as sent and decide nothing.
    pub enum Conclusion {
        Success = "success",
        Failure = "failure",
        TimedOut = "timed_out",
    }
}

impl Conclusion {
    /// The decisive conclusion of a raw GitHub value, if it is one.
    pub fn of(raw: Option<&str>) -> Option<Self> {
        raw.and_then(|c| c.parse().ok())
    }

    /// A failure for incident purposes: failed or timed out.
    pub const fn is_failure(self) -> bool {
        matches!(self, Self::Failure | Self::TimedOut)
    }

    /// The conclusions that count as failures.
    pub const FAILURES: &'static [Conclusion] = &[Conclusion::Failure, Conclusion::TimedOut];

    /// Whether a raw GitHub conclusion is a failure.
    pub fn is_failing(raw: Option<&str>) -> bool {
        Self::of(raw).is_some_and(Self::is_failure)
    }
}

crate::closed_set! {
    /// GitHub's status of a run, check suite or job, where RepoPal's logic depends on it.
    pub enum RunStatus {
        Completed = "completed",
    }
}

impl RunStatus {
    /// Whether a raw GitHub status says the run finished.
    pub fn is_completed(raw: &str) -> bool {
        raw == Self::Completed.as_str()
    }
}

crate::closed_set! {
    /// What incident evaluation did with a completed run attempt (recorded once on the attempt).
    pub enum Evaluation {
        Opened = "opened",
        Grouped = "grouped",
        Resolved = "resolved",
        Stale = "stale",
        NoChange = "no_change",
        AutoIncidentOff = "auto_incident_off",
    }
}

crate::closed_set! {
    /// How processing a stored webhook delivery ended.
    pub enum DeliveryStatus {
        Received = "received",
        Processed = "processed",
        Ignored = "ignored",
        Failed = "failed",
    }
}
