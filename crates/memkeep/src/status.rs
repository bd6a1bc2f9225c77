//! `memkeep status`: a running server's `/v1/status`, as a table a person
//! reads at a glance (the seed's `/storage` output is the spirit).

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::cli::StatusArgs;

pub fn run(args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let base = args.server.trim_end_matches('/');
    if base.starts_with("https://") {
        bail!(
            "https is not supported by `memkeep status`; reach the server over http (for example through an SSH tunnel)"
        );
    }
    let url = format!("{base}/v1/status");
    let mut req = ureq::get(&url);
    if let Some(token) = std::env::var_os("MEMKEEP_AUTH_TOKEN").filter(|t| !t.is_empty()) {
        req = req.header(
            "Authorization",
            format!("Bearer {}", token.to_string_lossy()),
        );
    }
    let mut resp = match req.config().http_status_as_error(false).build().call() {
        Ok(r) => r,
        Err(e) => bail!("cannot reach {url}: {e} (is `memkeep serve` running there?)"),
    };
    let status = resp.status();
    let body = resp
        .body_mut()
        .read_to_string()
        .with_context(|| format!("reading the reply from {url}"))?;
    let value: Value =
        serde_json::from_str(&body).with_context(|| format!("{url} did not answer JSON"))?;
    if !status.is_success() {
        let msg = value["error"]["message"].as_str().unwrap_or("no message");
        bail!("{url} answered {status}: {msg}");
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        write_table(&mut out, base, &value)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

fn thousands(x: u64) -> String {
    let s = x.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bytes(x: u64) -> String {
    match x {
        x if x >= 1 << 30 => format!("{:.1} GiB", x as f64 / (1u64 << 30) as f64),
        x if x >= 1 << 20 => format!("{:.1} MiB", x as f64 / (1u64 << 20) as f64),
        x if x >= 1 << 10 => format!("{:.1} KiB", x as f64 / 1024.0),
        x => format!("{x} B"),
    }
}

fn ago(unix_ms: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    duration(now.saturating_sub(unix_ms) / 1000) + " ago"
}

fn duration(secs: u64) -> String {
    match secs {
        s if s >= 86_400 => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{}m {}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

fn write_table(out: &mut impl Write, base: &str, v: &Value) -> std::io::Result<()> {
    let j = &v["journal"];
    writeln!(
        out,
        "memkeep {} at {base}, up {}{}",
        v["version"].as_str().unwrap_or("?"),
        duration(n(&v["uptime_seconds"])),
        if v["auth"].as_bool() == Some(true) {
            ", token required"
        } else {
            ""
        }
    )?;
    writeln!(
        out,
        "  keys          {} ({} with a TTL)",
        thousands(n(&v["keys"])),
        thousands(n(&v["keys_with_ttl"]))
    )?;
    writeln!(
        out,
        "  memory        {} used by data, {} resident",
        bytes(n(&v["memory"]["used_bytes"])),
        bytes(n(&v["memory"]["rss_bytes"]))
    )?;
    let health = match j["error"].as_str() {
        Some(e) => format!("FAILED: {e}"),
        None => "healthy".into(),
    };
    writeln!(
        out,
        "  journal       fsync {}, last record {}, on disk through {}, {} segment(s), {}: {health}",
        j["fsync"].as_str().unwrap_or("?"),
        thousands(n(&j["last_seq"])),
        thousands(n(&j["synced_seq"])),
        n(&j["segments"]),
        bytes(n(&j["bytes"])),
    )?;
    match v["snapshot"].as_object() {
        Some(s) => writeln!(
            out,
            "  snapshot      at record {}, {} keys, {}, taken {}",
            thousands(n(&s["seq"])),
            thousands(n(&s["keys"])),
            bytes(n(&s["bytes"])),
            ago(n(&s["created_unix_ms"]))
        )?,
        None => writeln!(
            out,
            "  snapshot      none yet (everything is in the journal)"
        )?,
    }
    writeln!(
        out,
        "  recovery      replayed {} records in {:.3} s at start",
        thousands(n(&v["recovery"]["records_replayed"])),
        v["recovery"]["seconds"].as_f64().unwrap_or(0.0)
    )?;
    writeln!(
        out,
        "  connections   {} RESP, {} HTTP; {} commands served",
        n(&v["connections"]["resp"]),
        n(&v["connections"]["http"]),
        thousands(n(&v["commands_processed"]))
    )?;
    let backups = v["backups"].as_array().map_or(0, Vec::len);
    if backups == 0 {
        writeln!(out, "  backups       none configured")?;
    }
    writeln!(
        out,
        "  listeners     RESP {}, HTTP {}",
        v["listeners"]["resp"].as_str().unwrap_or("?"),
        v["listeners"]["http"].as_str().unwrap_or("?")
    )
}
