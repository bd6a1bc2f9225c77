//! One client connection's state.

use std::net::SocketAddr;
use std::time::Instant;

use memkeep_engine::Watch;

use crate::resp::reply::Proto;

/// A `MULTI` in progress.
#[derive(Default)]
pub(crate) struct Multi {
    /// Commands queued, with their arguments.
    pub queued: Vec<Vec<Vec<u8>>>,
    /// A command could not be queued: `EXEC` will refuse.
    pub failed: bool,
}

pub(crate) struct Client {
    pub id: u64,
    pub addr: SocketAddr,
    pub local: SocketAddr,
    pub name: Option<Vec<u8>>,
    pub authed: bool,
    pub multi: Option<Multi>,
    pub watch: Option<Watch>,
    /// Close the connection once the replies so far are written.
    pub close: bool,
    pub created: Instant,
    pub last_command: Instant,
}

impl Client {
    pub(crate) fn new(id: u64, addr: SocketAddr, local: SocketAddr, authed: bool) -> Client {
        let now = Instant::now();
        Client {
            id,
            addr,
            local,
            name: None,
            authed,
            multi: None,
            watch: None,
            close: false,
            created: now,
            last_command: now,
        }
    }

    /// This client's line of `CLIENT INFO` / `CLIENT LIST`.
    pub(crate) fn info_line(&self, proto: Proto) -> String {
        let name = self
            .name
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        format!(
            "id={} addr={} laddr={} fd=0 name={} age={} idle={} flags={} db=0 sub=0 psub=0 ssub=0 multi={} \
             qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r \
             cmd=client|info user=default redir=-1 resp={}\n",
            self.id,
            self.addr,
            self.local,
            name,
            self.created.elapsed().as_secs(),
            self.last_command.elapsed().as_secs(),
            if self.multi.is_some() { "x" } else { "N" },
            self.multi.as_ref().map_or(-1, |m| m.queued.len() as i64),
            if proto == Proto::Resp3 { 3 } else { 2 },
        )
    }
}
