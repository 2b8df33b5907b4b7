//! The command line shared by the `zkelf-toolbox-<zkvm>` programs.
//!
//! ```text
//! zkelf-toolbox-<zkvm> exec <PROGRAM> <INPUT> [OPTIONS]   run the program, the input's bytes as its one input
//! zkelf-toolbox-<zkvm> vk <PROGRAM> [OPTIONS]             derive the 32-byte verification key
//! zkelf-toolbox-<zkvm> version                            the zkVM crates it was built from
//! ```
//!
//! OPTIONS are the toolbox's own (`--openvm-config <FILE>`, `--hash-mode <MODE>`), each
//! `--name value` or `--name=value`; both commands take the same ones.
//!
//! Each prints exactly one JSON object on one line on stdout:
//!
//! - `exec`: `{"zkvm":"sp1","public_values":"<hex>","cycles":N}`. Exit 0 the guest halted
//!   successfully; 1 the guest failed (panicked, trapped, non-zero exit code, out of steps), with
//!   `error: guest failed: …` on stderr; 2 anything else.
//! - `vk`: `{"zkvm":"sp1","toolbox":"sp1-6.10.0","vk":"<64 hex>",…}`, the extras being what a
//!   provenance records beside the key (parameters, configuration, hash mode). Exit 0, or 2 with
//!   `error: …` on stderr (a program the zkVM refuses, a bad option, an unreadable file).
//! - `version`: `{"zkvm":…,"toolbox":…,"package":…,"crates":{"<name>":"<version>",…}}`, the
//!   versions read from the `Cargo.lock` compiled into the program (the one `--locked` built it
//!   from), never typed twice.
//!
//! Anything a guest prints goes to stderr. Usage errors exit 2.

use std::fmt::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

/// A JSON value, enough for the reports (no floats).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json {
    /// A string, escaped on output.
    Str(String),
    /// An unsigned integer.
    U64(u64),
    /// `true` or `false`.
    Bool(bool),
    /// An array.
    Arr(Vec<Json>),
    /// An object, its keys in the order given.
    Obj(Vec<(String, Json)>),
    /// `null`.
    Null,
}

impl Json {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Self {
        Json::Str(s.into())
    }

