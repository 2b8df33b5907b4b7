//! The few provenance fields the registry and `inspect` read (source, commit, builder), typed.
//!
//! The full SLSA document is `zkelf_builder::provenance::Provenance`; the registry does not
//! depend on the builder, and reads only these fields. A provenance is unsigned input until the
//! policy has spoken, so reading is lenient: a field that is missing or not of its type reads as
//! absent, and a document that does not parse summarizes to nothing.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// What `publish`, `import` and `inspect` read from a provenance document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ProvenanceSummary {
    #[serde(default, deserialize_with = "lenient")]
    predicate: Predicate,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Predicate {
    #[serde(default, deserialize_with = "lenient")]
    build_definition: BuildDefinition,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BuildDefinition {
    #[serde(default, deserialize_with = "lenient")]
    external_parameters: ExternalParameters,
    #[serde(default, deserialize_with = "lenient_items")]
    resolved_dependencies: Vec<Dependency>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
struct ExternalParameters {
    #[serde(default, deserialize_with = "lenient")]
    source: Source,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
struct Source {
    #[serde(default, deserialize_with = "lenient")]
    uri: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    commit: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    revision: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
struct Dependency {
    #[serde(default, deserialize_with = "lenient")]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    uri: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    digest: DependencyDigest,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
struct DependencyDigest {
    #[serde(default, deserialize_with = "lenient")]
    sha256: Option<String>,
}

impl ProvenanceSummary {
    /// The summary of a provenance document (empty when it does not parse).
    pub fn read(bytes: &[u8]) -> Self {
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    fn source(&self) -> &Source {
        &self.predicate.build_definition.external_parameters.source
    }

    /// The source repository's URI.
    pub fn source_uri(&self) -> Option<&str> {
        self.source().uri.as_deref()
    }

    /// The commit built.
    pub fn commit(&self) -> Option<&str> {
        self.source().commit.as_deref()
    }

    /// The revision an OCI annotation records: the commit, else a `revision` field.
    pub fn revision(&self) -> Option<&str> {
        self.commit().or(self.source().revision.as_deref())
    }

    /// The builder the document names: the first resolved dependency called `…builder…`, by its
    /// sha256 or else its URI.
    pub fn builder(&self) -> Option<&str> {
        self.predicate
            .build_definition
            .resolved_dependencies
            .iter()
            .find_map(|d| {
                d.name
                    .as_deref()
                    .filter(|n| n.contains("builder"))
                    .and(d.digest.sha256.as_deref().or(d.uri.as_deref()))
            })
    }
}

/// A field read as its type, or as its default when it is something else.
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned + Default>(d: D) -> Result<T, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(T::deserialize(value).unwrap_or_default())
}

/// A list read item by item; an item not of its type reads as its default, a non-list as empty.
fn lenient_items<'de, D: Deserializer<'de>, T: DeserializeOwned + Default>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(|item| T::deserialize(item).unwrap_or_default())
            .collect(),
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_publish_and_inspect_show() {
        let doc = br#"{"predicate":{"buildDefinition":{
            "externalParameters":{"source":{"uri":"https://example.com/g.git","commit":"abc"}},
            "resolvedDependencies":[7,{"name":"toolchain","uri":"x"},
                {"name":"zkelf-builder","digest":{"sha256":"feed"},"uri":"docker://b"}]}}}"#;
        let s = ProvenanceSummary::read(doc);
        assert_eq!(s.source_uri(), Some("https://example.com/g.git"));
        assert_eq!((s.commit(), s.revision()), (Some("abc"), Some("abc")));
        assert_eq!(s.builder(), Some("feed"));
    }

    #[test]
    fn what_is_missing_or_mistyped_reads_as_absent() {
        assert_eq!(
            ProvenanceSummary::read(b"not json"),
            ProvenanceSummary::default()
        );
        let doc = br#"{"predicate":{"buildDefinition":{
            "externalParameters":{"source":{"uri":5,"revision":"r1"}},
            "resolvedDependencies":{"name":"builder"}}}}"#;
        let s = ProvenanceSummary::read(doc);
        assert_eq!((s.source_uri(), s.commit()), (None, None));
        assert_eq!(s.revision(), Some("r1"));
        assert_eq!(s.builder(), None);
        let doc = br#"{"predicate":{"buildDefinition":{"resolvedDependencies":[
            {"name":"builder","digest":"no","uri":"docker://b"}]}}}"#;
        assert_eq!(ProvenanceSummary::read(doc).builder(), Some("docker://b"));
    }
}
