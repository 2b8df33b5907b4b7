//! Running a toolbox: `vk` (a program's verification key) and `exec` (a guest on one input
//! frame), each in a `--network none` container of the toolbox image, as an unprivileged user,
//! reading copies of the program and input and writing its one-line JSON report to a file.
//! Exit codes are the toolbox's (docs/toolbox.md): 0 done, 1 the guest failed, 2 anything else.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::{Spec, Toolbox};
use crate::docker::{ContainerSpec, Engine};
use crate::error::BuilderError;
use crate::error::problem::ToolboxProblem;
use crate::fsutil::{self, world_writable_tempdir};
use crate::provenance::{Provenance, deps};
use crate::reporter::Reporter;

const PROGRAM_DIR: &str = "/toolbox/bin";
const IN: &str = "/in";
const OUT: &str = "/out";
/// The report file in the output directory.
const REPORT: &str = "report.json";
/// The largest program zkelf hands a toolbox.
const MAX_PROGRAM: u64 = 1 << 30;
/// The largest report zkelf reads.
const MAX_REPORT: u64 = 1 << 20;

/// A program's verification key, as the toolbox derived it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VkReport {
    /// The 32 bytes a `.vk` file holds (SPEC §8.2).
    pub vk: [u8; 32],
    /// The derivation (`sp1-6.10.0`: the zkVM and its crate's version).
    pub toolbox: String,
    /// What the provenance records beside the key (OpenVM's `app_vm_commit`, ZisK's hash
    /// mode, SP1's `bytes32`…), as the toolbox reported them.
    pub extras: BTreeMap<String, serde_json::Value>,
}

/// A guest's run that halted successfully.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Execution {
    /// The zkVM.
    pub zkvm: String,
    /// The public values (SP1, OpenVM), journal (RISC Zero) or output words (ZisK).
    #[serde(serialize_with = "hex")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub public_values: Vec<u8>,
    /// Cycles, in the executor's own unit.
    pub cycles: u64,
}

fn hex<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}

/// Options of a run: OpenVM's app configuration, ZisK's hash mode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// The guest's `openvm.toml` (its bytes): OpenVM's app configuration. None: cargo-openvm's
    /// default configuration.
    pub openvm_config: Option<Vec<u8>>,
    /// ZisK's hash mode for `vk` (one of [`crate::profile::ZISK_HASH_MODES`]). None: the
    /// toolbox's default (blake3).
    pub zisk_hash_mode: Option<String>,
    /// OpenVM's `vk` derives `app_exe_commit` alone (`--no-app-vm-commit`): app keygen only,
    /// for a caller that needs no `app_vm_commit` (the same VK in ~60% of the time).
    pub skip_app_vm_commit: bool,
}

impl RunOptions {
    /// The options a recorded VK derivation was made with (the `derivation` the provenance's
    /// `vk` byproduct carries, docs/toolbox.md): OpenVM's configuration (`openvm_config`: its
    /// `app_config` text when it came from a file) and ZisK's `hash_mode`. Anything else there
    /// is left to the toolbox's defaults.
    pub fn recorded(provenance: &Provenance) -> Self {
        let derivation = provenance
            .byproduct(deps::VK)
            .and_then(|b| b.annotations.get("derivation"));
        let field = |path: &[&str]| {
            path.iter()
                .try_fold(derivation?, |v, k| v.get(k))
                .and_then(|v| v.as_str())
        };
        let openvm_config = match field(&["openvm_config", "source"]) {
            Some("file") => field(&["openvm_config", "app_config"]).map(|t| t.as_bytes().to_vec()),
            _ => None,
        };
        Self {
            openvm_config,
            zisk_hash_mode: field(&["hash_mode"]).map(str::to_owned),
            skip_app_vm_commit: false,
        }
    }
}

