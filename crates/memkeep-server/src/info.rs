//! `INFO`: Redis's sections and field names (clients and dashboards parse
//! them), plus memkeep's own journal and snapshot fields. Never the token.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use crate::client::Client;
use crate::cmd::connection::REDIS_COMPAT_VERSION;
use crate::shared::Shared;

const DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "keyspace",
];

/// The process's resident set size, in bytes.
pub(crate) fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

pub(crate) fn human(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..1024 => format!("{bytes}B"),
        1024..1_048_576 => format!("{:.2}K", b / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.2}M", b / 1_048_576.0),
        _ => format!("{:.2}G", b / 1_073_741_824.0),
    }
}

fn cpu_seconds() -> (f64, f64) {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return (0.0, 0.0);
    }
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(u.ru_stime), t(u.ru_utime))
}

/// The `INFO` text for `sections` (empty: the default set).
pub(crate) fn render(s: &Shared, client: &Client, sections: &[String]) -> String {
    let all = ["default", "all", "everything"];
    let wanted: Vec<&str> =
        if sections.is_empty() || sections.iter().any(|x| all.contains(&x.as_str())) {
            DEFAULT.to_vec()
        } else {
            sections.iter().map(String::as_str).collect()
        };
    let mut out = String::new();
    for name in DEFAULT.iter().filter(|d| wanted.contains(d)) {
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        section(&mut out, s, client, name);
    }
    out
}

fn section(out: &mut String, s: &Shared, client: &Client, name: &str) {
    let store = &s.store;
    let uptime = s.started.elapsed().as_secs();
    macro_rules! line {
        ($($arg:tt)*) => {{
            let _ = write!(out, $($arg)*);
            out.push_str("\r\n");
        }};
    }
    match name {
        "server" => {
            line!("# Server");
            line!("redis_version:{REDIS_COMPAT_VERSION}");
            line!("memkeep_version:{}", env!("CARGO_PKG_VERSION"));
            line!("redis_mode:standalone");
            line!("os:{} {}", std::env::consts::OS, std::env::consts::ARCH);
            line!("arch_bits:64");
            line!("process_id:{}", std::process::id());
            line!("tcp_port:{}", s.resp_addr.port());
            line!("uptime_in_seconds:{uptime}");
            line!("uptime_in_days:{}", uptime / 86400);
        }
        "clients" => {
            line!("# Clients");
            line!(
                "connected_clients:{}",
                s.stats.connected.load(Ordering::Relaxed)
            );
            line!(
                "maxclients:{}",
                s.limits.max_clients.load(Ordering::Relaxed)
            );
            line!("blocked_clients:0");
            line!("memkeep_client_id:{}", client.id);
        }
        "memory" => {
            let used = store.used_memory();
            let rss = rss_bytes();
            line!("# Memory");
            line!("used_memory:{used}");
            line!("used_memory_human:{}", human(used));
            line!("used_memory_rss:{rss}");
            line!("used_memory_rss_human:{}", human(rss));
            line!("maxmemory:0");
            line!("maxmemory_human:0B");
            line!("maxmemory_policy:noeviction");
            line!("mem_allocator:libc");
        }
        "persistence" => {
            let st = store.stats().ok().unwrap_or_default();
            let snap = st.last_snapshot.as_ref();
            line!("# Persistence");
            line!("loading:0");
            line!(
                "rdb_changes_since_last_save:{}",
                st.last_seq - snap.map_or(0, |x| x.seq)
            );
            line!(
                "rdb_bgsave_in_progress:{}",
                u8::from(s.bgsave_running.load(Ordering::Relaxed))
            );
            line!(
                "rdb_last_save_time:{}",
                snap.map_or(s.started_unix_ms, |x| x.created_ms) / 1000
            );
            line!("rdb_last_bgsave_status:ok");
            line!("aof_enabled:1");
            line!("aof_rewrite_in_progress:0");
            line!(
                "aof_last_write_status:{}",
                if st.poisoned.is_some() { "err" } else { "ok" }
            );
            line!("memkeep_fsync:{}", store.fsync_policy());
            line!("memkeep_last_seq:{}", st.last_seq);
            line!("memkeep_synced_seq:{}", st.synced_seq);
            line!("memkeep_journal_segments:{}", st.journal_segments);
            line!("memkeep_journal_bytes:{}", st.journal_bytes);
            line!("memkeep_snapshot_seq:{}", snap.map_or(0, |x| x.seq));
            line!("memkeep_snapshot_bytes:{}", snap.map_or(0, |x| x.bytes));
        }
        "stats" => {
            let st = &s.stats;
            line!("# Stats");
            line!(
                "total_connections_received:{}",
                st.connections_total.load(Ordering::Relaxed)
            );
            line!("total_commands_processed:{}", st.commands.get());
            line!("total_net_input_bytes:{}", st.net_in.get());
            line!("total_net_output_bytes:{}", st.net_out.get());
            line!(
                "rejected_connections:{}",
                st.rejected.load(Ordering::Relaxed)
            );
            line!("total_error_replies:{}", st.error_replies.get());
        }
        "replication" => {
            line!("# Replication");
            line!("role:master");
            line!("connected_slaves:0");
        }
        "cpu" => {
            let (sys, user) = cpu_seconds();
            line!("# CPU");
            line!("used_cpu_sys:{sys:.6}");
            line!("used_cpu_user:{user:.6}");
        }
        "keyspace" => {
            line!("# Keyspace");
            let st = store.stats().ok().unwrap_or_default();
            if st.keys > 0 {
                line!(
                    "db0:keys={},expires={},avg_ttl=0",
                    st.keys,
                    st.volatile_keys
                );
            }
        }
        _ => {}
    }
}
