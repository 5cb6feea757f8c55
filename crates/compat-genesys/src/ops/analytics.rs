//! Analytics: the details query and a conversation's details in the vendor's `AnalyticsConversation` shape,
//! and the aggregates query with the vendor's metric and dimension names (docs/compat/genesys.md, "Analytics").

use super::{Ctx, ok};
use crate::render::{self, native_code_id, vendor_code_id};
use crate::request::required_body;
use crate::{GcError, Op};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use switchboard_core::analytics::{details, facts};
use switchboard_core::model::{Conversation, MediaType};
use switchboard_core::{Scope, Timestamp};
use switchboard_engine::{AggregateRequest, DetailsQuery, Granularity, TimeZone};

pub fn implements(op: Op) -> bool {
    matches!(
        op,
        Op::PostAnalyticsConversationsDetailsQuery
            | Op::GetAnalyticsConversationDetails
            | Op::PostAnalyticsConversationsAggregatesQuery
    )
}

pub async fn run(ctx: Ctx) -> Result<Response, GcError> {
    ctx.require(&[Scope::AnalyticsRead])?;
    match ctx.matched.op {
        Op::PostAnalyticsConversationsDetailsQuery => details_query(&ctx).await,
        Op::GetAnalyticsConversationDetails => one(&ctx).await,
        Op::PostAnalyticsConversationsAggregatesQuery => aggregates(&ctx).await,
        op => Err(GcError::not_implemented(op)),
    }
}

/// The metrics Switchboard derives, by their vendor names.
pub const METRICS: [&str; 9] =
    ["tHandle", "tTalk", "tAcw", "tAlert", "tWait", "tHeld", "nOffered", "nConnected", "nTransferred"];

/// `AnalyticsConversationWithoutAttributes`: one session per participant, segments from the native details,
/// metrics with the time each completed.
fn analytics_json(c: &Conversation) -> Value {
    let doc = details(c);
    let metrics = facts(c).metrics;
    let participants: Vec<Value> = c
        .participants
        .iter()
        .zip(doc["participants"].as_array().cloned().unwrap_or_default())
        .map(|(p, d)| {
            let mut segments: Vec<Value> = d["segments"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|s| {
                    let kind = match s["type"].as_str() {
                        Some("queue") | None => "interact",
                        Some(other) => other,
                    };
                    let mut v = json!({"segmentStart": s["start"], "segmentType": kind});
                    if !s["end"].is_null() {
                        v["segmentEnd"] = s["end"].clone();
                    }
                    if let Some(q) = &p.queue_id {
                        v["queueId"] = json!(q);
                    }
                    if let Some(code) = s["wrapupCodeId"].as_str() {
                        v["wrapUpCode"] = json!(vendor_code_id(code));
                    }
                    if let Some(note) = s["wrapupNotes"].as_str() {
                        v["wrapUpNote"] = json!(note);
                    }
                    v
                })
                .collect();
            // A code given at disconnect has no after-call time, but a report still finds it on a wrap-up segment.
            if let Some(w) = p.wrapup.as_ref().filter(|_| !segments.iter().any(|s| s["segmentType"] == "wrapup"))
                && let (Some(code), Some(at)) = (&w.code_id, w.acw_ended_at.or(w.set_at))
            {
                let mut seg = json!({"segmentStart": w.acw_started_at.unwrap_or(at), "segmentEnd": at, "segmentType": "wrapup",
                                     "wrapUpCode": vendor_code_id(code)});
                if let Some(n) = &w.notes {
                    seg["wrapUpNote"] = json!(n);
                }
                segments.push(seg);
            }
            // The reason the participant left belongs to the segment it left from.
            if let (Some(reason), Some(last)) = (crate::map::disconnect_type(p, crate::map::Spelling::Analytics), segments.iter_mut().rfind(|s| s["segmentType"] != "wrapup")) {
                last["disconnectType"] = json!(reason);
            }
            let session_metrics: Vec<Value> = metrics
                .iter()
                .filter(|m| m.participant_id == p.id && METRICS.contains(&m.name))
                .map(|m| json!({"name": m.name, "value": m.value, "emitDate": m.at.to_string()}))
                .collect();
            let mut session = json!({
                "sessionId": p.communication_id,
                "mediaType": crate::map::enum_str(&c.media_type),
                "direction": crate::map::enum_str(&c.direction),
                "metrics": session_metrics,
                "segments": segments,
            });
            if c.media_type == MediaType::Message {
                session["messageType"] = json!(render::messenger_type(c.channel));
            }
            if let Some(a) = &p.address {
                session[if c.direction == switchboard_core::model::Direction::Inbound { "addressFrom" } else { "addressTo" }] = json!(a);
            }
            let mut v = json!({"participantId": p.id, "purpose": render::purpose(p, c.media_type), "sessions": [session]});
            if let Some(n) = &p.name {
                v["participantName"] = json!(n);
            }
            if let Some(u) = &p.user_id {
                v["userId"] = json!(u);
            }
            v
        })
        .collect();
    let mut v = json!({
        "conversationId": c.id,
        "conversationStart": c.started_at.to_string(),
        "originatingDirection": crate::map::enum_str(&c.direction),
        "divisionIds": [c.org_id],
        "participants": participants,
    });
    if let Some(end) = c.ended_at {
        v["conversationEnd"] = json!(end.to_string());
    }
    v
}

