//! The reference backend's analytics: each conversation's latest `AnalyticsRow`, queried by scanning.
//! Plain and slow on purpose: it is the specification the SQL backends are checked against.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::analytics::CheckedAggregate;
use crate::{AggregateCell, AggregateQuery, AnalyticsRow, DetailsPage, DetailsQuery, StoreError, StoreResult};

/// Conversation id → its analytics, replaced whole on every write.
#[derive(Default)]
pub(super) struct Analytics {
    rows: HashMap<String, AnalyticsRow>,
}

impl Analytics {
    /// Replaces the conversation's row, keys and metrics. Keys are a set: duplicates are kept once.
    /// Writes one conversation's analytics: keys are kept unless changed; metrics before `metrics_from`
    /// are kept as stored (like the SQL backend, which does not rewrite them).
    pub(super) fn replace(&mut self, row: &AnalyticsRow) {
        let prev = self.rows.get(&row.conversation_id);
        let keys: Vec<String> = match prev {
            Some(p) if !row.keys_changed => p.keys.clone(),
            _ => row.keys.iter().collect::<BTreeSet<&String>>().into_iter().cloned().collect(),
        };
        let metrics = match prev {
            Some(p) if row.metrics_from > 0 => {
                let mut kept = p.metrics[..row.metrics_from.min(p.metrics.len())].to_vec();
                kept.extend(row.metrics.iter().skip(row.metrics_from).cloned());
                kept
            }
            _ => row.metrics.clone(),
        };
        let stored = AnalyticsRow { keys, metrics, ..row.clone() };
        self.rows.insert(row.conversation_id.clone(), stored);
    }

    /// `doc_of` gives a conversation's snapshot document (empty when the conversation row is missing).
    pub(super) fn details(&self, org_id: &str, q: &DetailsQuery, doc_of: &dyn Fn(&str) -> String) -> DetailsPage {
        let mut hits: Vec<&AnalyticsRow> = self.rows.values().filter(|r| r.org_id == org_id && matches(r, q)).collect();
        hits.sort_by(|a, b| (a.started_ms, &a.conversation_id).cmp(&(b.started_ms, &b.conversation_id)));
        if q.descending {
            hits.reverse();
        }
        let total_hits = hits.len() as u64;
        let rows = hits
            .into_iter()
            .filter(|r| match &q.after {
                None => true,
                Some((started_ms, id)) => {
                    let order = (r.started_ms, r.conversation_id.as_str()).cmp(&(*started_ms, id.as_str()));
                    if q.descending { order.is_lt() } else { order.is_gt() }
                }
            })
            .take(q.limit)
            .map(|r| (r.started_ms, r.conversation_id.clone(), doc_of(&r.conversation_id)))
            .collect();
        DetailsPage { rows, total_hits }
    }

    pub(super) fn aggregate(&self, org_id: &str, q: &AggregateQuery) -> StoreResult<Vec<AggregateCell>> {
        let CheckedAggregate { group_by, filters } = q.check()?;
        // (group values in name order, metric, bucket) → (count, sum, min, max): the map's order is the
        // output order.
        type Cell = (u64, i64, i64, i64);
        let mut cells: BTreeMap<(Vec<Option<&str>>, &str, i64), Cell> = BTreeMap::new();
        let facts = self.rows.values().filter(|r| r.org_id == org_id).flat_map(|r| &r.metrics);
        for fact in facts {
            let selected = q.start_ms <= fact.at_ms
                && fact.at_ms < q.end_ms
                && (q.metrics.is_empty() || q.metrics.contains(&fact.name))
                && filters.iter().all(|(d, values)| d.of(fact).is_some_and(|v| values.iter().any(|x| x == v)));
            if !selected {
                continue;
            }
            let group = group_by.iter().map(|d| d.of(fact)).collect();
            let cell = cells.entry((group, &fact.name, q.bucket(fact.at_ms))).or_insert((0, 0, i64::MAX, i64::MIN));
            cell.0 += 1;
            cell.1 = cell.1.checked_add(fact.value).ok_or_else(|| {
                StoreError::Backend(format!("aggregate: the sum of {} overflows a 64-bit integer", fact.name))
            })?;
            cell.2 = cell.2.min(fact.value);
            cell.3 = cell.3.max(fact.value);
        }
        Ok(cells
            .into_iter()
            .map(|((values, metric, bucket), (count, sum, min, max))| AggregateCell {
                group: group_by.iter().zip(values).map(|(d, v)| (d.name().to_owned(), v.map(str::to_owned))).collect(),
                bucket,
                metric: metric.to_owned(),
                count,
                sum,
                min,
                max,
            })
            .collect())
    }
}

/// Every filter of the details query except the cursor.
fn matches(r: &AnalyticsRow, q: &DetailsQuery) -> bool {
    let any_of = |values: &[String], value: &String| values.is_empty() || values.contains(value);
    q.start_ms <= r.started_ms
        && r.started_ms < q.end_ms
        && any_of(&q.media_types, &r.media_type)
        && any_of(&q.states, &r.state)
        && any_of(&q.conversation_ids, &r.conversation_id)
        && q.key_groups.iter().all(|group| group.iter().any(|key| r.keys.contains(key)))
}
