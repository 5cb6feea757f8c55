//! Analytics storage shapes: per conversation, the details document, its filter keys and its metric facts,
//! all replaced in the same commit as the command that changed them.

use std::collections::BTreeMap;

/// One metric fact: a participant's metric, completed at `at_ms`, with its dimensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricRow {
    pub participant_id: String,
    /// `tWait`, `tAlert`, `tTalk`, `tHeld`, `tAcw`, `tHandle` (ms) or `nOffered`, `nConnected`, `nAbandoned`,
    /// `nTransferred`, `nWrapupTimedOut` (value 1).
    pub name: String,
    pub at_ms: i64,
    pub value: i64,
    pub queue_id: Option<String>,
    pub user_id: Option<String>,
    pub wrapup_code_id: Option<String>,
    pub media_type: String,
}

/// One conversation's analytics: its row, filter keys and metric facts. Keys and metrics are replaced, or
/// left / appended to when the writer knows they did not change (see `keys_changed`, `metrics_from`):
/// most commands only complete a metric or two. The details document is not stored here: it is derived
/// from the conversation's snapshot when read, so no command writes a second copy of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnalyticsRow {
    pub org_id: String,
    pub conversation_id: String,
    pub started_ms: i64,
    pub media_type: String,
    /// `active` | `wrapup` | `closed`
    pub state: String,
    /// Filter keys: `queue:<id>`, `user:<id>`, `code:<id>`.
    pub keys: Vec<String>,
    /// False: the stored keys are already these (the write leaves them alone).
    pub keys_changed: bool,
    /// The conversation's complete list of metric facts.
    pub metrics: Vec<MetricRow>,
    /// `metrics[..metrics_from]` are already stored, unchanged and in this order: only the rest are
    /// appended. 0 replaces every stored metric of the conversation.
    pub metrics_from: usize,
}

/// `POST .../details/query`: conversations whose `started_ms` is in [start, end), filtered, in
/// (started_ms, conversation_id) order, after a cursor.
#[derive(Clone, Debug, Default)]
pub struct DetailsQuery {
    pub start_ms: i64,
    pub end_ms: i64,
    /// Each empty list means "any".
    pub media_types: Vec<String>,
    pub states: Vec<String>,
    pub conversation_ids: Vec<String>,
    /// Every group must match (AND); within a group any key matches (OR), e.g. `[["queue:a","queue:b"], ["code:x"]]`.
    pub key_groups: Vec<Vec<String>>,
    pub descending: bool,
    /// Rows strictly after (ascending) or before (descending) this (started_ms, conversation_id).
    pub after: Option<(i64, String)>,
    pub limit: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DetailsPage {
    /// (started_ms, conversation_id, the conversation's snapshot document), in query order.
    pub rows: Vec<(i64, String, String)>,
    /// How many conversations match the query, all pages together.
    pub total_hits: u64,
}

/// `POST .../aggregates/query` at the store level: facts with `at_ms` in [start, end), bucketed by
/// `(at_ms - origin_ms) / bucket_ms`, grouped by the requested dimensions.
#[derive(Clone, Debug, Default)]
pub struct AggregateQuery {
    pub start_ms: i64,
    pub end_ms: i64,
    pub origin_ms: i64,
    pub bucket_ms: i64,
    /// Metric names to include (empty: all).
    pub metrics: Vec<String>,
    /// Dimensions to group by: any of `queueId`, `userId`, `wrapupCodeId`, `mediaType`.
    pub group_by: Vec<String>,
    /// Dimension filters (empty: any): values of `queueId`, `userId`, `wrapupCodeId`, `mediaType`.
    pub filters: BTreeMap<String, Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregateCell {
    /// The group's dimension values (only the requested dimensions; `None` when a fact has none).
    pub group: BTreeMap<String, Option<String>>,
    pub bucket: i64,
    pub metric: String,
    pub count: u64,
    pub sum: i64,
    pub min: i64,
    pub max: i64,
}

// ---- query rules shared by every backend ------------------------------------------------------------
//
// Added alongside the shapes above (which are unchanged) so that each backend validates a query and
// names dimensions identically, and both agree on the bucket rule.

use crate::{StoreError, StoreResult};

/// A dimension of a metric fact that aggregates can be grouped and filtered by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    MediaType,
    QueueId,
    UserId,
    WrapupCodeId,
}

impl Dimension {
    /// Every dimension, in name order: the order in which an [`AggregateCell::group`] iterates, and so the
    /// order aggregate cells are sorted by.
    pub const ALL: [Dimension; 4] =
        [Dimension::MediaType, Dimension::QueueId, Dimension::UserId, Dimension::WrapupCodeId];

