//! Connection commands: `PING`, `ECHO`, `QUIT`, `HELLO`, `AUTH`, `SELECT`,
//! `CLIENT`.

use super::{Call, CmdResult, eq, err, int_arg, printable};
use crate::resp::reply::Proto;

/// The Redis version memkeep answers like (what `HELLO` and `INFO` report).
pub(crate) const REDIS_COMPAT_VERSION: &str = "7.0.15";

pub(crate) fn ping(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    match a.len() {
        1 => c.out.simple("PONG"),
        2 => c.out.bulk(a[1]),
        _ => {
            return Err(err(super::wrong_arity(
                super::lookup(b"ping").expect("known"),
            )));
        }
    }
    Ok(())
}

pub(crate) fn echo(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    c.out.bulk(a[1]);
    Ok(())
}

pub(crate) fn quit(c: &mut Call<'_, '_>, _a: &[&[u8]]) -> CmdResult {
    c.out.ok();
    c.client.close = true;
    Ok(())
}

/// Checks credentials: `Ok(())`, or the error line to send.
fn check_credentials(c: &mut Call<'_, '_>, user: Option<&[u8]>, pass: &[u8]) -> CmdResult {
    match &c.shared.auth {
        None => {
            // No token: the default user takes any password, others exist not.
            if user.is_none() {
                return Err(err(
                    "ERR AUTH <password> called without any password configured for the default user. \
                     Are you sure your configuration is correct?",
                ));
            }
            if user.is_some_and(|u| u != b"default") {
                return Err(err(
                    "WRONGPASS invalid username-password pair or user is disabled.",
                ));
            }
            c.client.authed = true;
            Ok(())
        }
        Some(token) => {
            let user_ok = user.is_none_or(|u| u == b"default");
            if user_ok && token.matches(pass) {
                c.client.authed = true;
                Ok(())
            } else {
                c.shared
                    .stats
                    .auth_failures
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Err(err(
                    "WRONGPASS invalid username-password pair or user is disabled.",
                ))
            }
        }
    }
}

pub(crate) fn auth(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    match a.len() {
        2 => check_credentials(c, None, a[1])?,
        3 => check_credentials(c, Some(a[1]), a[2])?,
        _ => return Err(super::syntax()),
    }
    c.out.ok();
    Ok(())
}

pub(crate) fn hello(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let mut proto = None;
    let mut j = 1;
    if a.len() >= 2 {
        let v = int_arg(a[1])
            .map_err(|_| err("ERR Protocol version is not an integer or out of range"))?;
        proto = Some(match v {
            2 => Proto::Resp2,
            3 => Proto::Resp3,
            _ => return Err(err("NOPROTO unsupported protocol version")),
        });
        j = 2;
    }
    let mut name = None;
    while j < a.len() {
        let more = a.len() - j - 1;
        if eq(a[j], "auth") && more >= 2 {
            check_credentials(c, Some(a[j + 1]), a[j + 2])?;
            j += 3;
        } else if eq(a[j], "setname") && more >= 1 {
            name = Some(a[j + 1]);
            j += 2;
        } else {
            return Err(err(format!(
                "ERR Syntax error in HELLO option '{}'",
                printable(a[j], 128)
            )));
        }
    }
    if !c.client.authed {
        return Err(err(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH \
             <user> <pass> option can be used to authenticate the client and select the RESP protocol version at \
             the same time",
        ));
    }
    if let Some(n) = name {
        set_name(c, n)?;
    }
    if let Some(p) = proto {
        c.out.proto = p;
    }
    let proto_num = if c.out.resp3() { 3 } else { 2 };
    c.out.map(7);
    c.out.bulk(b"server");
    c.out.bulk(b"redis");
    c.out.bulk(b"version");
    c.out.bulk(REDIS_COMPAT_VERSION.as_bytes());
    c.out.bulk(b"proto");
    c.out.int(proto_num);
    c.out.bulk(b"id");
    c.out.int(c.client.id as i64);
    c.out.bulk(b"mode");
    c.out.bulk(b"standalone");
    c.out.bulk(b"role");
    c.out.bulk(b"master");
    c.out.bulk(b"modules");
    c.out.array(0);
    Ok(())
}

pub(crate) fn select(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    match int_arg(a[1])? {
        0 => {
            c.out.ok();
            Ok(())
        }
        _ => Err(err("ERR DB index is out of range")),
    }
}

fn set_name(c: &mut Call<'_, '_>, name: &[u8]) -> CmdResult {
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(err(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    c.client.name = (!name.is_empty()).then(|| name.to_vec());
    Ok(())
}

pub(crate) fn client(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let sub = a[1].to_ascii_lowercase();
    let arity_err = |s: &str| {
        err(format!(
            "ERR wrong number of arguments for 'client|{s}' command"
        ))
    };
    match sub.as_slice() {
        b"id" if a.len() == 2 => c.out.int(c.client.id as i64),
        b"getname" if a.len() == 2 => {
            let name = c.client.name.clone();
            c.out.bulk_opt(name.as_deref());
        }
        b"setname" if a.len() == 3 => {
            set_name(c, a[2])?;
            c.out.ok();
        }
        b"setinfo" if a.len() == 4 => {
            if !eq(a[2], "lib-name") && !eq(a[2], "lib-ver") {
                return Err(err(format!(
                    "ERR Unrecognized option '{}'",
                    printable(a[2], 128)
                )));
            }
            c.out.ok();
        }
        b"info" if a.len() == 2 => {
            let line = c.client.info_line(c.out.proto);
            c.out.verbatim(&line);
        }
        b"list" => {
            let line = c.client.info_line(c.out.proto);
            c.out.verbatim(&line);
        }
        b"help" => {
            let lines = [
                "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "ID",
                "    Return the ID of the current connection.",
                "GETNAME",
                "    Return the name of the current connection.",
                "SETNAME <name>",
                "    Assign the name <name> to the current connection.",
                "SETINFO <LIB-NAME|LIB-VER> <value>",
                "    Accepted and ignored (for newer clients).",
                "INFO",
                "    Return information about the current client connection.",
                "LIST",
                "    Return information about client connections (this one only).",
                "HELP",
                "    Print this help.",
            ];
            c.out.array(lines.len());
            for l in lines {
                c.out.simple(l);
            }
        }
        b"id" | b"getname" | b"setname" | b"setinfo" | b"info" => {
            return Err(arity_err(&String::from_utf8_lossy(&sub)));
        }
        _ => {
            return Err(err(format!(
                "ERR unknown subcommand '{}'. Try CLIENT HELP.",
                printable(a[1], 128)
            )));
        }
    }
    Ok(())
}
