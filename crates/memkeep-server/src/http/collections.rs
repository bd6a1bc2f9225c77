//! `/v1/collections`: JSON documents in hashes. A collection is a hash whose
//! fields hold JSON documents, so `HGET user_configs 12345` and
//! `GET /v1/collections/user_configs/12345` read the same thing.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use memkeep_engine::{Keys, Reads};
use serde_json::{Map, Value};

use super::{ApiError, HttpState, body_error};

pub(super) fn routes() -> Router<Arc<HttpState>> {
    Router::new()
        .route("/v1/collections/{name}", get(get_collection))
        .route(
            "/v1/collections/{name}/{field}",
            get(get_doc)
                .put(put_doc)
                .patch(patch_doc)
                .delete(delete_doc),
        )
}

/// A stored value as JSON: the document itself, or (for a value some other
/// client stored that is not JSON) a JSON string of it.
fn as_json(raw: &[u8]) -> Value {
    serde_json::from_slice(raw)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(raw).into_owned()))
}

async fn get_collection(
    State(st): State<Arc<HttpState>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let s = st.shared()?;
    let pairs = s.store.hgetall(&name)?;
    if pairs.is_empty() {
        return Err(ApiError::not_found(format!("no collection {name:?}")));
    }
    let mut obj = Map::new();
    for (f, v) in &pairs {
        obj.insert(String::from_utf8_lossy(f).into_owned(), as_json(v));
    }
    Ok(axum::Json(Value::Object(obj)).into_response())
}

async fn get_doc(
    State(st): State<Arc<HttpState>>,
    Path((name, field)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let s = st.shared()?;
    match s.store.hget(&name, &field)? {
        None => Err(ApiError::not_found(format!(
            "no document {field:?} in {name:?}"
        ))),
        Some(raw) if serde_json::from_slice::<serde::de::IgnoredAny>(&raw).is_ok() => {
            Ok(([(header::CONTENT_TYPE, "application/json")], raw).into_response())
        }
        Some(raw) => Ok(axum::Json(as_json(&raw)).into_response()),
    }
}

/// Checks the content type and returns the body as validated JSON bytes.
fn json_body(
    headers: &HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Bytes, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/json")
        && !mime.to_ascii_lowercase().ends_with("+json")
    {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "documents are JSON: send Content-Type: application/json",
        ));
    }
    let body = body.map_err(body_error)?;
    serde_json::from_slice::<serde::de::IgnoredAny>(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    Ok(body)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> memkeep_engine::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "write task failed",
            )
        })?
        .map_err(ApiError::from)
}

async fn put_doc(
    State(st): State<Arc<HttpState>>,
    Path((name, field)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let s = st.shared()?;
    let body = json_body(&headers, body)?;
    let store = s.store.clone();
    // The document is stored exactly as sent: no number loses precision.
    let new = blocking(move || store.hset(&name, [(&field, &body)])).await?;
    Ok(if new == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    })
}

/// RFC 7386 JSON merge patch: objects merge recursively, `null` deletes.
fn merge(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            let t = target.as_object_mut().expect("made an object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(&k);
                } else {
                    merge(t.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other,
    }
}

async fn patch_doc(
    State(st): State<Arc<HttpState>>,
    Path((name, field)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let s = st.shared()?;
    let body = json_body(&headers, body)?;
    let patch: Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if !patch.is_object() {
        return Err(ApiError::bad_request(
            "a PATCH body is a JSON object (RFC 7386 merge patch)",
        ));
    }
    let store = s.store.clone();
    // Read, merge and write in one transaction: no other write can slip in.
    let merged = blocking(move || {
        store.transaction(Keys::Some(&[name.as_bytes()]), |tx| {
            let mut doc = match tx.hget(&name, &field)? {
                Some(raw) => serde_json::from_slice(&raw).unwrap_or(Value::Null),
                None => Value::Null,
            };
            merge(&mut doc, patch);
            let bytes = serde_json::to_vec(&doc).expect("a Value serialises");
            tx.hset(&name, [(&field, &bytes)])?;
            Ok(doc)
        })
    })
    .await?;
    Ok(axum::Json(merged).into_response())
}

async fn delete_doc(
    State(st): State<Arc<HttpState>>,
    Path((name, field)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let s = st.shared()?;
    let store = s.store.clone();
    let n = blocking(move || store.hdel(&name, &[field])).await?;
    if n == 0 {
        return Err(ApiError::not_found("no such document"));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::merge;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge(&mut doc, json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));
        let mut doc = json!([1, 2]);
        merge(&mut doc, json!({"a": 1}));
        assert_eq!(doc, json!({"a": 1}));
        let mut doc = json!(null);
        let patch: serde_json::Value =
            serde_json::from_str(r#"{"n": 12345678901234567890123}"#).unwrap();
        merge(&mut doc, patch);
        assert_eq!(
            doc.to_string(),
            r#"{"n":12345678901234567890123}"#,
            "big numbers keep every digit"
        );
    }
}
