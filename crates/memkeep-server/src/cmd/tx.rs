//! Transactions: `MULTI`, `EXEC`, `DISCARD`, `WATCH`, `UNWATCH`.
//!
//! Queued commands run in one engine transaction holding every shard, so
//! nothing interleaves with them, and they become one journal record: after
//! a crash the transaction is there entirely or not at all.

use memkeep_engine::Keys;

use super::{Call, CmdResult, Db, err, lookup, run};
use crate::client::Multi;

pub(crate) fn multi(c: &mut Call<'_, '_>, _a: &[&[u8]]) -> CmdResult {
    if c.client.multi.is_some() {
        return Err(err("ERR MULTI calls can not be nested"));
    }
    c.client.multi = Some(Multi::default());
    c.out.ok();
    Ok(())
}

pub(crate) fn discard(c: &mut Call<'_, '_>, _a: &[&[u8]]) -> CmdResult {
    if c.client.multi.take().is_none() {
        return Err(err("ERR DISCARD without MULTI"));
    }
    c.client.watch = None;
    c.out.ok();
    Ok(())
}

pub(crate) fn watch(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    if c.client.multi.is_some() {
        return Err(err("ERR WATCH inside MULTI is not allowed"));
    }
    match &mut c.client.watch {
        Some(w) => a[1..].iter().for_each(|k| w.add(k)),
        None => c.client.watch = Some(c.shared.store.watch(&a[1..])),
    }
    c.out.ok();
    Ok(())
}

pub(crate) fn unwatch(c: &mut Call<'_, '_>, _a: &[&[u8]]) -> CmdResult {
    c.client.watch = None;
    c.out.ok();
    Ok(())
}

pub(crate) fn exec(c: &mut Call<'_, '_>, _a: &[&[u8]]) -> CmdResult {
    let Some(multi) = c.client.multi.take() else {
        return Err(err("ERR EXEC without MULTI"));
    };
    let watch = c.client.watch.take();
    if multi.failed {
        return Err(err(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    let store = match &c.db {
        Db::Store(s) => *s,
        Db::Tx(_) => return Err(err("ERR EXEC inside a transaction")),
    };
    let (out, client, shared) = (&mut *c.out, &mut *c.client, c.shared);
    store.transaction(Keys::All, |tx| {
        if watch.as_ref().is_some_and(|w| w.changed()) {
            out.null_array();
            return Ok(());
        }
        out.array(multi.queued.len());
        for args in &multi.queued {
            let argv: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            let spec = lookup(argv[0]).expect("queued commands were looked up");
            let mut call = Call {
                db: Db::Tx(&mut *tx),
                out: &mut *out,
                client: &mut *client,
                shared,
            };
            run(&mut call, spec, &argv);
        }
        Ok(())
    })?;
    Ok(())
}
