//! Captures every log line of the test process (TRACE, every crate, JSON) so a test can search
//! them, e.g. for secrets. One per test binary: it installs the global subscriber.

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

pub struct Guard(Arc<Mutex<Vec<u8>>>);

impl Write for Guard {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLogs {
    type Writer = Guard;
    fn make_writer(&'a self) -> Self::Writer {
        Guard(self.0.clone())
    }
}

impl CapturedLogs {
    /// Installs the capturing subscriber for the whole process.
    pub fn install() -> Self {
        let logs = Self::default();
        tracing_subscriber::fmt()
            .with_env_filter("trace")
            .with_writer(logs.clone())
            .json()
            .init();
        logs
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}
