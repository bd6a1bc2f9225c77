//! State shared by every connection and request: the store, the limits
//! `CONFIG SET` may change, counters, and the shutdown signal.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use memkeep_engine::Store;
use tokio::sync::watch;

use crate::auth::Token;

/// Limits that can change at run time (`CONFIG SET`).
pub(crate) struct Limits {
    /// Largest request (and bulk string) a client may send.
    pub max_request: AtomicU64,
    /// Close clients idle this long (ms; 0 = never), Redis's `timeout`.
    pub client_timeout_ms: AtomicU64,
    pub max_clients: AtomicU64,
}

/// Counters for `INFO` and `/metrics`.
#[derive(Default)]
pub(crate) struct Stats {
    pub connections_total: AtomicU64,
    pub connected: AtomicU64,
    pub rejected: AtomicU64,
    pub commands: AtomicU64,
    pub error_replies: AtomicU64,
    pub auth_failures: AtomicU64,
    pub net_in: AtomicU64,
    pub net_out: AtomicU64,
    pub http_requests: AtomicU64,
}

impl Stats {
    pub(crate) fn reset(&self) {
        for c in [
            &self.connections_total,
            &self.rejected,
            &self.commands,
            &self.error_replies,
            &self.auth_failures,
            &self.net_in,
            &self.net_out,
            &self.http_requests,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// Asks the whole server to shut down gracefully (SIGTERM, `SHUTDOWN`).
#[derive(Clone)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            tx: Arc::new(watch::Sender::new(false)),
        }
    }
}

impl Shutdown {
    pub fn request(&self) {
        self.tx.send_replace(true);
    }

    pub fn requested(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once shutdown was requested.
    pub async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        let _ = rx.wait_for(|&s| s).await;
    }
}

pub(crate) struct Shared {
    pub store: Store,
    pub auth: Option<Token>,
    pub limits: Limits,
    pub stats: Stats,
    pub shutdown: Shutdown,
    pub resp_addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub started: Instant,
    pub started_unix_ms: u64,
    pub next_client_id: AtomicU64,
    pub bgsave_running: Arc<AtomicBool>,
}
