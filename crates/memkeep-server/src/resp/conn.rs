//! One RESP connection: read, run every complete command (a pipeline runs
//! as a batch), make the batch's writes durable once, write all replies.
//!
//! Bounds: a request may not exceed `max_request` bytes; a partial request
//! must complete within `request_timeout` (a slow client cannot pin a
//! connection); an idle client is closed after `timeout` if set; the read
//! buffer is shrunk after a large request; replies are written out once
//! they pass 1 MiB instead of growing without limit.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use memkeep_engine::{FsyncPolicy, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::parse::{Parsed, ProtocolError, parse};
use super::reply::{Out, Proto};
use crate::client::Client;
use crate::cmd::{self, Call, Db, flag};
use crate::shared::Shared;

/// Read buffer size, and what a buffer is shrunk back to after a large request.
const READ_CHUNK: usize = 16 * 1024;
/// How long a client caught mid-request by a shutdown may take to finish it.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);
/// Replies are written out once this much is pending.
const OUT_FLUSH: usize = 1 << 20;

/// Serves one client until it quits, errs, idles out, or the server stops.
pub(crate) async fn serve(stream: TcpStream, shared: Arc<Shared>, request_timeout: Duration) {
    let _ = stream.set_nodelay(true);
    let (Ok(addr), Ok(local)) = (stream.peer_addr(), stream.local_addr()) else {
        return;
    };
    let id = shared.next_client_id.fetch_add(1, Ordering::Relaxed);
    let mut client = Client::new(id, addr, local, shared.auth.is_none());
    let (mut rd, mut wr) = stream.into_split();
    let mut inbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut out = Out::new(Proto::Resp2);
    let mut ranges = Vec::new();
    let mut shutdown = shared.shutdown.listen();
    let mut shutting_down = false;
    let store = &shared.store;
    loop {
        // Run every complete command already read (a pipeline is one batch).
        let ((commands, more), seq) =
            store.deferred(|| run_batch(&mut inbuf, &mut ranges, &mut out, &mut client, &shared));
        shared.stats.commands.add(commands as u64);
        if seq > 0
            && let Err(e) = durable(store, seq).await
        {
            // Nothing of this batch may be reported as done.
            out.buf.clear();
            let line = e.redis_message();
            for _ in 0..commands {
                out.error(&line);
            }
            client.close = true;
        }
        if !out.buf.is_empty() {
            shared.stats.net_out.add(out.buf.len() as u64);
            if wr.write_all(&out.buf).await.is_err() {
                break;
            }
            shrink(&mut out.buf, OUT_FLUSH);
            out.buf.clear();
        }
        if client.close {
            break;
        }
        if more {
            continue; // replies filled up before the input ran out
        }
        if inbuf.is_empty() && inbuf.capacity() > 4 * READ_CHUNK {
            inbuf = BytesMut::with_capacity(READ_CHUNK); // give a large request's buffer back
        }
        // At shutdown an idle client is let go; one in the middle of a
        // request gets a short grace to finish sending it.
        if shutting_down && inbuf.is_empty() {
            break;
        }
        // Read more: an idle client may wait `timeout`; a partial request
        // must complete within `request_timeout`.
        let idle = shared.limits.client_timeout_ms.load(Ordering::Relaxed);
        let wait = if inbuf.is_empty() {
            (idle > 0).then(|| Duration::from_millis(idle))
        } else if shutting_down {
            Some(request_timeout.min(SHUTDOWN_GRACE))
        } else {
            Some(request_timeout)
        };
        if inbuf.capacity() - inbuf.len() < READ_CHUNK / 4 {
            inbuf.reserve(READ_CHUNK);
        }
        let read = async {
            match wait {
                Some(t) => tokio::time::timeout(t, rd.read_buf(&mut inbuf))
                    .await
                    .unwrap_or(Ok(0)),
                None => rd.read_buf(&mut inbuf).await,
            }
        };
        let n = tokio::select! {
            r = read => r,
            () = shutdown.requested(), if !shutting_down => {
                shutting_down = true;
                continue;
            }
        };
        match n {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                shared.stats.net_in.add(n as u64);
                // Once per read, not per command: the clock is not free.
                client.last_command = std::time::Instant::now();
            }
        }
    }
    let _ = wr.shutdown().await;
}

