//! `/v1/openapi.json`: the API described (OpenAPI 3.1).

use std::sync::Arc;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};

use super::HttpState;

pub(super) fn routes() -> Router<Arc<HttpState>> {
    Router::new().route(
        "/v1/openapi.json",
        get(|| async { axum::Json(document()).into_response() }),
    )
}

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

/// The document, built once per request (it is small).
pub(crate) fn document() -> Value {
    let key = json!({ "name": "key", "in": "path", "required": true, "schema": { "type": "string" },
        "description": "The key (percent-encode `/` as %2F)." });
    let name = json!({ "name": "name", "in": "path", "required": true, "schema": { "type": "string" },
        "description": "The collection: a hash whose fields are JSON documents." });
    let field =
        json!({ "name": "field", "in": "path", "required": true, "schema": { "type": "string" } });
    let errors = |codes: &[&str]| -> Value {
        let mut m = serde_json::Map::new();
        for c in codes {
            let d = match *c {
                "400" => "Bad request (malformed argument or body)",
                "401" => "Missing or wrong bearer token",
                "404" => "Not found",
                "409" => "The key holds another type of value",
                "413" => "Body larger than --max-body-size, or value too large",
                "415" => "Documents must be sent as application/json",
                _ => "The store is not ready, or refuses writes",
            };
            m.insert((*c).to_string(), error_response(d));
        }
        Value::Object(m)
    };
    let with = |ok: Value, codes: &[&str]| -> Value {
        let mut r = errors(codes);
        for (k, v) in ok.as_object().expect("object") {
            r.as_object_mut()
                .expect("object")
                .insert(k.clone(), v.clone());
        }
        r
    };
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "memkeep",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A memory-first store with a crash-safe journal. Every route but /healthz and /readyz \
                needs `Authorization: Bearer <MEMKEEP_AUTH_TOKEN>` when the server has a token. The same data is \
                reachable over the Redis protocol."
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": {
                        "code": { "type": "string", "examples": ["not_found", "wrong_type", "unauthorized"] },
                        "message": { "type": "string" } } } }
                },
                "Key": { "oneOf": [ { "type": "string" },
                    { "type": "object", "required": ["hex"], "properties": { "hex": { "type": "string" } },
                      "description": "A key that is not UTF-8, as hex." } ] }
            }
        },
        "security": [ { "bearer": [] } ],
        "paths": {
            "/healthz": { "get": { "summary": "Liveness", "security": [],
                "responses": { "200": { "description": "The process is up" } } } },
            "/readyz": { "get": { "summary": "Readiness: the store is open and accepts writes", "security": [],
                "responses": { "200": { "description": "Ready" }, "503": { "description": "Not ready (opening, shutting down, or the journal failed)" } } } },
            "/v1/kv": { "get": {
                "summary": "List keys, a page at a time",
                "parameters": [
                    { "name": "prefix", "in": "query", "schema": { "type": "string" } },
                    { "name": "cursor", "in": "query", "schema": { "type": "string" }, "description": "From the previous page; absent or 0 to start" },
                    { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 10000, "default": 100 } }
                ],
                "responses": with(json!({ "200": { "description": "A page of keys", "content": { "application/json": { "schema": {
                    "type": "object", "properties": {
                        "keys": { "type": "array", "items": { "$ref": "#/components/schemas/Key" } },
                        "cursor": { "type": "string" }, "done": { "type": "boolean" } } } } } } }), &["400", "401", "503"])
            } },
            "/v1/kv/{key}": {
                "parameters": [key],
                "get": { "summary": "A string value, as raw bytes",
                    "responses": with(json!({ "200": { "description": "The value", "content": { "application/octet-stream": {} } } }), &["401", "404", "409", "503"]) },
                "put": { "summary": "Store a string value (raw bytes body)",
                    "parameters": [ { "name": "ttl", "in": "query", "schema": { "type": "number", "exclusiveMinimum": 0 }, "description": "Expire after this many seconds" } ],
                    "requestBody": { "content": { "application/octet-stream": {} } },
                    "responses": with(json!({ "204": { "description": "Stored (durable under the fsync policy)" } }), &["400", "401", "413", "503"]) },
                "delete": { "summary": "Delete a key",
                    "responses": with(json!({ "204": { "description": "Deleted" } }), &["401", "404", "503"]) }
            },
            "/v1/collections/{name}": {
                "parameters": [name],
                "get": { "summary": "A whole collection as one JSON object (field → document)",
                    "responses": with(json!({ "200": { "description": "The collection", "content": { "application/json": { "schema": { "type": "object" } } } } }), &["401", "404", "409", "503"]) }
            },
            "/v1/collections/{name}/{field}": {
                "parameters": [name, field],
                "get": { "summary": "One JSON document",
                    "responses": with(json!({ "200": { "description": "The document", "content": { "application/json": {} } } }), &["401", "404", "409", "503"]) },
                "put": { "summary": "Store a JSON document (kept byte for byte)",
                    "requestBody": { "required": true, "content": { "application/json": {} } },
                    "responses": with(json!({ "201": { "description": "Created" }, "204": { "description": "Replaced" } }), &["400", "401", "409", "413", "415", "503"]) },
                "patch": { "summary": "Merge a JSON object into the document (RFC 7386 merge patch)",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object" } } } },
                    "responses": with(json!({ "200": { "description": "The merged document", "content": { "application/json": {} } } }), &["400", "401", "409", "413", "415", "503"]) },
                "delete": { "summary": "Delete a document",
                    "responses": with(json!({ "204": { "description": "Deleted" } }), &["401", "404", "409", "503"]) }
            },
            "/v1/status": { "get": { "summary": "Memory, keys, journal, snapshot, recovery, connections",
                "responses": with(json!({ "200": { "description": "Status", "content": { "application/json": { "schema": { "type": "object" } } } } }), &["401", "503"]) } },
            "/v1/openapi.json": { "get": { "summary": "This document",
                "responses": with(json!({ "200": { "description": "OpenAPI 3.1" } }), &["401"]) } }
        }
    })
}
