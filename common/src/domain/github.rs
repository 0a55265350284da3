//! GitHub webhook vocabulary RepoPal acts on.

crate::closed_set! {
    /// The `action` of an `installation` delivery that changes what RepoPal records.
    pub enum InstallationAction {
        Created = "created",
        Deleted = "deleted",
        Suspend = "suspend",
        Unsuspend = "unsuspend",
        NewPermissionsAccepted = "new_permissions_accepted",
    }
}
