//! The one list shape: `{items, next_cursor}` with `limit` (1–200, default 50) and an opaque
//! `cursor`. Long lists page in SQL (`pagination`); short ones (an account's organisations,
//! sessions and connections, an organisation's members, invitations and integrations) are read
//! whole and paged here, by a cursor over the same order, so a row added or removed between
//! two pages neither repeats nor hides another.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::{error::ApiError, pagination};

/// The default and largest `limit` of every list.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// The paging parameters of a list with no filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next_cursor` of the previous page, passed back unchanged.
    pub cursor: Option<String>,
    /// Items per page: 1–200, default 50.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
}

impl PageQuery {
    /// The checked limit.
    pub fn limit(&self) -> Result<i64, ApiError> {
        pagination::limit(self.limit, DEFAULT_LIMIT, MAX_LIMIT)
    }
}

/// A sort key that can be handed out as a cursor and read back.
pub trait CursorKey: Ord + Sized {
    fn encode(&self) -> String;
    fn decode(raw: &str) -> Option<Self>;
}

/// Newest first: (time, id) in descending order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Newest(pub std::cmp::Reverse<(DateTime<Utc>, Uuid)>);

impl Newest {
    pub fn of(at: DateTime<Utc>, id: Uuid) -> Self {
        Self(std::cmp::Reverse((at, id)))
    }
}

impl CursorKey for Newest {
    fn encode(&self) -> String {
        let (at, id) = self.0.0;
        format!("{}_{id}", at.timestamp_micros())
    }

    fn decode(raw: &str) -> Option<Self> {
        pagination::time_cursor(Some(raw))
            .ok()
            .flatten()
            .map(|(at, id)| Self::of(at, id))
    }
}

/// Alphabetical by a name (a slug, a type): the cursor is the name, hex-encoded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByName(pub String);

impl CursorKey for ByName {
    fn encode(&self) -> String {
        hex::encode(self.0.as_bytes())
    }

    fn decode(raw: &str) -> Option<Self> {
        let bytes = hex::decode(raw).ok()?;
        String::from_utf8(bytes).ok().map(Self)
    }
}

/// One page of `items` (the whole list, any order) in `key` order after `q.cursor`, and the
/// cursor of the next page when there is one.
pub fn page_whole<T, K: CursorKey>(
    mut items: Vec<T>,
    q: &PageQuery,
    key: impl Fn(&T) -> K,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let limit = usize::try_from(q.limit()?).unwrap_or(0);
    let after = q
        .cursor
        .as_deref()
        .map(|raw| K::decode(raw).ok_or_else(pagination::bad_cursor))
        .transpose()?;
    items.sort_by_key(|i| key(i));
    if let Some(after) = after {
        items.retain(|i| key(i) > after);
    }
    let more = items.len() > limit;
    items.truncate(limit);
    let next = more
        .then(|| items.last().map(|i| key(i).encode()))
        .flatten();
    Ok((items, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_the_list_once_in_order_and_refuse_foreign_cursors() {
        let names: Vec<String> = ["d", "a", "c", "b", "e"].map(String::from).into();
        let mut q = PageQuery {
            cursor: None,
            limit: Some(2),
        };
        let mut seen = Vec::new();
        loop {
            let (items, next) = page_whole(names.clone(), &q, |n| ByName(n.clone())).unwrap();
            seen.extend(items);
            match next {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, ["a", "b", "c", "d", "e"]);
        q.cursor = Some("zz".into());
        assert!(page_whole(names.clone(), &q, |n| ByName(n.clone())).is_err());
        q.cursor = Some("not a cursor".into());
        let err = page_whole(names, &q, |_| Newest::of(Utc::now(), Uuid::nil())).unwrap_err();
        assert_eq!(err.code, "invalid_query");
    }
}
