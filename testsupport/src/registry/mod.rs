//! Registries for distribution tests: Debian's `docker-registry` (distribution 2.8, no referrers
//! API) on a free loopback port with its own storage, optionally behind htpasswd basic auth; and
//! an in-process registry that serves an OCI layout read-only and misbehaves on demand (`faulty`).

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's package installs the registry.
pub const DOCKER_REGISTRY: &str = "/usr/bin/docker-registry";

/// A `docker-registry` process on `127.0.0.1:<port>`, killed when dropped.
#[derive(Debug)]
pub struct DockerRegistry {
    child: Option<Child>,
    dir: tempfile::TempDir,
    port: u16,
    /// `(user, password)` when started with basic auth.
    pub credentials: Option<(String, String)>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding a free loopback port")
        .port()
}

impl DockerRegistry {
    /// Starts an open registry. Panics with a clear message if the binary is missing.
    pub fn start() -> Self {
        Self::launch(None)
    }

    /// Starts a registry that requires `user`/`password` (htpasswd, bcrypt).
    pub fn start_with_auth(user: &str, password: &str) -> Self {
        Self::launch(Some((user.to_owned(), password.to_owned())))
    }

    fn launch(credentials: Option<(String, String)>) -> Self {
        assert!(
            Path::new(DOCKER_REGISTRY).exists(),
            "`{DOCKER_REGISTRY}` is missing: install Debian's `docker-registry` package (scripts/setup does)"
        );
        let dir = tempfile::tempdir().expect("registry temp dir");
        let port = free_port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: zkelf-test-secret\n",
            dir.path().join("data").display()
        );
        if let Some((user, password)) = &credentials {
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .expect("`htpasswd` (apache2-utils) is needed for the auth registry");
            assert!(out.status.success(), "htpasswd failed");
            std::fs::write(dir.path().join("htpasswd"), &out.stdout).expect("writing htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: zkelf-test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            ));
        }
        std::fs::write(dir.path().join("config.yml"), config).expect("writing the registry config");
        let mut registry = Self {
            child: None,
            dir,
            port,
            credentials,
        };
        registry.restart();
        registry
    }

    /// (Re)starts the process on the same port and storage, and waits until it answers.
    pub fn restart(&mut self) {
        self.kill();
        let log =
            std::fs::File::create(self.dir.path().join("registry.log")).expect("registry log");
        let child = Command::new(DOCKER_REGISTRY)
            .arg("serve")
            .arg(self.dir.path().join("config.yml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("starting docker-registry");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.write_all(b"GET /v2/ HTTP/1.0\r\n\r\n");
                let mut buf = [0u8; 12];
                if s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.") {
                    return;
                }
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                let log = std::fs::read_to_string(self.dir.path().join("registry.log"))
                    .unwrap_or_default();
                panic!("docker-registry exited with {status}: {log}");
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not answer within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the process (storage is kept).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where the registry keeps a blob on disk (`…/blobs/sha256/<ab>/<hex>/data`).
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// Writes a `config.json` with an `auths` entry for this registry into `dir` (a `DOCKER_CONFIG`).
    pub fn write_docker_config(&self, dir: &Path) {
        let (user, password) = self
            .credentials
            .clone()
            .expect("registry started with auth");
        let auth = base64_encode(format!("{user}:{password}").as_bytes());
        std::fs::create_dir_all(dir).expect("docker config dir");
        std::fs::write(
            dir.join("config.json"),
            format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, self.host()),
        )
        .expect("writing config.json");
    }
}

impl Drop for DockerRegistry {
    fn drop(&mut self) {
        self.kill();
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

mod faulty;
pub use faulty::{Fault, FaultyRegistry};
