//! The server under test as a child process, and what /proc says about its CPU time and memory.

use anyhow::Context;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct ServerProcess {
    pub child: Child,
    pub base: String,
    pub db: PathBuf,
    _dir: tempfile::TempDir,
}

pub const BENCH_ADMIN_SECRET: &str = "bench-admin-secret";

impl ServerProcess {
    /// Starts `switchboard serve` (this same binary) on a fresh database and a free loopback port.
    pub async fn start() -> anyhow::Result<ServerProcess> {
        let dir = tempfile::tempdir()?;
        let db = dir.path().join("bench.db");
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let exe = std::env::current_exe().context("locating the switchboard binary")?;
        let child = Command::new(exe)
            .args(["serve", "--db"])
            .arg(&db)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("SWITCHBOARD_ADMIN_CLIENT_SECRET", BENCH_ADMIN_SECRET)
            .env("RUST_LOG", "warn")
            // One token drives the whole load: budgets would measure the limiter, not the engine.
            .env("SWITCHBOARD_RATE_PER_IDENTITY", "0")
            .env("SWITCHBOARD_RATE_PER_ADDRESS", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the server")?;
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if http.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            anyhow::ensure!(std::time::Instant::now() < deadline, "the server did not become ready in 30 s");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Ok(ServerProcess { child, base, db, _dir: dir })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Database file plus WAL, in bytes.
    pub fn db_bytes(&self) -> u64 {
        let size = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        size(self.db.clone()) + size(self.db.with_extension("db-wal"))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU seconds (user + system) a process has used.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Resident memory in bytes.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