fn shrink(v: &mut Vec<u8>, max: usize) {
    if v.capacity() > max * 2 {
        *v = Vec::with_capacity(max);
    }
}

/// Waits until record `seq` is durable: others' records written meanwhile
/// ride along (the yield lets every ready connection add its own first).
async fn durable(store: &Store, seq: u64) -> memkeep_engine::Result<()> {
    if store.fsync_policy() == FsyncPolicy::Always {
        let store = store.clone();
        return tokio::task::spawn_blocking(move || store.wait_durable(seq))
            .await
            .unwrap_or(Err(memkeep_engine::Error::Closed));
    }
    tokio::task::yield_now().await;
    store.wait_durable(seq)
}

/// Runs every complete command in `inbuf`: how many ran, and whether it
/// stopped early because the replies filled up (more may be ready).
fn run_batch(
    inbuf: &mut BytesMut,
    ranges: &mut Vec<std::ops::Range<usize>>,
    out: &mut Out,
    client: &mut Client,
    shared: &Shared,
) -> (usize, bool) {
    let max = shared.limits.max_request.load(Ordering::Relaxed);
    let mut consumed = 0;
    let mut commands = 0;
    let mut full = false;
    let mut args: Vec<&[u8]> = Vec::with_capacity(8);
    while !client.close {
        if out.buf.len() >= OUT_FLUSH {
            full = true;
            break;
        }
        let rest = &inbuf[consumed..];
        match parse(rest, ranges, max, max) {
            Ok(Parsed::Incomplete) => break,
            Ok(Parsed::Empty { used }) => consumed += used,
            Ok(Parsed::Command { used }) => {
                args.clear();
                args.extend(ranges.iter().map(|r| &rest[r.clone()]));
                execute(&args, out, client, shared);
                consumed += used;
                commands += 1;
            }
            Ok(Parsed::Inline { used, args }) => {
                let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                execute(&args, out, client, shared);
                consumed += used;
                commands += 1;
            }
            Err(ProtocolError(msg)) => {
                out.error(&format!("ERR Protocol error: {msg}"));
                shared.stats.error_replies.add(1);
                client.close = true;
                commands += 1;
                break;
            }
        }
    }
    inbuf.advance(consumed);
    (commands, full)
}

/// Checks and runs (or queues, inside `MULTI`) one command, in Redis's
/// order: unknown command, arity, authentication.
fn execute(args: &[&[u8]], out: &mut Out, client: &mut Client, shared: &Shared) {
    let reject = |out: &mut Out, client: &mut Client, line: &str| {
        out.error(line);
        shared.stats.error_replies.add(1);
        if let Some(m) = &mut client.multi {
            m.failed = true;
        }
    };
    let Some(spec) = cmd::lookup(args[0]) else {
        return reject(out, client, &cmd::unknown_command(args));
    };
    if !spec.arity_ok(args.len()) {
        return reject(out, client, &cmd::wrong_arity(spec));
    }
    if !client.authed && !spec.has(flag::NO_AUTH) {
        return reject(out, client, "NOAUTH Authentication required.");
    }
    if client.multi.is_some() && !spec.has(flag::NO_QUEUE) {
        if spec.has(flag::NO_MULTI) {
            return reject(out, client, "ERR Command not allowed inside a transaction");
        }
        let owned = args.iter().map(|a| a.to_vec()).collect();
        client.multi.as_mut().expect("checked").queued.push(owned);
        out.simple("QUEUED");
        return;
    }
    let before = out.buf.len();
    let mut call = Call {
        db: Db::Store(&shared.store),
        out,
        client,
        shared,
    };
    cmd::run(&mut call, spec, args);
    if out.buf.get(before) == Some(&b'-') {
        shared.stats.error_replies.add(1);
    }
}
