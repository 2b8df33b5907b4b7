//! Tags: an artifact's `<version>-<zkvm>`, which versions can carry one, and the referrers
//! fallback tag.

use crate::digest::OciDigest;

/// The tag of one artifact: `<version>-<zkvm>`.
pub fn artifact_tag(version: &str, zkvm: &str) -> String {
    format!("{version}-{zkvm}")
}

/// Why a version cannot be published for a zkVM: its tags (`<version>`, `<version>-<zkvm>`)
/// would not be OCI tags (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UntaggableVersion {
    /// Semver build metadata: `+` is no tag character, and build metadata does not order
    /// versions, so two releases could only differ by it.
    #[error(
        "version `{version}` cannot be published: it has build metadata (`+{metadata}`), and OCI tags cannot carry `+`"
    )]
    BuildMetadata {
        /// The version.
        version: String,
        /// Its build metadata, without the `+`.
        metadata: String,
    },
    /// `<version>-<zkvm>` past the 128 characters of an OCI tag.
    #[error(
        "version `{version}` cannot be published for zkVM `{zkvm}`: its tag `{tag}` has {len} characters, and OCI tags have at most {}",
        crate::reference::MAX_TAG_LEN
    )]
    TooLong {
        /// The version.
        version: String,
        /// The zkVM.
        zkvm: String,
        /// The artifact tag it would have.
        tag: String,
        /// Its length.
        len: usize,
    },
}

impl zkelf_trust::diagnose::Diagnose for UntaggableVersion {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::BuildMetadata { version, .. } => {
                let plain = version.split('+').next().unwrap_or(version);
                format!(
                    "sign `{plain}` (a pre-release such as `{plain}-build.1` orders releases; build metadata does not)"
                )
            }
            Self::TooLong { .. } => "shorten the pre-release part of the version".to_owned(),
        })
    }
}

/// Checks that `version` can be published for `zkvm`: no build metadata (`+…`), and
/// `<version>-<zkvm>` an OCI tag. `sign` and `release` refuse what fails here, so no signed
/// release names a tag a store cannot hold.
pub fn check_taggable(version: &semver::Version, zkvm: &str) -> Result<(), UntaggableVersion> {
    if !version.build.is_empty() {
        return Err(UntaggableVersion::BuildMetadata {
            version: version.to_string(),
            metadata: version.build.to_string(),
        });
    }
    let tag = artifact_tag(&version.to_string(), zkvm);
    if tag.len() > crate::reference::MAX_TAG_LEN {
        return Err(UntaggableVersion::TooLong {
            version: version.to_string(),
            zkvm: zkvm.to_owned(),
            len: tag.len(),
            tag,
        });
    }
    Ok(())
}

/// The tag of the referrers fallback index for `subject_digest`: `sha256-<hex>`.
pub fn referrers_tag(subject_digest: OciDigest) -> String {
    format!("sha256-{}", subject_digest.sha256())
}
