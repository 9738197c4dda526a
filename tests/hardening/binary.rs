//! The real `mijnkwh` binary as a child process, for what an in-process server cannot show:
//! a SIGKILL, and the memory of the process.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TEST_JWT_SECRET};

pub struct Service {
    pub child: Child,
    pub address: String,
}

impl Service {
    /// Starts the binary on `database_url` with mail written to files under `dir`.
    pub fn start(database_url: &str, dir: &Path, extra: &[(&str, &str)]) -> Service {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mijnkwh"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("JWT_SECRET", TEST_JWT_SECRET)
            .env("KWH_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("KWH_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("MAIL_DIR", dir.join("mail"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (name, value) in extra {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("the binary starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().expect("stdout"))
            .read_line(&mut line)
            .expect("the first line");
        let address = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        Service { child, address }
    }

    /// Resident memory of the process now, in kB.
    pub fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// SIGKILL: no shutdown, no flushing, no goodbye.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }

    pub async fn admin_token(&self, client: &reqwest::Client) -> String {
        let login: serde_json::Value = client
            .post(format!("{}/auth/login", self.address))
            .json(&serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        login["access_token"].as_str().expect("a token").to_string()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