impl Toolbox {
    /// Derives the verification key of `program` (the artifact a build wrote).
    pub async fn vk(
        &self,
        engine: &Engine,
        program: &Path,
        options: &RunOptions,
        reporter: &dyn Reporter,
    ) -> Result<VkReport, BuilderError> {
        let report = self
            .invoke(engine, "vk", program, None, options, reporter)
            .await?;
        parse_vk(self.spec, &report)
    }

    /// Runs `program` on `input` (its one input frame) in the zkVM's executor.
    pub async fn exec(
        &self,
        engine: &Engine,
        program: &Path,
        input: &[u8],
        options: &RunOptions,
        reporter: &dyn Reporter,
    ) -> Result<Execution, BuilderError> {
        let report = self
            .invoke(engine, "exec", program, Some(input), options, reporter)
            .await?;
        parse_exec(self.spec, &report)
    }

    /// Runs `command` and returns its report; a guest that failed is [`BuilderError::GuestFailed`].
    async fn invoke(
        &self,
        engine: &Engine,
        command: &'static str,
        program: &Path,
        input: Option<&[u8]>,
        options: &RunOptions,
        reporter: &dyn Reporter,
    ) -> Result<serde_json::Value, BuilderError> {
        let program_bytes = fsutil::read_input(program, MAX_PROGRAM)?;
        let inputs = fsutil::tempdir("zkelf-toolbox-in-")?;
        let mut files: Vec<(&str, &[u8])> = vec![("program", &program_bytes)];
        if let Some(input) = input {
            files.push(("input", input));
        }
        if let Some(config) = &options.openvm_config {
            files.push(("openvm.toml", config));
        }
        let in_dir = inputs.path().join("in");
        fsutil::write_readable_dir(&in_dir, files)?;
        let out = world_writable_tempdir("zkelf-toolbox-out-")?;
        let spec = self.container(command, &in_dir, out.path(), input.is_some(), options);
        let exit = engine.run(&spec, reporter).await?;
        match exit.code {
            0 => {}
            1 if command == "exec" => {
                return Err(BuilderError::GuestFailed {
                    zkvm: self.spec.zkvm.to_string(),
                    program: program.to_path_buf(),
                    message: guest_failure(&exit.tail),
                });
            }
            code => {
                return Err(self.spec.error(ToolboxProblem::Failed {
                    command,
                    code,
                    output: exit.tail,
                }));
            }
        }
        let path = out.path().join(REPORT);
        let bytes = zkelf_trust::bounded::read_no_follow(&path, MAX_REPORT).map_err(|e| {
            self.spec.error(ToolboxProblem::BadReport {
                command,
                problem: e.to_string(),
            })
        })?;
        serde_json::from_slice(&bytes).map_err(|e| {
            self.spec.error(ToolboxProblem::BadReport {
                command,
                problem: format!("not one JSON object: {e}"),
            })
        })
    }

    fn container(
        &self,
        command: &str,
        in_dir: &Path,
        out: &Path,
        with_input: bool,
        options: &RunOptions,
    ) -> ContainerSpec {
        let argv = argv(self.spec, command, with_input, options);
        let mut cmd = vec![
            "sh".to_string(),
            "-c".into(),
            format!("exec \"$@\" > {OUT}/{REPORT}"),
            "zkelf-toolbox".into(),
        ];
        cmd.extend(argv);
        let tmpfs: HashMap<String, String> = ["/tmp", "/home/zkelf"]
            .into_iter()
            .map(|p| (p.to_string(), "rw,exec,mode=1777".to_string()))
            .collect();
        ContainerSpec {
            image: self.image.id.to_string(),
            cmd,
            env: vec![
                format!("PATH={}", crate::build::plan::PATH),
                "HOME=/home/zkelf".into(),
                "LC_ALL=C.UTF-8".into(),
                "RUST_BACKTRACE=0".into(),
            ],
            user: Some("1000:1000".into()),
            hostname: Some("zkelf-toolbox".into()),
            network_mode: Some("none".into()),
            binds: vec![
                format!("{}:{PROGRAM_DIR}:ro", self.program_dir().display()),
                format!("{}:{IN}:ro", in_dir.display()),
                format!("{}:{OUT}", out.display()),
            ],
            tmpfs,
            cpuset_cpus: None,
            working_dir: Some("/tmp".into()),
        }
    }
}

