//! Every HTTP route and every error status, over real HTTP/1.1.

use serde_json::{Value, json};

use crate::util::{Server, tempdir};

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

/// Asserts an error reply: the status, and the JSON error shape with `code`.
fn assert_error(reply: (u16, String, Vec<u8>), status: u16, code: &str) -> String {
    let (got, head, body) = reply;
    assert_eq!(got, status, "{head}\n{}", String::from_utf8_lossy(&body));
    let v = json_of(&body);
    assert_eq!(v["error"]["code"], code, "{v}");
    let msg = v["error"]["message"]
        .as_str()
        .expect("a message")
        .to_owned();
    assert!(!msg.is_empty());
    msg
}

const JSON: (&str, &str) = ("Content-Type", "application/json");

#[test]
fn health_and_readiness() {
    let dir = tempdir();
    let s = Server::start(dir.path(), &[], &[]);
    let (status, _, body) = s.http("GET", "/healthz", &[], b"");
    assert_eq!((status, json_of(&body)), (200, json!({"status": "ok"})));
    let (status, _, body) = s.http("GET", "/readyz", &[], b"");
    assert_eq!((status, json_of(&body)), (200, json!({"ready": true})));
}

#[test]
fn kv_routes() {
    let dir = tempdir();
    let s = Server::start(dir.path(), &[], &[]);
    // PUT stores the raw body; GET returns it byte for byte.
    let value: Vec<u8> = (0..=255u8).collect();
    assert_eq!(s.http("PUT", "/v1/kv/bin", &[], &value).0, 204);
    let (status, head, body) = s.http("GET", "/v1/kv/bin", &[], b"");
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/octet-stream")
    );
    assert_eq!(body, value);
    // RESP sees the same value.
    let mut c = s.connect();
    assert_eq!(c.cmd(&["STRLEN", "bin"]), b":256\r\n");
    // Percent-encoded keys.
    assert_eq!(s.http("PUT", "/v1/kv/user%2F42", &[], b"x").0, 204);
    assert_eq!(c.text(&["GET", "user/42"]), "$1\r\nx\r\n");
    // TTL.
    assert_eq!(s.http("PUT", "/v1/kv/session?ttl=100", &[], b"s").0, 204);
    let ttl: i64 = c
        .text(&["TTL", "session"])
        .trim_start_matches(':')
        .trim()
        .parse()
        .unwrap();
    assert!((99..=100).contains(&ttl), "{ttl}");
    assert_eq!(s.http("PUT", "/v1/kv/short?ttl=0.2", &[], b"s").0, 204);
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert_error(s.http("GET", "/v1/kv/short", &[], b""), 404, "not_found");
    // Bad TTLs are refused and store nothing.
    for bad in ["-1", "0", "abc", "NaN", "inf", "1e13"] {
        let msg = assert_error(
            s.http("PUT", &format!("/v1/kv/t?ttl={bad}"), &[], b"v"),
            400,
            "bad_request",
        );
        assert!(msg.contains("ttl"), "{msg}");
    }
    assert_error(s.http("GET", "/v1/kv/t", &[], b""), 404, "not_found");
    // DELETE.
    assert_eq!(s.http("DELETE", "/v1/kv/bin", &[], b"").0, 204);
    assert_error(s.http("DELETE", "/v1/kv/bin", &[], b""), 404, "not_found");
    assert_error(s.http("GET", "/v1/kv/bin", &[], b""), 404, "not_found");
    // Wrong type: a hash read as a string.
    c.text(&["HSET", "h", "f", "v"]);
    let msg = assert_error(s.http("GET", "/v1/kv/h", &[], b""), 409, "wrong_type");
    assert!(
        msg.contains("WRONGTYPE") || msg.contains("wrong kind"),
        "{msg}"
    );
}

