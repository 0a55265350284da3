//! The vocabulary of analytics queries.

crate::closed_set! {
    /// The width of one point of a time series.
    pub enum Bucket {
        Day = "day",
        Week = "week",
    }
}
