//! The HTTP/JSON API (axum). Each feature module owns its routes and
//! handlers; this one owns the router, the auth layer, the error type and
//! the connection loop (with a header timeout, so a slow client cannot pin
//! a connection).
//!
//! - `kv`: `/v1/kv/{key}` strings and `/v1/kv` listing.
//! - `collections`: `/v1/collections/…`, JSON documents in hashes.
//! - `status`: `/healthz`, `/readyz`, `/v1/status`.
//! - `openapi`: `/v1/openapi.json`.

mod collections;
mod kv;
mod openapi;
mod status;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::auth::Token;
use crate::shared::{Shared, Shutdown};

/// What the HTTP side needs; `shared` is set once the store is open.
pub(crate) struct HttpState {
    pub shared: OnceLock<Arc<Shared>>,
    pub auth: Option<Token>,
    pub max_body: u64,
    pub connections: AtomicU64,
    pub max_connections: u64,
}

impl HttpState {
    fn shared(&self) -> Result<&Arc<Shared>, ApiError> {
        self.shared.get().ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "the store is still opening (restoring from its files)",
            )
        })
    }
}

/// An API error: `{"error": {"code": …, "message": …}}` with a status.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

impl From<memkeep_engine::Error> for ApiError {
    fn from(e: memkeep_engine::Error) -> ApiError {
        use memkeep_engine::Error as E;
        match e {
            E::WrongType => ApiError::new(StatusCode::CONFLICT, "wrong_type", e.to_string()),
            E::Poisoned(_) | E::Closed => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                e.to_string(),
            ),
            E::TooLarge { .. } | E::StringTooLong | E::CollectionFull => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", e.to_string())
            }
            E::InvalidArgument(_)
            | E::NotInteger
            | E::NotFloat
            | E::HashNotInteger
            | E::HashNotFloat
            | E::Overflow
            | E::NanOrInfinity
            | E::IndexOutOfRange
            | E::NoSuchKey => ApiError::bad_request(e.to_string()),
            other => {
                // Files and paths stay in the server's log, not in replies.
                tracing::error!(error = %other, "request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; the server log has the details",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        let mut r = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

/// Turns a body rejection into our error shape (413 for too large).
pub(crate) fn body_error(e: axum::extract::rejection::BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "request body larger than --max-body-size",
        )
    } else {
        ApiError::bad_request(format!("could not read the request body: {e}"))
    }
}

async fn require_token(State(state): State<Arc<HttpState>>, req: Request, next: Next) -> Response {
    if let Some(token) = &state.auth {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| token.matches(g.as_bytes())) {
            if let Some(s) = state.shared.get() {
                s.stats.auth_failures.fetch_add(1, Ordering::Relaxed);
            }
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing or wrong bearer token (Authorization: Bearer <MEMKEEP_AUTH_TOKEN>)",
            )
            .into_response();
        }
    }
    if let Some(s) = state.shared.get() {
        s.stats.http_requests.add(1);
    }
    next.run(req).await
}

/// The whole API. Health checks stay open (they say nothing but "up" and
/// "ready"), so platform probes work without the token.
pub(crate) fn router(state: Arc<HttpState>, request_timeout: Duration) -> Router {
    let api = Router::new()
        .merge(kv::routes())
        .merge(collections::routes())
        .merge(status::routes())
        .merge(openapi::routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .merge(status::open_routes())
        .merge(api)
        .fallback(|| async { ApiError::not_found("no such route; see /v1/openapi.json") })
        .layer(middleware::map_response(json_errors))
        .layer(DefaultBodyLimit::max(state.max_body as usize))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .with_state(state)
}

/// Gives errors produced outside our handlers (axum's rejections of a bad
/// query string or path, 405, the request timeout) our JSON error shape.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_client_error() => "bad_request",
        _ => "internal",
    };
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let mut message = String::from_utf8_lossy(&text).trim().to_owned();
    if message.is_empty() {
        message = status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_owned();
    }
    let mut r = ApiError::new(status, code, message).into_response();
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            r.headers_mut().insert(name, value.clone());
        }
    }
    r
}

/// Accepts HTTP connections until shutdown, then lets in-flight requests finish.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    state: Arc<HttpState>,
    header_timeout: Duration,
    shutdown: Shutdown,
) {
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "HTTP accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.wait() => break,
        };
        if state.connections.load(Ordering::Relaxed) >= state.max_connections {
            let mut r = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too_many_connections",
                "too many connections",
            )
            .into_response();
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            tokio::spawn(reply_and_close(stream, r));
            continue;
        }
        state.connections.fetch_add(1, Ordering::Relaxed);
        let (app, state, shutdown) = (app.clone(), state.clone(), shutdown.clone());
        tokio::spawn(async move {
            let service = TowerToHyperService::new(app);
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                () = shutdown.wait() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            state.connections.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// Answers one request on a connection we will not serve, then closes it.
async fn reply_and_close(stream: tokio::net::TcpStream, response: Response<Body>) {
    let response = std::sync::Mutex::new(Some(response));
    let service = hyper::service::service_fn(move |_req| {
        let r = response
            .lock()
            .ok()
            .and_then(|mut r| r.take())
            .unwrap_or_default();
        async move { Ok::<_, std::convert::Infallible>(r) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
