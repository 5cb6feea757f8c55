//! Native ↔ vendor names: enums, field names in violations, timestamps (docs/compat/genesys.md, "Mappings").

use serde::Serialize;
use switchboard_core::model::AcwPolicy;

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
