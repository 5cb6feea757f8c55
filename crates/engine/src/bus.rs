//! Fan-out of committed events to live subscribers. Frames are built once per command and shared by every
//! subscriber; `EventBus` is the seam for a cross-node bus (NATS, PostgreSQL) later.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// One command's committed events, with the conversation snapshot after it, serialized once.
#[derive(Debug)]
pub struct Frame {
    pub org_id: String,
    pub conversation_id: Option<String>,
    /// The seq of the frame's last event: a subscriber resumes after it.
    pub seq: u64,
    /// Users that are or were participants (agents see only frames that name them).
    pub users: Vec<String>,
    pub queues: Vec<String>,
    /// The WebSocket/SSE payload: `{"type":"events","seq":..,"committedAtUs":..,"events":[..],"conversation":..}`.
    pub json: String,
    /// Typing indicators: published, never logged, no seq of their own (`seq` is 0).
    pub ephemeral: bool,
}

impl Frame {
    /// Whether this frame belongs on a topic: `conversations`, `conversations/{id}`, `queues/{id}`, `users/{id}`.
    pub fn matches(&self, topic: &str) -> bool {
        match topic.split_once('/') {
            None => topic == "conversations" && self.conversation_id.is_some(),
            Some(("conversations", id)) => self.conversation_id.as_deref() == Some(id),
            Some(("queues", id)) => self.queues.iter().any(|q| q == id),
            Some(("users", id)) => self.users.iter().any(|u| u == id),
            _ => false,
        }
    }
}

/// A subscriber fell behind and frames were dropped for it: it must resume from the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lagged;

pub type NextFrame<'a> = Pin<Box<dyn Future<Output = Option<Result<Arc<Frame>, Lagged>>> + Send + 'a>>;

pub trait Subscription: Send {
    /// The next frame in commit order; `None` when the bus is closed.
    fn next(&mut self) -> NextFrame<'_>;
}

pub trait EventBus: Send + Sync + 'static {
    /// Called by the committer after each durable commit, in commit order.
    fn publish(&self, frames: Vec<Arc<Frame>>);
    fn subscribe(&self) -> Box<dyn Subscription>;
}

/// The single-node bus: a bounded broadcast ring. A subscriber that falls more than `capacity` frames
/// behind is told so (`Lagged`) instead of holding memory.
pub struct InProcessBus {
    tx: tokio::sync::broadcast::Sender<Arc<Frame>>,
}

impl InProcessBus {
    pub fn new(capacity: usize) -> Self {
        InProcessBus { tx: tokio::sync::broadcast::channel(capacity.max(1)).0 }
    }
}

struct InProcessSubscription(tokio::sync::broadcast::Receiver<Arc<Frame>>);

impl Subscription for InProcessSubscription {
    fn next(&mut self) -> NextFrame<'_> {
        Box::pin(async move {
            use tokio::sync::broadcast::error::RecvError;
            match self.0.recv().await {
                Ok(f) => Some(Ok(f)),
                Err(RecvError::Lagged(_)) => Some(Err(Lagged)),
                Err(RecvError::Closed) => None,
            }
        })
    }
}

impl EventBus for InProcessBus {
    fn publish(&self, frames: Vec<Arc<Frame>>) {
        for f in frames {
            // No subscriber is not an error: the log keeps everything.
            let _ = self.tx.send(f);
        }
    }
    fn subscribe(&self) -> Box<dyn Subscription> {
        Box::new(InProcessSubscription(self.tx.subscribe()))
    }
}