#[test]
fn kv_listing_pages_through_every_key() {
    let dir = tempdir();
    let s = Server::start(dir.path(), &[], &[]);
    let mut c = s.connect();
    for i in 0..250 {
        c.text(&["SET", &format!("user:{i}"), "v"]);
    }
    c.text(&["SET", "other", "v"]);
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let (status, _, body) = s.http(
            "GET",
            &format!("/v1/kv?prefix=user:&limit=40&cursor={cursor}"),
            &[],
            b"",
        );
        assert_eq!(status, 200);
        let v = json_of(&body);
        for k in v["keys"].as_array().unwrap() {
            let k = k.as_str().unwrap().to_owned();
            assert!(k.starts_with("user:"), "{k}");
            seen.insert(k);
        }
        pages += 1;
        if v["done"] == json!(true) {
            assert_eq!(v["cursor"], "0");
            break;
        }
        cursor = v["cursor"].as_str().unwrap().to_owned();
        assert!(pages < 100, "listing never finished");
    }
    assert_eq!(seen.len(), 250);
    assert!(pages >= 250 / 40, "{pages} pages");
    assert_error(
        s.http("GET", "/v1/kv?cursor=abc", &[], b""),
        400,
        "bad_request",
    );
    assert_error(
        s.http("GET", "/v1/kv?limit=0", &[], b""),
        400,
        "bad_request",
    );
    assert_error(
        s.http("GET", "/v1/kv?limit=10001", &[], b""),
        400,
        "bad_request",
    );
    assert_error(
        s.http("GET", "/v1/kv?limit=-3", &[], b""),
        400,
        "bad_request",
    );
}

#[test]
fn collection_routes_share_data_with_resp() {
    let dir = tempdir();
    let s = Server::start(dir.path(), &[], &[]);
    let mut c = s.connect();
    let doc = br#"{"lang":"zh","big":12345678901234567890123,"nested":{"a":1,"b":[1,2]}}"#;
    // PUT creates (201), then replaces (204).
    assert_eq!(
        s.http("PUT", "/v1/collections/user_configs/12345", &[JSON], doc)
            .0,
        201
    );
    assert_eq!(
        s.http("PUT", "/v1/collections/user_configs/12345", &[JSON], doc)
            .0,
        204
    );
    // Stored exactly as sent: RESP reads the same bytes.
    let mut want = format!("${}\r\n", doc.len()).into_bytes();
    want.extend_from_slice(doc);
    want.extend_from_slice(b"\r\n");
    assert_eq!(c.cmd(&["HGET", "user_configs", "12345"]), want);
    let (status, head, body) = s.http("GET", "/v1/collections/user_configs/12345", &[], b"");
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json")
    );
    assert_eq!(body, doc);
    // PATCH merges (RFC 7386): null deletes, objects merge, the rest replaces.
    let (status, _, body) = s.http(
        "PATCH",
        "/v1/collections/user_configs/12345",
        &[JSON],
        br#"{"lang":"en","nested":{"a":null,"c":true},"added":[3]}"#,
    );
    assert_eq!(status, 200);
    let merged = json_of(&body);
    assert_eq!(merged["lang"], "en");
    assert_eq!(merged["nested"], json!({"b": [1, 2], "c": true}));
    assert_eq!(merged["added"], json!([3]));
    assert_eq!(
        merged["big"].to_string(),
        "12345678901234567890123",
        "no precision lost"
    );
    // PATCH on a missing document creates it.
    assert_eq!(
        s.http(
            "PATCH",
            "/v1/collections/user_configs/777",
            &[JSON],
            br#"{"x":1}"#
        )
        .0,
        200
    );
    // A value some RESP client stored that is not JSON comes back as a string.
    c.text(&["HSET", "user_configs", "raw", "plain text"]);
    let (status, _, body) = s.http("GET", "/v1/collections/user_configs", &[], b"");
    assert_eq!(status, 200);
    let all = json_of(&body);
    assert_eq!(all["raw"], "plain text");
    assert_eq!(all["777"], json!({"x": 1}));
    assert_eq!(all["12345"], merged);
    // DELETE.
    assert_eq!(
        s.http("DELETE", "/v1/collections/user_configs/777", &[], b"")
            .0,
        204
    );
    assert_error(
        s.http("DELETE", "/v1/collections/user_configs/777", &[], b""),
        404,
        "not_found",
    );
    assert_error(
        s.http("GET", "/v1/collections/user_configs/777", &[], b""),
        404,
        "not_found",
    );
    assert_error(
        s.http("GET", "/v1/collections/nothing", &[], b""),
        404,
        "not_found",
    );
    // 415: not JSON by content type; 400: not JSON by content.
    assert_error(
        s.http("PUT", "/v1/collections/c/d", &[], b"{}"),
        415,
        "unsupported_media_type",
    );
    assert_error(
        s.http(
            "PUT",
            "/v1/collections/c/d",
            &[("Content-Type", "text/plain")],
            b"{}",
        ),
        415,
        "unsupported_media_type",
    );
    assert_error(
        s.http("PATCH", "/v1/collections/c/d", &[], b"{}"),
        415,
        "unsupported_media_type",
    );
    assert_error(
        s.http("PUT", "/v1/collections/c/d", &[JSON], b"{not json"),
        400,
        "bad_request",
    );
    assert_error(
        s.http("PATCH", "/v1/collections/c/d", &[JSON], b"[1,2]"),
        400,
        "bad_request",
    );
    assert_eq!(
        s.http(
            "PUT",
            "/v1/collections/c/d",
            &[(
                "Content-Type",
                "application/merge-patch+json; charset=utf-8"
            )],
            b"{}"
        )
        .0,
        201
    );
    // 409: the collection name holds a string.
    c.text(&["SET", "astring", "v"]);
    assert_error(
        s.http("GET", "/v1/collections/astring", &[], b""),
        409,
        "wrong_type",
    );
    assert_error(
        s.http("PUT", "/v1/collections/astring/f", &[JSON], b"{}"),
        409,
        "wrong_type",
    );
    assert_error(
        s.http("PATCH", "/v1/collections/astring/f", &[JSON], b"{}"),
        409,
        "wrong_type",
    );
}