    /// An object from `(key, value)` pairs.
    pub fn obj<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Json)>) -> Self {
        Json::Obj(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Appends the compact JSON text of `self` to `out`.
    pub fn write(&self, out: &mut String) {
        match self {
            Json::Str(s) => write_str(s, out),
            Json::U64(n) => {
                let _ = write!(out, "{n}");
            }
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Null => out.push_str("null"),
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Obj(pairs) => {
                out.push('{');
                for (i, (key, value)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(key, out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }

    /// The compact JSON text of `self`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Self {
        Json::Str(s.to_owned())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Self {
        Json::Str(s)
    }
}

impl From<u64> for Json {
    fn from(n: u64) -> Self {
        Json::U64(n)
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Self {
        Json::Bool(b)
    }
}

fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// What a successful run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    /// The public values (sp1), journal (risc0), revealed bytes (openvm) or outputs (zisk).
    pub public_values: Vec<u8>,
    /// The cycles the executor counted, in its own unit.
    pub cycles: u64,
}

/// Why a command did not produce its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The guest itself failed: it panicked or halted with a non-zero exit code (exit 1; `exec`
    /// only).
    Guest(String),
    /// Anything else: the program is refused, a file is unreadable, an option is wrong (exit 2).
    Tool(String),
}

impl Failure {
    /// A tool failure from any error, its cause chain on one line (`{:#}` for anyhow and eyre
    /// reports).
    pub fn tool(context: &str, err: impl std::fmt::Display) -> Self {
        Failure::Tool(format!("{context}: {err:#}"))
    }
}

/// A derived verification key and what a provenance records beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vk {
    /// The 32 bytes verifiers trust, as zkelf's `.vk` file holds them.
    pub vk: [u8; 32],
    /// Further fields of the report, after `zkvm`, `toolbox` and `vk`.
    pub extras: Vec<(String, Json)>,
}

/// `(option name without dashes, value)` pairs, in the order given.
pub type Options = Vec<(String, String)>;

/// What `exec` and `vk` act on: the program's bytes and the options the toolbox declared.
#[derive(Debug, Clone)]
pub struct Request {
    /// The program file's bytes.
    pub program: Vec<u8>,
    /// `(option name without dashes, value)` for every option given, in order.
    pub options: Options,
}

impl Request {
    /// The value of option `name` (without dashes), if given.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An option `exec` and `vk` accept, each `--<name> <value>`.
#[derive(Debug, Clone, Copy)]
pub struct ToolOption {
    /// The name, without dashes.
    pub name: &'static str,
    /// What the value is, for the usage line; empty for a flag, which takes no value (and is
    /// recorded with the value `"true"`).
    pub value: &'static str,
}

/// One toolbox: its zkVM, where its versions come from, and its two operations.
pub struct Toolbox {
    /// The zkVM's name in reports and in zkelf's profiles (`sp1`, `risc0`, `openvm`, `zisk`).
    pub zkvm: &'static str,
    /// The crate whose locked version names the derivation (`toolbox: "<zkvm>-<version>"`).
    pub primary_crate: &'static str,
    /// The crates `version` reports, each looked up in the lock.
    pub crates: &'static [&'static str],
    /// The `Cargo.lock` the program was built from (`include_str!("../Cargo.lock")`).
    pub lock: &'static str,
    /// The package name and version (`env!("CARGO_PKG_NAME")`, `env!("CARGO_PKG_VERSION")`).
    pub package: (&'static str, &'static str),
    /// The options `exec` and `vk` accept.
    pub options: &'static [ToolOption],
    /// Runs `request.program` with `input` as its one input.
    pub exec: fn(request: &Request, input: &[u8]) -> Result<Execution, Failure>,
    /// Derives the verification key of `request.program`.
    pub vk: fn(request: &Request) -> Result<Vk, Failure>,
}

impl std::fmt::Debug for Toolbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Toolbox")
            .field("zkvm", &self.zkvm)
            .field("primary_crate", &self.primary_crate)
            .finish_non_exhaustive()
    }
}

/// Every version of package `name` in a `Cargo.lock`'s text.
pub fn locked_versions<'a>(lock: &'a str, name: &str) -> Vec<&'a str> {
    let mut found = Vec::new();
    for package in lock.split("[[package]]").skip(1) {
        let mut pkg_name = None;
        let mut pkg_version = None;
        for line in package.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                break;
            }
            if let Some(v) = line.strip_prefix("name = ") {
                pkg_name = Some(v.trim_matches('"'));
            } else if let Some(v) = line.strip_prefix("version = ") {
                pkg_version = Some(v.trim_matches('"'));
            }
        }
        if let (Some(n), Some(v)) = (pkg_name, pkg_version) {
            if n == name {
                found.push(v);
            }
        }
    }
    found
}

impl Toolbox {
    /// `<zkvm>-<locked version of the primary crate>`, e.g. `sp1-6.10.0`.
    pub fn id(&self) -> Result<String, Failure> {
        match locked_versions(self.lock, self.primary_crate).as_slice() {
            [version] => Ok(format!("{}-{version}", self.zkvm)),
            other => Err(Failure::Tool(format!(
                "the compiled-in Cargo.lock has {} versions of `{}`",
                other.len(),
                self.primary_crate
            ))),
        }
    }

    fn usage(&self) -> String {
        let options: String = self
            .options
            .iter()
            .map(|o| match o.value {
                "" => format!(" [--{}]", o.name),
                value => format!(" [--{} <{value}>]", o.name),
            })
            .collect();
        let name = self.package.0;
        format!(
            "usage: {name} exec <PROGRAM> <INPUT-FILE>{options}\n       {name} vk <PROGRAM>{options}\n       {name} version"
        )
    }

