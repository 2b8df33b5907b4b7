//! Helpers that run the `minisign` C tool (Debian's `minisign` package), for interop tests.
//!
//! Every helper panics with a clear message when the tool is missing or fails, so a test reads
//! as the scenario it checks. Passwords go through stdin, which the tool reads when it is not a
//! terminal.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The tool's name on `PATH`.
pub const MINISIGN: &str = "minisign";

/// Whether the `minisign` tool can be run.
pub fn available() -> bool {
    Command::new(MINISIGN)
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Runs `minisign` with `args`, feeding `stdin`; panics if it cannot be started.
pub fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = match Command::new(MINISIGN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => panic!(
            "the `minisign` tool is not installed; these tests need it (apt-get install -y minisign)"
        ),
        Err(err) => panic!("cannot run `minisign`: {err}"),
    };
    // The tool may exit before reading all input (e.g. on a bad argument): ignore EPIPE.
    let _ = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes());
    child.wait_with_output().expect("waiting for `minisign`")
}

/// Runs `minisign` and panics with its output unless it exits 0.
pub fn run_ok(args: &[&str], stdin: &str) -> Output {
    let out = run(args, stdin);
    assert!(
        out.status.success(),
        "`minisign {}` failed ({}):\nstdout: {}\nstderr: {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A key pair the tool generated: `<dir>/<name>.pub` and `<dir>/<name>.key`.
#[derive(Debug, Clone)]
pub struct ToolKeyPair {
    /// The public key file.
    pub public: PathBuf,
    /// The secret key file.
    pub secret: PathBuf,
    /// The password, or `None` for a key made with `-W` (unencrypted, checksum zeroed).
    pub password: Option<String>,
}

impl ToolKeyPair {
    /// The base64 line of the public key (what `minisign -P` and a policy's `public =` take).
    pub fn public_base64(&self) -> String {
        let text = std::fs::read_to_string(&self.public).expect("reading the public key");
        text.lines()
            .nth(1)
            .expect("public key line")
            .trim()
            .to_string()
    }

    /// The key id as 16 uppercase hex digits, read from the public key's untrusted comment.
    ///
    /// The C tool prints the id with `%PRIX64`, without leading zeros (`D20155E1E11D087`), so it
    /// is padded back to the 16 digits zkelf shows.
    pub fn key_id(&self) -> String {
        let text = std::fs::read_to_string(&self.public).expect("reading the public key");
        let first = text.lines().next().expect("comment line");
        let id = first.rsplit(' ').next().expect("key id in the comment");
        format!("{id:0>16}")
    }
}

/// `minisign -G`: a key pair in `dir`, encrypted with `password` or, if `None`, with `-W`.
pub fn generate(dir: &Path, name: &str, password: Option<&str>) -> ToolKeyPair {
    let public = dir.join(format!("{name}.pub"));
    let secret = dir.join(format!("{name}.key"));
    let (p, s) = (path_str(&public), path_str(&secret));
    let mut args = vec!["-G", "-p", p, "-s", s];
    let stdin = match password {
        Some(pw) => format!("{pw}\n{pw}\n"),
        None => {
            args.push("-W");
            String::new()
        }
    };
    run_ok(&args, &stdin);
    ToolKeyPair {
        public,
        secret,
        password: password.map(str::to_string),
    }
}

/// `minisign -S`: signs `file` into `sig` with `trusted_comment`; `legacy` adds `-l` (`Ed`).
pub fn sign(key: &ToolKeyPair, file: &Path, sig: &Path, trusted_comment: &str, legacy: bool) {
    let mut args = vec![
        "-S",
        "-s",
        path_str(&key.secret),
        "-m",
        path_str(file),
        "-x",
        path_str(sig),
        "-t",
        trusted_comment,
    ];
    if legacy {
        args.push("-l");
    }
    let stdin = match &key.password {
        Some(pw) => format!("{pw}\n"),
        None => {
            args.push("-W");
            String::new()
        }
    };
    run_ok(&args, &stdin);
}

/// `minisign -V -m file -x sig -p public`: the raw output, whatever the exit status.
pub fn verify(public: &Path, file: &Path, sig: &Path) -> Output {
    verify_with(&[], public, file, sig)
}

fn verify_with(flags: &[&str], public: &Path, file: &Path, sig: &Path) -> Output {
    let mut args = vec!["-V"];
    args.extend_from_slice(flags);
    args.extend([
        "-m",
        path_str(file),
        "-x",
        path_str(sig),
        "-p",
        path_str(public),
    ]);
    run(&args, "")
}

/// The trusted comment the tool prints after verifying (`-Q` mode), or `None` if it failed.
pub fn verified_trusted_comment(public: &Path, file: &Path, sig: &Path) -> Option<String> {
    let out = verify_with(&["-Q"], public, file, sig);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_string())
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}
