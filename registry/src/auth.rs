//! Registry credentials: given on the command line, or found in `~/.docker/config.json`
//! (`auths` entries and credential helpers), as `docker login` leaves them.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use zeroize::Zeroizing;

/// A user name and password for HTTP basic authentication; `Debug` never shows the password.
#[derive(Clone)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password or token.
    pub password: Zeroizing<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// Credentials from a user name and password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: Zeroizing::new(password.into()),
        }
    }
}

/// A docker config that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// `config.json` cannot be read or used.
    #[error("cannot read docker config `{}`", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        problem: ConfigProblem,
    },
    /// A credential helper failed.
    #[error("credential helper `docker-credential-{helper}` failed for `{host}`")]
    Helper {
        /// The helper's name.
        helper: String,
        /// The registry host.
        host: String,
        /// What went wrong (never the secret).
        #[source]
        problem: HelperFailure,
    },
}

/// Why a docker `config.json` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigProblem {
    /// It cannot be read.
    #[error(transparent)]
    Read(std::io::Error),
    /// It is not JSON.
    #[error(transparent)]
    Json(serde_json::Error),
    /// An `auths.<host>.auth` that is not base64.
    #[error("`auths.{key}.auth` is not base64")]
    AuthNotBase64 {
        /// The `auths` key.
        key: String,
        /// The decoder's complaint.
        #[source]
        source: base64::DecodeError,
    },
    /// An `auths.<host>.auth` that decodes to something other than UTF-8.
    #[error("`auths.{key}.auth` is not UTF-8")]
    AuthNotUtf8 {
        /// The `auths` key.
        key: String,
    },
    /// An `auths.<host>.auth` without a `:`.
    #[error("`auths.{key}.auth` is not `user:password`")]
    AuthNotUserPassword {
        /// The `auths` key.
        key: String,
    },
}

