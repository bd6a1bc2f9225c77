//! `/healthz`, `/readyz` and `/v1/status`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::{ApiError, HttpState};
use crate::info::rss_bytes;

/// Routes outside the auth layer.
pub(super) fn open_routes() -> Router<Arc<HttpState>> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

pub(super) fn routes() -> Router<Arc<HttpState>> {
    Router::new().route("/v1/status", get(status))
}

async fn healthz() -> Response {
    axum::Json(json!({ "status": "ok" })).into_response()
}

/// Ready once the store is open and accepting writes.
async fn readyz(State(st): State<Arc<HttpState>>) -> Response {
    let Some(s) = st.shared.get() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "ready": false, "reason": "the store is still opening" })),
        )
            .into_response();
    };
    if s.shutdown.requested() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "ready": false, "reason": "shutting down" })),
        )
            .into_response();
    }
    match s.store.stats() {
        Ok(st) if st.poisoned.is_some() => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(
                json!({ "ready": false, "reason": "the journal failed; writes are refused" }),
            ),
        )
            .into_response(),
        Ok(_) => axum::Json(json!({ "ready": true })).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Everything an operator needs at a glance (what `memkeep status` prints).
async fn status(State(st): State<Arc<HttpState>>) -> Result<Response, ApiError> {
    let s = st.shared()?;
    let stats = s.store.stats()?;
    let report = s.store.open_report();
    let snap = stats.last_snapshot.as_ref().map(|x| {
        json!({
            "seq": x.seq,
            "keys": x.keys,
            "bytes": x.bytes,
            "created_unix_ms": x.created_ms,
            "path": x.path,
        })
    });
    Ok(axum::Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": s.started.elapsed().as_secs(),
        "listeners": { "resp": s.resp_addr.to_string(), "http": s.http_addr.to_string() },
        "auth": s.auth.is_some(),
        "data_dir": s.store.dir(),
        "keys": stats.keys,
        "keys_with_ttl": stats.volatile_keys,
        "memory": {
            "used_bytes": stats.used_memory,
            "rss_bytes": rss_bytes(),
        },
        "journal": {
            "fsync": s.store.fsync_policy().to_string(),
            "last_seq": stats.last_seq,
            "written_seq": stats.written_seq,
            "synced_seq": stats.synced_seq,
            "segments": stats.journal_segments,
            "bytes": stats.journal_bytes,
            "bytes_since_snapshot": stats.journal_bytes_since_snapshot,
            "healthy": stats.poisoned.is_none(),
            "error": stats.poisoned,
        },
        "snapshot": snap,
        "recovery": {
            "records_replayed": report.records_replayed,
            "seconds": report.elapsed.as_secs_f64(),
            "torn_tails_cut": report.truncations.len(),
        },
        "connections": {
            "resp": s.stats.connected.load(Ordering::Relaxed),
            "http": st.connections.load(Ordering::Relaxed),
        },
        "commands_processed": s.stats.commands.get(),
        "backups": [],
    }))
    .into_response())
}
