//! Aggregates as every API answers them: the interval cut into buckets (fixed minutes, calendar days of a
//! time zone, or the whole interval), the store's cells folded per group and bucket.

use crate::{EngineError, handle::Engine};
use std::collections::BTreeMap;
use switchboard_core::Timestamp;
use switchboard_store::AggregateQuery;

pub use jiff::tz::TimeZone;

const QUARTER_MS: i64 = 15 * 60_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    /// 15, 30 or 60 minutes.
    Minutes(i64),
    /// Calendar days of the request's time zone.
    Days,
    /// One bucket for the whole interval (the Genesys default when no granularity is given).
    Whole,
}

impl Granularity {
    /// The ISO-8601 periods both APIs accept.
    pub fn parse(iso: &str) -> Option<Granularity> {
        Some(match iso {
            "PT15M" => Granularity::Minutes(15),
            "PT30M" => Granularity::Minutes(30),
            "PT1H" | "PT60M" => Granularity::Minutes(60),
            "P1D" => Granularity::Days,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug)]
pub struct AggregateRequest {
    pub start: Timestamp,
    pub end: Timestamp,
    pub granularity: Granularity,
    pub time_zone: TimeZone,
    pub metrics: Vec<String>,
    pub group_by: Vec<String>,
    pub filters: BTreeMap<String, Vec<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    pub count: u64,
    pub sum: i64,
    pub min: i64,
    pub max: i64,
}

/// One group's buckets, `(start_ms, end_ms)` in time order, each with its metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct AggregateGroup {
    pub group: BTreeMap<String, Option<String>>,
    pub buckets: BTreeMap<(i64, i64), BTreeMap<String, Stats>>,
}

impl Engine {
    pub async fn aggregate(&self, org_id: &str, r: AggregateRequest) -> Result<Vec<AggregateGroup>, EngineError> {
        let (bucket_ms, days) = match r.granularity {
            Granularity::Minutes(m) => (m * 60_000, false),
            // Days are local days: the store buckets by quarter hour (every real offset is a multiple of 15
            // minutes) and the quarters are folded into the zone's calendar days here.
            Granularity::Days => (QUARTER_MS, true),
            Granularity::Whole => (r.end.0 - r.start.0, false),
        };
        // Quarters folded into days must not straddle midnight, so they start on a quarter-hour boundary.
        let origin_ms = if days { r.start.0.div_euclid(QUARTER_MS) * QUARTER_MS } else { r.start.0 };
        let q = AggregateQuery {
            start_ms: r.start.0,
            end_ms: r.end.0,
            origin_ms,
            bucket_ms,
            metrics: r.metrics,
            group_by: r.group_by,
            filters: r.filters,
        };
        let cells = self.analytics_aggregate(org_id, q).await?;
        let tz = r.time_zone;
        let bucket_of = |index: i64| -> Result<(i64, i64), EngineError> {
            let s = origin_ms + index * bucket_ms;
            if !days {
                return Ok((s, s + bucket_ms));
            }
            let bad = |e: jiff::Error| EngineError::Decode(format!("a day of the time zone: {e}"));
            let date = jiff::Timestamp::from_millisecond(s).map_err(bad)?.to_zoned(tz.clone()).date();
            let day_start = date.to_zoned(tz.clone()).map_err(bad)?.timestamp().as_millisecond();
            let next = date.tomorrow().map_err(bad)?.to_zoned(tz.clone()).map_err(bad)?;
            Ok((day_start, next.timestamp().as_millisecond()))
        };
        let mut groups: BTreeMap<String, AggregateGroup> = BTreeMap::new();
        for c in cells {
            let key = serde_json::to_string(&c.group).unwrap_or_default();
            let g = groups
                .entry(key)
                .or_insert_with(|| AggregateGroup { group: c.group.clone(), buckets: BTreeMap::new() });
            let s = g.buckets.entry(bucket_of(c.bucket)?).or_default().entry(c.metric).or_insert(Stats {
                count: 0,
                sum: 0,
                min: i64::MAX,
                max: i64::MIN,
            });
            s.count += c.count;
            s.sum += c.sum;
            s.min = s.min.min(c.min);
            s.max = s.max.max(c.max);
        }
        Ok(groups.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn granularities_parse() {
        assert_eq!(Granularity::parse("PT15M"), Some(Granularity::Minutes(15)));
        assert_eq!(Granularity::parse("PT1H"), Some(Granularity::Minutes(60)));
        assert_eq!(Granularity::parse("P1D"), Some(Granularity::Days));
        assert_eq!(Granularity::parse("P1W"), None);
    }
}