/// The toolbox's command line for `command` (`vk` or `exec`) in the container.
fn argv(spec: &Spec, command: &str, with_input: bool, options: &RunOptions) -> Vec<String> {
    let mut argv = vec![
        format!("{PROGRAM_DIR}/{}", spec.binary()),
        command.to_string(),
        format!("{IN}/program"),
    ];
    if with_input {
        argv.push(format!("{IN}/input"));
    }
    if options.openvm_config.is_some() {
        argv.extend(["--openvm-config".into(), format!("{IN}/openvm.toml")]);
    }
    // Options of `vk` only, and of one toolbox each: another refuses them (exit 2).
    if command == "vk" {
        if let (Some(mode), "zisk") = (&options.zisk_hash_mode, spec.zkvm) {
            argv.extend(["--hash-mode".into(), mode.clone()]);
        }
        if options.skip_app_vm_commit && spec.zkvm == "openvm" {
            argv.push("--no-app-vm-commit".into());
        }
    }
    argv
}

/// The toolbox's `error: guest failed: …` line, else the last line it printed.
fn guest_failure(tail: &str) -> String {
    let lines: Vec<&str> = tail
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("error: guest failed: "))
        .or_else(|| lines.last().copied())
        .unwrap_or("it exited with code 1")
        .to_string()
}

fn bad(spec: &Spec, command: &'static str, problem: impl Into<String>) -> BuilderError {
    spec.error(ToolboxProblem::BadReport {
        command,
        problem: problem.into(),
    })
}

fn check_zkvm(
    spec: &Spec,
    command: &'static str,
    doc: &serde_json::Value,
) -> Result<(), BuilderError> {
    match doc["zkvm"].as_str() {
        Some(zkvm) if zkvm == spec.zkvm => Ok(()),
        other => Err(bad(
            spec,
            command,
            format!("`zkvm` is {other:?}, not `{}`", spec.zkvm),
        )),
    }
}

fn parse_vk(spec: &Spec, doc: &serde_json::Value) -> Result<VkReport, BuilderError> {
    check_zkvm(spec, "vk", doc)?;
    let vk = doc["vk"]
        .as_str()
        .and_then(|s| hex::decode(s).ok())
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| bad(spec, "vk", "`vk` is not 64 hex digits"))?;
    let toolbox = doc["toolbox"]
        .as_str()
        .ok_or_else(|| bad(spec, "vk", "`toolbox` is missing"))?
        .to_string();
    let extras = doc
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| !["zkvm", "vk", "toolbox"].contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok(VkReport {
        vk,
        toolbox,
        extras,
    })
}

