//! The closed sets of the audit log.

crate::closed_set! {
    /// Whether an audit-logged event happened as intended or was refused.
    pub enum AuditStatus {
        Success = "success",
        Failure = "failure",
    }
}
