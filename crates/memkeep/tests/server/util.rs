//! Real `memkeep serve` processes for the server tests, and a small raw RESP
//! client that shows replies byte for byte.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `memkeep serve` on ports the OS chose.
pub struct Server {
    child: Option<Child>,
    pub resp: SocketAddr,
    pub http: SocketAddr,
    /// Every log line so far (JSON).
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts a server on `dir` with extra flags and environment variables.
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        Self::try_start(dir, args, env)
            .unwrap_or_else(|e| panic!("memkeep serve did not start: {e}"))
    }

    pub fn try_start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Server, String> {
        Self::launch(dir, args, env, None)
    }

    /// Starts a server whose files may not grow past `max_file_bytes`
    /// (RLIMIT_FSIZE): writes past it fail with EFBIG, as on a full disk.
    pub fn start_with_file_limit(dir: &Path, args: &[&str], max_file_bytes: u64) -> Server {
        Self::launch(dir, args, &[], Some(max_file_bytes))
            .unwrap_or_else(|e| panic!("memkeep serve did not start: {e}"))
    }

    fn launch(
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        fsize: Option<u64>,
    ) -> Result<Server, String> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_memkeep"));
        if let Some(limit) = fsize {
            use std::os::unix::process::CommandExt;
            // SAFETY: only async-signal-safe calls between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    let lim = libc::rlimit {
                        rlim_cur: limit,
                        rlim_max: limit,
                    };
                    if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    // Fail the write with EFBIG instead of killing the process.
                    libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                    Ok(())
                });
            }
        }
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(dir)
            .args(["--log-format", "json"])
            .args(args)
            .env_remove("MEMKEEP_AUTH_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for flag in ["--resp", "--http"] {
            if !args.contains(&flag) {
                cmd.args([flag, "127.0.0.1:0"]);
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| e.to_string())?;
        let stderr = child.stderr.take().expect("piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line.clone());
                sink.lock().unwrap().push(line);
            }
        });
        let (mut resp, mut http) = (None, None);
        let deadline = Instant::now() + Duration::from_secs(30);
        while resp.is_none() || http.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                        continue;
                    };
                    if let Some(a) = v["resp_addr"].as_str() {
                        resp = a.parse().ok();
                    }
                    if let Some(a) = v["http_addr"].as_str() {
                        http = a.parse().ok();
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait().map_err(|e| e.to_string())?;
                    let log = log.lock().unwrap().join("\n");
                    return Err(format!("exited or timed out ({status}); log:\n{log}"));
                }
            }
        }
        Ok(Server {
            child: Some(child),
            resp: resp.expect("set"),
            http: http.expect("set"),
            log,
        })
    }

    pub fn connect(&self) -> Resp {
        Resp::connect(self.resp)
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().expect("running").id() as i32
    }

    /// Sends `signal` and waits for the process to exit.
    pub fn signal_and_wait(mut self, signal: i32) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        child.wait().expect("wait for memkeep")
    }

    /// Waits for the process to exit by itself (after `SHUTDOWN`, say).
    pub fn wait(&mut self) -> ExitStatus {
        self.child
            .take()
            .expect("running")
            .wait()
            .expect("wait for memkeep")
    }

    /// Stops with SIGTERM; the exit status.
    pub fn stop(self) -> ExitStatus {
        self.signal_and_wait(libc::SIGTERM)
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// An HTTP request to this server: (status, headers, body).
    pub fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String, Vec<u8>) {
        http_request(self.http, method, path, headers, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A minimal HTTP/1.1 client: one request per connection.
pub fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    try_http_request(addr, method, path, headers, body).expect("an HTTP reply")
}

/// Like [`http_request`], `None` when the connection fails or closes early.
pub fn try_http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<(u16, String, Vec<u8>)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Some((status, head, body))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let n = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[eol + 2 + n + 2..];
    }
}

/// A raw RESP connection.
pub struct Resp {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Resp {
    pub fn connect(addr: SocketAddr) -> Resp {
        let stream = TcpStream::connect(addr).expect("connect RESP");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        Resp {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// Sends one command as an array of bulk strings.
    pub fn send(&mut self, args: &[&[u8]]) {
        self.send_raw(&encode(args));
    }

    /// Sends a command and returns its raw reply.
    pub fn cmd(&mut self, args: &[&str]) -> Vec<u8> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send(&args);
        self.reply().expect("a reply")
    }

    /// Like [`cmd`](Self::cmd), as text.
    pub fn text(&mut self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.cmd(args)).into_owned()
    }

    /// Reads one complete reply (raw bytes); `None` when the server closed.
    pub fn reply(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(n) = reply_len(&self.buf) {
                return Some(self.buf.drain(..n).collect());
            }
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => panic!("reading a reply: {e}"),
            }
        }
    }

    /// Like [`reply`](Self::reply), but `None` on a read error too.
    pub fn try_reply(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(n) = reply_len(&self.buf) {
                return Some(self.buf.drain(..n).collect());
            }
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Whether the server closed the connection (reads EOF within a second).
    pub fn closed(&mut self) -> bool {
        self.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut b = [0u8; 1];
        matches!(self.stream.read(&mut b), Ok(0) | Err(_))
    }
}

pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Length of the complete RESP2/RESP3 value at the start of `b`, if complete.
pub fn reply_len(b: &[u8]) -> Option<usize> {
    let eol = b.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&b[1..eol]).ok()?;
    let after = eol + 2;
    match b.first()? {
        b'+' | b'-' | b':' | b',' | b'_' | b'#' | b'(' => Some(after),
        b'$' | b'=' | b'!' => {
            let n: i64 = line.parse().ok()?;
            if n < 0 {
                return Some(after);
            }
            let end = after + n as usize + 2;
            (b.len() >= end).then_some(end)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n: i64 = line.parse().ok()?;
            if n < 0 {
                return Some(after);
            }
            let items = if matches!(b[0], b'%' | b'|') {
                2 * n
            } else {
                n
            };
            let mut at = after;
            for _ in 0..items {
                at += reply_len(&b[at..])?;
            }
            Some(at)
        }
        _ => panic!(
            "not a RESP reply: {:?}",
            String::from_utf8_lossy(&b[..b.len().min(64)])
        ),
    }
}

/// A fresh temporary data directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}