    fn version_report(&self) -> Result<Json, Failure> {
        let crates = self
            .crates
            .iter()
            .map(|name| {
                let versions = locked_versions(self.lock, name);
                let value = match versions.as_slice() {
                    [] => {
                        return Err(Failure::Tool(format!(
                            "`{name}` is not in the compiled-in Cargo.lock"
                        )))
                    }
                    [one] => Json::str(*one),
                    many => Json::Arr(many.iter().map(|v| Json::str(*v)).collect()),
                };
                Ok(((*name).to_owned(), value))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Json::obj([
            ("zkvm", Json::str(self.zkvm)),
            ("toolbox", Json::Str(self.id()?)),
            (
                "package",
                Json::Str(format!("{} {}", self.package.0, self.package.1)),
            ),
            ("crates", Json::Obj(crates)),
        ]))
    }

    fn vk_report(&self, vk: Vk) -> Result<Json, Failure> {
        let mut pairs = vec![
            ("zkvm".to_owned(), Json::str(self.zkvm)),
            ("toolbox".to_owned(), Json::Str(self.id()?)),
            ("vk".to_owned(), Json::Str(hex(&vk.vk))),
        ];
        pairs.extend(vk.extras);
        Ok(Json::Obj(pairs))
    }

    /// Splits `args` into exactly `positional` positional arguments and the declared options.
    fn parse_args(
        &self,
        args: &[String],
        positional: usize,
    ) -> Result<(Vec<String>, Options), Failure> {
        let usage = || Failure::Tool(self.usage());
        let mut paths = Vec::new();
        let mut options: Options = Vec::new();
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            if let Some(flag) = arg.strip_prefix("--") {
                let (name, inline) = match flag.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_owned())),
                    None => (flag, None),
                };
                let Some(option) = self.options.iter().find(|o| o.name == name) else {
                    return Err(Failure::Tool(format!(
                        "the {} toolbox has no option `--{name}`\n{}",
                        self.zkvm,
                        self.usage()
                    )));
                };
                if options.iter().any(|(n, _)| n == name) {
                    return Err(Failure::Tool(format!("`--{name}` given twice")));
                }
                let value = match (option.value, inline) {
                    ("", None) => "true".to_owned(),
                    ("", Some(_)) => {
                        return Err(Failure::Tool(format!("`--{name}` takes no value")))
                    }
                    (_, Some(v)) => v,
                    (_, None) => rest.next().cloned().ok_or_else(usage)?,
                };
                options.push((name.to_owned(), value));
            } else {
                paths.push(arg.clone());
            }
        }
        if paths.len() != positional {
            return Err(usage());
        }
        Ok((paths, options))
    }

    /// Parses the arguments, runs the command and reports it: the whole program.
    pub fn main(&self) -> ExitCode {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let outcome = match args.first().map(String::as_str) {
            Some("exec") => self.exec_command(&args[1..]),
            Some("vk") => self.vk_command(&args[1..]),
            Some("version") if args.len() == 1 => self.version_report(),
            Some("help" | "--help" | "-h") => {
                println!("{}", self.usage());
                return ExitCode::SUCCESS;
            }
            _ => Err(Failure::Tool(self.usage())),
        };
        match outcome {
            Ok(report) => {
                println!("{}", report.render());
                ExitCode::SUCCESS
            }
            Err(Failure::Guest(msg)) => {
                eprintln!("error: guest failed: {msg}");
                ExitCode::from(1)
            }
            Err(Failure::Tool(msg)) => {
                eprintln!("error: {msg}");
                ExitCode::from(2)
            }
        }
    }

    fn exec_command(&self, args: &[String]) -> Result<Json, Failure> {
        let (paths, options) = self.parse_args(args, 2)?;
        let (program_path, input_path) = (&paths[0], &paths[1]);
        let request = Request {
            program: read(program_path)?,
            options,
        };
        let input = read(input_path)?;
        let execution = catch(self.zkvm, program_path, || (self.exec)(&request, &input))?;
        Ok(Json::obj([
            ("zkvm", Json::str(self.zkvm)),
            ("public_values", Json::Str(hex(&execution.public_values))),
            ("cycles", Json::U64(execution.cycles)),
        ]))
    }

    fn vk_command(&self, args: &[String]) -> Result<Json, Failure> {
        let (paths, options) = self.parse_args(args, 1)?;
        let program_path = &paths[0];
        let request = Request {
            program: read(program_path)?,
            options,
        };
        // A toolbox whose lock lacks its own crate reports that before any work.
        self.id()?;
        let vk = catch(self.zkvm, program_path, || (self.vk)(&request))?;
        self.vk_report(vk)
    }
}

fn read(path: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::Tool(format!("cannot read `{path}`: {e}")))
}

