//! The incident machine's vocabulary: status, severity, what moves an incident, and its timeline.

crate::closed_set! {
    /// Where an incident stands.
    pub enum IncidentStatus {
        Open = "open",
        Acknowledged = "acknowledged",
        Resolved = "resolved",
    }
}

crate::closed_set! {
    /// How urgent an incident is.
    pub enum Severity {
        Critical = "critical",
        High = "high",
        Medium = "medium",
        Low = "low",
    }
}

crate::closed_set! {
    /// What feeds an incident (its dedupe key and evidence come from the source).
    pub enum IncidentSource {
        GithubActions = "github_actions",
        Argocd = "argocd",
    }
}

crate::closed_set! {
    /// The kind of an entry on an incident's timeline.
    pub enum EventKind {
        Opened = "opened",
        Occurrence = "occurrence",
        Context = "context",
        Acknowledged = "acknowledged",
        Resolved = "resolved",
        Reopened = "reopened",
        Comment = "comment",
    }
}

crate::closed_set! {
    /// What an in-app notification is about.
    pub enum NotificationKind {
        Opened = "opened",
        StillFailing = "still_failing",
        Resolved = "resolved",
        IntegrationError = "integration_error",
        IntegrationRecovered = "integration_recovered",
    }
}

/// A status change: the statuses it may start from, where it ends, and the timeline entry it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: &'static [IncidentStatus],
    pub to: IncidentStatus,
    pub event: EventKind,
}

impl Transition {
    pub const ACKNOWLEDGE: Self = Self {
        from: &[IncidentStatus::Open],
        to: IncidentStatus::Acknowledged,
        event: EventKind::Acknowledged,
    };
    pub const RESOLVE: Self = Self {
        from: &[IncidentStatus::Open, IncidentStatus::Acknowledged],
        to: IncidentStatus::Resolved,
        event: EventKind::Resolved,
    };
    pub const REOPEN: Self = Self {
        from: &[IncidentStatus::Resolved],
        to: IncidentStatus::Open,
        event: EventKind::Reopened,
    };

    /// Whether an incident in `status` may take this transition.
    pub fn allowed_from(&self, status: IncidentStatus) -> bool {
        self.from.contains(&status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_start_only_where_allowed() {
        use IncidentStatus::*;
        let allowed = |t: Transition| {
            IncidentStatus::ALL
                .iter()
                .copied()
                .filter(|s| t.allowed_from(*s))
                .collect::<Vec<_>>()
        };
        assert_eq!(allowed(Transition::ACKNOWLEDGE), [Open]);
        assert_eq!(allowed(Transition::RESOLVE), [Open, Acknowledged]);
        assert_eq!(allowed(Transition::REOPEN), [Resolved]);
        assert_eq!(Transition::REOPEN.event.as_str(), "reopened");
    }
}
