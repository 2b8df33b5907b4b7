//! The fetch container: the one step with the network on. It downloads the `.crate` archives
//! it is given (crates.io's download URL, one `curl --parallel` for all of them, with the host's
//! CA bundle) and, for each git commit, fetches it (through its mirror, a local one mounted
//! read-only) into a scratch repository and writes the commit object, its submodule links and
//! its tree. It decides nothing: the host checks every archive against `Cargo.lock` and every
//! tree against its commit afterwards.

use std::path::{Path, PathBuf};

use super::lock::GitSource;
use super::mirror::{GitMirror, MirrorTarget, lookup};
use crate::build::plan::PATH;
use crate::docker::{ContainerSpec, Engine};
use crate::error::BuilderError;
use crate::image::BuilderImage;
use crate::reporter::Reporter;

/// Where crates.io serves `.crate` archives (its index's `dl`).
const CRATES_IO_DL: &str = "https://static.crates.io/crates";
/// Where the std library's lock file is in the builder image.
pub(crate) const LIBRARY_LOCK: &str = "/usr/lib/rustlib/src/rust/library/Cargo.lock";

/// What the container runs: `/in/curl` (a curl config) and `/in/git` (`<commit> <url>` lines)
/// in, `/out/crates/*.crate` and `/out/git/<commit>/{commit,gitlinks,tree/}` out, and
/// `/out/failed` (`<why> <commit>`) when a commit cannot be had.
const SCRIPT: &str = r#"set -u
umask 022
export HOME=/tmp GIT_TERMINAL_PROMPT=0
git config --global --add safe.directory '*'
git config --global core.hooksPath /dev/null
git config --global protocol.ext.allow never
mkdir -p /out/crates /out/git
if [ -s /in/curl ]; then
  curl --parallel --parallel-max 8 -fsSL --retry 3 --retry-delay 1 --connect-timeout 30 -K /in/curl \
    || echo "zkelf-fetch: curl exited with $?" >&2
fi
while read -r commit url; do
  db="/tmp/db/$commit"
  git init -q --bare "$db" || exit 2
  if ! git -C "$db" fetch -q --no-tags -- "$url" "$commit"; then
    if ! git -C "$db" fetch -q --no-tags -- "$url" '+refs/heads/*:refs/remotes/origin/*' '+refs/tags/*:refs/tags/*'; then
      printf 'unreachable %s\n' "$commit" > /out/failed; exit 3
    fi
  fi
  if ! git -C "$db" cat-file -e "$commit^{commit}" 2>/dev/null; then
    printf 'missing %s\n' "$commit" > /out/failed; exit 3
  fi
  out="/out/git/$commit"
  mkdir -p "$out/tree"
  git -C "$db" cat-file commit "$commit" > "$out/commit" || exit 2
  git -C "$db" ls-tree -r -z --format='%(objectmode) %(objectname) %(path)' "$commit" \
    | grep -z '^160000 ' > "$out/gitlinks" || true
  git -C "$db" archive --worktree-attributes --format=tar "$commit" | tar -x -C "$out/tree" || exit 2
done < /in/git
"#;

/// One git commit to fetch: its source and the URL the fetch uses (the source's, or its
/// mirror's).
#[derive(Debug, Clone)]
pub(crate) struct GitFetch {
    pub source: GitSource,
    pub fetch_url: String,
    /// The mirror serving it, shown in errors.
    pub mirror: Option<String>,
}

/// What a fetch could not get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failed {
    /// The repository (or mirror) did not answer or is not one.
    Unreachable(String),
    /// It answered, without the commit.
    Missing(String),
}

