//! `zkelf-toolbox-openvm`: OpenVM 2.0's CPU executor and app commits, from OpenVM's own crates.
//!
//! The app configuration (which VM extensions, the app's STARK parameters) is part of what a
//! proof commits to. `--openvm-config <openvm.toml>` reads the guest's `openvm.toml` the way
//! cargo-openvm 2.0.2 does (`toml::from_str::<AppConfig<SdkVmConfig>>`); without it, the
//! configuration is cargo-openvm's `default_app_config()` (RV32I, RV32M, IO; what
//! `cargo openvm` uses for a guest that has no `openvm.toml`).
//!
//! - `exec <ELF> <INPUT>`: runs the guest with `Sdk::execute`, the input as one input stream
//!   (`StdIn::write_bytes`, read by `openvm::io::read_vec`), and prints its public values.
//! - `vk <ELF>`: what `cargo openvm commit` prints: `app_exe_commit` (the program: its code, initial
//!   memory and entry point, committed under the app's parameters) as `CommitBytes`, the `.vk`; and
//!   `app_vm_commit` (the app VM's verifying key through the aggregation layers, the same for
//!   every program of one configuration), recorded beside it. `--no-app-vm-commit` leaves the
//!   latter out and with it the aggregation keygen (`Sdk::app_prover`: app keygen only), for a
//!   caller that keeps `app_vm_commit` per configuration.

use std::io::Write as _;
use std::os::fd::AsFd as _;
use std::process::ExitCode;
use std::sync::Arc;

use openvm_continuations::CommitBytes;
use openvm_sdk::config::{AggregationSystemParams, AppConfig};
use openvm_sdk::openvm_circuit::arch::instructions::exe::VmExe;
use openvm_sdk::types::ExecutableFormat;
use openvm_sdk::{Sdk, StdIn, F};
use openvm_sdk_config::SdkVmConfig;
use openvm_stark_sdk::config::{app_params_with_100_bits_security, MAX_APP_LOG_STACKED_HEIGHT};
use openvm_transpiler::elf::Elf;
use openvm_transpiler::openvm_platform::memory::MEM_SIZE;
use sha2::{Digest as _, Sha256};
use zkelf_toolbox_cli::{hex, Execution, Failure, Json, Request, ToolOption, Toolbox, Vk};

fn main() -> ExitCode {
    Toolbox {
        zkvm: "openvm",
        primary_crate: "openvm-sdk",
        crates: &[
            "openvm-sdk",
            "openvm-sdk-config",
            "openvm-circuit",
            "openvm-continuations",
            "openvm-transpiler",
            "openvm-stark-sdk",
            "openvm-stark-backend",
        ],
        lock: include_str!("../Cargo.lock"),
        package: (env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
        options: &[
            ToolOption {
                name: "openvm-config",
                value: "openvm.toml",
            },
            ToolOption {
                name: "no-app-vm-commit",
                value: "",
            },
        ],
        exec,
        vk,
    }
    .main()
}

/// The app configuration and where it came from.
struct Config {
    app: AppConfig<SdkVmConfig>,
    /// `{"source": "file", "sha256": …}` or `{"source": "default"}`, plus the configuration as
    /// TOML, for the provenance.
    record: Json,
}

/// cargo-openvm 2.0.2 `src/default.rs` `default_app_config()`, verbatim: the configuration of a
/// guest without `openvm.toml`. Not `SdkVmConfig::riscv32()`, which also applies `optimize()`.
fn default_app_config() -> AppConfig<SdkVmConfig> {
    AppConfig {
        app_vm_config: SdkVmConfig::builder()
            .system(Default::default())
            .rv32i(Default::default())
            .rv32m(Default::default())
            .io(Default::default())
            .build(),
        system_params: app_params_with_100_bits_security(MAX_APP_LOG_STACKED_HEIGHT),
    }
}

fn config(request: &Request) -> Result<Config, Failure> {
    let (app, mut record) = match request.option("openvm-config") {
        Some(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| Failure::Tool(format!("cannot read `{path}`: {e}")))?;
            let text = String::from_utf8(bytes.clone())
                .map_err(|e| Failure::tool(&format!("`{path}` is not UTF-8"), e))?;
            // cargo-openvm 2.0.2 src/util.rs `read_to_struct_toml`.
            let app: AppConfig<SdkVmConfig> = toml::from_str(&text)
                .map_err(|e| Failure::tool(&format!("cannot parse `{path}` as openvm.toml"), e))?;
            let sha256 = hex(&Sha256::digest(&bytes));
            (
                app,
                vec![("source", Json::str("file")), ("sha256", Json::Str(sha256))],
            )
        }
        None => (
            default_app_config(),
            vec![("source", Json::str("cargo-openvm default_app_config"))],
        ),
    };
    let resolved =
        toml::to_string(&app).map_err(|e| Failure::tool("cannot print the app config", e))?;
    record.push(("app_config", Json::Str(resolved)));
    Ok(Config {
        app,
        record: Json::obj(record),
    })
}

