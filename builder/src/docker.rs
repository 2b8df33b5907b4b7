//! The Docker engine, through bollard: connection, image lookup, and running one container.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, ImageInspect};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder,
};
use futures_util::StreamExt;

use crate::error::BuilderError;
use crate::reporter::Reporter;

/// The engine address bollard uses when `DOCKER_HOST` is unset.
const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";
/// How long the engine may take to answer the first request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Upper bound on any single API call; builds stream logs for minutes.
const REQUEST_TIMEOUT: u64 = 3 * 3600;
/// Lines of container output kept for error messages.
const TAIL_LINES: usize = 120;

/// A connected, version-negotiated Docker engine.
#[derive(Debug, Clone)]
pub struct Engine {
    docker: Docker,
    host: String,
}

/// What to run in a container, in the terms the builder needs.
#[derive(Debug, Default, Clone)]
pub(crate) struct ContainerSpec {
    pub image: String,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    /// `none` for builds; `None` for the engine's default network.
    pub network_mode: Option<String>,
    /// `host:container[:ro]` bind mounts.
    pub binds: Vec<String>,
    /// Mount point → tmpfs options.
    pub tmpfs: HashMap<String, String>,
    pub cpuset_cpus: Option<String>,
    pub working_dir: Option<String>,
}

/// How a container ended.
#[derive(Debug)]
pub(crate) struct ContainerExit {
    pub code: i64,
    /// The last lines of stdout and stderr, interleaved as the engine sent them.
    pub tail: String,
}

impl Engine {
    /// Connects to `host` (a `unix://`, `tcp://` or `http://` address; the default socket when
    /// `None`) and negotiates the API version, so that older engines (API 1.41) work.
    pub async fn connect(host: Option<&str>) -> Result<Self, BuilderError> {
        let host = host
            .filter(|h| !h.is_empty())
            .unwrap_or(DEFAULT_HOST)
            .to_string();
        let unreachable = |source| BuilderError::DockerUnreachable {
            host: host.clone(),
            source,
        };
        let docker = Docker::connect_with_host(&host)
            .map_err(unreachable)?
            .with_timeout(Duration::from_secs(REQUEST_TIMEOUT));
        let docker = match tokio::time::timeout(CONNECT_TIMEOUT, docker.negotiate_version()).await {
            Ok(result) => result.map_err(unreachable)?,
            Err(_) => return Err(unreachable(bollard::errors::Error::RequestTimeoutError)),
        };
        Ok(Self { docker, host })
    }

    /// The engine address in use.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The bollard client, for the modules of this crate.
    pub(crate) fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Inspects an image by tag or id; `None` when the engine does not have it.
    pub(crate) async fn image(&self, name: &str) -> Result<Option<ImageInspect>, BuilderError> {
        tracing::debug!(name, "docker image inspect");
        match self.docker.inspect_image(name).await {
            Ok(image) => Ok(Some(image)),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(source) => Err(BuilderError::docker(
                format!("inspect image `{name}`"),
                source,
            )),
        }
    }

