//! The closed sets of the audit log.

crate::closed_set! {
    /// Whether an audit-logged event happened as intended or was refused.
    pub enum AuditStatus {
        Success = "success",
        Failure = "failure",
    }
}

crate::closed_set! {
    /// What an audit entry records; its spelling is `area.verb`.
    pub enum AuditAction {
        AuthAccountReclaim = "auth.account_reclaim",
        AuthEmailVerified = "auth.email_verified",
        AuthLogin = "auth.login",
        AuthLogout = "auth.logout",
        AuthOauthLink = "auth.oauth_link",
        AuthOauthUnlink = "auth.oauth_unlink",
        AuthPasswordChange = "auth.password_change",
        AuthPasswordReset = "auth.password_reset",
        AuthPasswordResetRequest = "auth.password_reset_request",
        AuthRefreshReuse = "auth.refresh_reuse",
        AuthRegister = "auth.register",
        AuthSessionEnd = "auth.session_end",
        AuthzDenied = "authz.denied",
        GithubInstallationLink = "github.installation_link",
        IncidentAcknowledge = "incident.acknowledge",
        IncidentAutoResolve = "incident.auto_resolve",
        IncidentComment = "incident.comment",
        IncidentOccurrence = "incident.occurrence",
        IncidentOpen = "incident.open",
        IncidentReopen = "incident.reopen",
        IncidentResolve = "incident.resolve",
        IntegrationCreate = "integration.create",
        IntegrationCredentialsDecrypt = "integration.credentials_decrypt",
        IntegrationCredentialsUpdate = "integration.credentials_update",
        IntegrationDelete = "integration.delete",
        IntegrationDisable = "integration.disable",
        IntegrationEnable = "integration.enable",
        IntegrationHealthTransition = "integration.health_transition",
        IntegrationSync = "integration.sync",
        IntegrationTest = "integration.test",
        IntegrationTokenRefresh = "integration.token_refresh",
        IntegrationUpdate = "integration.update",
        KeysRotate = "keys.rotate",
        MemberInvite = "member.invite",
        MemberJoin = "member.join",
        MemberRemove = "member.remove",
        MemberRoleChange = "member.role_change",
        OauthConnect = "oauth.connect",
        OauthDisconnect = "oauth.disconnect",
        OrgCreate = "org.create",
        OrgDelete = "org.delete",
        OrgInvitationRevoke = "org.invitation_revoke",
        OrgUpdate = "org.update",
        PlatformSuperAdminGrant = "platform.super_admin_grant",
        PlatformSuperAdminRevoke = "platform.super_admin_revoke",
        RepositoryConnect = "repository.connect",
        RepositoryDisconnect = "repository.disconnect",
        RepositorySettingsUpdate = "repository.settings_update",
        WebhookReplay = "webhook.replay",
        WorkflowRunRerun = "workflow_run.rerun",
    }
}

crate::closed_set! {
    /// The kind of thing an audit entry is about.
    pub enum AuditResource {
        GithubInstallation = "github_installation",
        Incident = "incident",
        Integration = "integration",
        Invitation = "invitation",
        Membership = "membership",
        OauthConnection = "oauth_connection",
        Organization = "organization",
        Repository = "repository",
        Session = "session",
        User = "user",
        WebhookDelivery = "webhook_delivery",
        WorkflowRun = "workflow_run",
    }
}
