//! The seed's `MemoryStorageManager` (a Telegram bot keeping per-user
//! configs in Python dicts and dumping them to JSON every few minutes),
//! rewritten on memkeep: every save is durable when it returns.
//!
//! `cargo run -p memkeep-engine --example bot_storage -- ./bot-data`

use memkeep_engine::{Options, Reads, Store};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Default)]
struct UserConfig {
    lang: String,
    channels: Vec<i64>,
}

/// The seed's collections, one hash each: `user_configs`, `user_states`,
/// `user_history`, `user_login`, `running_tasks`.
struct BotStorage {
    store: Store,
    bot_id: String,
}

impl BotStorage {
    fn open(dir: &str, bot_id: &str) -> memkeep_engine::Result<BotStorage> {
        Ok(BotStorage {
            store: Store::open(Options::new(dir))?,
            bot_id: bot_id.to_owned(),
        })
    }

    fn collection(&self, name: &str) -> String {
        format!("{}:{name}", self.bot_id)
    }

    fn save_config(&self, user: i64, cfg: &UserConfig) -> Result<(), Box<dyn std::error::Error>> {
        let doc = serde_json::to_vec(cfg)?;
        self.store
            .hset(self.collection("user_configs"), [(user.to_string(), doc)])?;
        Ok(())
    }

    fn load_config(&self, user: i64) -> Result<Option<UserConfig>, Box<dyn std::error::Error>> {
        let raw = self
            .store
            .hget(self.collection("user_configs"), user.to_string())?;
        Ok(raw.map(|b| serde_json::from_slice(&b)).transpose()?)
    }

    /// What the seed's `/storage` command showed.
    fn status(&self) -> memkeep_engine::Result<String> {
        let stats = self.store.stats()?;
        let mut out = format!(
            "storage: {} keys, {:.1} MB in memory, last write #{}, fsynced through #{}\n",
            stats.keys,
            stats.used_memory as f64 / 1e6,
            stats.last_seq,
            stats.synced_seq
        );
        for name in [
            "user_configs",
            "user_states",
            "user_history",
            "user_login",
            "running_tasks",
        ] {
            let n = self.store.hlen(self.collection(name))?;
            out.push_str(&format!("  {name}: {n} entries\n"));
        }
        Ok(out)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "./bot-data".into());
    let storage = BotStorage::open(&dir, "wang")?;
    storage.save_config(
        12345,
        &UserConfig {
            lang: "zh".into(),
            channels: vec![-1001234567890],
        },
    )?;
    println!("{:?}", storage.load_config(12345)?);
    print!("{}", storage.status()?);
    Ok(())
}
