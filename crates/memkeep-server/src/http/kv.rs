//! `/v1/kv`: string values as raw bytes, and key listing.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use memkeep_engine::{Expiry, Reads, ScanOptions, SetOptions};
use serde::Deserialize;

use super::{ApiError, HttpState, body_error};

pub(super) fn routes() -> Router<Arc<HttpState>> {
    Router::new()
        .route("/v1/kv", get(list))
        .route("/v1/kv/{key}", get(get_key).put(put_key).delete(delete_key))
}

async fn get_key(
    State(st): State<Arc<HttpState>>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let s = st.shared()?;
    match s.store.get(&key)? {
        Some(v) => Ok(([(header::CONTENT_TYPE, "application/octet-stream")], v).into_response()),
        None => Err(ApiError::not_found(format!("no key {key:?}"))),
    }
}

#[derive(Deserialize)]
struct PutQuery {
    ttl: Option<String>,
}

async fn put_key(
    State(st): State<Arc<HttpState>>,
    Path(key): Path<String>,
    Query(q): Query<PutQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let s = st.shared()?;
    let body = body.map_err(body_error)?;
    let expiry = match q.ttl.as_deref() {
        None => None,
        Some(t) => {
            let secs: f64 = t
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s < 1e12)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "ttl must be a positive number of seconds, not {t:?}"
                    ))
                })?;
            Some(Expiry::In(Duration::from_secs_f64(secs)))
        }
    };
    let store = s.store.clone();
    tokio::task::spawn_blocking(move || {
        store.set_with(
            &key,
            &body,
            SetOptions {
                expiry,
                ..SetOptions::default()
            },
        )
    })
    .await
    .map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "write task failed",
        )
    })??;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_key(
    State(st): State<Arc<HttpState>>,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    let s = st.shared()?;
    let store = s.store.clone();
    let n = tokio::task::spawn_blocking(move || store.del(&[key.as_bytes()]))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "write task failed",
            )
        })??;
    if n == 0 {
        return Err(ApiError::not_found("no such key"));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct ListQuery {
    prefix: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

/// A key as JSON: a string when it is UTF-8, `{"hex": …}` otherwise.
pub(super) fn key_json(k: &[u8]) -> serde_json::Value {
    match std::str::from_utf8(k) {
        Ok(s) => serde_json::Value::String(s.into()),
        Err(_) => {
            let hex: String = k.iter().map(|b| format!("{b:02x}")).collect();
            serde_json::json!({ "hex": hex })
        }
    }
}

async fn list(
    State(st): State<Arc<HttpState>>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let s = st.shared()?;
    let cursor: u64 = match q.cursor.as_deref() {
        None | Some("") => 0,
        Some(c) => c.parse().map_err(|_| {
            ApiError::bad_request(format!(
                "cursor must be a number from a previous reply, not {c:?}"
            ))
        })?,
    };
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > 10_000 {
        return Err(ApiError::bad_request("limit must be between 1 and 10000"));
    }
    let opts = ScanOptions {
        prefix: q.prefix.map(String::into_bytes),
        count: limit,
        ..ScanOptions::default()
    };
    // Scan until `limit` keys were found or the keyspace is done.
    let (mut keys, mut cursor) = (Vec::new(), cursor);
    loop {
        let page = s.store.scan(cursor, &opts)?;
        keys.extend(page.keys);
        cursor = page.cursor;
        if cursor == 0 || keys.len() >= limit {
            break;
        }
    }
    let keys: Vec<serde_json::Value> = keys.iter().map(|k| key_json(k)).collect();
    Ok(axum::Json(serde_json::json!({
        "keys": keys,
        "cursor": cursor.to_string(),
        "done": cursor == 0,
    }))
    .into_response())
}