    /// The file at `path` in `image`, at most `limit` bytes, read from a container that is
    /// created but never started.
    pub(crate) async fn read_file(
        &self,
        image: &str,
        path: &str,
        limit: u64,
    ) -> Result<Vec<u8>, BuilderError> {
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            cmd: Some(vec!["true".into()]),
            network_disabled: Some(true),
            ..Default::default()
        };
        let created = self
            .docker
            .create_container(Some(CreateContainerOptionsBuilder::default().build()), body)
            .await
            .map_err(|e| BuilderError::docker(format!("create container from `{image}`"), e))?;
        let mut stream = self.docker.download_from_container(
            &created.id,
            Some(
                DownloadFromContainerOptionsBuilder::default()
                    .path(path)
                    .build(),
            ),
        );
        let mut tar = Vec::new();
        let mut result = Ok(());
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) if (tar.len() + bytes.len()) as u64 <= limit + 4096 => {
                    tar.extend_from_slice(&bytes)
                }
                Ok(_) => {
                    result = Err(BuilderError::io(
                        "cannot read",
                        path,
                        std::io::Error::other(format!("it is larger than {limit} bytes")),
                    ));
                    break;
                }
                Err(e) => {
                    result = Err(BuilderError::docker(
                        format!("read `{path}` of `{image}`"),
                        e,
                    ));
                    break;
                }
            }
        }
        let _ = self
            .docker
            .remove_container(
                &created.id,
                Some(RemoveContainerOptionsBuilder::default().force(true).build()),
            )
            .await;
        result?;
        let mut archive = tar::Archive::new(tar.as_slice());
        let mut entries = archive
            .entries()
            .map_err(|e| BuilderError::io("cannot read", path, e))?;
        let mut entry = entries
            .next()
            .ok_or_else(|| {
                BuilderError::io("cannot read", path, std::io::ErrorKind::NotFound.into())
            })?
            .map_err(|e| BuilderError::io("cannot read", path, e))?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes)
            .map_err(|e| BuilderError::io("cannot read", path, e))?;
        Ok(bytes)
    }

    /// Runs a container to completion, streaming its output to `reporter`, and removes it.
    pub(crate) async fn run(
        &self,
        spec: &ContainerSpec,
        reporter: &dyn Reporter,
    ) -> Result<ContainerExit, BuilderError> {
        // The environment is not logged: a build's may hold what its owner passed in.
        tracing::debug!(
            image = %spec.image,
            cmd = ?spec.cmd,
            network = ?spec.network_mode,
            binds = ?spec.binds,
            "docker run"
        );
        let host_config = HostConfig {
            binds: Some(spec.binds.clone()),
            network_mode: spec.network_mode.clone(),
            tmpfs: (!spec.tmpfs.is_empty()).then(|| spec.tmpfs.clone()),
            cpuset_cpus: spec.cpuset_cpus.clone(),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            cmd: Some(spec.cmd.clone()),
            env: Some(spec.env.clone()),
            user: spec.user.clone(),
            hostname: spec.hostname.clone(),
            working_dir: spec.working_dir.clone(),
            network_disabled: Some(spec.network_mode.as_deref() == Some("none")),
            host_config: Some(host_config),
            ..Default::default()
        };
        let created = self
            .docker
            .create_container(Some(CreateContainerOptionsBuilder::default().build()), body)
            .await
            .map_err(|e| {
                BuilderError::docker(format!("create container from `{}`", spec.image), e)
            })?;
        let result = self.run_created(&created.id, reporter).await;
        // Remove even after a failure: no container outlives the build.
        let _ = self
            .docker
            .remove_container(
                &created.id,
                Some(RemoveContainerOptionsBuilder::default().force(true).build()),
            )
            .await;
        result
    }

    async fn run_created(
        &self,
        id: &str,
        reporter: &dyn Reporter,
    ) -> Result<ContainerExit, BuilderError> {
        self.docker
            .start_container(id, None)
            .await
            .map_err(|e| BuilderError::docker(format!("start container `{id}`"), e))?;
        let mut logs = self.docker.logs(
            id,
            Some(
                LogsOptionsBuilder::default()
                    .follow(true)
                    .stdout(true)
                    .stderr(true)
                    .build(),
            ),
        );
        let mut tail = VecDeque::with_capacity(TAIL_LINES);
        let mut partial = String::new();
        while let Some(chunk) = logs.next().await {
            let chunk =
                chunk.map_err(|e| BuilderError::docker(format!("read logs of `{id}`"), e))?;
            partial.push_str(&String::from_utf8_lossy(chunk.as_ref()));
            while let Some(newline) = partial.find('\n') {
                let line: String = partial.drain(..=newline).collect();
                push_line(&mut tail, line.trim_end(), reporter);
            }
        }
        if !partial.is_empty() {
            push_line(&mut tail, partial.trim_end(), reporter);
        }
        let mut wait = self.docker.wait_container(id, None);
        let code = match wait.next().await {
            Some(Ok(response)) => response.status_code,
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
            Some(Err(e)) => return Err(BuilderError::docker(format!("wait for `{id}`"), e)),
            None => -1,
        };
        Ok(ContainerExit {
            code,
            tail: tail.into_iter().collect::<Vec<_>>().join("\n"),
        })
    }
}

fn push_line(tail: &mut VecDeque<String>, line: &str, reporter: &dyn Reporter) {
    reporter.output(line);
    if tail.len() == TAIL_LINES {
        tail.pop_front();
    }
    tail.push_back(line.to_string());
}