    /// The dimension's name in queries and in [`AggregateCell::group`].
    pub fn name(self) -> &'static str {
        match self {
            Dimension::MediaType => "mediaType",
            Dimension::QueueId => "queueId",
            Dimension::UserId => "userId",
            Dimension::WrapupCodeId => "wrapupCodeId",
        }
    }

    /// Parses a dimension name; anything else is an error naming the accepted ones.
    pub fn parse(name: &str) -> StoreResult<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.name() == name).ok_or_else(|| {
            StoreError::Backend(format!(
                "unknown analytics dimension {name:?}: expected one of mediaType, queueId, userId, wrapupCodeId"
            ))
        })
    }

    /// The fact's value of this dimension.
    pub fn of(self, fact: &MetricRow) -> Option<&str> {
        match self {
            Dimension::MediaType => Some(&fact.media_type),
            Dimension::QueueId => fact.queue_id.as_deref(),
            Dimension::UserId => fact.user_id.as_deref(),
            Dimension::WrapupCodeId => fact.wrapup_code_id.as_deref(),
        }
    }
}

/// An [`AggregateQuery`] that passed [`AggregateQuery::check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedAggregate<'a> {
    /// The group-by dimensions, without duplicates, in name order.
    pub group_by: Vec<Dimension>,
    /// The dimension filters with a non-empty value list, in name order.
    pub filters: Vec<(Dimension, &'a [String])>,
}

impl AggregateQuery {
    /// Validates the query: `bucket_ms > 0`, known dimension names (in `group_by` and as filter keys),
    /// and an interval whose offsets from `origin_ms` fit an `i64` (so no backend overflows computing a
    /// bucket).
    pub fn check(&self) -> StoreResult<CheckedAggregate<'_>> {
        if self.bucket_ms <= 0 {
            return Err(StoreError::Backend(format!(
                "aggregate bucket size must be positive, got {} ms",
                self.bucket_ms
            )));
        }
        if self.start_ms.checked_sub(self.origin_ms).is_none() || self.end_ms.checked_sub(self.origin_ms).is_none() {
            return Err(StoreError::Backend(format!(
                "aggregate interval [{}, {}) is too far from the bucket origin {}",
                self.start_ms, self.end_ms, self.origin_ms
            )));
        }
        let mut group_by = self.group_by.iter().map(|name| Dimension::parse(name)).collect::<StoreResult<Vec<_>>>()?;
        group_by.sort();
        group_by.dedup();
        let mut filters = Vec::new();
        for (name, values) in &self.filters {
            let dimension = Dimension::parse(name)?;
            if !values.is_empty() {
                filters.push((dimension, values.as_slice()));
            }
        }
        filters.sort_by_key(|(d, _)| *d);
        Ok(CheckedAggregate { group_by, filters })
    }

    /// The bucket of a fact at `at_ms`: `floor((at_ms - origin_ms) / bucket_ms)`, rounding down for facts
    /// before the origin too, so a fact exactly on a boundary opens the later bucket. Only meaningful for
    /// a checked query and `at_ms` in its interval.
    pub fn bucket(&self, at_ms: i64) -> i64 {
        (at_ms - self.origin_ms).div_euclid(self.bucket_ms)
    }
}
