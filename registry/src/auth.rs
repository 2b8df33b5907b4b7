//! Registry credentials: given on the command line, or found in `~/.docker/config.json`
//! (`auths` entries and credential helpers), as `docker login` leaves them.

use std::fmt;
use std::io::Write as _;
use std::path::Path;
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
    /// `config.json` does not parse.
    #[error("cannot read docker config `{path}`")]
    Config {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A credential helper failed.
    #[error("credential helper `docker-credential-{helper}` failed for `{host}`: {message}")]
    Helper {
        /// The helper's name.
        helper: String,
        /// The registry host.
        host: String,
        /// What went wrong (never the secret).
        message: String,
    },
}

impl zkelf_trust::diagnose::Diagnose for AuthError {}

/// Finds credentials for `host` in `<config_dir>/config.json`: a credential helper for the host,
/// then the `credsStore`, then an `auths` entry with `auth`. `None` when nothing is configured.
pub fn from_docker_config(config_dir: &Path, host: &str) -> Result<Option<Credentials>, AuthError> {
    let path = config_dir.join("config.json");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(AuthError::Config {
                path: path.display().to_string(),
                source: Box::new(e),
            });
        }
    };
    let config: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| AuthError::Config {
            path: path.display().to_string(),
            source: Box::new(e),
        })?;
    let keys = [
        host.to_owned(),
        format!("https://{host}"),
        format!("http://{host}"),
    ];
    for key in &keys {
        if let Some(helper) = config["credHelpers"][key].as_str() {
            return run_helper(helper, host);
        }
    }
    for key in &keys {
        if let Some(auth) = config["auths"][key]["auth"].as_str() {
            let decoded = Zeroizing::new(
                base64::engine::general_purpose::STANDARD
                    .decode(auth)
                    .map_err(|e| AuthError::Config {
                        path: path.display().to_string(),
                        source: format!("`auths.{key}.auth` is not base64: {e}").into(),
                    })?,
            );
            let text = std::str::from_utf8(&decoded).map_err(|_| AuthError::Config {
                path: path.display().to_string(),
                source: format!("`auths.{key}.auth` is not UTF-8").into(),
            })?;
            let (user, pass) = text.split_once(':').ok_or_else(|| AuthError::Config {
                path: path.display().to_string(),
                source: format!("`auths.{key}.auth` is not `user:password`").into(),
            })?;
            return Ok(Some(Credentials::new(user, pass)));
        }
    }
    if let Some(store) = config["credsStore"].as_str() {
        return run_helper(store, host);
    }
    Ok(None)
}

/// Runs `docker-credential-<helper> get` with the host on stdin, as docker does.
fn run_helper(helper: &str, host: &str) -> Result<Option<Credentials>, AuthError> {
    let fail = |message: String| AuthError::Helper {
        helper: helper.to_owned(),
        host: host.to_owned(),
        message,
    };
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run it: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(host.as_bytes());
    }
    let output = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
    let stdout = Zeroizing::new(output.stdout);
    if !output.status.success() {
        if String::from_utf8_lossy(&stdout).contains("credentials not found") {
            return Ok(None);
        }
        return Err(fail(format!("it exited with {}", output.status)));
    }
    let value: serde_json::Value = serde_json::from_slice(&stdout)
        .map_err(|_| fail("its output is not the JSON docker expects".to_owned()))?;
    let (Some(user), Some(secret)) = (value["Username"].as_str(), value["Secret"].as_str()) else {
        return Err(fail("its output lacks `Username` or `Secret`".to_owned()));
    };
    Ok(Some(Credentials::new(user, secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

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
