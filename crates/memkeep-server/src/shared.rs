//! State shared by every connection and request: the store, the limits
//! `CONFIG SET` may change, counters, and the shutdown signal.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use memkeep_engine::Store;
use tokio::sync::{oneshot, watch};

use crate::auth::Token;
use crate::counter::Counter;

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
    pub auth_failures: AtomicU64,
    // Bumped on every request: striped.
    pub commands: Counter,
    pub error_replies: Counter,
    pub net_in: Counter,
    pub net_out: Counter,
    pub http_requests: Counter,
}

impl Stats {
    pub(crate) fn reset(&self) {
        for c in [&self.connections_total, &self.rejected, &self.auth_failures] {
            c.store(0, Ordering::Relaxed);
        }
        for c in [
            &self.commands,
            &self.error_replies,
            &self.net_in,
            &self.net_out,
            &self.http_requests,
        ] {
            c.reset();
        }
    }
}

/// Asks the whole server to shut down gracefully (SIGTERM, `SHUTDOWN`).
///
/// Idle RESP connections wait on their own [`ShutdownListener`] rather than
/// on one shared notifier: a connection re-arms its wait on every request,
/// and a shared one would make every worker take the same lock each time.
#[derive(Clone, Default)]
pub struct Shutdown {
    inner: Arc<ShutdownInner>,
}

struct ShutdownInner {
    tx: watch::Sender<bool>,
    /// One sender per registered listener; drained by `request`.
    listeners: Mutex<HashMap<u64, oneshot::Sender<()>>>,
    next_listener: AtomicU64,
}

impl Default for ShutdownInner {
    fn default() -> Self {
        ShutdownInner {
            tx: watch::Sender::new(false),
            listeners: Mutex::new(HashMap::new()),
            next_listener: AtomicU64::new(0),
        }
    }
}

impl Shutdown {
    pub fn request(&self) {
        // Flag first, then drain: a listener registering meanwhile either
        // is drained here or sees the flag in `listen`.
        self.inner.tx.send_replace(true);
        let listeners = std::mem::take(&mut *self.lock_listeners());
        for (_, tx) in listeners {
            let _ = tx.send(());
        }
    }

    pub fn requested(&self) -> bool {
        *self.inner.tx.borrow()
    }

    /// Resolves once shutdown was requested.
    pub async fn wait(&self) {
        let mut rx = self.inner.tx.subscribe();
        let _ = rx.wait_for(|&s| s).await;
    }

    /// A listener of one's own (cheap to poll again and again).
    pub(crate) fn listen(&self) -> ShutdownListener {
        let id = self.inner.next_listener.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.lock_listeners().insert(id, tx);
        if self.requested() {
            self.lock_listeners().remove(&id);
            let (tx, rx) = oneshot::channel();
            let _ = tx.send(());
            return ShutdownListener {
                rx,
                id,
                shutdown: self.clone(),
            };
        }
        ShutdownListener {
            rx,
            id,
            shutdown: self.clone(),
        }
    }

    fn lock_listeners(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<()>>> {
        self.inner
            .listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

/// Resolves once shutdown was requested; poll it as often as you like.
pub(crate) struct ShutdownListener {
    rx: oneshot::Receiver<()>,
    id: u64,
    shutdown: Shutdown,
}

impl ShutdownListener {
    pub(crate) async fn requested(&mut self) {
        // A dropped sender also means shutdown (it is only dropped by `request`).
        let _ = (&mut self.rx).await;
    }
}

impl Drop for ShutdownListener {
    fn drop(&mut self) {
        self.shutdown.lock_listeners().remove(&self.id);
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
