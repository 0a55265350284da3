//! The real binaries, started as child processes with their logs captured to files.

use std::{path::PathBuf, process::Stdio};

use tokio::process::{Child, Command};

/// Path of a binary built by `cargo build --bins` (as `make test` does first).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test> or target/<profile>/<bin> -> target/<profile>/<name>
    let mut dir = exe.parent().expect("target dir");
    if dir.ends_with("deps") {
        dir = dir.parent().expect("profile dir");
    }
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --bins` first (make test does)",
        path.display()
    );
    path
}

/// A running binary; killed when dropped.
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    pub fn pid(&self) -> i32 {
        self.child
            .id()
            .and_then(|p| i32::try_from(p).ok())
            .expect("running child has a pid")
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), sig).expect("send signal");
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Starts `name` with exactly `env` (plus PATH), logging to a temp file.
pub fn spawn(name: &str, args: &[&str], env: &[(&str, &str)]) -> Proc {
    let log = std::env::temp_dir().join(format!(
        "repopal-{name}-{}.log",
        uuid::Uuid::new_v4().simple()
    ));
    let file = std::fs::File::create(&log).expect("log file");
    let mut cmd = Command::new(bin(name));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .stdout(Stdio::from(file.try_clone().expect("clone log")))
        .stderr(Stdio::from(file))
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Proc {
        child: cmd.spawn().expect("spawn binary"),
        log,
    }
}