#[test]
fn bodies_over_the_limit_get_413_and_store_nothing() {
    let dir = tempdir();
    let s = Server::start(dir.path(), &["--max-body-size", "64K"], &[]);
    let big = vec![b'x'; 64 * 1024 + 1];
    assert_error(s.http("PUT", "/v1/kv/big", &[], &big), 413, "too_large");
    let mut doc = b"\"".to_vec();
    doc.extend(vec![b'y'; 70 * 1024]);
    doc.push(b'"');
    assert_error(
        s.http("PUT", "/v1/collections/c/big", &[JSON], &doc),
        413,
        "too_large",
    );
    assert_error(s.http("GET", "/v1/kv/big", &[], b""), 404, "not_found");
    assert_eq!(s.http("PUT", "/v1/kv/fits", &[], &big[..64 * 1024]).0, 204);
}

#[test]
fn unknown_routes_and_methods_answer_json() {
    let dir = tempdir();
    let s = Server::start(dir.path(), &[], &[]);
    assert_error(s.http("GET", "/v2/nothing", &[], b""), 404, "not_found");
    assert_error(s.http("GET", "/", &[], b""), 404, "not_found");
    let (status, _, body) = s.http("POST", "/v1/kv/k", &[], b"v");
    assert_eq!(status, 405);
    assert_eq!(json_of(&body)["error"]["code"], "method_not_allowed");
}

