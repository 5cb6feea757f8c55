//! The request path of every `/api/v2` call: match the spec operation, identify the caller, run the
//! operation's translation, or answer 501 for an operation of the spec that Switchboard does not implement.

mod analytics;
pub(crate) mod codes;
mod conversations;
mod participants;
mod queues;
mod users;

use crate::dispatch::{self, Matched};
use crate::request::Query;
use crate::{Facade, GcError, Identity, Op};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::Arc;
use switchboard_core::Scope;
use switchboard_engine::{ConfigCommand, ConfigOutcome, ConfigRequest, OrgConfig};

/// What an operation gets: the engine, the caller, path params, query and body.
pub struct Ctx {
    pub facade: Facade,
    pub who: Identity,
    pub matched: Matched,
    pub query: Query,
    pub body: Bytes,
}

impl Ctx {
    pub fn param(&self, name: &str) -> &str {
        self.matched.param(name)
    }
    pub fn require(&self, needed: &[Scope]) -> Result<(), GcError> {
        let missing = self.who.actor.scopes.missing(needed);
        if missing.is_empty() { Ok(()) } else { Err(GcError::missing_scopes(self.matched.op, &missing)) }
    }
    pub fn require_any(&self, options: &[Scope]) -> Result<(), GcError> {
        if options.iter().any(|s| self.who.actor.has_scope(*s)) {
            Ok(())
        } else {
            Err(GcError::missing_scopes(self.matched.op, options))
        }
    }
    pub fn org(&self) -> Result<Arc<OrgConfig>, GcError> {
        self.facade
            .engine
            .org(&self.who.org_id)
            .ok_or_else(|| GcError::not_found("the caller's organization does not exist"))
    }
    pub async fn configure(
        &self,
        command: ConfigCommand,
        expected_version: Option<u64>,
    ) -> Result<ConfigOutcome, GcError> {
        let req = ConfigRequest {
            org_id: self.who.org_id.clone(),
            actor: self.who.actor.clone(),
            command,
            expected_version,
            idempotency: None,
            request_id: self.who.request_id.clone(),
        };
        self.facade.engine.configure(req).await.map_err(GcError::from_engine)
    }
}

pub fn ok(v: Value) -> Response {
    json_response(StatusCode::OK, v)
}

pub fn json_response(status: StatusCode, v: Value) -> Response {
    let mut resp = (status, v.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

#[derive(Clone, Copy)]
enum Module {
    Users,
    Codes,
    Queues,
    Conversations,
    Participants,
    Analytics,
    Notify,
}

/// The module that translates an operation; each module lists its own operations.
fn module(op: Op) -> Option<Module> {
    Some(match op {
        op if users::implements(op) => Module::Users,
        op if codes::implements(op) => Module::Codes,
        op if queues::implements(op) => Module::Queues,
        op if conversations::implements(op) => Module::Conversations,
        op if participants::implements(op) => Module::Participants,
        op if analytics::implements(op) => Module::Analytics,
        op if crate::notify::implements(op) => Module::Notify,
        _ => return None,
    })
}

/// Whether Switchboard implements this operation (every other operation of the spec answers 501).
pub fn implemented(op: Op) -> bool {
    module(op).is_some()
}

pub async fn handle(State(facade): State<Facade>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let Some(matched) = dispatch::find(parts.method.as_str(), parts.uri.path()) else {
        let what = if dispatch::path_exists(parts.uri.path()) {
            "this path does not take this method"
        } else {
            "no such operation in the Genesys Cloud API"
        };
        return GcError::not_found(what).into_response();
    };
    let who = match facade.identify.identify(&mut parts) {
        Ok(who) => who,
        Err(r) => {
            let context = facade.identify.request_id(&parts);
            return GcError::from_native(r.status, &r.native_code, &r.message)
                .context(context.as_deref())
                .into_response();
        }
    };
    let request_id = who.request_id.clone();
    let host = crate::notify::host_of(&parts.headers);
    let query = Query::parse(parts.uri.query(), matched.op.spec().list_params);
    // `Bytes` honours the server's body limit; GET and DELETE bodies are read and ignored.
    let body = match Bytes::from_request(Request::from_parts(parts, body), &()).await {
        Ok(b) => b,
        Err(e) => return GcError::from_native(e.status().as_u16(), "body_too_large", &e.body_text()).into_response(),
    };
    let op = matched.op;
    let ctx = Ctx { facade, who, matched, query, body };
    let result = match module(op) {
        Some(Module::Users) => users::run(ctx).await,
        Some(Module::Codes) => codes::run(ctx).await,
        Some(Module::Queues) => queues::run(ctx).await,
        Some(Module::Conversations) => conversations::run(ctx).await,
        Some(Module::Participants) => participants::run(ctx).await,
        Some(Module::Analytics) => analytics::run(ctx).await,
        Some(Module::Notify) => crate::notify::run(ctx, host).await,
        None => Err(GcError::not_implemented(op)),
    };
    result.unwrap_or_else(|e| e.context(request_id.as_deref()).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OPS;

    /// Nothing ships unproven: every implemented operation passes with each official SDK that has it.
    #[test]
    fn every_implemented_operation_passes_in_the_sdk_ledger() {
        let ledger: serde_json::Value =
            serde_json::from_str(include_str!("../../../../compat/genesys/sdk-tests/ledger.json"))
                .expect("ledger.json");
        let mut unproven = Vec::new();
        for spec in OPS.iter().filter(|s| implemented(s.op)) {
            let row = &ledger[spec.name];
            if row["py"] != "pass" {
                unproven.push(format!("{} (python: {})", spec.name, row["py"]));
            }
            if spec.js.is_some() && row["js"] != "pass" {
                unproven.push(format!("{} (js: {})", spec.name, row["js"]));
            }
        }
        assert!(unproven.is_empty(), "implemented but not passing in ledger.json: {unproven:?}");
    }

    #[test]
    fn the_ledger_names_only_operations_of_the_spec() {
        let ledger: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(include_str!("../../../../compat/genesys/sdk-tests/ledger.json"))
                .expect("ledger.json");
        for name in ledger.keys() {
            assert!(OPS.iter().any(|s| s.name == name), "{name} is not in the spec");
        }
    }
}