/// How a credential helper failed.
#[derive(Debug, thiserror::Error)]
pub enum HelperFailure {
    /// It could not be started.
    #[error("cannot run it")]
    Spawn(#[source] std::io::Error),
    /// Its output could not be collected.
    #[error("cannot read its output")]
    Wait(#[source] std::io::Error),
    /// It exited with a failure other than "credentials not found".
    #[error("it exited with {0}")]
    Exit(std::process::ExitStatus),
    /// Its output is not JSON.
    #[error("its output is not the JSON docker expects")]
    NotJson,
    /// Its JSON lacks a field.
    #[error("its output lacks `Username` or `Secret`")]
    NoCredentials,
}

impl zkelf_trust::diagnose::Diagnose for AuthError {}
impl zkelf_trust::diagnose::Diagnose for ConfigProblem {}
impl zkelf_trust::diagnose::Diagnose for HelperFailure {}

/// Where a docker `config.json` says the credentials for a host are.
#[derive(Debug)]
pub enum ConfigEntry {
    /// A credential helper to ask: `credHelpers.<host>`, or the `credsStore`.
    Helper(String),
    /// An `auths.<host>.auth` entry, decoded.
    Auth(Credentials),
}

/// Largest docker `config.json` read (docker writes a few KiB).
const MAX_DOCKER_CONFIG: u64 = 4 << 20;

/// Finds credentials for `host` in `<config_dir>/config.json`: a credential helper for the host,
/// then an `auths` entry with `auth`, then the `credsStore`. `None` when nothing is configured.
pub fn from_docker_config(config_dir: &Path, host: &str) -> Result<Option<Credentials>, AuthError> {
    let path = config_dir.join("config.json");
    // Bounded, and a FIFO or device there is refused at once rather than waited on or read
    // for ever (the file is the user's, but a CI cache or a shared HOME can put anything there).
    let bytes = match zkelf_trust::bounded::read(&path, MAX_DOCKER_CONFIG) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => {
            return Err(AuthError::Config {
                path,
                problem: ConfigProblem::Read(e.into()),
            });
        }
    };
    match docker_config_entry(&bytes, host) {
        Ok(None) => Ok(None),
        Ok(Some(ConfigEntry::Auth(credentials))) => Ok(Some(credentials)),
        Ok(Some(ConfigEntry::Helper(helper))) => run_helper(&helper, host),
        Err(problem) => Err(AuthError::Config { path, problem }),
    }
}

/// The entry of a docker `config.json`'s bytes that holds the credentials for `host`, as
/// [`from_docker_config`] looks for it, without running a helper; public only for the fuzz target
/// (`fuzz/`).
#[doc(hidden)]
pub fn docker_config_entry(bytes: &[u8], host: &str) -> Result<Option<ConfigEntry>, ConfigProblem> {
    let config: serde_json::Value = serde_json::from_slice(bytes).map_err(ConfigProblem::Json)?;
    let keys = [
        host.to_owned(),
        format!("https://{host}"),
        format!("http://{host}"),
    ];
    for key in &keys {
        if let Some(helper) = config["credHelpers"][key].as_str() {
            return Ok(Some(ConfigEntry::Helper(helper.to_owned())));
        }
    }
    for key in &keys {
        if let Some(auth) = config["auths"][key]["auth"].as_str() {
            let key = key.clone();
            let decoded = Zeroizing::new(
                base64::engine::general_purpose::STANDARD
                    .decode(auth)
                    .map_err(|source| ConfigProblem::AuthNotBase64 {
                        key: key.clone(),
                        source,
                    })?,
            );
            let text = std::str::from_utf8(&decoded)
                .map_err(|_| ConfigProblem::AuthNotUtf8 { key: key.clone() })?;
            let (user, pass) = text
                .split_once(':')
                .ok_or(ConfigProblem::AuthNotUserPassword { key })?;
            return Ok(Some(ConfigEntry::Auth(Credentials::new(user, pass))));
        }
    }
    Ok(config["credsStore"]
        .as_str()
        .map(|store| ConfigEntry::Helper(store.to_owned())))
}

/// Runs `docker-credential-<helper> get` with the host on stdin, as docker does.
fn run_helper(helper: &str, host: &str) -> Result<Option<Credentials>, AuthError> {
    let fail = |problem| AuthError::Helper {
        helper: helper.to_owned(),
        host: host.to_owned(),
        problem,
    };
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(HelperFailure::Spawn(e)))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(host.as_bytes());
    }
    let output = child
        .wait_with_output()
        .map_err(|e| fail(HelperFailure::Wait(e)))?;
    let stdout = Zeroizing::new(output.stdout);
    if !output.status.success() {
        if String::from_utf8_lossy(&stdout).contains("credentials not found") {
            return Ok(None);
        }
        return Err(fail(HelperFailure::Exit(output.status)));
    }
    let value: serde_json::Value =
        serde_json::from_slice(&stdout).map_err(|_| fail(HelperFailure::NotJson))?;
    let (Some(user), Some(secret)) = (value["Username"].as_str(), value["Secret"].as_str()) else {
        return Err(fail(HelperFailure::NoCredentials));
    };
    Ok(Some(Credentials::new(user, secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_or_a_device_at_config_json_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("config.json");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        // No writer ever comes: an unguarded read would wait for ever.
        let said = |err: AuthError| {
            let cause = std::error::Error::source(&err).map(ToString::to_string);
            (err.to_string(), cause.unwrap_or_default())
        };
        let named = format!("cannot read docker config `{}`", fifo.display());
        let err = from_docker_config(dir.path(), "example.com").unwrap_err();
        assert_eq!(
            said(err),
            (named.clone(), "it is a FIFO, not a regular file".to_owned())
        );
        std::fs::remove_file(&fifo).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &fifo).unwrap();
        // Followed, but a device is no regular file: refused, not read without end.
        let err = from_docker_config(dir.path(), "example.com").unwrap_err();
        assert_eq!(
            said(err),
            (named, "it is a device, not a regular file".to_owned())
        );
    }

    #[test]
    fn debug_redacts_the_password() {
        let c = Credentials::new("alice", "hunter2");
        let shown = format!("{c:?}");
        assert!(
            shown.contains("alice") && !shown.contains("hunter2"),
            "{shown}"
        );
    }

    #[test]
    fn reads_auth_entries() {
        let dir = tempfile::tempdir().unwrap();
        let auth = base64::engine::general_purpose::STANDARD.encode("bob:s3cret");
        std::fs::write(
            dir.path().join("config.json"),
            format!(r#"{{"auths":{{"127.0.0.1:5000":{{"auth":"{auth}"}}}}}}"#),
        )
        .unwrap();
        let c = from_docker_config(dir.path(), "127.0.0.1:5000")
            .unwrap()
            .unwrap();
        assert_eq!(c.username, "bob");
        assert_eq!(c.password.as_str(), "s3cret");
        assert!(from_docker_config(dir.path(), "other:1").unwrap().is_none());
    }

    #[test]
    fn a_missing_helper_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"credHelpers":{"h:1":"zkelf-none"}}"#,
        )
        .unwrap();
        let err = from_docker_config(dir.path(), "h:1").unwrap_err();
        assert!(
            err.to_string().contains("docker-credential-zkelf-none"),
            "{err}"
        );
    }
}
