//! Real Redis clients against `memkeep serve`: Debian's `redis-cli` and
//! PyPI's `redis-py`, each running a script of checks (tests/clients/).

use std::path::PathBuf;
use std::process::Command;

use crate::util::{Server, tempdir};

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(name)
}

/// Runs a client script; a missing tool fails with what to install.
fn run(program: &str, args: &[String], install: &str) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}): {install}, or run .ci/run"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if text.contains("No module named 'redis'") {
        panic!("Python's redis package is missing: {install}, or run .ci/run");
    }
    assert!(out.status.success(), "{program} {args:?} failed:\n{text}");
    assert!(text.contains("all checks passed"), "{text}");
}

#[test]
fn redis_cli_runs_every_command_family() {
    assert!(
        Command::new("redis-cli").arg("--version").output().is_ok(),
        "redis-cli is missing: apt-get install redis-tools, or run .ci/run"
    );
    let dir = tempdir();
    let server = Server::start(dir.path(), &[], &[]);
    run(
        "bash",
        &[
            script("redis_cli.sh").display().to_string(),
            server.resp.port().to_string(),
        ],
        "apt-get install redis-tools",
    );
}

#[test]
fn redis_py_runs_every_command_family_transactions_and_pipelines() {
    let dir = tempdir();
    let server = Server::start(dir.path(), &[], &[]);
    run(
        "python3",
        &[
            script("redis_py.py").display().to_string(),
            server.resp.port().to_string(),
        ],
        "pip install redis",
    );
}

#[test]
fn redis_py_authenticates_with_the_token() {
    let dir = tempdir();
    let token = "py-client-token";
    let server = Server::start(dir.path(), &[], &[("MEMKEEP_AUTH_TOKEN", token)]);
    run(
        "python3",
        &[
            script("redis_py.py").display().to_string(),
            server.resp.port().to_string(),
            token.to_owned(),
        ],
        "pip install redis",
    );
}
