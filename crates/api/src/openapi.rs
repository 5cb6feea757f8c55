//! The OpenAPI 3.1 document served at `/v1/openapi.json`, built from one table of operations. A test
//! checks that every route the router serves is in this table.

use serde_json::{Map, Value, json};

/// One documented operation: (method, path, operationId, summary, scopes, request body schema).
pub type Operation = (&'static str, &'static str, &'static str, &'static str, &'static str, Option<&'static str>);

pub const OPERATIONS: &[Operation] = &[
    (
        "post",
        "/oauth/token",
        "token",
        "Get an access token (form body): client_credentials, password, refresh_token, authorization_code + PKCE",
        "",
        Some("TokenForm"),
    ),
    ("get", "/healthz", "healthz", "Liveness", "", None),
    ("get", "/readyz", "readyz", "Readiness: the store answers", "", None),
    ("get", "/metrics", "metrics", "Prometheus metrics", "", None),
    ("get", "/v1/openapi.json", "openapi", "This document", "", None),
    ("get", "/problems/{slug}", "problemPage", "Explanation of a problem type", "", None),
    (
        "post",
        "/v1/conversations",
        "createConversation",
        "Create a conversation (exactly one of queueId, userId, botName; or outbound)",
        "conversations:write | conversations:participate",
        Some("CreateConversation"),
    ),
    (
        "get",
        "/v1/conversations",
        "listConversations",
        "List conversations, newest first (state, queueId, userId, mediaType, cursor, limit)",
        "conversations:read",
        None,
    ),
    (
        "get",
        "/v1/conversations/{id}",
        "getConversation",
        "A conversation with participants, wrap-ups, allowedActions; ETag is the version",
        "conversations:read",
        None,
    ),
    (
        "post",
        "/v1/conversations/{id}/participants/{pid}/answer",
        "answer",
        "Answer an alerting offer (or connect an outbound customer)",
        "conversations:write",
        Some("Version"),
    ),
    (
        "post",
        "/v1/conversations/{id}/participants/{pid}/decline",
        "decline",
        "Decline an alerting offer",
        "conversations:write",
        Some("Version"),
    ),
    (
        "post",
        "/v1/conversations/{id}/participants/{pid}/disconnect",
        "disconnect",
        "Disconnect a participant, optionally with an inline wrap-up or skipWrapup",
        "conversations:write",
        Some("Disconnect"),
    ),
    (
        "put",
        "/v1/conversations/{id}/participants/{pid}/wrapup",
        "setWrapup",
        "Set a wrap-up (provisional while connected), or amend a final one",
        "wrapup:write | wrapup:amend",
        Some("Wrapup"),
    ),
    (
        "post",
        "/v1/conversations/{id}/participants/{pid}/wrapup/skip",
        "skipWrapup",
        "Skip an optional pending wrap-up",
        "wrapup:write",
        Some("Version"),
    ),
    (
        "post",
        "/v1/conversations/{id}/participants/{pid}/acw-request",
        "requestAcw",
        "Request (or cancel) after-call work under the agentRequested policy",
        "conversations:write",
        Some("AcwRequest"),
    ),
    (
        "get",
        "/v1/conversations/{id}/participants/{pid}/wrapup-codes",
        "participantWrapupCodes",
        "The codes allowed for this participant",
        "conversations:read",
        None,
    ),
    (
        "patch",
        "/v1/conversations/{id}/participants/{pid}/attributes",
        "updateParticipantAttributes",
        "Merge participant attributes (string map; null removes)",
        "conversations:write",
        Some("StringMap"),
    ),
    (
        "post",
        "/v1/conversations/{id}/close",
        "close",
        "Atomic close with disposition",
        "conversations:close (+ wrapup:write with a code)",
        Some("Close"),
    ),
    (
        "post",
        "/v1/conversations/{id}/transfer",
        "transfer",
        "Blind transfer to a queue or a user; ?dryRun=true validates only",
        "conversations:write",
        Some("Transfer"),
    ),
    (
        "patch",
        "/v1/conversations/{id}/attributes",
        "updateAttributes",
        "RFC 7396 merge of conversation attributes",
        "conversations:write",
        Some("Object"),
    ),
    (
        "get",
        "/v1/conversations/{id}/messages",
        "listMessages",
        "The transcript of a message conversation",
        "conversations:read",
        None,
    ),
    (
        "post",
        "/v1/conversations/{id}/messages",
        "postMessage",
        "Send a message as your connected participant (or participantId)",
        "conversations:write",
        Some("Message"),
    ),
    (
        "get",
        "/v1/conversations/{id}/events",
        "conversationEvents",
        "The conversation's event history (after, limit)",
        "conversations:read",
        None,
    ),
    (
        "get",
        "/v1/wrapup-codes",
        "listWrapupCodes",
        "Wrap-up codes of the org, system codes included",
        "routing:read",
        None,
    ),
    ("post", "/v1/wrapup-codes", "createWrapupCode", "Create a wrap-up code", "routing:admin", Some("Code")),
    ("get", "/v1/wrapup-codes/{id}", "getWrapupCode", "A wrap-up code", "routing:read", None),
    ("put", "/v1/wrapup-codes/{id}", "updateWrapupCode", "Rename or describe a code", "routing:admin", Some("Code")),
    (
        "delete",
        "/v1/wrapup-codes/{id}",
        "archiveWrapupCode",
        "Archive a code (history keeps it)",
        "routing:admin",
        None,
    ),
    ("get", "/v1/queues", "listQueues", "Queues", "routing:read", None),
    ("post", "/v1/queues", "createQueue", "Create a queue", "routing:admin", Some("Queue")),
    ("get", "/v1/queues/{id}", "getQueue", "A queue", "routing:read", None),
    ("put", "/v1/queues/{id}", "updateQueue", "Replace a queue's settings", "routing:admin", Some("Queue")),
    (
        "delete",
        "/v1/queues/{id}",
        "deleteQueue",
        "Delete a queue (409 while it has queued conversations)",
        "routing:admin",
        None,
    ),
    ("get", "/v1/queues/{id}/members", "getQueueMembers", "Queue members", "routing:read", None),
    (
        "put",
        "/v1/queues/{id}/members",
        "setQueueMembers",
        "Replace members: array of user ids or {userId, joined}",
        "routing:admin",
        Some("Members"),
    ),
    (
        "patch",
        "/v1/queues/{id}/members",
        "patchQueueMembers",
        "Join, unjoin or remove some members: [{userId, joined?, remove?}]",
        "routing:admin",
        Some("MemberPatch"),
    ),
    ("get", "/v1/queues/{id}/wrapup-codes", "getQueueWrapupCodes", "The queue's wrap-up codes", "routing:read", None),
    (
        "put",
        "/v1/queues/{id}/wrapup-codes",
        "setQueueWrapupCodes",
        "Replace the queue's wrap-up codes: array of code ids",
        "routing:admin",
        Some("IdList"),
    ),
    (
        "get",
        "/v1/org",
        "getOrg",
        "The org's settings (direct offers, direct ACW, amendment window, limits)",
        "routing:read",
        None,
    ),
    (
        "patch",
        "/v1/org",
        "patchOrg",
        "Change some of the org's settings (a merge patch; If-Match with the version): directAlertingTimeoutMs, directAcw, voiceBlocksOthers, amendmentWindowMs, maxTransfers, maxContextBytes",
        "admin",
        Some("Object"),
    ),
    ("get", "/v1/users", "listUsers", "Users with routing status", "routing:read", None),
    ("post", "/v1/users", "createUser", "Create a user", "users:admin", Some("User")),
    ("get", "/v1/users/me", "me", "The calling user, its roles and scopes", "", None),
    ("get", "/v1/users/{id}", "getUser", "A user", "routing:read (or yourself)", None),
    (
        "put",
        "/v1/users/{id}",
        "updateUser",
        "Replace a user's profile, roles, capacity (password optional)",
        "users:admin",
        Some("User"),
    ),
    (
        "get",
        "/v1/users/{id}/routing-status",
        "getRoutingStatus",
        "idle | interacting | notResponding | offQueue",
        "routing:read (or yourself)",
        None,
    ),
    (
        "put",
        "/v1/users/{id}/routing-status",
        "setRoutingStatus",
        "onQueue | offQueue",
        "yourself, supervisor, admin or routing:admin",
        Some("RoutingStatus"),
    ),
    ("get", "/v1/clients", "listClients", "Service clients", "admin", None),
    (
        "post",
        "/v1/clients",
        "createClient",
        "Create a service client; the secret is shown once",
        "admin",
        Some("Client"),
    ),
    ("get", "/v1/clients/me", "clientMe", "The calling client and its scopes", "", None),
    ("get", "/v1/clients/{id}", "getClient", "A service client (never its secret)", "admin", None),
    (
        "delete",
        "/v1/clients/{id}",
        "deleteClient",
        "Delete a service client; its tokens stop working at once",
        "admin",
        None,
    ),
    (
        "post",
        "/v1/clients/{id}/secret",
        "rotateClientSecret",
        "A new secret, shown once; the old one and its tokens stop working at once",
        "admin",
        None,
    ),
    (
        "post",
        "/v1/admin/clock",
        "advanceClock",
        "Advance the manual clock; returns after due timers committed",
        "bootstrap admin client",
        Some("Clock"),
    ),
    (
        "post",
        "/v1/admin/orgs",
        "createOrg",
        "Create an organization with an admin client",
        "bootstrap admin client",
        Some("Org"),
    ),
    (
        "post",
        "/oauth/revoke",
        "revoke",
        "Revoke an access or refresh token (RFC 7009, form body token=...); always 200",
        "",
        None,
    ),
    (
        "get",
        "/oauth/authorize",
        "authorizePage",
        "The login page of the authorization-code flow (PKCE S256 required)",
        "",
        None,
    ),
    (
        "post",
        "/oauth/authorize",
        "authorizeLogin",
        "Sign in on the login page; redirects to the client with a code",
        "",
        None,
    ),
    (
        "delete",
        "/v1/users/{id}/sessions",
        "revokeUserSessions",
        "Sign a user out everywhere (every refresh-token family and its access tokens)",
        "users:admin (or yourself)",
        None,
    ),
    ("get", "/v1/audit", "audit", "The org's audit trail (actor, conversationId, after, limit)", "admin", None),
    ("get", "/v1/admin/orgs", "listOrgs", "Every organization", "bootstrap admin client", None),
    (
        "post",
        "/v1/admin/bench/commit",
        "benchCommit",
        "The benchmark's store ceiling: one durable insert + update",
        "bootstrap admin client",
        None,
    ),
    (
        "post",
        "/v1/conversations/{id}/participants/{pid}/hold",
        "hold",
        "Put a connected participant on hold",
        "conversations:write",
        Some("Version"),
    ),
    (
        "post",
        "/v1/conversations/{id}/participants/{pid}/unhold",
        "unhold",
        "Take a participant off hold",
        "conversations:write",
        Some("Version"),
    ),
    (
        "post",
        "/v1/conversations/{id}/participants/{pid}/typing",
        "typing",
        "An agent is typing (ephemeral, not logged)",
        "conversations:write",
        None,
    ),
    (
        "post",
        "/v1/conversations/{id}/consult",
        "consult",
        "Consult a queue or a user while the customer is held",
        "conversations:write",
        Some("Object"),
    ),
    (
        "post",
        "/v1/conversations/{id}/consult/complete",
        "completeConsult",
        "Hand the customer to the consulted party",
        "conversations:write",
        Some("Object"),
    ),
    (
        "post",
        "/v1/conversations/{id}/consult/cancel",
        "cancelConsult",
        "End the consult and return to the customer",
        "conversations:write",
        Some("Object"),
    ),
    (
        "get",
        "/v1/conversations/{id}/wrapup-explain",
        "wrapupExplain",
        "Why each participant's wrap-up is what it is",
        "conversations:read",
        None,
    ),
    (
        "post",
        "/v1/queues/{id}/context/validate",
        "validateContext",
        "Validate contextData against the queue's contextSchema",
        "conversations:write or conversations:participate",
        Some("Object"),
    ),
    ("get", "/v1/events", "events", "The org's event log after a sequence number (after, limit)", "events:read", None),
    ("get", "/v1/events/ws", "eventsWs", "Replay then live events over a WebSocket", "events:read", None),
    ("get", "/v1/events/stream", "eventsSse", "Replay then live events as server-sent events", "events:read", None),
    ("get", "/v1/webhooks", "listWebhooks", "Webhooks", "webhooks:admin", None),
    (
        "post",
        "/v1/webhooks",
        "createWebhook",
        "Create a webhook (SSRF-checked target, HMAC secret)",
        "webhooks:admin",
        Some("Webhook"),
    ),
    ("get", "/v1/webhooks/{id}", "getWebhook", "A webhook", "webhooks:admin", None),
    (
        "put",
        "/v1/webhooks/{id}",
        "updateWebhook",
        "Replace a webhook; a new secret rotates with a 24 h overlap",
        "webhooks:admin",
        Some("Webhook"),
    ),
    ("delete", "/v1/webhooks/{id}", "deleteWebhook", "Delete a webhook", "webhooks:admin", None),
    (
        "get",
        "/v1/webhooks/{id}/deliveries",
        "webhookDeliveries",
        "A webhook's deliveries (after, limit)",
        "webhooks:admin",
        None,
    ),
    (
        "post",
        "/v1/webhooks/{id}/deliveries/{did}/redeliver",
        "redeliver",
        "Queue a delivery again",
        "webhooks:admin",
        None,
    ),
    ("get", "/v1/messaging-deployments", "listDeployments", "Messaging deployments", "routing:read", None),
    (
        "post",
        "/v1/messaging-deployments",
        "createDeployment",
        "Create a messaging deployment (queue, key, allowed origins)",
        "routing:admin",
        Some("Deployment"),
    ),
    ("get", "/v1/messaging-deployments/{id}", "getDeployment", "A messaging deployment", "routing:read", None),
    (
        "put",
        "/v1/messaging-deployments/{id}",
        "updateDeployment",
        "Replace a messaging deployment",
        "routing:admin",
        Some("Deployment"),
    ),
    (
        "delete",
        "/v1/messaging-deployments/{id}",
        "deleteDeployment",
        "Delete a messaging deployment",
        "routing:admin",
        None,
    ),
    (
        "post",
        "/v1/guest/sessions",
        "createGuestSession",
        "Open a web-messaging session as a guest (no token; rate-limited per address)",
        "",
        Some("GuestSession"),
    ),
    ("get", "/v1/guest/ws", "guestWs", "The guest's WebSocket (token in the query)", "guest token", None),
    (
        "post",
        "/v1/analytics/conversations/details/query",
        "detailsQuery",
        "Conversation details in an interval, filtered and paged",
        "analytics:read",
        Some("DetailsQuery"),
    ),
    (
        "post",
        "/v1/analytics/conversations/aggregates/query",
        "aggregatesQuery",
        "Aggregated metrics in an interval",
        "analytics:read",
        Some("AggregatesQuery"),
    ),
];