#[test]
fn status_and_openapi() {
    let dir = tempdir();
    let s = Server::start(dir.path(), &[], &[]);
    let mut c = s.connect();
    for i in 0..10 {
        c.text(&["SET", &format!("k{i}"), "v"]);
    }
    c.text(&["EXPIRE", "k0", "100"]);
    let (status, _, body) = s.http("GET", "/v1/status", &[], b"");
    assert_eq!(status, 200);
    let v = json_of(&body);
    assert_eq!(v["keys"], 10);
    assert_eq!(v["keys_with_ttl"], 1);
    assert!(v["memory"]["used_bytes"].as_u64().unwrap() > 0, "{v}");
    assert!(v["memory"]["rss_bytes"].as_u64().unwrap() > 1 << 20, "{v}");
    assert!(v["journal"]["last_seq"].as_u64().unwrap() >= 11, "{v}");
    assert_eq!(v["journal"]["healthy"], true);
    assert_eq!(v["listeners"]["resp"], s.resp.to_string());
    // SAVE makes a snapshot that status reports.
    assert_eq!(c.text(&["SAVE"]), "+OK\r\n");
    let v = json_of(&s.http("GET", "/v1/status", &[], b"").2);
    assert!(v["snapshot"]["seq"].as_u64().unwrap() >= 11, "{v}");

    let (status, _, body) = s.http("GET", "/v1/openapi.json", &[], b"");
    assert_eq!(status, 200);
    let doc = json_of(&body);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/healthz", &["get"][..]),
        ("/readyz", &["get"]),
        ("/v1/kv", &["get"]),
        ("/v1/kv/{key}", &["get", "put", "delete"]),
        ("/v1/collections/{name}", &["get"]),
        (
            "/v1/collections/{name}/{field}",
            &["get", "put", "patch", "delete"],
        ),
        ("/v1/status", &["get"]),
        ("/v1/openapi.json", &["get"]),
    ] {
        for m in methods {
            assert!(paths[path][m].is_object(), "openapi.json lacks {m} {path}");
        }
    }
}

#[test]
fn a_failed_journal_gives_503_and_refuses_writes_on_both_protocols() {
    let dir = tempdir();
    // Files may not grow past 256 KiB: the journal write fails as on a full disk.
    let s = Server::start_with_file_limit(dir.path(), &[], 256 * 1024);
    let mut c = s.connect();
    let value = "v".repeat(4096);
    let mut acked = Vec::new();
    let mut refusal = None;
    for i in 0..200 {
        let key = format!("k{i}");
        let r = c.text(&["SET", &key, &value]);
        if r == "+OK\r\n" {
            acked.push(key);
        } else {
            refusal = Some(r);
            break;
        }
    }
    let refusal = refusal.expect("the journal must fill before 800 KiB were written");
    assert!(refusal.starts_with("-"), "{refusal}");
    // The connection that saw the failure was closed; a new one is refused writes.
    let mut c = s.connect();
    let r = c.text(&["SET", "after", "x"]);
    assert!(
        r.starts_with("-"),
        "a write after the failure must be refused: {r}"
    );
    assert!(
        r.to_lowercase().contains("journal") || r.contains("MISCONF") || r.contains("IOERR"),
        "{r}"
    );
    // Reads still work.
    assert_eq!(c.text(&["EXISTS", &acked[0]]), ":1\r\n");
    // HTTP: writes are 503, readiness says not ready, status says why.
    assert_error(s.http("PUT", "/v1/kv/x", &[], b"v"), 503, "unavailable");
    assert_error(
        s.http("PUT", "/v1/collections/c/d", &[JSON], b"{}"),
        503,
        "unavailable",
    );
    let (status, _, body) = s.http("GET", "/readyz", &[], b"");
    assert_eq!(status, 503);
    assert_eq!(json_of(&body)["ready"], false);
    let v = json_of(&s.http("GET", "/v1/status", &[], b"").2);
    assert_eq!(v["journal"]["healthy"], false);
    assert!(
        v["journal"]["error"].as_str().unwrap().contains("failed"),
        "{v}"
    );
    let (status, _, _) = s.http("GET", &format!("/v1/kv/{}", acked[0]), &[], b"");
    assert_eq!(status, 200, "reads are still served");
}

#[test]
fn concurrent_patches_never_lose_each_others_changes() {
    let dir = tempdir();
    let s = Server::start(dir.path(), &[], &[]);
    let addr = s.http;
    let threads: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..25 {
                    let body = format!(r#"{{"t{t}_{i}": {i}}}"#);
                    let (status, _, _) = crate::util::http_request(
                        addr,
                        "PATCH",
                        "/v1/collections/c/doc",
                        &[JSON],
                        body.as_bytes(),
                    );
                    assert_eq!(status, 200);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let doc = json_of(&s.http("GET", "/v1/collections/c/doc", &[], b"").2);
    assert_eq!(
        doc.as_object().unwrap().len(),
        200,
        "every member of every patch is there"
    );
}
