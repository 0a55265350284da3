//! A private PostgreSQL cluster for tests that stop and restart the database.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// A throw-away cluster in a temp directory on a free local port; removed when dropped.
pub struct TempCluster {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
}

fn pg_bin() -> PathBuf {
    if let Ok(dir) = std::env::var("REPOPAL_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.flatten()
                .map(|e| e.path().join("bin"))
                .filter(|p| p.join("initdb").exists())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs.pop()
        .expect("PostgreSQL binaries not found: set REPOPAL_PG_BIN or run `make test`")
}

fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// Runs a PostgreSQL binary, as user `postgres` when we are root.
fn run_pg(bin: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args).output().expect("run a PostgreSQL binary")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl TempCluster {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// A cluster with extra `postgresql.conf` settings (e.g. `("max_connections", "8")`).
    pub fn start_with(settings: &[(&str, &str)]) -> Self {
        let bin = pg_bin();
        let dir =
            std::env::temp_dir().join(format!("repopal-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create cluster dir");
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(&dir)
                .status()
                .expect("chown");
            assert!(ok.success(), "chown cluster dir");
        }
        let data = dir.to_str().expect("utf-8 path");
        let out = run_pg(
            &bin.join("initdb"),
            &[
                "-D",
                data,
                "-U",
                "postgres",
                "--auth=trust",
                "--no-locale",
                "-E",
                "UTF8",
            ],
        );
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let mut conf = format!(
            "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{data}'\nfsync = off\nmax_connections = 100\n"
        );
        for (name, value) in settings {
            conf.push_str(&format!("{name} = {value}\n"));
        }
        let conf_path = dir.join("postgresql.conf");
        let mut existing = std::fs::read_to_string(&conf_path).expect("read conf");
        existing.push_str(&conf);
        std::fs::write(&conf_path, existing).expect("write conf");
        let cluster = Self { port, dir, bin };
        cluster.start_again();
        cluster
    }

    /// URL of the cluster's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The server's log so far (e.g. to count refused connections).
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    pub fn stop(&self) {
        let data = self.dir.to_str().expect("utf-8 path");
        let out = run_pg(
            &self.bin.join("pg_ctl"),
            &["-D", data, "-m", "fast", "-w", "stop"],
        );
        assert!(
            out.status.success(),
            "pg_ctl stop failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn start_again(&self) {
        let data = self.dir.to_str().expect("utf-8 path");
        let log = self.dir.join("server.log");
        let out = run_pg(
            &self.bin.join("pg_ctl"),
            &[
                "-D",
                data,
                "-l",
                log.to_str().expect("utf-8"),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        if let Some(data) = self.dir.to_str() {
            let _ = run_pg(
                &self.bin.join("pg_ctl"),
                &["-D", data, "-m", "immediate", "stop"],
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
