//! The JSON Schema of every `--json` document, derived from the report types and published as
//! `docs/schemas/<document>.json`. The files are checked in so users can read and fetch them;
//! this test derives them again and fails when one differs, so they cannot drift from the
//! types (`INSTA_UPDATE=always` rewrites them, as it does the snapshots; review the diff).
//! `tests/json_schema.rs` validates real outputs against the files.

use std::path::{Path, PathBuf};

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};

use super::audit::{AttestReport, RebuildReport};
use super::build::{BaseReport, BuildReport, DiffReport, ImageReport, ToolboxReport};
use super::dist::{ImportReport, InspectReport, PublishReport, PullReport, ReleaseReport};
use super::run::RunReport;
use super::trust::{KeygenReport, SignReport, VerifyReport};
use crate::error::ErrorDocument;

/// Every document: its file's stem (the command, `error` for the failure of any command) and
/// its schema.
fn documents() -> Vec<(&'static str, Schema)> {
    vec![
        ("keygen", of::<KeygenReport>("keygen")),
        ("sign", of::<SignReport>("sign")),
        ("verify", of::<VerifyReport>("verify")),
        ("publish", of::<PublishReport>("publish")),
        ("release", of::<ReleaseReport>("release")),
        ("pull", of::<PullReport>("pull")),
        ("import", of::<ImportReport>("import")),
        ("inspect", of::<InspectReport>("inspect")),
        ("attest", of::<AttestReport>("attest")),
        ("rebuild", of::<RebuildReport>("rebuild")),
        ("build", of::<BuildReport>("build")),
        ("builder-base", of::<BaseReport>("builder base")),
        ("builder-image", of::<ImageReport>("builder image")),
        ("builder-toolbox", of::<ToolboxReport>("builder toolbox")),
        ("diff", of::<DiffReport>("diff")),
        ("run", of::<RunReport>("run")),
        ("error", of::<ErrorDocument<'static>>("<any command>")),
    ]
}

/// The schema of `T` as it serializes (a field skipped when empty is not required), titled
/// with the command that prints it.
fn of<T: JsonSchema>(command: &str) -> Schema {
    let mut schema = SchemaSettings::default()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>();
    schema.insert("title".into(), format!("zkelf {command} --json").into());
    schema
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/schemas")
}

fn render(schema: &Schema) -> String {
    let mut text = serde_json::to_string_pretty(schema).expect("a schema serializes");
    text.push('\n');
    text
}

#[test]
fn docs_schemas_are_the_report_types() {
    let update = std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always");
    let dir = dir();
    let documents = documents();
    let mut stale = Vec::new();
    for (name, schema) in &documents {
        let path = dir.join(format!("{name}.json"));
        let want = render(schema);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &want).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    let listed: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| !documents.iter().any(|(n, _)| *f == format!("{n}.json")))
        .filter(|f| f != "README.md")
        .collect();
    assert!(
        stale.is_empty() && listed.is_empty(),
        "docs/schemas/ differs from the report types: {stale:?} differ, {listed:?} are not \
         documents; rewrite them with `INSTA_UPDATE=always cargo test -p zkelf --bin zkelf \
         schema` and review the diff"
    );
}