/// A time in an interval: RFC 3339, or without a zone (UTC), as the SDKs and people write them.
fn instant(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    Timestamp::parse(s).or_else(|| Timestamp::parse(&format!("{s}Z")))
}

fn interval(s: Option<&str>) -> Result<(Timestamp, Timestamp), GcError> {
    let bad = || GcError::invalid_field("interval", "give start/end as two ISO-8601 times, start before end");
    let (a, b) = s.ok_or_else(bad)?.split_once('/').ok_or_else(bad)?;
    let (a, b) = (instant(a).ok_or_else(bad)?, instant(b).ok_or_else(bad)?);
    if a >= b || b.0 - a.0 > 366 * 24 * 3_600_000 {
        return Err(bad());
    }
    Ok((a, b))
}

#[derive(Deserialize, Default, Clone)]
struct Predicate {
    dimension: Option<String>,
    metric: Option<String>,
    operator: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
struct Clause {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    predicates: Vec<Predicate>,
}

#[derive(Deserialize, Default, Clone)]
struct Filter {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    clauses: Vec<Clause>,
    #[serde(default)]
    predicates: Vec<Predicate>,
}

/// (dimension, value) of a supported `matches` predicate.
fn predicate(p: &Predicate, field: &str) -> Result<(String, String), GcError> {
    if p.metric.is_some() {
        return Err(GcError::invalid_field(field, "metric predicates are not supported; filter by dimension"));
    }
    if p.operator.as_deref().is_some_and(|o| o != "matches") {
        return Err(GcError::invalid_field(field, "only the matches operator is supported"));
    }
    let dim = p.dimension.clone().ok_or_else(|| GcError::invalid_field(field, "a dimension is required"))?;
    let value = p.value.clone().ok_or_else(|| GcError::invalid_field(field, "a value is required"))?;
    if !["queueId", "userId", "wrapUpCode", "mediaType", "conversationId"].contains(&dim.as_str()) {
        return Err(GcError::invalid_field(
            field,
            &format!("{dim} is not a supported dimension (queueId, userId, wrapUpCode, mediaType, conversationId)"),
        ));
    }
    Ok((dim, value))
}

/// A filter as groups that must all match, each matching any of its (dimension, value) pairs.
fn groups(f: &Filter, field: &str) -> Result<Vec<Vec<(String, String)>>, GcError> {
    let or = |k: &Option<String>| k.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("or"));
    let preds =
        f.predicates.iter().map(|p| predicate(p, &format!("{field}.predicates"))).collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    if or(&f.kind) {
        if !f.clauses.is_empty() && !preds.is_empty() || f.clauses.len() > 1 {
            return Err(GcError::invalid_field(field, "an or filter may hold predicates or one clause, not both"));
        }
        if !preds.is_empty() {
            out.push(preds);
        }
    } else {
        out.extend(preds.into_iter().map(|p| vec![p]));
    }
    for c in &f.clauses {
        let ps =
            c.predicates.iter().map(|p| predicate(p, &format!("{field}.clauses"))).collect::<Result<Vec<_>, _>>()?;
        if or(&c.kind) {
            out.push(ps);
        } else {
            out.extend(ps.into_iter().map(|p| vec![p]));
        }
    }
    if out.iter().any(Vec::is_empty) {
        return Err(GcError::invalid_field(field, "a clause needs at least one predicate"));
    }
    Ok(out)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Paging {
    page_size: Option<usize>,
    page_number: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ConversationQuery {
    interval: Option<String>,
    order: Option<String>,
    paging: Option<Paging>,
    #[serde(default)]
    conversation_filters: Vec<Filter>,
    #[serde(default)]
    segment_filters: Vec<Filter>,
}

async fn details_query(ctx: &Ctx) -> Result<Response, GcError> {
    let b: ConversationQuery = required_body(&ctx.body)?;
    let (start, end) = interval(b.interval.as_deref())?;
    let descending = match b.order.as_deref() {
        None | Some("asc" | "unordered") => false,
        Some("desc") => true,
        Some(_) => return Err(GcError::invalid_field("order", "must be asc, desc or unordered")),
    };
    let paging = b.paging.unwrap_or_default();
    let size = paging.page_size.unwrap_or(25);
    let number = paging.page_number.unwrap_or(1);
    if !(1..=100).contains(&size) {
        return Err(GcError::invalid_field("paging.pageSize", "must be between 1 and 100"));
    }
    if number == 0 || number.checked_mul(size).is_none_or(|n| n > 10_000) {
        return Err(GcError::invalid_field(
            "paging.pageNumber",
            "must be at least 1, and pages reach 10000 results at most",
        ));
    }
    let mut q =
        DetailsQuery { start_ms: start.0, end_ms: end.0, descending, limit: number * size, ..Default::default() };
    let all = b
        .conversation_filters
        .iter()
        .map(|f| groups(f, "conversationFilters"))
        .chain(b.segment_filters.iter().map(|f| groups(f, "segmentFilters")));
    for group in all {
        for g in group? {
            let dims: Vec<&str> = g.iter().map(|(d, _)| d.as_str()).collect();
            let values = g.iter().map(|(_, v)| v.clone());
            if dims.iter().all(|d| *d == "mediaType") {
                q.media_types.extend(values);
            } else if dims.iter().all(|d| *d == "conversationId") {
                q.conversation_ids.extend(values);
            } else if dims.iter().all(|d| ["queueId", "userId", "wrapUpCode"].contains(d)) {
                let key = |(d, v): &(String, String)| match d.as_str() {
                    "queueId" => format!("queue:{v}"),
                    "userId" => format!("user:{v}"),
                    _ => format!("code:{}", native_code_id(v)),
                };
                q.key_groups.push(g.iter().map(key).collect());
            } else {
                return Err(GcError::bad_request(
                    "an or group cannot mix mediaType or conversationId with other dimensions",
                ));
            }
        }
    }
    let (convs, total) =
        ctx.facade.engine.analytics_conversations(&ctx.who.org_id, q).await.map_err(GcError::from_engine)?;
    let page: Vec<Value> = convs.iter().skip((number - 1) * size).map(analytics_json).collect();
    let mut v = json!({"totalHits": total});
    if !page.is_empty() {
        v["conversations"] = json!(page);
    }
    Ok(ok(v))
}

async fn one(ctx: &Ctx) -> Result<Response, GcError> {
    let conv = super::conversations::visible(ctx, None).await?;
    Ok(ok(analytics_json(&conv)))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AggregationQuery {
    interval: Option<String>,
    granularity: Option<String>,
    time_zone: Option<String>,
    #[serde(default)]
    group_by: Vec<String>,
    #[serde(default)]
    metrics: Vec<String>,
    filter: Option<Filter>,
}

/// Vendor dimension → native aggregate dimension.
fn dimension(d: &str) -> Option<&'static str> {
    Some(match d {
        "queueId" => "queueId",
        "userId" => "userId",
        "wrapUpCode" => "wrapupCodeId",
        "mediaType" => "mediaType",
        _ => return None,
    })
}

async fn aggregates(ctx: &Ctx) -> Result<Response, GcError> {
    let b: AggregationQuery = required_body(&ctx.body)?;
    let (start, end) = interval(b.interval.as_deref())?;
    if b.metrics.is_empty() {
        return Err(GcError::invalid_field("metrics", "give at least one metric"));
    }
    if let Some(m) = b.metrics.iter().find(|m| !METRICS.contains(&m.as_str())) {
        return Err(GcError::invalid_field("metrics", &format!("{m} is not supported; use {}", METRICS.join(", "))));
    }
    let group_by = b
        .group_by
        .iter()
        .map(|d| {
            dimension(d).map(String::from).ok_or_else(|| {
                GcError::invalid_field(
                    "groupBy",
                    &format!("{d} is not supported; use queueId, userId, wrapUpCode, mediaType"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let granularity = match b.granularity.as_deref() {
        None | Some("") => Granularity::Whole,
        Some(g) => Granularity::parse(g)
            .ok_or_else(|| GcError::invalid_field("granularity", "must be PT15M, PT30M, PT1H or P1D"))?,
    };
    let time_zone = match b.time_zone.as_deref() {
        None | Some("") => TimeZone::UTC,
        Some(name) => {
            TimeZone::get(name).map_err(|_| GcError::invalid_field("timeZone", "is not an IANA time zone"))?
        }
    };
    let mut filters: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in b.filter.as_ref().map(|f| groups(f, "filter")).transpose()?.unwrap_or_default() {
        let dims: Vec<&str> = g.iter().map(|(d, _)| d.as_str()).collect();
        let native = dimension(dims[0]).filter(|_| dims.iter().all(|d| *d == dims[0]));
        let Some(native) = native else {
            return Err(GcError::invalid_field(
                "filter",
                "each or group filters one of queueId, userId, wrapUpCode, mediaType",
            ));
        };
        if filters.contains_key(native) {
            return Err(GcError::invalid_field(
                "filter",
                &format!("{} is filtered twice; put its values in one or group", dims[0]),
            ));
        }
        filters.insert(native.into(), g.iter().map(|(_, v)| native_code_id(v).to_string()).collect());
    }
    let r = AggregateRequest { start, end, granularity, time_zone, metrics: b.metrics, group_by, filters };
    let groups = ctx.facade.engine.aggregate(&ctx.who.org_id, r).await.map_err(GcError::from_engine)?;
    let results: Vec<Value> = groups
        .into_iter()
        .map(|g| {
            let group: serde_json::Map<String, Value> = g
                .group
                .into_iter()
                .filter_map(|(k, v)| {
                    let v = v?;
                    Some(if k == "wrapupCodeId" {
                        ("wrapUpCode".into(), json!(vendor_code_id(&v)))
                    } else {
                        (k, json!(v))
                    })
                })
                .collect();
            let data: Vec<Value> = g
                .buckets
                .into_iter()
                .map(|((s, e), metrics)| {
                    let metrics: Vec<Value> = metrics
                        .into_iter()
                        .map(|(name, st)| {
                            let stats = if name.starts_with('n') {
                                json!({"count": st.sum})
                            } else {
                                json!({"count": st.count, "sum": st.sum, "min": st.min, "max": st.max})
                            };
                            json!({"metric": name, "stats": stats})
                        })
                        .collect();
                    json!({"interval": format!("{}/{}", Timestamp(s), Timestamp(e)), "metrics": metrics})
                })
                .collect();
            json!({"group": group, "data": data})
        })
        .collect();
    Ok(ok(json!({"results": results})))
}