/// Runs `f`; a panic inside it (a zkVM crate refusing a program by panicking) is a tool failure,
/// exit 2, never a guest failure.
fn catch<T>(
    zkvm: &str,
    program_path: &str,
    f: impl FnOnce() -> Result<T, Failure>,
) -> Result<T, Failure> {
    panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(Failure::Tool(format!(
            "the {zkvm} crates panicked on `{program_path}`"
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "a"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "b",
]

[[package]]
name = "b"
version = "2.0.0"

[[package]]
name = "b"
version = "3.0.0-alpha"
"#;

    fn toolbox(lock: &'static str) -> Toolbox {
        Toolbox {
            zkvm: "test",
            primary_crate: "a",
            crates: &["a", "b"],
            lock,
            package: ("zkelf-toolbox-test", "0.1.0"),
            options: &[
                ToolOption {
                    name: "config",
                    value: "FILE",
                },
                ToolOption {
                    name: "fast",
                    value: "",
                },
            ],
            exec: |_, _| Err(Failure::Guest("no".into())),
            vk: |_| {
                Ok(Vk {
                    vk: [0xab; 32],
                    extras: vec![],
                })
            },
        }
    }

    #[test]
    fn renders_json() {
        let j = Json::obj([
            ("s", Json::str("a\"b\\c\nd\u{1}")),
            ("n", Json::U64(42)),
            ("a", Json::Arr(vec![Json::Bool(true), Json::Null])),
            ("o", Json::obj([("k", Json::str("v"))])),
        ]);
        assert_eq!(
            j.render(),
            r#"{"s":"a\"b\\c\nd\u0001","n":42,"a":[true,null],"o":{"k":"v"}}"#
        );
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
    }

    #[test]
    fn reads_versions_from_the_lock() {
        assert_eq!(locked_versions(LOCK, "a"), ["1.0.0"]);
        assert_eq!(locked_versions(LOCK, "b"), ["2.0.0", "3.0.0-alpha"]);
        assert!(locked_versions(LOCK, "c").is_empty());
        let t = toolbox(LOCK);
        assert_eq!(t.id().unwrap(), "test-1.0.0");
        assert_eq!(
            t.version_report().unwrap().render(),
            r#"{"zkvm":"test","toolbox":"test-1.0.0","package":"zkelf-toolbox-test 0.1.0","crates":{"a":"1.0.0","b":["2.0.0","3.0.0-alpha"]}}"#
        );
        assert!(toolbox("").id().is_err());
    }

    #[test]
    fn parses_options() {
        let t = toolbox(LOCK);
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (p, o) = t
            .parse_args(&args(&["x.elf", "--config", "c.toml"]), 1)
            .unwrap();
        assert_eq!(p, ["x.elf"]);
        assert_eq!(o, vec![("config".to_string(), "c.toml".to_string())]);
        let (p, o) = t
            .parse_args(&args(&["--config=c.toml", "x.elf", "in"]), 2)
            .unwrap();
        assert_eq!(p, ["x.elf", "in"]);
        assert_eq!(o, vec![("config".to_string(), "c.toml".to_string())]);
        assert!(t.parse_args(&args(&["x.elf", "--other", "v"]), 1).is_err());
        assert!(t.parse_args(&args(&["x.elf", "--config"]), 1).is_err());
        assert!(t.parse_args(&args(&["x.elf", "y.elf"]), 1).is_err());
        assert!(t.parse_args(&args(&["x.elf"]), 2).is_err());
        assert!(t.parse_args(&args(&[]), 1).is_err());
        assert!(t
            .parse_args(&args(&["x", "--config", "a", "--config", "b"]), 1)
            .is_err());
        let (p, o) = t.parse_args(&args(&["--fast", "x.elf"]), 1).unwrap();
        assert_eq!(p, ["x.elf"]);
        assert_eq!(o, vec![("fast".to_string(), "true".to_string())]);
        assert!(t.parse_args(&args(&["x.elf", "--fast=no"]), 1).is_err());
        assert!(t.usage().contains("[--config <FILE>] [--fast]"));
    }

    #[test]
    fn reports_vk_fields_in_order() {
        let t = toolbox(LOCK);
        let vk = Vk {
            vk: [1; 32],
            extras: vec![("extra".into(), Json::U64(7))],
        };
        assert_eq!(
            t.vk_report(vk).unwrap().render(),
            format!(
                r#"{{"zkvm":"test","toolbox":"test-1.0.0","vk":"{}","extra":7}}"#,
                "01".repeat(32)
            )
        );
    }
}
