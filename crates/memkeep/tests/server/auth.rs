//! MEMKEEP_AUTH_TOKEN on both protocols: missing, wrong and right tokens;
//! the token never shows anywhere; non-loopback binds need a token.

use std::process::Command;

use crate::util::{Server, tempdir};

const TOKEN: &str = "s3cr3t-t0ken-that-must-never-leak";

fn with_token(dir: &std::path::Path, extra: &[&str]) -> Server {
    Server::start(dir, extra, &[("MEMKEEP_AUTH_TOKEN", TOKEN)])
}

#[test]
fn resp_needs_the_token() {
    let dir = tempdir();
    let server = with_token(dir.path(), &[]);
    let mut c = server.connect();
    // Missing: every command but AUTH/HELLO/QUIT is refused, the reply says why.
    assert_eq!(
        c.text(&["GET", "k"]),
        "-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(c.text(&["PING"]), "-NOAUTH Authentication required.\r\n");
    // Wrong token, wrong user.
    assert_eq!(
        c.text(&["AUTH", "nope"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(
        c.text(&["AUTH", "someone", TOKEN]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(
        c.text(&["SET", "k", "v"]),
        "-NOAUTH Authentication required.\r\n"
    );
    // Right token, plain and as the default user.
    assert_eq!(c.text(&["AUTH", TOKEN]), "+OK\r\n");
    assert_eq!(c.text(&["SET", "k", "v"]), "+OK\r\n");
    let mut d = server.connect();
    assert_eq!(c.text(&["AUTH", "default", TOKEN]), "+OK\r\n");
    assert_eq!(
        d.text(&["HELLO", "3", "AUTH", "default", TOKEN]).get(..3),
        Some("%7\r")
    );
    assert_eq!(d.text(&["GET", "k"]), "$1\r\nv\r\n");
    // HELLO without AUTH on a fresh connection is refused as Redis does.
    let mut e = server.connect();
    assert!(
        e.text(&["HELLO", "3"])
            .starts_with("-NOAUTH HELLO must be called")
    );
    // A token prefix or a longer string is wrong (no early exit on a prefix).
    assert!(
        e.text(&["AUTH", &TOKEN[..TOKEN.len() - 1]])
            .starts_with("-WRONGPASS")
    );
    assert!(
        e.text(&["AUTH", &format!("{TOKEN}x")])
            .starts_with("-WRONGPASS")
    );
}

#[test]
fn auth_without_a_token_configured_says_so() {
    let dir = tempdir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut c = server.connect();
    assert!(
        c.text(&["AUTH", "x"])
            .starts_with("-ERR AUTH <password> called without any password configured"),
    );
    assert_eq!(c.text(&["PING"]), "+PONG\r\n");
}

#[test]
fn http_needs_the_bearer_token() {
    let dir = tempdir();
    let server = with_token(dir.path(), &[]);
    for path in [
        "/v1/kv/k",
        "/v1/status",
        "/v1/kv",
        "/v1/collections/c",
        "/v1/openapi.json",
    ] {
        let (status, head, body) = server.http("GET", path, &[], b"");
        assert_eq!(status, 401, "{path} without a token");
        assert!(
            head.to_ascii_lowercase()
                .contains("www-authenticate: bearer"),
            "{head}"
        );
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["code"], "unauthorized");
        let (status, _, _) = server.http("GET", path, &[("Authorization", "Bearer wrong")], b"");
        assert_eq!(status, 401, "{path} with a wrong token");
        let (status, _, _) = server.http(
            "GET",
            path,
            &[("Authorization", &format!("Basic {TOKEN}"))],
            b"",
        );
        assert_eq!(status, 401, "{path} with the token under the wrong scheme");
    }
    let bearer = format!("Bearer {TOKEN}");
    let auth = [("Authorization", bearer.as_str())];
    assert_eq!(server.http("PUT", "/v1/kv/k", &auth, b"v").0, 204);
    let (status, _, body) = server.http("GET", "/v1/kv/k", &auth, b"");
    assert_eq!((status, body.as_slice()), (200, &b"v"[..]));
    // Writes without the token change nothing.
    assert_eq!(server.http("PUT", "/v1/kv/k", &[], b"changed").0, 401);
    assert_eq!(server.http("DELETE", "/v1/kv/k", &[], b"").0, 401);
    assert_eq!(server.http("GET", "/v1/kv/k", &auth, b"").2, b"v");
    // Health checks stay open for platform probes.
    assert_eq!(server.http("GET", "/healthz", &[], b"").0, 200);
    assert_eq!(server.http("GET", "/readyz", &[], b"").0, 200);
}

#[test]
fn the_token_never_appears_in_info_config_status_errors_or_logs() {
    let dir = tempdir();
    let server = with_token(dir.path(), &[]);
    let mut c = server.connect();
    c.text(&["AUTH", "wrong-guess"]);
    assert_eq!(c.text(&["AUTH", TOKEN]), "+OK\r\n");
    let mut seen = String::new();
    for args in [
        &["INFO", "everything"][..],
        &["CONFIG", "GET", "*"],
        &["CONFIG", "GET", "requirepass"],
        &["CLIENT", "INFO"],
        &["CONFIG", "SET", "requirepass", TOKEN],
        &["CONFIG", "GET", "*pass*"],
    ] {
        seen.push_str(&c.text(args));
    }
    let bearer = format!("Bearer {TOKEN}");
    for path in ["/v1/status", "/v1/openapi.json", "/v1/kv/nothing"] {
        seen.push_str(&String::from_utf8_lossy(
            &server
                .http("GET", path, &[("Authorization", &bearer)], b"")
                .2,
        ));
    }
    seen.push_str(&String::from_utf8_lossy(
        &server
            .http(
                "GET",
                "/v1/status",
                &[("Authorization", "Bearer nope")],
                b"",
            )
            .2,
    ));
    let status = Command::new(env!("CARGO_BIN_EXE_memkeep"))
        .args(["status", "--server", &format!("http://{}", server.http)])
        .env("MEMKEEP_AUTH_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    seen.push_str(&String::from_utf8_lossy(&status.stdout));
    seen.push_str(&String::from_utf8_lossy(&status.stderr));
    let wrong = Command::new(env!("CARGO_BIN_EXE_memkeep"))
        .args(["status", "--server", &format!("http://{}", server.http)])
        .env("MEMKEEP_AUTH_TOKEN", "not-the-token")
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    let wrong_text = String::from_utf8_lossy(&wrong.stderr).into_owned();
    assert!(
        wrong_text.contains("401") || wrong_text.to_lowercase().contains("token"),
        "{wrong_text}"
    );
    assert!(!wrong_text.contains("not-the-token"), "{wrong_text}");
    assert!(seen.contains("used_memory"), "INFO answered");
    let log = server.log_text();
    let exit = server.stop();
    assert!(exit.success());
    assert!(
        !seen.contains(TOKEN),
        "the token leaked into a reply:\n{seen}"
    );
    assert!(
        !log.contains(TOKEN),
        "the token leaked into the log:\n{log}"
    );
    assert!(
        !log.contains("wrong-guess"),
        "a failed password leaked into the log:\n{log}"
    );
}

#[test]
fn a_public_bind_without_a_token_is_refused_unless_insecure() {
    let dir = tempdir();
    let refused = Server::try_start(dir.path(), &["--resp", "0.0.0.0:0"], &[]);
    let err = refused.err().expect("serve must refuse");
    assert!(
        err.contains("refusing to listen on 0.0.0.0:0 without MEMKEEP_AUTH_TOKEN"),
        "{err}"
    );
    let refused = Server::try_start(dir.path(), &["--http", "0.0.0.0:0"], &[]);
    assert!(refused.is_err());
    // With a token, or the explicit opt-out, it starts.
    let server = Server::start(
        dir.path(),
        &["--resp", "0.0.0.0:0"],
        &[("MEMKEEP_AUTH_TOKEN", TOKEN)],
    );
    assert!(server.stop().success());
    let server = Server::start(
        dir.path(),
        &["--resp", "0.0.0.0:0", "--insecure-no-auth"],
        &[],
    );
    let mut c = crate::util::Resp::connect(std::net::SocketAddr::from((
        [127, 0, 0, 1],
        server.resp.port(),
    )));
    assert_eq!(c.text(&["PING"]), "+PONG\r\n");
}
