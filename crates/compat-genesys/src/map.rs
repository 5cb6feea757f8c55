//! Native ↔ vendor names: enums, field names in violations, timestamps (docs/compat/genesys.md, "Mappings").

use serde::Serialize;
use switchboard_core::model::{AcwPolicy, Participant, ParticipantState, Purpose, StateReason};

/// The serde name of a native enum value.
pub fn enum_str<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// A native violation's JSON pointer as the vendor field it came from (`/acw/timeoutMs` → `acwSettings.timeoutMs`).
pub fn vendor_field(pointer: &str) -> String {
    let renamed = [
        ("/acw/policy", "acwSettings.wrapupPrompt"),
        ("/acw/timeoutMs", "acwSettings.timeoutMs"),
        ("/alertingTimeoutMs", "mediaSettings.call.alertingTimeoutSeconds"),
        ("/mediaSettings/voice/alertingTimeoutMs", "mediaSettings.call.alertingTimeoutSeconds"),
        ("/mediaSettings/message/alertingTimeoutMs", "mediaSettings.message.alertingTimeoutSeconds"),
        ("/serviceLevel/percentage", "mediaSettings.call.serviceLevel.percentage"),
        ("/serviceLevel/durationMs", "mediaSettings.call.serviceLevel.durationMs"),
        ("/wrapup/codeId", "wrapup.code"),
    ];
    if let Some((_, v)) = renamed.iter().find(|(p, _)| *p == pointer) {
        return (*v).to_string();
    }
    pointer.trim_start_matches('/').replace('/', ".")
}

/// The org's one division, as every vendor entity names it (Switchboard has no divisions).
pub fn division(org_id: &str) -> serde_json::Value {
    serde_json::json!({"id": org_id, "name": "Home", "selfUri": format!("/api/v2/authorization/divisions/{org_id}")})
}

/// Why a participant left, in the native terms of the docs table's first column.
fn reason_key(p: &Participant) -> &'static str {
    match p.state_reason {
        Some(StateReason::Client) if p.purpose == Purpose::Customer => "client, customer",
        Some(StateReason::Client | StateReason::Declined) => "client or declined, agent",
        Some(StateReason::Peer) => "peer",
        Some(StateReason::System) => "system",
        Some(StateReason::Transfer) => "transfer",
        Some(StateReason::Error) => "error",
        Some(StateReason::TransferConsult) => "transferConsult",
        Some(StateReason::NoAnswer) => "noAnswer",
        Some(StateReason::Inactivity) => "inactivity",
        None => "none (a withdrawn offer)",
    }
}

/// The disconnect reason's four vendor spellings: (native, REST and event topics, analytics, detail events).
/// docs/compat/genesys.md shows this table; a test keeps the two equal.
pub const DISCONNECT: [(&str, &str, &str, &str); 10] = [
    ("client, customer", "endpoint", "endpoint", "ENDPOINT"),
    ("client or declined, agent", "client", "client", "CLIENT"),
    ("peer", "peer", "peer", "PEER"),
    ("system", "system", "system", "SYSTEM"),
    ("transfer", "transfer", "transfer", "TRANSFER"),
    ("error", "error", "error", "ERROR"),
    ("transferConsult", "transfer.consult", "consultTransfer", "CONSULT_TRANSFER"),
    ("noAnswer", "transfer.noanswer", "noAnswerTransfer", "NO_ANSWER_TRANSFER"),
    ("inactivity", "inactivity", "inactivity", "INACTIVITY"),
    ("none (a withdrawn offer)", "system", "system", "SYSTEM"),
];

#[derive(Clone, Copy)]
pub enum Spelling {
    /// REST models and event topics.
    Rest,
    Analytics,
    DetailEvent,
}

/// A disconnected participant's `disconnectType` in one of the vendor's spellings; `None` while it is live.
pub fn disconnect_type(p: &Participant, spelling: Spelling) -> Option<&'static str> {
    if p.state != ParticipantState::Disconnected {
        return None;
    }
    let key = reason_key(p);
    let row = DISCONNECT.iter().find(|r| r.0 == key)?;
    Some(match spelling {
        Spelling::Rest => row.1,
        Spelling::Analytics => row.2,
        Spelling::DetailEvent => row.3,
    })
}

/// Queue `acwSettings.wrapupPrompt`; native `none` has no vendor value and is omitted.
pub fn acw_prompt(p: AcwPolicy) -> Option<&'static str> {
    Some(match p {
        AcwPolicy::None => return None,
        AcwPolicy::Optional => "OPTIONAL",
        AcwPolicy::Mandatory => "MANDATORY",
        AcwPolicy::MandatoryTimeout => "MANDATORY_TIMEOUT",
        AcwPolicy::MandatoryForcedTimeout => "MANDATORY_FORCED_TIMEOUT",
        AcwPolicy::AgentRequested => "AGENT_REQUESTED",
    })
}