fn parse_exec(spec: &Spec, doc: &serde_json::Value) -> Result<Execution, BuilderError> {
    check_zkvm(spec, "exec", doc)?;
    let public_values = doc["public_values"]
        .as_str()
        .and_then(|s| hex::decode(s).ok())
        .ok_or_else(|| bad(spec, "exec", "`public_values` is not hex"))?;
    let cycles = doc["cycles"]
        .as_u64()
        .ok_or_else(|| bad(spec, "exec", "`cycles` is not a count"))?;
    Ok(Execution {
        zkvm: spec.zkvm.to_string(),
        public_values,
        cycles,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sp1() -> &'static Spec {
        Spec::for_zkvm("sp1").unwrap()
    }

    #[test]
    fn reports_are_read_strictly() {
        let vk = parse_vk(
            sp1(),
            &json!({"zkvm":"sp1","toolbox":"sp1-6.10.0","vk":"00".repeat(31) + "ff","bytes32":"0x…"}),
        )
        .unwrap();
        assert_eq!(vk.vk[31], 0xff);
        assert_eq!(vk.toolbox, "sp1-6.10.0");
        assert_eq!(vk.extras.keys().collect::<Vec<_>>(), ["bytes32"]);
        for wrong in [
            json!({"zkvm":"risc0","toolbox":"x","vk":"00".repeat(32)}),
            json!({"zkvm":"sp1","toolbox":"x","vk":"00".repeat(31)}),
            json!({"zkvm":"sp1","vk":"00".repeat(32)}),
        ] {
            assert!(parse_vk(sp1(), &wrong).is_err(), "{wrong}");
        }
        let run = parse_exec(
            sp1(),
            &json!({"zkvm":"sp1","public_values":"0aff","cycles":7}),
        )
        .unwrap();
        assert_eq!(run.public_values, [0x0a, 0xff]);
        assert_eq!(
            serde_json::to_string(&run).unwrap(),
            r#"{"zkvm":"sp1","public_values":"0aff","cycles":7}"#
        );
        assert!(
            parse_exec(
                sp1(),
                &json!({"zkvm":"sp1","public_values":"zz","cycles":7})
            )
            .is_err()
        );
    }

    #[test]
    fn each_option_goes_to_the_toolbox_and_command_that_take_it() {
        let zisk = Spec::for_zkvm("zisk").unwrap();
        let openvm = Spec::for_zkvm("openvm").unwrap();
        let options = RunOptions {
            openvm_config: None,
            zisk_hash_mode: Some("poseidon2".into()),
            skip_app_vm_commit: true,
        };
        assert_eq!(
            argv(zisk, "vk", false, &options)[1..],
            ["vk", "/in/program", "--hash-mode", "poseidon2"]
        );
        // `exec` takes no hash mode, and another toolbox neither.
        assert_eq!(
            argv(zisk, "exec", true, &options)[1..],
            ["exec", "/in/program", "/in/input"]
        );
        assert_eq!(
            argv(openvm, "vk", false, &options)[1..],
            ["vk", "/in/program", "--no-app-vm-commit"]
        );
        assert_eq!(
            argv(sp1(), "vk", false, &options)[1..],
            ["vk", "/in/program"]
        );
    }

    #[test]
    fn a_recorded_derivation_gives_its_options() {
        let mut p = crate::provenance::tests::sample();
        assert_eq!(RunOptions::recorded(&p), RunOptions::default());
        p.predicate.run_details.byproducts = vec![crate::provenance::ResourceDescriptor {
            name: Some(deps::VK.into()),
            annotations: std::collections::BTreeMap::from([(
                "derivation".to_string(),
                json!({"hash_mode": "poseidon2", "openvm_config": {"source": "file", "app_config": "[app_vm_config]\n"}}),
            )]),
            ..Default::default()
        }];
        let options = RunOptions::recorded(&p);
        assert_eq!(options.zisk_hash_mode.as_deref(), Some("poseidon2"));
        assert_eq!(
            options.openvm_config.as_deref(),
            Some(&b"[app_vm_config]\n"[..])
        );
        // cargo-openvm's default configuration is the toolbox's own default: nothing passed.
        p.predicate.run_details.byproducts[0].annotations.insert(
            "derivation".into(),
            json!({"openvm_config": {"source": "cargo-openvm default_app_config", "app_config": "x"}}),
        );
        assert_eq!(RunOptions::recorded(&p), RunOptions::default());
    }

    #[test]
    fn a_guest_failure_is_named_by_the_toolboxs_line() {
        assert_eq!(
            guest_failure("guest says hi\nerror: guest failed: panicked at src/main.rs:3\n"),
            "panicked at src/main.rs:3"
        );
        assert_eq!(guest_failure("only this\n"), "only this");
        assert_eq!(guest_failure(""), "it exited with code 1");
    }
}
