//! `zkelf builder base`: a Debian base image made where no registry can serve one.
//!
//! debootstrap (minbase) from a mirror, then normalized so that the same packages give the same
//! bytes: apt lists, caches, logs and the machine id removed, mtimes clamped to
//! `SOURCE_DATE_EPOCH`, packed as a tar with sorted names, numeric owners and no user or group
//! names, and imported with the engine's import API (`POST /images/create?fromSrc=-`).

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use bollard::query_parameters::CreateImageOptionsBuilder;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use zkelf_trust::digest::{OciDigest, Sha256Digest, Sha256Hasher};

use crate::docker::Engine;
use crate::error::BuilderError;
use crate::reporter::Reporter;

/// The repository the base image is tagged in; the tag is the suite.
pub const BASE_REPOSITORY: &str = "zkelf-base";
/// The default Debian mirror.
pub const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";
/// The default suite.
pub const DEFAULT_SUITE: &str = "bookworm";

/// What to bootstrap.
#[derive(Debug, Clone)]
pub struct BaseOptions {
    /// Debian mirror (a dated snapshot.debian.org URL makes the result reproducible).
    pub mirror: String,
    /// Debian suite.
    pub suite: String,
    /// Clamp for file mtimes; default: the `Date:` of the suite's Release file.
    pub source_date_epoch: Option<u64>,
}

impl Default for BaseOptions {
    fn default() -> Self {
        Self {
            mirror: DEFAULT_MIRROR.into(),
            suite: DEFAULT_SUITE.into(),
            source_date_epoch: None,
        }
    }
}

/// The imported base image and the digests that identify it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BaseImage {
    /// `zkelf-base:<suite>`.
    pub tag: String,
    /// The engine's image id; differs between imports of the same tar.
    pub id: OciDigest,
    /// sha256 of the root filesystem tar: the layer's diff id, the same for the same packages.
    pub rootfs_sha256: Sha256Digest,
    /// Mirror it was bootstrapped from.
    pub mirror: String,
    /// Suite.
    pub suite: String,
    /// The mtime clamp used.
    pub source_date_epoch: u64,
}

/// What `zkelf builder base` writes in the imported image's comment (the id is the engine's).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    rootfs_sha256: Sha256Digest,
    mirror: String,
    suite: String,
    source_date_epoch: u64,
}

/// The tag of the base image for `suite`.
pub fn base_tag(suite: &str) -> String {
    format!("{BASE_REPOSITORY}:{suite}")
}

/// Looks up an existing base image; `None` if it was never bootstrapped.
pub async fn find_base(engine: &Engine, suite: &str) -> Result<Option<BaseImage>, BuilderError> {
    let tag = base_tag(suite);
    let Some(image) = engine.image(&tag).await? else {
        return Ok(None);
    };
    // The import message carries the record; older or foreign images fall back to the layer id.
    let record: Option<Record> = image
        .comment
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok());
    let digest = |text: Option<String>| {
        text.as_deref()
            .and_then(|t| t.parse::<OciDigest>().ok())
            .ok_or_else(|| BuilderError::ImageBuild {
                tag: tag.clone(),
                engine: format!("the engine gave no sha256 id or layer for `{tag}`"),
            })
    };
    let id = digest(image.id.clone())?;
    let layer = image
        .root_fs
        .and_then(|fs| fs.layers)
        .and_then(|layers| layers.into_iter().next());
    Ok(Some(match record {
        Some(record) => BaseImage {
            tag,
            id,
            rootfs_sha256: record.rootfs_sha256,
            mirror: record.mirror,
            suite: record.suite,
            source_date_epoch: record.source_date_epoch,
        },
        None => BaseImage {
            rootfs_sha256: digest(layer)?.sha256(),
            tag,
            id,
            mirror: String::new(),
            suite: suite.to_string(),
            source_date_epoch: 0,
        },
    }))
}

