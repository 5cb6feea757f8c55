//! Analytics, true at commit: conversation details (cursor paging), aggregates (buckets, groups, time zones
//! for days), and why a wrap-up code is what it is.

use crate::AppState;
use crate::auth::Caller;
use crate::extract::{RawBody, json};
use crate::problem::ApiError;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use switchboard_core::{Scope, Timestamp};
use switchboard_engine::{AggregateRequest, DetailsQuery, Granularity, TimeZone};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/analytics/conversations/details/query", post(details))
        .route("/v1/analytics/conversations/aggregates/query", post(aggregates))
        .route("/v1/conversations/{id}/wrapup-explain", get(explain))
}

pub const METRICS: [&str; 11] = [
    "tWait",
    "tAlert",
    "tTalk",
    "tHeld",
    "tAcw",
    "tHandle",
    "nOffered",
    "nConnected",
    "nAbandoned",
    "nTransferred",
    "nWrapupTimedOut",
];
const DIMENSIONS: [&str; 4] = ["queueId", "userId", "wrapupCodeId", "mediaType"];
const MAX_SPAN_MS: i64 = 366 * 24 * 3_600_000;

/// `start/end` in RFC 3339; start before end, at most a year.
fn interval(s: &str) -> Result<(Timestamp, Timestamp), ApiError> {
    let bad = || {
        ApiError::invalid(
            "/interval",
            "give \"start/end\" as two RFC 3339 times, start before end, at most 366 days apart",
        )
    };
    let (a, b) = s.split_once('/').ok_or_else(bad)?;
    let (a, b) = (Timestamp::parse(a.trim()).ok_or_else(bad)?, Timestamp::parse(b.trim()).ok_or_else(bad)?);
    if a >= b || b.0 - a.0 > MAX_SPAN_MS {
        return Err(bad());
    }
    Ok((a, b))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Filters {
    #[serde(default)]
    queue_ids: Vec<String>,
    #[serde(default)]
    user_ids: Vec<String>,
    #[serde(default)]
    wrapup_code_ids: Vec<String>,
    #[serde(default)]
    media_types: Vec<String>,
    #[serde(default)]
    states: Vec<String>,
    #[serde(default)]
    conversation_ids: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Paging {
    page_size: Option<usize>,
    cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DetailsBody {
    interval: String,
    #[serde(default)]
    filters: Filters,
    order: Option<String>,
    #[serde(default)]
    paging: Paging,
}

fn check_values(pointer: &str, values: &[String], allowed: &[&str]) -> Result<(), ApiError> {
    match values.iter().position(|v| !allowed.contains(&v.as_str())) {
        Some(i) => Err(ApiError::invalid(&format!("{pointer}/{i}"), &format!("must be one of {}", allowed.join(", ")))),
        None => Ok(()),
    }
}

async fn details(State(app): State<AppState>, caller: Caller, RawBody(body): RawBody) -> Result<Response, ApiError> {
    caller.require(&[Scope::AnalyticsRead])?;
    let b: DetailsBody = json(&body)?;
    let (start, end) = interval(&b.interval)?;
    let f = b.filters;
    check_values("/filters/mediaTypes", &f.media_types, &["voice", "message"])?;
    check_values("/filters/states", &f.states, &["active", "wrapup", "closed"])?;
    let descending = match b.order.as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(ApiError::invalid("/order", "asc or desc")),
    };
    let limit = b.paging.page_size.unwrap_or(25);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("/paging/pageSize", "must be between 1 and 200"));
    }
    let after = match &b.paging.cursor {
        None => None,
        Some(c) => {
            let (ms, id) = c
                .split_once('_')
                .ok_or_else(|| ApiError::invalid("/paging/cursor", "not a cursor from a previous page"))?;
            Some((
                ms.parse::<i64>()
                    .map_err(|_| ApiError::invalid("/paging/cursor", "not a cursor from a previous page"))?,
                id.to_string(),
            ))
        }
    };
    let group = |prefix: &str, ids: &[String]| ids.iter().map(|i| format!("{prefix}:{i}")).collect::<Vec<_>>();
    let key_groups: Vec<Vec<String>> =
        [group("queue", &f.queue_ids), group("user", &f.user_ids), group("code", &f.wrapup_code_ids)]
            .into_iter()
            .filter(|g| !g.is_empty())
            .collect();
    let q = DetailsQuery {
        start_ms: start.0,
        end_ms: end.0,
        media_types: f.media_types,
        states: f.states,
        conversation_ids: f.conversation_ids,
        key_groups,
        descending,
        after,
        limit,
    };
    let now = app.engine.now();
    let page = app
        .engine
        .analytics_details(&caller.org_id, q)
        .await
        .map_err(|e| ApiError::from_engine(e, &caller.actor, now))?;
    let cursor = (page.rows.len() == limit).then(|| page.rows.last().map(|(ms, id, _)| format!("{ms}_{id}"))).flatten();
    let conversations: Vec<Value> = page.rows.iter().filter_map(|(_, _, doc)| serde_json::from_str(doc).ok()).collect();
    Ok(axum::Json(json!({"conversations": conversations, "totalHits": page.total_hits, "cursor": cursor}))
        .into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AggregatesBody {
    interval: String,
    granularity: String,
    time_zone: Option<String>,
    #[serde(default)]
    group_by: Vec<String>,
    #[serde(default)]
    metrics: Vec<String>,
    #[serde(default)]
    filters: Filters,
}

async fn aggregates(State(app): State<AppState>, caller: Caller, RawBody(body): RawBody) -> Result<Response, ApiError> {
    caller.require(&[Scope::AnalyticsRead])?;
    let b: AggregatesBody = json(&body)?;
    let (start, end) = interval(&b.interval)?;
    check_values("/metrics", &b.metrics, &METRICS)?;
    check_values("/groupBy", &b.group_by, &DIMENSIONS)?;
    check_values("/filters/mediaTypes", &b.filters.media_types, &["voice", "message"])?;
    if !b.filters.states.is_empty() || !b.filters.conversation_ids.is_empty() {
        return Err(ApiError::invalid("/filters", "aggregates filter by queueIds, userIds, wrapupCodeIds, mediaTypes"));
    }
    let time_zone = match &b.time_zone {
        None => TimeZone::UTC,
        Some(name) => TimeZone::get(name).map_err(|_| ApiError::invalid("/timeZone", "unknown IANA time zone"))?,
    };
    let granularity = Granularity::parse(&b.granularity)
        .ok_or_else(|| ApiError::invalid("/granularity", "PT15M, PT30M, PT1H or P1D"))?;
    let mut filters = BTreeMap::new();
    for (dim, values) in [
        ("queueId", b.filters.queue_ids),
        ("userId", b.filters.user_ids),
        ("wrapupCodeId", b.filters.wrapup_code_ids),
        ("mediaType", b.filters.media_types),
    ] {
        if !values.is_empty() {
            filters.insert(dim.to_string(), values);
        }
    }
    let r = AggregateRequest { start, end, granularity, time_zone, metrics: b.metrics, group_by: b.group_by, filters };
    let now = app.engine.now();
    let groups =
        app.engine.aggregate(&caller.org_id, r).await.map_err(|e| ApiError::from_engine(e, &caller.actor, now))?;
    let results: Vec<Value> = groups
        .into_iter()
        .map(|g| {
            let data: Vec<Value> = g
                .buckets
                .into_iter()
                .map(|((s, e), metrics)| {
                    let metrics: Map<String, Value> = metrics
                        .into_iter()
                        .map(|(name, st)| {
                            (name, json!({"count": st.count, "sum": st.sum, "min": st.min, "max": st.max}))
                        })
                        .collect();
                    json!({"interval": format!("{}/{}", Timestamp(s), Timestamp(e)), "metrics": metrics})
                })
                .collect();
            json!({"group": g.group, "data": data})
        })
        .collect();
    Ok(axum::Json(json!({"results": results})).into_response())
}

async fn explain(State(app): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    caller.require_any(&[Scope::ConversationsRead, Scope::AnalyticsRead])?;
    let conv = super::conversations::visible(&app, &caller, &id).await?;
    Ok(axum::Json(switchboard_core::explain::explain(&conv)).into_response())
}
