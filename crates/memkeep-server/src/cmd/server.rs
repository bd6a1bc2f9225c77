//! Server commands: `INFO`, `CONFIG`, `DBSIZE`, `FLUSHALL`/`FLUSHDB`,
//! `SAVE`, `BGSAVE`, `LASTSAVE`, `SHUTDOWN`, `COMMAND`, `TIME`.

use std::sync::atomic::Ordering;

use memkeep_engine::{FsyncPolicy, Keys};

use super::{Call, CmdResult, TABLE, eq, err, flag, keys, printable, syntax, write};
use crate::info;

pub(crate) fn info(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let sections: Vec<String> = a[1..]
        .iter()
        .map(|s| String::from_utf8_lossy(s).to_lowercase())
        .collect();
    let text = info::render(c.shared, c.client, &sections);
    c.out.verbatim(&text);
    Ok(())
}

pub(crate) fn dbsize(c: &mut Call<'_, '_>, _a: &[&[u8]]) -> CmdResult {
    let n = keys::dbsize_of(c)?;
    c.out.int(n as i64);
    Ok(())
}

pub(crate) fn flushall(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    match a.get(1) {
        None => {}
        Some(m) if a.len() == 2 && (eq(m, "async") || eq(m, "sync")) => {}
        _ => return Err(syntax()),
    }
    write!(c, Keys::All, |tx| tx.flush_all())?;
    c.out.ok();
    Ok(())
}

pub(crate) fn save(c: &mut Call<'_, '_>, _a: &[&[u8]]) -> CmdResult {
    if c.shared.bgsave_running.load(Ordering::Acquire) {
        return Err(err("ERR Background save already in progress"));
    }
    c.shared
        .store
        .snapshot()
        .map_err(|e| err(format!("ERR {e}")))?;
    c.out.ok();
    Ok(())
}

pub(crate) fn bgsave(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    if a.len() > 2 || a.get(1).is_some_and(|s| !eq(s, "schedule")) {
        return Err(syntax());
    }
    if c.shared.bgsave_running.swap(true, Ordering::AcqRel) {
        return Err(err("ERR Background save already in progress"));
    }
    let (store, running) = (c.shared.store.clone(), c.shared.bgsave_running.clone());
    std::thread::spawn(move || {
        if let Err(e) = store.snapshot() {
            tracing::warn!(error = %e, "background snapshot failed");
        }
        running.store(false, Ordering::Release);
    });
    c.out.simple("Background saving started");
    Ok(())
}

pub(crate) fn lastsave(c: &mut Call<'_, '_>, _a: &[&[u8]]) -> CmdResult {
    let at = c
        .shared
        .store
        .last_snapshot()
        .map_or(c.shared.started_unix_ms, |s| s.created_ms);
    c.out.int((at / 1000) as i64);
    Ok(())
}

pub(crate) fn time(c: &mut Call<'_, '_>, _a: &[&[u8]]) -> CmdResult {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    c.out.array(2);
    c.out
        .bulk(itoa::Buffer::new().format(now.as_secs()).as_bytes());
    c.out
        .bulk(itoa::Buffer::new().format(now.subsec_micros()).as_bytes());
    Ok(())
}

pub(crate) fn shutdown(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    for opt in &a[1..] {
        if eq(opt, "abort") {
            return Err(err("ERR No shutdown in progress."));
        }
        if !["nosave", "save", "now", "force"]
            .iter()
            .any(|w| eq(opt, w))
        {
            return Err(syntax());
        }
    }
    tracing::info!(client = c.client.id, "SHUTDOWN requested by a client");
    c.shared.shutdown.request();
    // Redis closes the connection without a reply once shutdown starts.
    c.client.close = true;
    Ok(())
}

/// Changes a setting from `CONFIG SET`'s text, or says why not.
type Setter = fn(&crate::shared::Shared, &str) -> Result<(), String>;

/// The settings `CONFIG GET`/`SET` know. Secrets are never returned.
struct Param {
    name: &'static str,
    get: fn(&crate::shared::Shared) -> String,
    set: Option<Setter>,
}

fn parse_u64(v: &str) -> Result<u64, String> {
    v.parse::<u64>()
        .map_err(|_| "argument couldn't be parsed into an integer".into())
}

