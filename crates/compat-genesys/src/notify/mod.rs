//! Notifications: channels and their topic subscriptions (REST), and the channel's WebSocket with the
//! vendor's frames. Channels are transport state, kept in memory: a restart drops them and clients re-create
//! them (HEAD answers 404), as they must after the vendor's 24 h expiry anyway.

pub mod socket;
pub mod topics;

use crate::ops::{Ctx, ok};
use crate::{GcError, Op};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use switchboard_core::{Actor, Timestamp};
use topics::{Topic, Verdict};

/// The vendor keeps 20 channels per user and app; a 21st drops the oldest.
const MAX_PER_IDENTITY: usize = 20;
const LIFETIME_MS: i64 = 24 * 3_600_000;
/// Topics per channel: every frame is matched against all of them.
const MAX_TOPICS: usize = 100;

#[derive(Clone, Debug)]
pub struct Channel {
    pub id: String,
    pub org_id: String,
    pub actor: Actor,
    pub topics: Vec<Topic>,
    /// The creating token's ids: once one is revoked, the channel is closed.
    pub revocation_ids: Vec<String>,
    pub created: Timestamp,
    pub expires: Timestamp,
}

impl Channel {
    fn is_owned_by(&self, org_id: &str, actor: &Actor) -> bool {
        self.org_id == org_id && self.actor.kind == actor.kind && self.actor.id == actor.id
    }
}

#[derive(Default)]
pub struct Channels(Mutex<HashMap<String, Channel>>);

impl Channels {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Channel>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// A live channel of this identity (another's, or an expired one, does not exist for it).
    pub fn get(&self, id: &str, now: Timestamp) -> Option<Channel> {
        self.lock().get(id).filter(|c| c.expires > now).cloned()
    }
    fn owned(&self, id: &str, who: &crate::Identity, now: Timestamp) -> Option<Channel> {
        self.get(id, now).filter(|c| c.is_owned_by(&who.org_id, &who.actor))
    }
    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }
    fn set_topics(&self, id: &str, topics: Vec<Topic>, now: Timestamp) {
        if let Some(c) = self.lock().get_mut(id) {
            c.topics = topics;
            c.expires = now.plus_ms(LIFETIME_MS);
        }
    }
}

pub fn implements(op: Op) -> bool {
    matches!(
        op,
        Op::PostNotificationsChannels
            | Op::GetNotificationsChannels
            | Op::HeadNotificationsChannel
            | Op::GetNotificationsChannelSubscriptions
            | Op::PostNotificationsChannelSubscriptions
            | Op::PutNotificationsChannelSubscriptions
            | Op::DeleteNotificationsChannelSubscriptions
    )
}

fn channel_json(c: &Channel, host: &str) -> Value {
    json!({"id": c.id, "connectUri": format!("ws://{host}/streaming/channels/{}", c.id), "expires": c.expires.to_string()})
}

pub async fn run(ctx: Ctx, host: String) -> Result<Response, GcError> {
    let now = ctx.facade.engine.now();
    let channels = &ctx.facade.channels;
    let find = || {
        let id = ctx.param("channelId");
        channels.owned(id, &ctx.who, now).ok_or_else(|| GcError::not_found(format!("channel {id} does not exist")))
    };
    match ctx.matched.op {
        Op::PostNotificationsChannels => {
            // 244 random bits: the connect URI is the socket's only credential, so it is never logged.
            let id = format!("streaming-{}{}", uuid_hex(), uuid_hex());
            let c = Channel {
                id: id.clone(),
                org_id: ctx.who.org_id.clone(),
                actor: ctx.who.actor.clone(),
                topics: Vec::new(),
                revocation_ids: ctx.who.revocation_ids.clone(),
                created: now,
                expires: now.plus_ms(LIFETIME_MS),
            };
            let mut all = channels.lock();
            let mut mine: Vec<(Timestamp, String)> = all
                .values()
                .filter(|x| x.is_owned_by(&c.org_id, &c.actor))
                .map(|x| (x.created, x.id.clone()))
                .collect();
            mine.sort();
            for (_, old) in mine.iter().take((mine.len() + 1).saturating_sub(MAX_PER_IDENTITY)) {
                all.remove(old);
            }
            all.retain(|_, x| x.expires > now);
            all.insert(id, c.clone());
            Ok(ok(channel_json(&c, &host)))
        }
        Op::GetNotificationsChannels => {
            let mut mine: Vec<Channel> = channels
                .lock()
                .values()
                .filter(|x| x.expires > now && x.is_owned_by(&ctx.who.org_id, &ctx.who.actor))
                .cloned()
                .collect();
            mine.sort_by_key(|c| c.created);
            Ok(ok(json!({"entities": mine.iter().map(|c| channel_json(c, &host)).collect::<Vec<_>>()})))
        }
        Op::HeadNotificationsChannel => {
            find()?;
            Ok(StatusCode::OK.into_response())
        }
        Op::GetNotificationsChannelSubscriptions => {
            let c = find()?;
            let entities: Vec<Value> =
                c.topics.iter().map(|t| topics::topic_json(&t.name, &Verdict::Permitted)).collect();
            Ok(ok(json!({"entities": entities})))
        }
        Op::PostNotificationsChannelSubscriptions | Op::PutNotificationsChannelSubscriptions => {
            let c = find()?;
            let requested: Vec<TopicRef> = crate::request::required_body(&ctx.body)?;
            if requested.len() > MAX_TOPICS {
                return Err(GcError::bad_request(format!("at most {MAX_TOPICS} topics per request")));
            }
            let org = ctx.org()?;
            let judged: Vec<(String, Verdict, Option<Topic>)> = requested
                .into_iter()
                .map(|r| {
                    let name = r.id.unwrap_or_default();
                    let (verdict, topic) = topics::judge(&name, &ctx.who, &org);
                    (name, verdict, topic)
                })
                .collect();
            let rejected: Vec<&(String, Verdict, Option<Topic>)> =
                judged.iter().filter(|(_, v, _)| !matches!(v, Verdict::Permitted)).collect();
            if !rejected.is_empty() && !ctx.query.flag("ignoreErrors") {
                let mut e = GcError::bad_request(format!(
                    "topics rejected: {}",
                    rejected.iter().map(|(n, _, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                ));
                e.details = rejected
                    .iter()
                    .map(|(n, v, _)| json!({"errorCode": "topic.rejected", "entityId": n, "fieldName": "id", "errorMessage": v.reason()}))
                    .collect();
                return Err(e);
            }
            let mut kept =
                if ctx.matched.op == Op::PostNotificationsChannelSubscriptions { c.topics.clone() } else { vec![] };
            for (_, _, t) in &judged {
                if let Some(t) = t
                    && !kept.iter().any(|k| k.name == t.name)
                {
                    kept.push(t.clone());
                }
            }
            if kept.len() > MAX_TOPICS {
                return Err(GcError::bad_request(format!("a channel holds at most {MAX_TOPICS} topics")));
            }
            channels.set_topics(&c.id, kept, now);
            let entities: Vec<Value> = judged.iter().map(|(n, v, _)| topics::topic_json(n, v)).collect();
            Ok(ok(json!({"entities": entities})))
        }
        Op::DeleteNotificationsChannelSubscriptions => {
            let c = find()?;
            channels.set_topics(&c.id, vec![], now);
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        op => Err(GcError::not_implemented(op)),
    }
}

#[derive(Deserialize)]
struct TopicRef {
    id: Option<String>,
}

fn uuid_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The host the client reached us on, for `connectUri`.
pub fn host_of(headers: &axum::http::HeaderMap) -> String {
    headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1").to_string()
}
