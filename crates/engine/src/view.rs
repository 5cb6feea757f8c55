//! What the writer publishes for readers after each durable commit: config per org and agents' load.

use crate::orgs::OrgConfig;
use crate::state::State;
use std::collections::HashMap;
use std::sync::Arc;
use switchboard_core::Load;

#[derive(Default)]
pub struct View {
    pub orgs: HashMap<String, Arc<OrgConfig>>,
    pub loads: HashMap<String, Load>,
}

impl View {
    pub fn publish(&mut self, state: &mut State) {
        for org in state.touched_orgs.drain() {
            if let Some(c) = state.orgs.get(&org) {
                self.orgs.insert(org, c.clone());
            }
        }
        for u in state.touched_users.drain() {
            self.loads.insert(u.clone(), state.loads.get(&u).copied().unwrap_or_default());
        }
    }

    pub fn publish_all(&mut self, state: &mut State) {
        self.orgs = state.orgs.clone();
        self.loads = state.loads.clone();
        state.touched_orgs.clear();
        state.touched_users.clear();
    }
}