fn sdk_and_exe(
    request: &Request,
    app: AppConfig<SdkVmConfig>,
) -> Result<(Sdk, Arc<VmExe<F>>), Failure> {
    let elf = Elf::decode(&request.program, MEM_SIZE as u32)
        .map_err(|e| Failure::tool("not an OpenVM guest ELF", e))?;
    // cargo-openvm keygen/commit: `Sdk::new(app_config, AggregationSystemParams::default())`.
    let sdk = Sdk::new(app, AggregationSystemParams::default())
        .map_err(|e| Failure::tool("cannot set up the OpenVM SDK", e))?;
    let exe = sdk
        .convert_to_exe(elf)
        .map_err(|e| Failure::tool("cannot transpile the ELF for OpenVM", e))?;
    Ok((sdk, exe))
}

fn exec(request: &Request, input: &[u8]) -> Result<Execution, Failure> {
    if request.option("no-app-vm-commit").is_some() {
        return Err(Failure::Tool(
            "`--no-app-vm-commit` is an option of `vk`".into(),
        ));
    }
    let (sdk, exe) = sdk_and_exe(request, config(request)?.app)?;
    let stdin = || {
        let mut stdin = StdIn::default();
        stdin.write_bytes(input);
        stdin
    };
    let run = || -> Result<Execution, Failure> {
        // The program transpiled, so an error from here on is the guest's.
        let public_values = sdk
            .execute(ExecutableFormat::SharedVmExe(exe.clone()), stdin())
            .map_err(|e| Failure::Guest(e.to_string()))?;
        Ok(Execution {
            public_values,
            cycles: instructions(&sdk, &exe, stdin())?,
        })
    };
    with_stdout_on_stderr(run)
}

/// Runs `f` with file descriptor 1 pointing at stderr: OpenVM's executor prints a guest's
/// `print` output on stdout, which carries the JSON report.
fn with_stdout_on_stderr<T>(f: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    let io = |e: std::io::Error| Failure::tool("cannot redirect stdout", e);
    std::io::stdout().flush().map_err(io)?;
    let saved = std::io::stdout().as_fd().try_clone_to_owned().map_err(io)?;
    rustix::stdio::dup2_stdout(std::io::stderr().as_fd()).map_err(|e| io(e.into()))?;
    // A panic inside `f` still restores stdout before the toolbox reports it.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    let _ = std::io::stdout().flush();
    rustix::stdio::dup2_stdout(&saved).map_err(|e| io(e.into()))?;
    result.unwrap_or_else(|payload| std::panic::resume_unwind(payload))
}

/// The instructions a run executes, as `Sdk::execute_metered_cost` counts them, but without the
/// app proving key that method generates first: the cost-metering interpreter with every chip
/// mapped to one zero-width AIR, so the trace cost stays zero, the run is never suspended, and
/// only the instruction counter moves.
fn instructions(sdk: &Sdk, exe: &VmExe<F>, stdin: StdIn) -> Result<u64, Failure> {
    const ANY_EXECUTOR: [usize; 1024] = [0; 1024];
    let interpreter = sdk
        .executor()
        .metered_cost_instance(exe, &ANY_EXECUTOR)
        .map_err(|e| Failure::tool("cannot set up OpenVM's cost-metering interpreter", e))?;
    let ctx = sdk.executor().build_metered_cost_ctx(&[0]);
    let (ctx, _) = interpreter
        .execute_metered_cost(stdin, ctx)
        .map_err(|e| Failure::Guest(e.to_string()))?;
    Ok(ctx.instret)
}

fn vk(request: &Request) -> Result<Vk, Failure> {
    let config = config(request)?;
    let (sdk, exe) = sdk_and_exe(request, config.app)?;
    // cargo-openvm 2.0.2 src/commands/commit.rs: `sdk.prover(exe)`, then
    // `CommitBytes::from(prover.generate_baseline().app_exe_commit)` (which is
    // `prover.app_prover.app_exe_commit()`) and `CommitBytes::from(prover.app_vm_commit())`.
    // `prover` generates the app proving key and the aggregation (leaf, internal) keys.
    let exe = ExecutableFormat::SharedVmExe(exe);
    if request.option("no-app-vm-commit").is_some() {
        // `Sdk::app_prover`: the same `AppProver::new(vm_builder, &app_pk.app_vm_pk, exe)` that
        // `StarkProver::new` builds, without the aggregation keys.
        let app_prover = sdk
            .app_prover(exe)
            .map_err(|e| Failure::tool("cannot set up the OpenVM app prover", e))?;
        let app_exe_commit = CommitBytes::from(app_prover.app_exe_commit());
        return Ok(Vk {
            vk: *app_exe_commit.as_slice(),
            extras: vec![("openvm_config".into(), config.record)],
        });
    }
    let prover = sdk
        .prover(exe)
        .map_err(|e| Failure::tool("cannot set up the OpenVM prover", e))?;
    let app_exe_commit = CommitBytes::from(prover.app_prover.app_exe_commit());
    let app_vm_commit = CommitBytes::from(prover.app_vm_commit());
    Ok(Vk {
        vk: *app_exe_commit.as_slice(),
        extras: vec![
            ("app_vm_commit".into(), Json::Str(hex(app_vm_commit.as_slice()))),
            ("openvm_config".into(), config.record),
            (
                "aggregation".into(),
                Json::str("AggregationSystemParams::default(), AggregationTreeConfig::default(), no deferrals"),
            ),
        ],
    })
}
