//! An in-process registry that serves an OCI layout read-only and misbehaves on demand: wrong
//! digests, endless or stalled bodies, dropped connections, 5xx, logins (a Basic challenge, a
//! token service on itself or elsewhere) and redirects to plain http elsewhere.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the in-process registry misbehaves when serving blobs of at least 1 KiB (the ELF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Serves faithfully (with `Range` support).
    None,
    /// Flips a byte in the middle of the blob.
    WrongDigest,
    /// Keeps sending bytes past the blob's end.
    Endless,
    /// Sends half the blob, then nothing (until the client gives up).
    Stall,
    /// Answers 401 with a basic-auth challenge to every request.
    Unauthorized,
    /// Sends half the blob and drops the connection; later requests are served normally.
    DisconnectOnce,
    /// Sends half the blob, drops the connection and stops listening (a killed registry).
    Vanish,
    /// Answers 503 to the first `n` blob requests, then serves normally.
    ServerErrors(u32),
    /// Answers manifest requests with an endless body.
    EndlessManifest,
    /// Serves faithfully but slowly (16 KiB every 20 ms, about 800 KiB/s), so a client can be
    /// killed mid-download.
    Slow,
    /// Wants a token: answers 401 with `Bearer realm="http://<its address>/token"` to any request
    /// without it, and gives it at `/token` (recording each token request, see
    /// [`FaultyRegistry::token_requests`]).
    BearerToken,
    /// Answers 401 with `Bearer realm="http://auth.zkelf.invalid/token"`: a token service on
    /// another host, over plain http.
    ForeignTokenRealm,
    /// Redirects every blob request (307) to `http://blobs.zkelf.invalid/…`: plain http on
    /// another host.
    RedirectBlobs,
    /// Answers a request for an attestation manifest (or for a manifest digest it does not
    /// hold) with its headers, then nothing for a minute: stalled attestations.
    StallAttestations,
}

/// The token [`Fault::BearerToken`] gives.
const TOKEN: &str = "zkelf-test-token";

#[derive(Debug)]
struct Shared {
    stop: Arc<tokio::sync::Notify>,
    fault: Fault,
    blob_requests: u32,
    range_requests: u32,
    /// `<method> <path>` of every request, in order.
    requests: Vec<String>,
    /// `<path> <authorization scheme or ->` of every token request.
    token_requests: Vec<String>,
    stopped: bool,
}

/// A read-only registry serving an OCI layout directory, on `127.0.0.1:<port>`, that misbehaves
/// as told. Stops when dropped.
#[derive(Debug)]
pub struct FaultyRegistry {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    layout: PathBuf,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FaultyRegistry {
    /// Serves `layout` (an OCI image layout directory) under any repository name.
    pub fn serve(layout: &Path, fault: Fault) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("test runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("binding the faulty registry");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Mutex::new(Shared {
            stop: Arc::new(tokio::sync::Notify::new()),
            fault,
            blob_requests: 0,
            range_requests: 0,
            requests: Vec::new(),
            token_requests: Vec::new(),
            stopped: false,
        }));
        let mut server = Self {
            addr,
            shared,
            layout: layout.to_path_buf(),
            runtime: Some(runtime),
        };
        server.spawn(listener);
        server
    }

    fn spawn(&mut self, listener: tokio::net::TcpListener) {
        let shared = self.shared.clone();
        let layout = self.layout.clone();
        let addr = self.addr;
        if let Some(rt) = &self.runtime {
            let stop = shared.lock().unwrap().stop.clone();
            rt.spawn(async move {
                loop {
                    let accepted = tokio::select! {
                        a = listener.accept() => a,
                        () = stop.notified() => return,
                    };
                    let Ok((stream, _)) = accepted else { return };
                    if shared.lock().unwrap().stopped {
                        return;
                    }
                    let shared = shared.clone();
                    let layout = layout.clone();
                    tokio::spawn(async move {
                        let _ = handle(stream, &layout, &shared, addr).await;
                    });
                }
            });
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Changes the fault from now on.
    pub fn set_fault(&self, fault: Fault) {
        self.shared.lock().unwrap().fault = fault;
    }

    /// Blob requests served so far, and how many of them asked for a range.
    pub fn blob_requests(&self) -> (u32, u32) {
        let s = self.shared.lock().unwrap();
        (s.blob_requests, s.range_requests)
    }

    /// `<method> <path>` of every request served so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared.lock().unwrap().requests.clone()
    }

    /// `<path with query> <Basic|Bearer|->` of every request for a token ([`Fault::BearerToken`]).
    pub fn token_requests(&self) -> Vec<String> {
        self.shared.lock().unwrap().token_requests.clone()
    }

    /// After [`Fault::Vanish`]: listens again on the same port, serving faithfully.
    pub fn restart(&mut self) {
        {
            let mut s = self.shared.lock().unwrap();
            s.stopped = false;
            s.fault = Fault::None;
            s.stop = Arc::new(tokio::sync::Notify::new());
        }
        let rt = self.runtime.as_ref().expect("runtime");
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            // The old accept loop drops its listener asynchronously.
            match rt.block_on(tokio::net::TcpListener::bind(self.addr)) {
                Ok(l) => break l,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("rebinding the faulty registry's port: {e}"),
            }
        };
        self.spawn(listener);
    }
}

