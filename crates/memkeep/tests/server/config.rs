//! Settings (defaults, flags, `MEMKEEP_*` variables, the TOML file, bad
//! values) and `memkeep status`.

use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Resp, Server, http_request, tempdir};

fn memkeep() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_memkeep"));
    for (k, _) in std::env::vars() {
        if k.starts_with("MEMKEEP_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

#[test]
fn serve_with_no_flags_runs_on_the_documented_defaults() {
    let cwd = tempdir();
    let resp: SocketAddr = "127.0.0.1:6380".parse().unwrap();
    let http: SocketAddr = "127.0.0.1:7070".parse().unwrap();
    assert!(
        TcpStream::connect(resp).is_err() && TcpStream::connect(http).is_err(),
        "ports 6380 and 7070 must be free for this test"
    );
    let mut child = memkeep()
        .arg("serve")
        .current_dir(cwd.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(resp).is_err() {
        assert!(
            Instant::now() < deadline,
            "memkeep serve did not listen on 6380"
        );
        assert!(child.try_wait().unwrap().is_none(), "memkeep serve exited");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut c = Resp::connect(resp);
    assert_eq!(c.text(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(
        c.text(&["CONFIG", "GET", "appendfsync"]),
        "*2\r\n$11\r\nappendfsync\r\n$8\r\neverysec\r\n"
    );
    assert_eq!(http_request(http, "GET", "/healthz", &[], b"").0, 200);
    assert!(
        cwd.path().join("memkeep-data").is_dir(),
        "data goes to ./memkeep-data"
    );
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("RESP listening") && log.contains("journal flushed"),
        "{log}"
    );
    assert!(
        !log.contains('\u{1b}'),
        "no colour codes when stderr is not a terminal: {log}"
    );
}

#[test]
fn help_states_every_default() {
    let out = memkeep().args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for want in [
        "[default: ./memkeep-data]",
        "[default: 127.0.0.1:6380]",
        "[default: 127.0.0.1:7070]",
        "[default: everysec]",
        "[default: 25s]",
        "[default: 1000]",
        "[default: 64M]",
        "[default: 30s]",
        "[env: MEMKEEP_DATA_DIR=]",
        "MEMKEEP_AUTH_TOKEN",
    ] {
        assert!(help.contains(want), "`serve --help` lacks {want}:\n{help}");
    }
}

#[test]
fn settings_come_from_flags_then_variables_then_the_file() {
    let dir = tempdir();
    let file = dir.path().join("memkeep.toml");
    std::fs::write(
        &file,
        "max-clients = 7\nfsync = \"always\"\nclient-timeout = \"9s\"\nmax_request_size = \"2M\"\nthreads = 1\n",
    )
    .unwrap();
    let server = Server::start(
        &dir.path().join("data"),
        &["--config", file.to_str().unwrap(), "--fsync", "no"],
        &[("MEMKEEP_CLIENT_TIMEOUT", "11")],
    );
    let mut c = server.connect();
    let get = |c: &mut Resp, name: &str| -> String {
        let r = c.text(&["CONFIG", "GET", name]);
        r.rsplit("\r\n").nth(1).unwrap().to_owned()
    };
    assert_eq!(get(&mut c, "maxclients"), "7", "from the file");
    assert_eq!(get(&mut c, "appendfsync"), "no", "the flag beats the file");
    assert_eq!(get(&mut c, "timeout"), "11", "the variable beats the file");
    assert_eq!(
        get(&mut c, "proto-max-bulk-len"),
        (2 << 20).to_string(),
        "snake_case keys work too"
    );
}

#[test]
fn bad_settings_are_refused_with_a_clear_error() {
    let dir = tempdir();
    let data = dir.path().join("data");
    let cases: Vec<(Vec<String>, &str, &str)> = vec![
        (
            vec!["--fsync".into(), "sometimes".into()],
            "",
            "invalid value 'sometimes'",
        ),
        (vec!["--shutdown-timeout".into(), "soon".into()], "", "soon"),
        (vec!["--max-request-size".into(), "12Q".into()], "", "12Q"),
        (
            vec!["--resp".into(), "localhost".into()],
            "",
            "invalid value 'localhost'",
        ),
        (vec![], "nonsense = 1\n", "unknown setting `nonsense`"),
        (
            vec![],
            "auth-token = \"x\"\n",
            "read from MEMKEEP_AUTH_TOKEN only",
        ),
        (
            vec![],
            "max-clients = [1]\n",
            "must be a string or a number",
        ),
        (vec![], "this is not toml", "not valid TOML"),
        (vec![], "request-timeout = \"forever\"\n", "request-timeout"),
    ];
    for (args, file_text, want) in cases {
        let mut cmd = memkeep();
        cmd.arg("serve").arg("--data-dir").arg(&data).args(&args);
        if !file_text.is_empty() {
            let file = dir.path().join("bad.toml");
            std::fs::write(&file, file_text).unwrap();
            cmd.arg("--config").arg(&file);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} {file_text:?} was accepted");
        assert!(
            err.contains(want),
            "{args:?} {file_text:?}: the error does not say {want:?}:\n{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    let out = memkeep()
        .args(["serve", "--config", "/nonexistent/memkeep.toml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/memkeep.toml"));
}

#[test]
fn a_busy_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempdir();
    let err = Server::try_start(dir.path(), &["--resp", &addr], &[])
        .err()
        .expect("must fail");
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
}

#[test]
fn status_prints_a_table_and_json() {
    let dir = tempdir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut c = server.connect();
    for i in 0..1234 {
        c.text(&["SET", &format!("k{i}"), "v"]);
    }
    c.text(&["EXPIRE", "k1", "100"]);
    let url = format!("http://{}", server.http);
    let out = memkeep()
        .args(["status", "--server", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    for want in [
        "keys          1,234 (1 with a TTL)",
        "journal       fsync everysec, last record 1,235",
        "healthy",
        "snapshot      none yet",
        &format!("listeners     RESP {}, HTTP {}", server.resp, server.http),
    ] {
        assert!(table.contains(want), "the table lacks {want:?}:\n{table}");
    }
    let out = memkeep()
        .args(["status", "--server", &url, "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["keys"], 1234);
    // No server there: a clear error, exit 1.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = memkeep()
        .args(["status", "--server", &format!("http://{free}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot reach") && err.contains("is `memkeep serve` running"),
        "{err}"
    );
}