fn schemas() -> Value {
    let wrapup = json!({"type": "object", "additionalProperties": false, "properties": {
        "codeId": {"type": "string"}, "notes": {"type": ["string", "null"]},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}}, "version": {"type": "integer"}}});
    json!({
        "Problem": {"type": "object", "required": ["type", "title", "status", "detail", "code"], "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"}, "code": {"type": "string"}, "conversationId": {"type": "string"},
            "participantId": {"type": "string"}, "state": {"type": "string"},
            "allowedActions": {"type": "array", "items": {"type": "string"}}, "currentVersion": {"type": "integer"},
            "violations": {"type": "array", "items": {"type": "object", "properties": {"pointer": {"type": "string"}, "message": {"type": "string"}}}},
            "allowedCodes": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}},
            "missingScopes": {"type": "array", "items": {"type": "string"}}, "amendableUntil": {"type": "string", "format": "date-time"}}},
        "TokenForm": {"type": "object", "properties": {"grant_type": {"enum": ["client_credentials", "password"]},
            "client_id": {"type": "string"}, "client_secret": {"type": "string"}, "username": {"type": "string"},
            "password": {"type": "string"}, "scope": {"type": "string"}}},
        "CreateConversation": {"type": "object", "additionalProperties": false, "required": ["mediaType"], "properties": {
            "mediaType": {"enum": ["voice", "message"]}, "channel": {"enum": ["web", "sms", "whatsapp", "open"]},
            "direction": {"enum": ["inbound", "outbound"]},
            "from": {"type": "object", "properties": {"name": {"type": "string"}, "address": {"type": "string"}}},
            "to": {"type": "object", "properties": {"address": {"type": "string"}}},
            "queueId": {"type": "string"}, "userId": {"type": "string"}, "botName": {"type": "string"},
            "fallbackQueueId": {"type": "string"}, "attributes": {"type": "object"}}},
        "Version": {"type": "object", "additionalProperties": false, "properties": {"version": {"type": "integer"}}},
        "Wrapup": wrapup,
        "Disconnect": {"type": "object", "additionalProperties": false, "properties": {
            "wrapup": {"$ref": "#/components/schemas/Wrapup"}, "skipWrapup": {"type": "boolean"},
            "reason": {"type": "string"}, "version": {"type": "integer"}}},
        "AcwRequest": {"type": "object", "additionalProperties": false, "properties": {"required": {"type": "boolean"}, "version": {"type": "integer"}}},
        "Close": {"type": "object", "additionalProperties": false, "properties": {
            "wrapup": {"$ref": "#/components/schemas/Wrapup"},
            "wrapups": {"type": "array", "items": {"type": "object", "required": ["participantId", "codeId"], "properties": {
                "participantId": {"type": "string"}, "codeId": {"type": "string"}, "notes": {"type": "string"}}}},
            "pendingWrapups": {"enum": ["keep", "system"]}, "reason": {"type": "string"}, "version": {"type": "integer"}}},
        "Transfer": {"type": "object", "additionalProperties": false, "required": ["fromParticipantId", "to"], "properties": {
            "fromParticipantId": {"type": "string"},
            "to": {"oneOf": [{"type": "object", "required": ["queueId"], "properties": {"queueId": {"type": "string"}}},
                             {"type": "object", "required": ["userId"], "properties": {"userId": {"type": "string"}}}]},
            "contextData": {"type": "object"}, "wrapup": {"$ref": "#/components/schemas/Wrapup"}, "version": {"type": "integer"}}},
        "Consult": {"type": "object", "additionalProperties": false, "required": ["fromParticipantId", "to"], "properties": {
            "fromParticipantId": {"type": "string"}, "to": {"type": "object"}, "contextData": {"type": "object"}, "version": {"type": "integer"}}},
        "ConsultEnd": {"type": "object", "additionalProperties": false, "properties": {"participantId": {"type": "string"}, "version": {"type": "integer"}}},
        "Message": {"type": "object", "additionalProperties": false, "required": ["text"], "properties": {
            "text": {"type": "string", "maxLength": 4096}, "participantId": {"type": "string"}, "version": {"type": "integer"}}},
        "Object": {"type": "object"},
        "StringMap": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
        "Code": {"type": "object", "additionalProperties": false, "required": ["name"], "properties": {
            "name": {"type": "string"}, "description": {"type": "string"}}},
        "Queue": {"type": "object", "additionalProperties": false, "required": ["name"], "properties": {
            "name": {"type": "string"},
            "acw": {"type": "object", "required": ["policy"], "properties": {
                "policy": {"enum": ["none", "optional", "mandatory", "mandatoryTimeout", "mandatoryForcedTimeout", "agentRequested"]},
                "timeoutMs": {"type": "integer", "minimum": 1000, "maximum": 3600000}, "defaultCodeId": {"type": "string"}}},
            "alertingTimeoutMs": {"type": "integer"}, "autoAnswer": {"type": "boolean"},
            "inactivityTimeoutMs": {"type": "integer"}, "serviceLevel": {"type": "object"}, "contextSchema": {"type": "object"},
            "mediaSettings": {"type": "object"}, "wrapupCodes": {"type": "array", "items": {"type": "string"}},
            "members": {"$ref": "#/components/schemas/Members"}}},
        "Members": {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "object", "required": ["userId"],
            "properties": {"userId": {"type": "string"}, "joined": {"type": "boolean"}}}]}},
        "MemberPatch": {"type": "array", "items": {"type": "object", "required": ["userId"], "properties": {
            "userId": {"type": "string"}, "joined": {"type": "boolean"}, "remove": {"type": "boolean"}}}},
        "IdList": {"type": "array", "items": {"type": "string"}},
        "User": {"type": "object", "additionalProperties": false, "required": ["name", "username", "roles"], "properties": {
            "name": {"type": "string"}, "username": {"type": "string"}, "email": {"type": "string"},
            "password": {"type": "string", "minLength": 8}, "roles": {"type": "array", "items": {"enum": ["agent", "supervisor", "admin"]}},
            "capacity": {"type": "object", "properties": {"voice": {"type": "integer"}, "message": {"type": "integer"}}},
            "voiceBlocksOthers": {"type": "boolean"}}},
        "RoutingStatus": {"type": "object", "additionalProperties": false, "required": ["status"], "properties": {"status": {"enum": ["onQueue", "offQueue"]}}},
        "Client": {"type": "object", "additionalProperties": false, "required": ["name", "scopes"], "properties": {
            "name": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}},
            "redirectUris": {"type": "array", "maxItems": 10, "items": {"type": "string"}}}},
        "Clock": {"type": "object", "additionalProperties": false, "required": ["advanceMs"], "properties": {"advanceMs": {"type": "integer", "minimum": 0}}},
        "Webhook": {"type": "object", "additionalProperties": false, "required": ["url", "eventTypes"], "properties": {
            "url": {"type": "string"}, "eventTypes": {"type": "array", "items": {"type": "string"}},
            "secret": {"type": "string", "minLength": 16}}},
        "GuestSession": {"type": "object", "additionalProperties": false, "required": ["name"], "properties": {
            "queueId": {"type": "string"}, "deploymentId": {"type": "string"}, "deploymentKey": {"type": "string"},
            "name": {"type": "string"}, "attributes": {"type": "object"}}},
        "Deployment": {"type": "object", "additionalProperties": false, "required": ["name", "queueId"], "properties": {
            "name": {"type": "string"}, "queueId": {"type": "string"}, "requireKey": {"type": "boolean"},
            "allowedOrigins": {"type": "array", "items": {"type": "string"}}}},
        "DetailsQuery": {"type": "object", "required": ["interval"], "properties": {"interval": {"type": "string"},
            "filters": {"type": "object"}, "order": {"enum": ["asc", "desc"]},
            "paging": {"type": "object", "properties": {"pageSize": {"type": "integer"}, "cursor": {"type": "string"}}}}},
        "AggregatesQuery": {"type": "object", "required": ["interval", "granularity"], "properties": {
            "interval": {"type": "string"}, "granularity": {"enum": ["PT15M", "PT30M", "PT1H", "P1D"]}, "timeZone": {"type": "string"},
            "groupBy": {"type": "array", "items": {"enum": ["queueId", "userId", "wrapupCodeId", "mediaType"]}},
            "metrics": {"type": "array", "items": {"type": "string"}}, "filters": {"type": "object"}}},
        "Org": {"type": "object", "additionalProperties": false, "required": ["name"], "properties": {"name": {"type": "string"}}}
    })
}

pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for (method, path, op_id, summary, scopes, body) in OPERATIONS {
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut op = json!({
            "operationId": op_id,
            "summary": summary,
            "parameters": params,
            "responses": {
                "200": {"description": "OK"},
                "default": {"description": "A problem", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            }
        });
        if !scopes.is_empty() {
            op["description"] = json!(format!("Scopes: {scopes}"));
            op["security"] = json!([{"bearer": []}]);
        }
        if let Some(schema) = body {
            let ct = if *op_id == "token" { "application/x-www-form-urlencoded" } else { "application/json" };
            op["requestBody"] =
                json!({"content": {ct: {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Switchboard native API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Writes accept If-Match and Idempotency-Key; errors are application/problem+json (see /problems/{slug})."},
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::OPERATIONS;

    /// Every path a route module registers, read from the sources: `.route("...")` and the participant
    /// routes built as `format!("{p}/...")`.
    fn routed_paths() -> Vec<String> {
        let sources = [
            include_str!("routes/admin.rs"),
            include_str!("routes/analytics.rs"),
            include_str!("routes/audit.rs"),
            include_str!("routes/authorize.rs"),
            include_str!("routes/config.rs"),
            include_str!("routes/conversations.rs"),
            include_str!("routes/deployments.rs"),
            include_str!("routes/events.rs"),
            include_str!("routes/guest.rs"),
            include_str!("routes/ops.rs"),
            include_str!("routes/token.rs"),
            include_str!("routes/users.rs"),
            include_str!("routes/webhooks.rs"),
        ];
        let participant = "/v1/conversations/{id}/participants/{pid}";
        let mut out = Vec::new();
        for src in sources {
            for chunk in src.split(".route(").skip(1) {
                let start = chunk.find('"').expect("a route names its path");
                let rest = &chunk[start + 1..];
                let path = &rest[..rest.find('"').expect("a closed string")];
                out.push(path.replace("{p}", participant));
            }
        }
        out
    }

    #[test]
    fn every_routed_path_is_documented() {
        let paths = routed_paths();
        assert!(paths.len() > 40, "the scan found the routes ({})", paths.len());
        for p in paths {
            assert!(OPERATIONS.iter().any(|op| op.1 == p), "{p} is routed but not in the OpenAPI table");
        }
    }
}
