//! The closed sets of users' provider links (`oauth_connections`) and one-time OAuth states.

crate::closed_set! {
    /// The provider a user's account is linked to.
    pub enum ConnectionProvider {
        Github = "github",
    }
}

crate::closed_set! {
    /// Why a user linked a provider account: to sign in, or to give RepoPal access to repositories.
    pub enum ConnectionPurpose {
        Login = "login",
        RepoAccess = "repo_access",
    }
}

crate::closed_set! {
    /// Whether a link's tokens still work.
    pub enum ConnectionStatus {
        Active = "active",
        /// The provider refused the refresh token: the user must connect again.
        ReauthRequired = "reauth_required",
    }
}

crate::closed_set! {
    /// The flow a one-time OAuth state belongs to (a state of one flow is invalid in another).
    pub enum StateFlow {
        GithubLogin = "github",
        GithubConnect = "github_connect",
        GithubInstall = "github_install",
        SlackConnect = "slack_connect",
    }
}
