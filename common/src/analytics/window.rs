//! The time window and bucket width of an analytics read, parsed and bounded at the edge.

use chrono::{DateTime, Datelike, Duration, DurationRound, Utc};
use uuid::Uuid;

use crate::{
    Error,
    domain::{Bucket, OrgId},
    repo::analytics::Scope,
};

/// The longest window one read may cover.
pub const MAX_DAYS: i64 = 400;
/// The window when `from` is not given.
pub const DEFAULT_DAYS: i64 = 30;

/// What a client asked for, before validation.
#[derive(Debug, Clone, Default)]
pub struct WindowIn {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub bucket: Option<Bucket>,
    pub repository: Option<Uuid>,
    pub workflow: Option<String>,
    pub branch: Option<String>,
}

/// A validated window: `from < to`, at most [`MAX_DAYS`] long.
#[derive(Debug, Clone)]
pub struct Window {
    pub scope: Scope,
}

impl Window {
    pub fn new(org: OrgId, input: WindowIn, now: DateTime<Utc>) -> Result<Self, Error> {
        let to = input.to.unwrap_or(now);
        let from = input.from.unwrap_or(to - Duration::days(DEFAULT_DAYS));
        let mut problems = Vec::new();
        if from >= to {
            problems.push(("from".to_owned(), "must be before `to`".to_owned()));
        } else if to - from > Duration::days(MAX_DAYS) {
            problems.push((
                "from".to_owned(),
                format!("the window may span at most {MAX_DAYS} days"),
            ));
        }
        for (name, value) in [("workflow", &input.workflow), ("branch", &input.branch)] {
            if value
                .as_ref()
                .is_some_and(|v| v.is_empty() || v.chars().count() > 255)
            {
                problems.push((name.to_owned(), "must be 1 to 255 characters".to_owned()));
            }
        }
        if !problems.is_empty() {
            return Err(Error::InvalidFields(problems));
        }
        Ok(Self {
            scope: Scope {
                org,
                from,
                to,
                bucket: input.bucket.unwrap_or(Bucket::Day),
                repository: input.repository,
                workflow: input.workflow,
                branch: input.branch,
            },
        })
    }

    /// The start of every bucket the window touches, in order (the same UTC boundaries Postgres's
    /// `date_trunc` uses: midnight, and Monday for weeks).
    pub fn bucket_starts(&self) -> Vec<DateTime<Utc>> {
        let s = &self.scope;
        let step = match s.bucket {
            Bucket::Day => Duration::days(1),
            Bucket::Week => Duration::weeks(1),
        };
        let mut at = truncate(s.from, s.bucket);
        let mut out = Vec::new();
        while at < s.to {
            out.push(at);
            at += step;
        }
        out
    }
}

impl Window {
    /// The whole buckets inside the window, as `[start of the first, end of the last)`; `None`
    /// when no bucket lies wholly inside.
    pub fn whole_buckets(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let s = &self.scope;
        let step = match s.bucket {
            Bucket::Day => Duration::days(1),
            Bucket::Week => Duration::weeks(1),
        };
        let starts = self.bucket_starts();
        let first = starts.iter().find(|b| **b >= s.from)?;
        let last = starts.iter().rev().find(|b| **b + step <= s.to)?;
        (first <= last).then_some((*first, *last + step))
    }

    /// The whole UTC days inside the window, as `[first midnight, last midnight)`; `None` when no
    /// day lies wholly inside.
    pub fn whole_days(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let s = &self.scope;
        let mut lo = truncate(s.from, Bucket::Day);
        if lo < s.from {
            lo += Duration::days(1);
        }
        let hi = truncate(s.to, Bucket::Day);
        (lo < hi).then_some((lo, hi))
    }

    /// The start of the bucket holding `t`.
    pub fn bucket_of(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        truncate(t, self.scope.bucket)
    }
}

fn truncate(t: DateTime<Utc>, bucket: Bucket) -> DateTime<Utc> {
    let day = t.duration_trunc(Duration::days(1)).unwrap_or(t);
    match bucket {
        Bucket::Day => day,
        Bucket::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .expect("valid time")
    }

    #[test]
    fn weeks_start_on_monday_and_days_at_midnight() {
        let input = WindowIn {
            from: Some(at(2026, 11, 4, 15)), // a Wednesday
            to: Some(at(2026, 11, 18, 1)),
            bucket: Some(Bucket::Week),
            ..WindowIn::default()
        };
        let w = Window::new(OrgId::new(), input, at(2026, 11, 30, 0)).expect("window");
        assert_eq!(
            w.bucket_starts(),
            vec![at(2026, 11, 2, 0), at(2026, 11, 9, 0), at(2026, 11, 16, 0)]
        );
        let days = Window::new(
            OrgId::new(),
            WindowIn {
                from: Some(at(2026, 11, 4, 15)),
                to: Some(at(2026, 11, 6, 0)),
                ..WindowIn::default()
            },
            at(2026, 11, 30, 0),
        )
        .expect("window");
        assert_eq!(
            days.bucket_starts(),
            vec![at(2026, 11, 4, 0), at(2026, 11, 5, 0)]
        );
    }

    #[test]
    fn whole_buckets_leave_out_partial_ends() {
        let w = |from, to, bucket| {
            let input = WindowIn {
                from: Some(from),
                to: Some(to),
                bucket: Some(bucket),
                ..WindowIn::default()
            };
            Window::new(OrgId::new(), input, at(2026, 11, 30, 0)).expect("window")
        };
        assert_eq!(
            w(at(2026, 11, 4, 15), at(2026, 11, 8, 1), Bucket::Day).whole_buckets(),
            Some((at(2026, 11, 5, 0), at(2026, 11, 8, 0)))
        );
        assert_eq!(
            w(at(2026, 11, 4, 0), at(2026, 11, 5, 0), Bucket::Day).whole_buckets(),
            Some((at(2026, 11, 4, 0), at(2026, 11, 5, 0)))
        );
        assert_eq!(
            w(at(2026, 11, 4, 1), at(2026, 11, 4, 23), Bucket::Day).whole_buckets(),
            None
        );
        assert_eq!(
            w(at(2026, 11, 4, 15), at(2026, 11, 8, 1), Bucket::Week).whole_days(),
            Some((at(2026, 11, 5, 0), at(2026, 11, 8, 0)))
        );
        assert_eq!(
            w(at(2026, 11, 4, 0), at(2026, 11, 5, 0), Bucket::Week).whole_days(),
            Some((at(2026, 11, 4, 0), at(2026, 11, 5, 0)))
        );
        assert_eq!(
            w(at(2026, 11, 4, 1), at(2026, 11, 4, 23), Bucket::Day).whole_days(),
            None
        );
        // 4 November is a Wednesday: the whole weeks start on the 9th and 16th.
        assert_eq!(
            w(at(2026, 11, 4, 0), at(2026, 11, 29, 0), Bucket::Week).whole_buckets(),
            Some((at(2026, 11, 9, 0), at(2026, 11, 23, 0)))
        );
    }

    #[test]
    fn reversed_and_overlong_windows_are_refused() {
        let now = at(2026, 11, 30, 0);
        for (from, to) in [
            (at(2026, 11, 5, 0), at(2026, 11, 4, 0)),
            (at(2024, 1, 1, 0), now),
        ] {
            let input = WindowIn {
                from: Some(from),
                to: Some(to),
                ..WindowIn::default()
            };
            assert!(matches!(
                Window::new(OrgId::new(), input, now),
                Err(Error::InvalidFields(_))
            ));
        }
    }
}
