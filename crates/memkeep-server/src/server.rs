//! `serve`: bind the listeners, open the store, serve until SIGTERM, SIGINT
//! or `SHUTDOWN`, then shut down gracefully within the shutdown timeout.
//!
//! Shutdown order: stop accepting; let connections finish the commands they
//! have read; run the shutdown hooks (the backup issue adds its final sync
//! here); flush and fsync the journal; exit.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use memkeep_engine::{Options, Store};
use tokio::net::TcpListener;

use crate::auth::Token;
use crate::config::ServeArgs;
use crate::http::{self, HttpState};
use crate::resp::conn;
use crate::resp::pool::ConnPool;
use crate::shared::{Limits, Shared, Shutdown, Stats};

/// Why `serve` could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "refusing to listen on {addr} without MEMKEEP_AUTH_TOKEN: anyone who can reach it could read and \
         change your data. Set MEMKEEP_AUTH_TOKEN, listen on 127.0.0.1, or pass --insecure-no-auth if the \
         network is private"
    )]
    InsecureBind { addr: SocketAddr },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the store in {}", dir.display())]
    Store {
        dir: PathBuf,
        #[source]
        source: memkeep_engine::Error,
    },
    #[error("shutdown: {0}")]
    Shutdown(String),
}

/// Work to do at shutdown, after connections have finished and before the
/// journal's final flush (the backup issue's final sync goes here).
pub type ShutdownHook = Box<dyn FnOnce(&Store) -> Result<(), String> + Send>;

/// Runs the servers until `shutdown` is requested (the caller wires
/// SIGTERM/SIGINT to it; `SHUTDOWN` requests it too).
pub async fn run(
    args: ServeArgs,
    auth: Option<Token>,
    shutdown: Shutdown,
    hooks: Vec<ShutdownHook>,
) -> Result<(), ServeError> {
    for addr in [args.resp, args.http] {
        if auth.is_none() && !addr.ip().is_loopback() && !args.insecure_no_auth {
            return Err(ServeError::InsecureBind { addr });
        }
    }
    let bind = |addr| async move {
        TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })
    };
    let resp_listener = bind(args.resp).await?;
    let http_listener = bind(args.http).await?;
    let resp_addr = resp_listener
        .local_addr()
        .map_err(|source| ServeError::Bind {
            addr: args.resp,
            source,
        })?;
    let http_addr = http_listener
        .local_addr()
        .map_err(|source| ServeError::Bind {
            addr: args.http,
            source,
        })?;

    // HTTP first, so /healthz answers and /readyz says "not yet" while the
    // store opens.
    let http_state = Arc::new(HttpState {
        shared: OnceLock::new(),
        auth: auth.clone(),
        max_body: args.max_body_size,
        connections: AtomicU64::new(0),
        max_connections: args.max_clients,
    });
    let app = http::router(http_state.clone(), args.request_timeout);
    let http_task = tokio::spawn(http::serve(
        http_listener,
        app,
        http_state.clone(),
        args.request_timeout,
        shutdown.clone(),
    ));
    tracing::info!(%http_addr, "HTTP listening");

    let opts = Options::new(&args.data_dir).fsync(args.fsync.into());
    let dir = args.data_dir.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(opts))
        .await
        .map_err(|e| ServeError::Shutdown(format!("opening the store: {e}")))?
        .map_err(|source| ServeError::Store {
            dir: dir.clone(),
            source,
        })?;
    let report = store.open_report();
    tracing::info!(
        dir = %args.data_dir.display(),
        keys = report.keys,
        snapshot_seq = report.snapshot.as_ref().map_or(0, |s| s.seq),
        records_replayed = report.records_replayed,
        torn_tails_cut = report.truncations.len(),
        seconds = report.elapsed.as_secs_f64(),
        "store open"
    );
    for t in &report.truncations {
        tracing::warn!(file = %t.file.display(), offset = t.offset, reason = %t.reason, data_lost = t.data_lost, "journal cut");
    }

    let shared = Arc::new(Shared {
        store: store.clone(),
        auth,
        limits: Limits {
            max_request: AtomicU64::new(args.max_request_size),
            client_timeout_ms: AtomicU64::new(args.client_timeout.as_millis() as u64),
            max_clients: AtomicU64::new(args.max_clients),
        },
        stats: Stats::default(),
        shutdown: shutdown.clone(),
        resp_addr,
        http_addr,
        started: Instant::now(),
        started_unix_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        next_client_id: AtomicU64::new(1),
        bgsave_running: Arc::new(AtomicBool::new(false)),
    });
    let _ = http_state.shared.set(shared.clone());
    tracing::info!(%resp_addr, auth = shared.auth.is_some(), "RESP listening");

    let pool = ConnPool::start(args.resp_threads()).map_err(|source| ServeError::Bind {
        addr: resp_addr,
        source,
    })?;
    accept_resp(resp_listener, &pool, shared.clone(), args.request_timeout).await;

    // Shutdown: connections finish what they have read, bounded by the timeout.
    let deadline = Instant::now() + args.shutdown_timeout;
    tracing::info!(timeout = ?args.shutdown_timeout, "shutting down");
    while shared.stats.connected.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let left = shared.stats.connected.load(Ordering::Acquire);
    if left > 0 {
        tracing::warn!(
            connections = left,
            "shutdown timeout: closing connections still busy"
        );
    }
    let _ = tokio::time::timeout(
        deadline.saturating_duration_since(Instant::now()),
        http_task,
    )
    .await;
    // No command may run once the journal's final flush begins.
    let _ = tokio::task::spawn_blocking(move || pool.stop()).await;

    let store_for_close = store.clone();
    let result = tokio::task::spawn_blocking(move || {
        for hook in hooks {
            if let Err(e) = hook(&store_for_close) {
                tracing::error!(error = %e, "shutdown hook failed");
            }
        }
        store_for_close.close()
    })
    .await
    .map_err(|e| ServeError::Shutdown(e.to_string()))?;
    drop(shared);
    drop(http_state);
    drop(store);
    result.map_err(|e| ServeError::Shutdown(format!("flushing the journal: {e}")))?;
    tracing::info!("journal flushed; bye");
    Ok(())
}

/// Accepts RESP connections until shutdown.
async fn accept_resp(
    listener: TcpListener,
    pool: &ConnPool,
    shared: Arc<Shared>,
    request_timeout: Duration,
) {
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "RESP accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shared.shutdown.wait() => return,
        };
        shared
            .stats
            .connections_total
            .fetch_add(1, Ordering::Relaxed);
        let connected = shared.stats.connected.load(Ordering::Relaxed);
        if connected >= shared.limits.max_clients.load(Ordering::Relaxed) {
            shared.stats.rejected.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let mut s = stream;
                let _ = s.write_all(b"-ERR max number of clients reached\r\n").await;
            });
            continue;
        }
        shared.stats.connected.fetch_add(1, Ordering::AcqRel);
        let shared = shared.clone();
        // Move the socket to the pool thread's own reactor.
        let Ok(stream) = stream.into_std() else {
            shared.stats.connected.fetch_sub(1, Ordering::AcqRel);
            continue;
        };
        pool.spawn(async move {
            if let Ok(stream) = tokio::net::TcpStream::from_std(stream) {
                conn::serve(stream, shared.clone(), request_timeout).await;
            }
            shared.stats.connected.fetch_sub(1, Ordering::AcqRel);
        });
    }
}
