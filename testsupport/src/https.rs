//! An in-process file server on `127.0.0.1:0`, over https with a test certificate authority or
//! over plain http, serving a directory the way GitHub serves release assets: `GET` and `HEAD`,
//! `Range` requests, and redirects of a path prefix to another server (GitHub sends
//! `…/releases/download/<tag>/<file>` to another host).
//!
//! The CA is made per test with rcgen; its PEM file is what the test hands zkelf as
//! `SSL_CERT_FILE`. The server certificate names `localhost` and `127.0.0.1`, so one server
//! answering on both names plays two hosts.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio_rustls::rustls;

/// A certificate authority made for one test, and a server certificate it signed.
#[derive(Debug)]
pub struct TestCa {
    dir: tempfile::TempDir,
    server: Arc<rustls::ServerConfig>,
}

impl TestCa {
    /// A fresh CA and a server certificate for `localhost` and `127.0.0.1`.
    pub fn new() -> Self {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
            KeyPair, KeyUsagePurpose,
        };
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "zkelf test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().expect("CA key");
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);

        let mut leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("server params");
        leaf.distinguished_name
            .push(DnType::CommonName, "zkelf test server");
        leaf.use_authority_key_identifier_extension = true;
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_key = KeyPair::generate().expect("server key");
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).expect("server cert");

        let dir = tempfile::tempdir().expect("CA temp dir");
        std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).expect("writing the CA");
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(
            rustls::pki_types::PrivatePkcs8KeyDer::from(leaf_key.serialize_der()),
        );
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![leaf_cert.der().clone()], key)
            .expect("server TLS config");
        Self {
            dir,
            server: Arc::new(server),
        }
    }

    /// The CA certificate as a PEM file (for `SSL_CERT_FILE`).
    pub fn pem_path(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Default)]
struct State {
    /// Path prefix → base URL the rest of the path is appended to (a 302).
    redirects: BTreeMap<String, String>,
    /// Path prefixes answered `401 Unauthorized`, as a server wanting credentials does.
    denied: Vec<String>,
    /// Every request received (`GET /path`, with ` bytes=a-b` for a range), in order.
    requests: Vec<String>,
}

/// A file server over a directory; stops when dropped.
#[derive(Debug)]
pub struct FileServer {
    addr: SocketAddr,
    scheme: &'static str,
    state: Arc<Mutex<State>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FileServer {
    /// Serves `root` over https with a certificate of `ca`.
    pub fn https(root: &Path, ca: &TestCa) -> Self {
        Self::start(root, Some(ca.server.clone()))
    }

    /// Serves `root` over plain http.
    pub fn http(root: &Path) -> Self {
        Self::start(root, None)
    }

    fn start(root: &Path, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("test runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("binding the file server");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let scheme = if tls.is_some() { "https" } else { "http" };
        let root = root.to_path_buf();
        let shared = state.clone();
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (root, state, acceptor) = (root.clone(), shared.clone(), acceptor.clone());
                tokio::spawn(async move {
                    let _ = match acceptor {
                        Some(acceptor) => match acceptor.accept(stream).await {
                            Ok(tls) => handle(tls, &root, &state).await,
                            Err(_) => Ok(()),
                        },
                        None => handle(stream, &root, &state).await,
                    };
                });
            }
        });
        Self {
            addr,
            scheme,
            state,
            runtime: Some(runtime),
        }
    }

    /// `<scheme>://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.addr)
    }

    /// The same server named `localhost` (another host, as far as a client is concerned).
    pub fn url_as_localhost(&self, path: &str) -> String {
        format!("{}://localhost:{}{path}", self.scheme, self.addr.port())
    }

    /// Answers requests under `prefix` with a 302 to `base` + the rest of the path.
    pub fn redirect(&self, prefix: &str, base: &str) {
        self.state
            .lock()
            .unwrap()
            .redirects
            .insert(prefix.to_owned(), base.to_owned());
    }

    /// Answers requests under `prefix` with `401 Unauthorized`.
    pub fn deny(&self, prefix: &str) {
        self.state.lock().unwrap().denied.push(prefix.to_owned());
    }

    /// Every request received so far: `GET /path`, and ` bytes=<start>-[<end>]` for a range.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn handle<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    root: &Path,
    state: &Arc<Mutex<State>>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 || head.len() > 16 << 10 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (method, target) = (
        first.next().unwrap_or_default().to_owned(),
        first.next().unwrap_or_default().to_owned(),
    );
    let path = target.split('?').next().unwrap_or_default().to_owned();
    let range = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("range"))
        .and_then(|(_, v)| {
            let (start, end) = v.trim().strip_prefix("bytes=")?.split_once('-')?;
            Some((start.parse::<u64>().ok()?, end.parse::<u64>().ok()))
        });
    let (redirect, denied) = {
        let mut s = state.lock().unwrap();
        s.requests.push(match range {
            Some((start, Some(end))) => format!("{method} {path} bytes={start}-{end}"),
            Some((start, None)) => format!("{method} {path} bytes={start}-"),
            None => format!("{method} {path}"),
        });
        (
            s.redirects
                .iter()
                .find(|(prefix, _)| path.starts_with(prefix.as_str()))
                .map(|(prefix, base)| format!("{base}{}", &path[prefix.len()..])),
            s.denied
                .iter()
                .any(|prefix| path.starts_with(prefix.as_str())),
        )
    };
    if denied {
        stream
            .write_all(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"assets\"\r\nContent-Length: 12\r\nConnection: close\r\n\r\nunauthorized")
            .await?;
        return stream.shutdown().await;
    }
    if let Some(location) = redirect {
        let head = format!(
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await?;
        return stream.shutdown().await;
    }
    let file = root.join(path.trim_start_matches('/'));
    let body = if path.contains("..") {
        None
    } else {
        std::fs::read(&file).ok()
    };
    let Some(body) = body else {
        stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found")
            .await?;
        return stream.shutdown().await;
    };
    let total = body.len() as u64;
    let (status, start, end) = match range {
        Some((start, end)) if start < total => {
            let end = end.unwrap_or(total - 1).min(total - 1);
            ("206 Partial Content", start, end + 1)
        }
        _ => ("200 OK", 0, total),
    };
    let content_range = if status.starts_with("206") {
        format!("Content-Range: bytes {start}-{}/{total}\r\n", end - 1)
    } else {
        String::new()
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n{content_range}Accept-Ranges: bytes\r\nConnection: close\r\n\r\n",
        end - start
    );
    stream.write_all(head.as_bytes()).await?;
    if method != "HEAD" {
        stream
            .write_all(&body[start as usize..end as usize])
            .await?;
    }
    stream.shutdown().await
}