pub fn acw_policy(prompt: &str) -> Option<AcwPolicy> {
    [
        AcwPolicy::Optional,
        AcwPolicy::Mandatory,
        AcwPolicy::MandatoryTimeout,
        AcwPolicy::MandatoryForcedTimeout,
        AcwPolicy::AgentRequested,
    ]
    .into_iter()
    .find(|p| acw_prompt(*p).is_some_and(|v| v.eq_ignore_ascii_case(prompt)))
}

/// `Participant.wrapupPrompt` (camelCase in the conversation models).
pub fn participant_prompt(p: AcwPolicy) -> Option<&'static str> {
    Some(match p {
        AcwPolicy::None => return None,
        AcwPolicy::Optional => "optional",
        AcwPolicy::Mandatory => "mandatory",
        AcwPolicy::MandatoryTimeout => "timeout",
        AcwPolicy::MandatoryForcedTimeout => "forcedTimeout",
        AcwPolicy::AgentRequested => "agentRequested",
    })
}

/// Native presence (`core::routing::presence`) → `RoutingStatus.status`.
pub fn routing_status(presence: &str) -> &'static str {
    match presence {
        "idle" => "IDLE",
        "interacting" => "INTERACTING",
        "notResponding" => "NOT_RESPONDING",
        _ => "OFF_QUEUE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acw_prompts_round_trip_and_none_has_no_vendor_value() {
        for p in [
            AcwPolicy::Optional,
            AcwPolicy::Mandatory,
            AcwPolicy::MandatoryTimeout,
            AcwPolicy::MandatoryForcedTimeout,
            AcwPolicy::AgentRequested,
        ] {
            let v = acw_prompt(p).expect("a vendor value");
            assert_eq!(acw_policy(v), Some(p));
            assert_eq!(acw_policy(&v.to_lowercase()), Some(p), "enums are case-insensitive in the SDKs");
            assert!(participant_prompt(p).is_some());
        }
        assert_eq!(acw_prompt(AcwPolicy::None), None);
        assert_eq!(participant_prompt(AcwPolicy::None), None);
        assert_eq!(acw_policy("NONE"), None);
    }

    /// The rows of the markdown table that follows `heading` in docs/compat/genesys.md (header excluded).
    fn doc_table(heading: &str) -> Vec<Vec<String>> {
        let doc = include_str!("../../../docs/compat/genesys.md");
        let after = &doc[doc.find(heading).unwrap_or_else(|| panic!("{heading} in the docs"))..];
        after
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2)
            .map(|l| l.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect())
            .collect()
    }

    #[test]
    fn the_disconnect_table_in_the_docs_is_the_one_in_the_code() {
        let docs: Vec<Vec<String>> = doc_table("**Disconnect reasons**");
        let code: Vec<Vec<String>> =
            DISCONNECT.iter().map(|r| [r.0, r.1, r.2, r.3].iter().map(|c| c.to_string()).collect()).collect();
        assert_eq!(docs, code);
        // Every native reason reaches a row, for customers and agents alike.
        for reason in [
            None,
            Some(StateReason::Client),
            Some(StateReason::Declined),
            Some(StateReason::Peer),
            Some(StateReason::System),
            Some(StateReason::Transfer),
            Some(StateReason::TransferConsult),
            Some(StateReason::NoAnswer),
            Some(StateReason::Inactivity),
            Some(StateReason::Error),
        ] {
            for purpose in [Purpose::Customer, Purpose::Agent] {
                let mut p = Participant::new("p".into(), "c".into(), purpose, ParticipantState::Disconnected);
                p.state_reason = reason;
                assert!(disconnect_type(&p, Spelling::Rest).is_some(), "{reason:?} {purpose:?}");
            }
        }
    }

    #[test]
    fn the_wrapup_policy_table_in_the_docs_is_the_one_in_the_code() {
        let rows = doc_table("**Wrap-up policy**");
        assert_eq!(rows.len(), 6);
        for row in rows {
            let policy: AcwPolicy = serde_json::from_value(serde_json::json!(row[0])).expect("a native policy");
            let queue = acw_prompt(policy).unwrap_or("omitted");
            let participant = participant_prompt(policy).unwrap_or("omitted");
            assert!(row[1].starts_with(queue), "{row:?}");
            assert!(row[2].starts_with(participant), "{row:?}");
            // And back: the vendor value names the same policy.
            if let Some(v) = acw_prompt(policy) {
                assert_eq!(acw_policy(v), Some(policy));
            }
        }
    }

    #[test]
    fn violations_name_vendor_fields() {
        assert_eq!(vendor_field("/acw/timeoutMs"), "acwSettings.timeoutMs");
        assert_eq!(vendor_field("/name"), "name");
        assert_eq!(vendor_field("/wrapupCodes/0"), "wrapupCodes.0");
    }

    #[test]
    fn presence_maps_to_vendor_statuses() {
        assert_eq!(routing_status("idle"), "IDLE");
        assert_eq!(routing_status("interacting"), "INTERACTING");
        assert_eq!(routing_status("notResponding"), "NOT_RESPONDING");
        assert_eq!(routing_status("offQueue"), "OFF_QUEUE");
    }
}