/// Bootstraps, normalizes, packs and imports the base image.
pub async fn bootstrap_base(
    engine: &Engine,
    options: &BaseOptions,
    reporter: &dyn Reporter,
) -> Result<BaseImage, BuilderError> {
    if !zkelf_trust::name::is_valid_name(&options.suite) {
        return Err(BuilderError::HostCommand {
            command: "debootstrap".into(),
            output: format!("`{}` is not a suite name", options.suite),
        });
    }
    let work = crate::fsutil::tempdir("zkelf-base-")?;
    let root = work.path().join("rootfs");
    reporter.step(&format!(
        "debootstrap --variant=minbase {} from {}",
        options.suite, options.mirror
    ));
    run_debootstrap(&root, options, reporter).await?;
    reporter.finish("debootstrap done");

    reporter.step("normalizing and packing the root filesystem");
    let tar_path = work.path().join("rootfs.tar");
    let (root2, tar2, clamp) = (root.clone(), tar_path.clone(), options.source_date_epoch);
    let (rootfs_sha256, source_date_epoch) = tokio::task::spawn_blocking(move || {
        let epoch = match clamp {
            Some(epoch) => epoch,
            None => release_date(&root2).unwrap_or(0),
        };
        normalize(&root2)?;
        let digest = pack(&root2, &tar2, epoch)?;
        Ok::<_, BuilderError>((digest, epoch))
    })
    .await
    .map_err(|e| BuilderError::io("cannot pack", &root, std::io::Error::other(e)))??;
    reporter.finish(&format!(
        "root filesystem {}",
        OciDigest::from(rootfs_sha256)
    ));

    let tag = base_tag(&options.suite);
    reporter.step(&format!("importing {tag}"));
    let record = Record {
        rootfs_sha256,
        mirror: options.mirror.clone(),
        suite: options.suite.clone(),
        source_date_epoch,
    };
    let message = serde_json::to_string(&record).unwrap_or_default();
    let import_options = CreateImageOptionsBuilder::default()
        .from_src("-")
        .repo(BASE_REPOSITORY)
        .tag(&options.suite)
        .message(&message)
        .build();
    let body = bollard::body_try_stream(file_chunks(&tar_path)?);
    let mut stream = engine
        .docker()
        .create_image(Some(import_options), Some(body), None);
    while let Some(info) = stream.next().await {
        let info = info.map_err(|e| BuilderError::docker(format!("import `{tag}`"), e))?;
        if let Some(status) = info.status {
            reporter.output(&status);
        }
    }
    let base = find_base(engine, &options.suite)
        .await?
        .ok_or(BuilderError::BaseImageMissing { tag: tag.clone() })?;
    reporter.finish(&format!("imported {tag} ({})", base.id));
    Ok(base)
}

async fn run_debootstrap(
    root: &Path,
    options: &BaseOptions,
    reporter: &dyn Reporter,
) -> Result<(), BuilderError> {
    let args = [
        "--variant=minbase".to_string(),
        options.suite.clone(),
        root.to_string_lossy().into_owned(),
        options.mirror.clone(),
    ];
    let command = format!("debootstrap {}", args.join(" "));
    let output = tokio::process::Command::new("debootstrap")
        .args(&args)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| BuilderError::HostCommand {
            command: command.clone(),
            output: e.to_string(),
        })?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    for line in text.lines() {
        reporter.output(line);
    }
    if !output.status.success() {
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        return Err(BuilderError::HostCommand {
            command,
            output: format!(
                "{}\n{}",
                output.status,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ),
        });
    }
    Ok(())
}

/// The `Date:` of the suite's InRelease/Release file, as unix seconds.
fn release_date(root: &Path) -> Option<u64> {
    let lists = std::fs::read_dir(root.join("var/lib/apt/lists")).ok()?;
    for entry in lists.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with("_InRelease") || name.ends_with("_Release") {
            let text = std::fs::read_to_string(entry.path()).ok()?;
            let date = text.lines().find_map(|l| l.strip_prefix("Date: "))?;
            return parse_rfc2822(date);
        }
    }
    None
}

/// Parses `Sat, 08 Nov 2025 10:03:01 UTC` (the form Debian's Release files use).
fn parse_rfc2822(s: &str) -> Option<u64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, time, zone] = parts.as_slice() else {
        return None;
    };
    if *zone != "UTC" && *zone != "+0000" && *zone != "GMT" {
        return None;
    }
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as i64
        + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, sec] = hms.as_slice() else {
        return None;
    };
    let days = zkelf_trust::time::days_from_civil(year, month, day);
    u64::try_from(days * 86_400 + h * 3600 + m * 60 + sec).ok()
}

/// Removes what varies between two bootstraps of the same packages.
fn normalize(root: &Path) -> Result<(), BuilderError> {
    let empty_dirs = [
        "var/lib/apt/lists",
        "var/cache/apt",
        "var/cache/debconf",
        "var/log",
        "tmp",
        "var/tmp",
        "dev",
        "proc",
        "sys",
        "run",
    ];
    for dir in empty_dirs {
        let path = root.join(dir);
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            // Keep apt's directory skeleton (lists/partial, archives/partial) but no contents.
            let result = if p.is_dir() && !p.is_symlink() {
                if dir == "var/lib/apt/lists" || dir == "var/cache/apt" || dir == "var/log" {
                    clear_files(&p)
                } else {
                    std::fs::remove_dir_all(&p)
                }
            } else {
                std::fs::remove_file(&p)
            };
            result.map_err(|e| BuilderError::io("cannot remove", &p, e))?;
        }
    }
    for file in [
        "var/cache/ldconfig/aux-cache",
        "var/lib/dbus/machine-id",
        "etc/hostname",
        "etc/resolv.conf",
        "var/lib/dpkg/status-old",
        "var/lib/dpkg/diversions-old",
        "var/lib/dpkg/statoverride-old",
        "etc/shadow-",
        "etc/gshadow-",
        "etc/passwd-",
        "etc/group-",
    ] {
        let path = root.join(file);
        if path.symlink_metadata().is_ok() {
            std::fs::remove_file(&path).map_err(|e| BuilderError::io("cannot remove", &path, e))?;
        }
    }
    // systemd and dbus expect the file; empty means "generate on first boot".
    let machine_id = root.join("etc/machine-id");
    if machine_id.exists() {
        std::fs::write(&machine_id, b"")
            .map_err(|e| BuilderError::io("cannot truncate", &machine_id, e))?;
    }
    Ok(())
}