/// The git commits of `sources`, each with the URL to fetch it from under `mirrors`, and the
/// binds of the local mirrors (`/mirrors/<i>`, read-only). A local mirror that is not a
/// readable directory is an error naming it.
pub(crate) fn plan_git(
    sources: &[GitSource],
    mirrors: &[GitMirror],
) -> Result<(Vec<GitFetch>, Vec<String>), BuilderError> {
    let mut binds = Vec::new();
    for (i, mirror) in mirrors.iter().enumerate() {
        if let MirrorTarget::Path(path) = &mirror.target {
            std::fs::read_dir(path).map_err(|source| BuilderError::MirrorUnreadable {
                mirror: mirror.to_string(),
                source,
            })?;
            binds.push(format!("{}:/mirrors/{i}:ro", path.display()));
        }
    }
    let mut fetches = Vec::new();
    for source in sources {
        let (fetch_url, mirror) = match lookup(mirrors, &source.url) {
            None => (source.url.clone(), None),
            Some((i, rest)) => {
                let target = match &mirrors[i].target {
                    MirrorTarget::Url(url) => format!("{url}{rest}"),
                    MirrorTarget::Path(_) => {
                        format!("/mirrors/{i}/{}", rest.trim_start_matches('/'))
                    }
                };
                (target, Some(mirrors[i].to_string()))
            }
        };
        fetches.push(GitFetch {
            source: source.clone(),
            fetch_url,
            mirror,
        });
    }
    Ok((fetches, binds))
}

/// Runs the fetch container for `crates` (name, version) and `git`, with `binds` (the local
/// mirrors), its output in `out` (a directory of ours). `Ok(Some(failed))` when a git commit
/// could not be had; missing crate archives are for the caller to find.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run(
    engine: &Engine,
    image: &BuilderImage,
    crates: &[(String, String)],
    git: &[GitFetch],
    binds: Vec<String>,
    out: &Path,
    ca_bundle: &Path,
    reporter: &dyn Reporter,
) -> Result<Option<Failed>, BuilderError> {
    use std::os::unix::fs::MetadataExt;
    let input = out.join("in");
    std::fs::create_dir_all(&input).map_err(|e| BuilderError::io("cannot create", &input, e))?;
    let curl: String = crates
        .iter()
        .map(|(name, version)| {
            format!(
                "url = \"{CRATES_IO_DL}/{name}/{name}-{version}.crate\"\noutput = \"/out/crates/{name}-{version}.crate\"\n"
            )
        })
        .collect();
    let lines: String = git
        .iter()
        .map(|g| format!("{} {}\n", g.source.commit, g.fetch_url))
        .collect();
    for (name, text) in [("curl", curl), ("git", lines)] {
        std::fs::write(input.join(name), text)
            .map_err(|e| BuilderError::io("cannot write", input.join(name), e))?;
    }
    let output = out.join("out");
    std::fs::create_dir_all(&output).map_err(|e| BuilderError::io("cannot create", &output, e))?;
    // Run as the owner of the output (us), so what it writes stays ours.
    let user = std::fs::metadata(&output)
        .map(|m| format!("{}:{}", m.uid(), m.gid()))
        .unwrap_or_else(|_| "0:0".into());
    let mut all_binds = vec![
        format!("{}:/in:ro", input.display()),
        format!("{}:/out", output.display()),
    ];
    all_binds.extend(binds);
    let mut env = vec![format!("PATH={PATH}"), "HOME=/tmp".to_string()];
    if ca_bundle.is_file() {
        all_binds.push(format!(
            "{}:/etc/ssl/certs/ca-certificates.crt:ro",
            ca_bundle.display()
        ));
        env.push("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt".into());
        env.push("GIT_SSL_CAINFO=/etc/ssl/certs/ca-certificates.crt".into());
        env.push("CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt".into());
    }
    let spec = ContainerSpec {
        image: image.id.to_string(),
        cmd: vec!["sh".into(), "-c".into(), SCRIPT.into()],
        env,
        user: Some(user),
        working_dir: Some("/tmp".into()),
        binds: all_binds,
        ..Default::default()
    };
    let exit = engine.run(&spec, reporter).await?;
    let failed = std::fs::read_to_string(output.join("failed")).ok();
    match failed.as_deref().and_then(|f| f.trim().split_once(' ')) {
        Some(("missing", commit)) => return Ok(Some(Failed::Missing(commit.to_string()))),
        Some((_, commit)) => return Ok(Some(Failed::Unreachable(commit.to_string()))),
        None => {}
    }
    if exit.code != 0 {
        return Err(BuilderError::FetchFailed {
            guest: String::new(),
            code: exit.code,
            output: exit.tail,
        });
    }
    Ok(None)
}

/// Where the container left the archives and the git commits.
pub(crate) fn outputs(out: &Path) -> (PathBuf, PathBuf) {
    (out.join("out/crates"), out.join("out/git"))
}
