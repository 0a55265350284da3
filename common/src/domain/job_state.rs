//! The job queue's states as RepoPal reads them: apalis's stored status, and what it means to
//! someone waiting for the job.

crate::closed_set! {
    /// `apalis.jobs.status` as apalis-postgres writes it.
    pub enum JobStatus {
        Pending = "Pending",
        Queued = "Queued",
        Running = "Running",
        Done = "Done",
        Failed = "Failed",
        Killed = "Killed",
    }
}

crate::closed_set! {
    /// How a job stands, from the point of view of someone waiting for it.
    pub enum JobOutcome {
        Pending = "pending",
        Running = "running",
        Retrying = "retrying",
        Succeeded = "succeeded",
        Dead = "dead",
    }
}

/// Whether a failed job may run again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempts {
    Left,
    UsedUp,
}

impl Attempts {
    pub fn of(attempts: i32, max_attempts: i32) -> Self {
        if attempts >= max_attempts {
            Self::UsedUp
        } else {
            Self::Left
        }
    }
}

impl JobOutcome {
    /// The one rule from stored status and attempts to outcome.
    pub fn of(status: JobStatus, attempts: Attempts) -> Self {
        match (status, attempts) {
            (JobStatus::Done, _) => Self::Succeeded,
            (JobStatus::Killed, _) | (JobStatus::Failed, Attempts::UsedUp) => Self::Dead,
            (JobStatus::Failed, Attempts::Left) => Self::Retrying,
            (JobStatus::Queued | JobStatus::Running, _) => Self::Running,
            (JobStatus::Pending, _) => Self::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_follow_status_and_attempts() {
        assert_eq!(
            JobOutcome::of(JobStatus::Failed, Attempts::of(3, 3)),
            JobOutcome::Dead
        );
        assert_eq!(
            JobOutcome::of(JobStatus::Failed, Attempts::of(1, 3)),
            JobOutcome::Retrying
        );
        assert_eq!(
            JobOutcome::of(JobStatus::Killed, Attempts::of(0, 3)),
            JobOutcome::Dead
        );
        assert_eq!(
            JobOutcome::of(JobStatus::Queued, Attempts::of(0, 3)),
            JobOutcome::Running
        );
        assert_eq!(
            JobOutcome::of(JobStatus::Done, Attempts::of(1, 1)),
            JobOutcome::Succeeded
        );
        assert_eq!(
            JobOutcome::of(JobStatus::Pending, Attempts::of(0, 1)),
            JobOutcome::Pending
        );
    }
}
