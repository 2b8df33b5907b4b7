//! A published artifact fetched for `rebuild` and `attest`, and attestations attached to it.
//! Both check bytes, not signers: the ELF comes through the registry's verified fetch
//! (`pull::fetch_unevaluated`: digest, size and the release statement against the manifest),
//! and no trust policy is asked.

use anyhow::Context as _;
use zkelf_registry::Reference;
use zkelf_registry::digest::OciDigest;
use zkelf_registry::pull::{self, Resolved};
use zkelf_registry::store::{self, Store};
use zkelf_trust::digest::{ContentDigests, Sha256Digest};

use super::network::{network_options, retry_policy};
use super::reporters::ProgressReporter;
use crate::args::dist::NetworkArgs;
use crate::printer::Printer;

/// A published artifact resolved, with its ELF verified and hashed (and kept in a temporary
/// file if asked).
pub(crate) struct Published {
    pub store: Box<dyn Store>,
    pub resolved: Resolved,
    pub elf: ContentDigests,
    pub elf_file: Option<tempfile::NamedTempFile>,
}

impl Published {
    /// SHA-256 of the provenance and VK fetched with the artifact.
    pub fn extras(&self) -> (Option<Sha256Digest>, Option<Sha256Digest>) {
        (
            self.resolved.provenance.as_deref().map(Sha256Digest::of),
            self.resolved.vk.as_deref().map(Sha256Digest::of),
        )
    }
}

/// Resolves `reference`, fetches its small parts and streams its ELF through the verified
/// fetch (into a temporary file when `keep` is true).
pub(crate) async fn fetch_published(
    reference: &str,
    zkvm: Option<&str>,
    network: &NetworkArgs,
    keep: bool,
    printer: &Printer,
) -> anyhow::Result<Published> {
    let reference: Reference = reference.parse()?;
    let store = store::open(&reference, &network_options(network)?)?;
    let temp = if keep {
        Some(
            tempfile::Builder::new()
                .prefix("zkelf-published-")
                .suffix(".elf")
                .tempfile()
                .context("cannot create a temporary file for the published ELF")?,
        )
    } else {
        None
    };
    let sink = match &temp {
        Some(t) => Some(t.reopen().context("cannot reopen a temporary file")?),
        None => None,
    };
    let fetched = pull::fetch_unevaluated(
        store.as_ref(),
        &reference,
        zkvm,
        sink,
        retry_policy(network),
        &ProgressReporter::new(printer),
    )
    .await
    .with_context(|| format!("cannot fetch `{reference}`"))?;
    Ok(Published {
        store,
        resolved: fetched.resolved,
        elf: fetched.elf,
        elf_file: temp,
    })
}

/// Attaches `signature` to the artifact as an attestation; returns the attestation's digest.
pub(crate) async fn push_signature(
    published: &Published,
    signature: &[u8],
    title: &str,
    created: u64,
) -> anyhow::Result<OciDigest> {
    let store = published.store.as_ref();
    let digest = &published.resolved.manifest_digest;
    let context = || format!("cannot attach `{title}` to `{digest}`");
    let subject = zkelf_registry::attest::subject_descriptor(store, digest)
        .await
        .with_context(context)?;
    let attached = zkelf_registry::attest::attach(store, &subject, signature, title, created)
        .await
        .with_context(context)?;
    Ok(attached.digest)
}