const PARAMS: &[Param] = &[
    Param {
        name: "appendfsync",
        get: |s| s.store.fsync_policy().to_string(),
        set: Some(|s, v| {
            let p: FsyncPolicy = v.parse().map_err(|_| {
                "argument(s) must be one of the following: always, everysec, no".to_string()
            })?;
            s.store.set_fsync_policy(p);
            Ok(())
        }),
    },
    Param {
        name: "appendonly",
        get: |_| "yes".into(),
        set: None,
    },
    Param {
        name: "bind",
        get: |s| s.resp_addr.ip().to_string(),
        set: None,
    },
    Param {
        name: "databases",
        get: |_| "1".into(),
        set: None,
    },
    Param {
        name: "dir",
        get: |s| s.store.dir().display().to_string(),
        set: None,
    },
    Param {
        name: "maxclients",
        get: |s| s.limits.max_clients.load(Ordering::Relaxed).to_string(),
        set: Some(|s, v| {
            let n = parse_u64(v)?;
            if n == 0 {
                return Err("argument must be between 1 and 4294967295 inclusive".into());
            }
            s.limits.max_clients.store(n, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "maxmemory",
        get: |_| "0".into(),
        set: None,
    },
    Param {
        name: "maxmemory-policy",
        get: |_| "noeviction".into(),
        set: None,
    },
    Param {
        name: "port",
        get: |s| s.resp_addr.port().to_string(),
        set: None,
    },
    Param {
        name: "proto-max-bulk-len",
        get: |s| s.limits.max_request.load(Ordering::Relaxed).to_string(),
        set: Some(|s, v| {
            let n = parse_u64(v)?;
            if n < 1 << 20 {
                return Err("argument must be a memory value of at least 1mb".into());
            }
            s.limits.max_request.store(n, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "requirepass",
        get: |_| String::new(),
        set: None,
    },
    Param {
        name: "save",
        get: |_| String::new(),
        set: None,
    },
    Param {
        name: "timeout",
        get: |s| (s.limits.client_timeout_ms.load(Ordering::Relaxed) / 1000).to_string(),
        set: Some(|s, v| {
            let n = parse_u64(v)?;
            s.limits
                .client_timeout_ms
                .store(n.saturating_mul(1000), Ordering::Relaxed);
            Ok(())
        }),
    },
];

pub(crate) fn config(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let sub = a[1].to_ascii_lowercase();
    match sub.as_slice() {
        b"get" if a.len() >= 3 => {
            let mut found: Vec<&Param> = Vec::new();
            for pat in &a[2..] {
                for p in PARAMS {
                    if memkeep_engine::glob::glob_match(
                        &pat.to_ascii_lowercase(),
                        p.name.as_bytes(),
                    ) && !found.iter().any(|f| f.name == p.name)
                    {
                        found.push(p);
                    }
                }
            }
            c.out.map(found.len());
            for p in found {
                c.out.bulk(p.name.as_bytes());
                c.out.bulk((p.get)(c.shared).as_bytes());
            }
        }
        b"set" if a.len() >= 4 && a.len().is_multiple_of(2) => {
            // Check every pair before changing anything, as Redis does.
            let mut changes = Vec::new();
            for pair in a[2..].chunks(2) {
                let name = String::from_utf8_lossy(pair[0]).to_lowercase();
                let Some(p) = PARAMS.iter().find(|p| p.name == name) else {
                    return Err(err(format!(
                        "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                        printable(pair[0], 128)
                    )));
                };
                let Some(set) = p.set else {
                    return Err(err(format!(
                        "ERR CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"
                    )));
                };
                changes.push((p.name, set, String::from_utf8_lossy(pair[1]).into_owned()));
            }
            for (name, set, value) in changes {
                set(c.shared, &value).map_err(|why| {
                    err(format!(
                        "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
                    ))
                })?;
            }
            c.out.ok();
        }
        b"resetstat" if a.len() == 2 => {
            c.shared.stats.reset();
            c.out.ok();
        }
        b"rewrite" if a.len() == 2 => {
            return Err(err(
                "ERR CONFIG REWRITE is not supported: memkeep reads its settings from flags, MEMKEEP_* variables and --config",
            ));
        }
        b"get" | b"set" | b"resetstat" | b"rewrite" => {
            return Err(err(format!(
                "ERR wrong number of arguments for 'config|{}' command",
                String::from_utf8_lossy(&sub)
            )));
        }
        _ => {
            return Err(err(format!(
                "ERR unknown subcommand '{}'. Try CONFIG HELP.",
                printable(a[1], 128)
            )));
        }
    }
    Ok(())
}

/// `COMMAND`: enough for clients that introspect (`COUNT`, `LIST`, `INFO`,
/// `DOCS` with no docs).
pub(crate) fn command(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let sub = a.get(1).map(|s| s.to_ascii_lowercase());
    match sub.as_deref() {
        None => {
            c.out.array(TABLE.len());
            for s in TABLE {
                command_info(c, s);
            }
        }
        Some(b"count") if a.len() == 2 => c.out.int(TABLE.len() as i64),
        Some(b"list") if a.len() == 2 => c.out.bulks(TABLE.iter().map(|s| s.name.as_bytes())),
        Some(b"info") => {
            let names: Vec<&[u8]> = if a.len() == 2 {
                TABLE.iter().map(|s| s.name.as_bytes()).collect()
            } else {
                a[2..].to_vec()
            };
            c.out.array(names.len());
            for n in names {
                match super::lookup(n) {
                    Some(s) => command_info(c, s),
                    None => c.out.null_array(),
                }
            }
        }
        Some(b"docs") => c.out.map(0),
        Some(_) => {
            return Err(err(format!(
                "ERR unknown subcommand '{}'. Try COMMAND HELP.",
                printable(a[1], 128)
            )));
        }
    }
    Ok(())
}

fn command_info(c: &mut Call<'_, '_>, s: &super::Spec) {
    c.out.array(10);
    c.out.bulk(s.name.as_bytes());
    c.out.int(i64::from(s.arity));
    let mut flags = Vec::new();
    flags.push(if s.has(flag::WRITE) {
        "write"
    } else {
        "readonly"
    });
    if s.has(flag::ADMIN) {
        flags.push("admin");
    }
    if s.has(flag::NO_AUTH) {
        flags.push("no_auth");
    }
    c.out.set(flags.len());
    for f in flags {
        c.out.simple(f);
    }
    let (first, last, step) = s.keys;
    c.out.int(i64::from(first));
    c.out.int(i64::from(last));
    c.out.int(i64::from(step));
    for _ in 0..4 {
        c.out.array(0); // ACL categories, tips, key specs, subcommands
    }
}
