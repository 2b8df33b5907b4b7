//! `stateless-input <cache.json> <out.bin>`: writes the `stateless-ethrex` guest's input frame.
//!
//! Exit codes: 0 written; 2 anything else (usage, I/O, a cache that does not convert), with
//! `error: …` on stderr.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage: stateless-input <cache.json> <out.bin>";

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [cache, out] = args.as_slice() else {
        eprintln!("error: expected two arguments\n{USAGE}");
        return ExitCode::from(2);
    };
    match run(cache, out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            let mut source = std::error::Error::source(&*err);
            while let Some(cause) = source {
                eprintln!("  Caused by: {cause}");
                source = cause.source();
            }
            ExitCode::from(2)
        }
    }
}

fn run(cache: &Path, out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let json =
        std::fs::read(cache).map_err(|err| format!("cannot read `{}`: {err}", cache.display()))?;
    let input = stateless_input::convert(&json)
        .map_err(|err| Error(format!("`{}`: {err}", cache.display()), err))?;
    write_atomically(out, &input.encode())
        .map_err(|err| format!("cannot write `{}`: {err}", out.display()).into())
}

/// A message naming the file, keeping the conversion error as its cause.
#[derive(Debug)]
struct Error(String, stateless_input::ConvertError);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.1)
    }
}

/// Temp file in the same directory, fsync, rename: a reader never sees half a frame.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
