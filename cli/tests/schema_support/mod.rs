//! Validation of `--json` documents against the published schemas (`docs/schemas/`), for
//! `json_schema.rs` and the tests whose runs already print a document that needs Docker
//! (`build`, `release`, `rebuild`).

#![allow(dead_code)]

use std::path::Path;

/// What `docs/schemas/<name>.json` finds wrong with `document` (empty when it is valid).
pub fn schema_errors(name: &str, document: &serde_json::Value) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../docs/schemas/{name}.json"));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("`{}` is not a valid schema: {e}", path.display()));
    validator
        .iter_errors(document)
        .map(|e| format!("at `{}`: {e}", e.instance_path()))
        .collect()
}

/// Asserts that `document` (what `zkelf <command>` printed) is valid under
/// `docs/schemas/<name>.json`.
#[track_caller]
pub fn assert_valid(name: &str, command: &str, document: &serde_json::Value) {
    let errors = schema_errors(name, document);
    assert!(
        errors.is_empty(),
        "`zkelf {command}`'s output does not match `docs/schemas/{name}.json`:\n{}\n{document:#}",
        errors.join("\n"),
    );
}
