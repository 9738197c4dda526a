//! A real SMTP server process for the tests: Python's aiosmtpd, in a virtual environment the
//! tests create once (under target/) from PyPI. Messages land in a Maildir we read back.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

static PYTHON: OnceLock<PathBuf> = OnceLock::new();
static INSTALL: Mutex<()> = Mutex::new(());

/// The venv's python with aiosmtpd installed; created on first use.
fn python() -> &'static Path {
    PYTHON.get_or_init(|| {
        let _guard = INSTALL.lock().unwrap();
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("smtp-venv");
        let python = venv.join("bin/python");
        let ready = |python: &Path| {
            Command::new(python)
                .args(["-c", "import aiosmtpd"])
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if !ready(&python) {
            let status = Command::new("python3")
                .arg("-m")
                .arg("venv")
                .arg(&venv)
                .status()
                .expect("python3 is installed");
            assert!(status.success(), "creating the venv for aiosmtpd failed");
            let output = Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "aiosmtpd==1.4.6"])
                .output()
                .expect("pip runs");
            assert!(
                output.status.success(),
                "pip install aiosmtpd failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        python
    })
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct SmtpServer {
    pub port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
    child: Child,
}

#[derive(Debug, Clone)]
pub struct Mail {
    pub message_id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Mail {
    /// The token of the first link in the message that carries `?token=`.
    pub fn link_token(&self) -> String {
        let start = self.text.find("token=").expect("a link with a token") + "token=".len();
        self.text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }
}

/// What the server does with a message: keep it, or what a module of our own says.
enum Handler {
    Mailbox,
    /// Writes the module into the folder and returns the handler's class path.
    Python(fn(&Path) -> &'static str),
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        Self::start_on(free_port())
    }

    pub fn start_on(port: u16) -> SmtpServer {
        Self::start_with_handler(port, Handler::Mailbox)
    }

    /// A server that refuses every recipient as a mailbox that does not exist, with the reply
    /// text a Postfix server sends (it names the address and the server's tables).
    pub fn start_rejecting_recipients() -> SmtpServer {
        Self::start_with_handler(
            free_port(),
            Handler::Python(|dir| {
                let handler = [
                    "class UnknownMailbox:",
                    "    async def handle_RCPT(self, server, session, envelope, address, options):",
                    "        return '550 5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table' % address",
                ];
                std::fs::write(dir.join("rejecting.py"), handler.join("\n") + "\n").unwrap();
                "rejecting.UnknownMailbox"
            }),
        )
    }

    fn start_with_handler(port: u16, handler: Handler) -> SmtpServer {
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("maildir");
        let mut command = Command::new(python());
        command.args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c"]);
        match handler {
            Handler::Mailbox => command.arg("aiosmtpd.handlers.Mailbox").arg(&maildir),
            Handler::Python(write) => command.arg(write(dir.path())).env("PYTHONPATH", dir.path()),
        };
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpServer {
            port,
            maildir,
            _dir: dir,
            child,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn messages(&self) -> Vec<Mail> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        entries
            .filter_map(|entry| std::fs::read(entry.ok()?.path()).ok())
            .map(|raw| parse(&raw))
            .collect()
    }

    /// Waits until at least `count` messages arrived, then returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {count} messages arrived",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse(raw: &[u8]) -> Mail {
    let parsed = mailparse::parse_mail(raw).expect("a MIME message");
    let header = |name: &str| {
        use mailparse::MailHeaderMap;
        parsed.headers.get_first_value(name).unwrap_or_default()
    };
    let part = |mime: &str| {
        parsed
            .subparts
            .iter()
            .find(|p| p.ctype.mimetype == mime)
            .map(|p| p.get_body().unwrap())
            .unwrap_or_default()
    };
    Mail {
        message_id: header("Message-ID"),
        to: header("To"),
        subject: header("Subject"),
        text: part("text/plain"),
        html: part("text/html"),
    }
}