fn clear_files(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        if p.is_dir() && !p.is_symlink() {
            clear_files(&p)?;
        } else {
            std::fs::remove_file(&p)?;
        }
    }
    Ok(())
}

/// Packs `root` into a deterministic tar at `out`; returns its sha256.
fn pack(root: &Path, out: &Path, epoch: u64) -> Result<Sha256Digest, BuilderError> {
    let file = File::create(out).map_err(|e| BuilderError::io("cannot create", out, e))?;
    let mut builder = tar::Builder::new(HashingWriter {
        inner: BufWriter::new(file),
        hasher: Sha256Hasher::default(),
    });
    builder.follow_symlinks(false);
    let mut paths = Vec::new();
    collect(root, root, &mut paths).map_err(|e| BuilderError::io("cannot walk", root, e))?;
    paths.sort();
    for rel in &paths {
        append(&mut builder, root, rel, epoch)
            .map_err(|e| BuilderError::io("cannot pack", root.join(rel), e))?;
    }
    let writer = builder
        .into_inner()
        .map_err(|e| BuilderError::io("cannot write", out, e))?;
    let HashingWriter { mut inner, hasher } = writer;
    inner
        .flush()
        .map_err(|e| BuilderError::io("cannot write", out, e))?;
    Ok(hasher.finalize().0)
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        let is_dir = entry.file_type()?.is_dir();
        out.push(rel);
        if is_dir {
            collect(root, &path, out)?;
        }
    }
    Ok(())
}

fn append<W: Write>(
    builder: &mut tar::Builder<W>,
    root: &Path,
    rel: &Path,
    epoch: u64,
) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let path = root.join(rel);
    let meta = std::fs::symlink_metadata(&path)?;
    let mut header = tar::Header::new_gnu();
    header.set_mode(meta.mode() & 0o7777);
    header.set_uid(u64::from(meta.uid()));
    header.set_gid(u64::from(meta.gid()));
    header.set_mtime(u64::try_from(meta.mtime()).unwrap_or(0).min(epoch));
    let ft = meta.file_type();
    if ft.is_dir() {
        header.set_entry_type(tar::EntryType::Directory);
        header.set_size(0);
        builder.append_data(&mut header, rel, std::io::empty())
    } else if ft.is_symlink() {
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        let target = std::fs::read_link(&path)?;
        builder.append_link(&mut header, rel, target)
    } else if ft.is_file() {
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(meta.len());
        builder.append_data(&mut header, rel, File::open(&path)?)
    } else {
        // Device nodes, fifos and sockets: the engine provides /dev.
        Ok(())
    }
}

struct HashingWriter<W> {
    inner: W,
    hasher: Sha256Hasher,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A file as a stream of 1 MiB chunks (a request body).
fn file_chunks(
    path: &Path,
) -> Result<
    impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static,
    BuilderError,
> {
    let mut file = File::open(path).map_err(|e| BuilderError::io("cannot open", path, e))?;
    let stream = futures_util::stream::iter(std::iter::from_fn(move || {
        let mut buf = vec![0u8; 1 << 20];
        match file.read(&mut buf) {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some(Ok(bytes::Bytes::from(buf)))
            }
            Err(e) => Some(Err(e)),
        }
    }));
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_release_dates() {
        assert_eq!(parse_rfc2822("Thu, 01 Jan 1970 00:00:00 UTC"), Some(0));
        assert_eq!(
            parse_rfc2822("Sat, 08 Nov 2025 10:03:01 UTC"),
            Some(1_762_596_181)
        );
        assert_eq!(parse_rfc2822("Sat, 08 Nov 2025 10:03:01 +0100"), None);
        assert_eq!(parse_rfc2822("yesterday"), None);
    }

    #[test]
    fn packs_deterministically() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("b/c")).unwrap();
        std::fs::write(root.join("b/c/file"), b"hello").unwrap();
        std::fs::write(root.join("a"), b"x").unwrap();
        std::os::unix::fs::symlink("a", root.join("link")).unwrap();
        let first = pack(&root, &dir.path().join("1.tar"), 1000).unwrap();
        // Touching files must not change the tar: mtimes are clamped.
        std::fs::write(root.join("a"), b"x").unwrap();
        let second = pack(&root, &dir.path().join("2.tar"), 1000).unwrap();
        assert_eq!(first, second);
        let mut archive = tar::Archive::new(File::open(dir.path().join("1.tar")).unwrap());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a", "b", "b/c", "b/c/file", "link"]);
    }
}
