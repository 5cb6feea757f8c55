//! What readers see: config per org and agents' load, published only once the batch that changed them is
//! durable.

use crate::orgs::OrgConfig;
use crate::state::Publish;
use std::collections::HashMap;
use std::sync::Arc;
use switchboard_core::Load;

#[derive(Default)]
pub struct View {
    pub orgs: HashMap<String, Arc<OrgConfig>>,
    pub loads: HashMap<String, Load>,
    /// Revoked access-token ids and session ids → until when (wall ms); pruned as they expire.
    pub revoked: HashMap<String, i64>,
}

impl View {
    pub fn apply(&mut self, p: Publish) {
        self.orgs.extend(p.orgs);
        self.loads.extend(p.loads);
        if !p.revoked.is_empty() {
            let now = crate::clock::wall_clock_ms();
            self.revoked.retain(|_, until| *until > now);
            self.revoked.extend(p.revoked);
        }
    }
}

/// Microseconds since the Unix epoch (wall clock): frames carry their commit time so a subscriber on the
/// same machine can measure commit → delivery.
pub fn wall_clock_us() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}
