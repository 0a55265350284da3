//! Organisation roles and the permission matrix: the one place that says who may do what.

use serde::Serialize;

crate::closed_set! {
    /// A member's role in an organisation.
    pub enum Role {
        OrgAdmin = "org_admin",
        TeamLead = "team_lead",
        Developer = "developer",
        Viewer = "viewer",
    }
}

impl Role {
    /// Parses a client's spelling; the error lists the allowed values (never the input).
    pub fn parse(s: &str) -> Result<Self, String> {
        s.parse()
            .map_err(|e: crate::domain::NotInSet| e.to_string())
    }

    /// The permission matrix. Platform super admins are allowed everything, in every organisation.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match permission {
            OrgRead | MembersRead | ReposRead | JobsRead | IncidentsRead => true,
            IncidentsManage | WorkflowsRerun => self != Role::Viewer,
            WebhooksRead | ReposManage | IntegrationsRead => {
                matches!(self, Role::OrgAdmin | Role::TeamLead)
            }
            OrgUpdate | OrgDelete | MembersManage | AuditRead | WebhooksReplay | GithubManage
            | IntegrationsManage => self == Role::OrgAdmin,
        }
    }
}

/// What an organisation route may require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    OrgRead,
    OrgUpdate,
    OrgDelete,
    MembersRead,
    MembersManage,
    AuditRead,
    /// See the organisation's webhook deliveries.
    WebhooksRead,
    /// Process a delivery again.
    WebhooksReplay,
    /// Link GitHub App installations.
    GithubManage,
    /// See repositories.
    ReposRead,
    /// See the state of jobs started for the organisation.
    JobsRead,
    /// Connect and disconnect repositories, change their settings, test their hook.
    ReposManage,
    IncidentsRead,
    IncidentsManage,
    WorkflowsRerun,
    IntegrationsRead,
    IntegrationsManage,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_manage() {
        assert!(Role::OrgAdmin.allows(Permission::MembersManage));
        for role in [Role::TeamLead, Role::Developer, Role::Viewer] {
            assert!(role.allows(Permission::OrgRead));
            assert!(!role.allows(Permission::AuditRead));
            assert!(!role.allows(Permission::OrgDelete));
        }
        assert_eq!(Role::parse("viewer"), Ok(Role::Viewer));
        assert!(Role::parse("owner").is_err());
    }
}