impl Drop for FaultyRegistry {
    fn drop(&mut self) {
        let mut s = self.shared.lock().unwrap();
        s.stopped = true;
        s.stop.notify_one();
        drop(s);
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn handle(
    mut stream: tokio::net::TcpStream,
    layout: &Path,
    shared: &Arc<Mutex<Shared>>,
    addr: SocketAddr,
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
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
    let (method, path) = (
        first.next().unwrap_or_default(),
        first.next().unwrap_or_default(),
    );
    let headers: Vec<(&str, &str)> = lines.filter_map(|l| l.split_once(':')).collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    };
    let range_start = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("range"))
        .and_then(|(_, v)| {
            v.trim()
                .strip_prefix("bytes=")?
                .split('-')
                .next()?
                .parse::<u64>()
                .ok()
        });
    let fault = {
        let mut s = shared.lock().unwrap();
        s.requests.push(format!("{method} {path}"));
        s.fault
    };
    if let Some(answer) = login_or_redirect(fault, path, header("authorization"), addr, shared) {
        stream.write_all(answer.as_bytes()).await?;
        return Ok(());
    }
    if fault == Fault::Unauthorized {
        let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
        let head = format!(
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"zkelf-test\"\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        return Ok(());
    }
    let not_found = |what: &str| {
        let body = format!(r#"{{"errors":[{{"code":"{what}","message":"unknown"}}]}}"#);
        format!(
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    if path == "/v2/" || path == "/v2" {
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{}")
            .await?;
        return Ok(());
    }
    if fault == Fault::EndlessManifest && path.contains("/manifests/") {
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nConnection: close\r\n\r\n{\"schemaVersion\":2,\"x\":\"")
            .await?;
        let junk = vec![b'x'; 64 << 10];
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            stream.write_all(&junk).await?;
        }
        return Ok(());
    }
    if let Some((_, reference)) = path.split_once("/manifests/") {
        let digest = if reference.starts_with("sha256:") {
            Some(reference.to_owned())
        } else {
            let index: serde_json::Value = std::fs::read(layout.join("index.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            index["manifests"].as_array().and_then(|m| {
                m.iter()
                    .rev()
                    .find(|e| {
                        e["annotations"]["org.opencontainers.image.ref.name"].as_str()
                            == Some(reference)
                    })
                    .and_then(|e| e["digest"].as_str().map(str::to_owned))
            })
        };
        let body = digest.and_then(|d| std::fs::read(blob(layout, &d)).ok().map(|b| (d, b)));
        if fault == Fault::StallAttestations
            && reference.starts_with("sha256:")
            && body.as_ref().is_none_or(|(_, b)| {
                serde_json::from_slice::<serde_json::Value>(b).is_ok_and(|v| {
                    v["artifactType"].as_str() == Some("application/vnd.zkelf.attestation.v1")
                })
            })
        {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 512\r\nConnection: close\r\n\r\n{")
                .await?;
            stream.flush().await?;
            tokio::time::sleep(Duration::from_secs(60)).await;
            return Ok(());
        }
        match body {
            Some((digest, body)) => {
                let media_type = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["mediaType"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {media_type}\r\nDocker-Content-Digest: {digest}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                stream.write_all(head.as_bytes()).await?;
                if method != "HEAD" {
                    stream.write_all(&body).await?;
                }
            }
            None => {
                stream
                    .write_all(not_found("MANIFEST_UNKNOWN").as_bytes())
                    .await?
            }
        }
        return Ok(());
    }
    // Blobs, and any other path as a static file under the served directory (https sidecars).
    let file = match path.split_once("/blobs/") {
        Some((_, digest)) => blob(layout, digest),
        None => layout.join(path.trim_start_matches('/')),
    };
    if !path.contains("..") && file.is_file() {
        let Ok(mut body) = std::fs::read(&file) else {
            stream
                .write_all(not_found("BLOB_UNKNOWN").as_bytes())
                .await?;
            return Ok(());
        };
        let faulty = body.len() >= 1024 && method == "GET";
        if faulty {
            let mut s = shared.lock().unwrap();
            s.blob_requests += 1;
            if range_start.is_some_and(|r| r > 0) {
                s.range_requests += 1;
            }
            drop(s);
        }
        let fault = if faulty { fault } else { Fault::None };
        if let Fault::ServerErrors(n) = fault {
            shared.lock().unwrap().fault = if n > 0 {
                Fault::ServerErrors(n - 1)
            } else {
                Fault::None
            };
            if n > 0 {
                stream
                    .write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await?;
                return Ok(());
            }
        }
        if fault == Fault::WrongDigest {
            let mid = body.len() / 2;
            body[mid] ^= 0x01;
        }
        let start = range_start.unwrap_or(0).min(body.len() as u64) as usize;
        let status = if start > 0 {
            "206 Partial Content"
        } else {
            "200 OK"
        };
        let len = body.len() - start;
        let head = match fault {
            Fault::Endless => "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n".to_owned(),
            _ => format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\nContent-Length: {len}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n"
            ),
        };
        stream.write_all(head.as_bytes()).await?;
        if method == "HEAD" {
            return Ok(());
        }
        let body = &body[start..];
        match fault {
            Fault::Endless => {
                stream.write_all(body).await?;
                let junk = vec![0x41u8; 64 << 10];
                let deadline = Instant::now() + Duration::from_secs(30);
                while Instant::now() < deadline {
                    stream.write_all(&junk).await?;
                }
            }
            Fault::Slow => {
                for chunk in body.chunks(16 << 10) {
                    stream.write_all(chunk).await?;
                    stream.flush().await?;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            Fault::Stall => {
                stream.write_all(&body[..body.len() / 2]).await?;
                stream.flush().await?;
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
            Fault::DisconnectOnce | Fault::Vanish => {
                stream.write_all(&body[..body.len() / 2]).await?;
                stream.flush().await?;
                {
                    let mut s = shared.lock().unwrap();
                    if fault == Fault::Vanish {
                        s.stopped = true;
                        s.stop.notify_one();
                    } else {
                        s.fault = Fault::None;
                    }
                }
                // Dropping the stream resets the connection mid-body.
            }
            _ => stream.write_all(body).await?,
        }
        return Ok(());
    }
    stream
        .write_all(not_found("NAME_UNKNOWN").as_bytes())
        .await?;
    Ok(())
}

fn blob(layout: &Path, digest: &str) -> PathBuf {
    layout
        .join("blobs/sha256")
        .join(digest.strip_prefix("sha256:").unwrap_or(digest))
}

/// The answer of a login or redirect fault to a request for `path`, if it answers it.
fn login_or_redirect(
    fault: Fault,
    path: &str,
    authorization: Option<&str>,
    addr: SocketAddr,
    shared: &Arc<Mutex<Shared>>,
) -> Option<String> {
    let challenge = |realm: &str| {
        format!(
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"{realm}\",service=\"zkelf-test\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    };
    match fault {
        Fault::BearerToken if path.starts_with("/token") => {
            let scheme = authorization
                .and_then(|a| a.split_whitespace().next())
                .unwrap_or("-");
            shared
                .lock()
                .unwrap()
                .token_requests
                .push(format!("{path} {scheme}"));
            let body = format!(r#"{{"token":"{TOKEN}","expires_in":300}}"#);
            Some(format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ))
        }
        Fault::BearerToken if authorization != Some(&*format!("Bearer {TOKEN}")) => {
            Some(challenge(&format!("http://{addr}/token")))
        }
        Fault::ForeignTokenRealm => Some(challenge("http://auth.zkelf.invalid/token")),
        Fault::RedirectBlobs if path.contains("/blobs/") => Some(format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://blobs.zkelf.invalid{path}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )),
        _ => None,
    }
}
