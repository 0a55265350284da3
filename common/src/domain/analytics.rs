//! The vocabulary of analytics queries.

crate::closed_set! {
    /// The width of one point of a time series.
    pub enum Bucket {
        Day = "day",
        Week = "week",
    }
}

crate::closed_set! {
    /// Where an incident came from. GitHub Actions runs are the only source today; Argo CD
    /// applications come next.
    pub enum IncidentSource {
        GithubActions = "github_actions",
    }
}
