//! SP1 releases a compromised release job could ship: the released ELF signed with another
//! program's VK, random bytes, or no VK at all, each published to a layout of its own.

use zkelf_testsupport::cli;
use zkelf_testsupport::docker::guests_checkout;
use zkelf_testsupport::run::json_report;

use super::fixture::{Fixture, Released};

/// The VK of another program: `sp1-hash` with one string of its code changed, built by zkelf.
pub(crate) fn other_program_vk(f: &Fixture) -> Vec<u8> {
    let main = std::fs::read_to_string(f.repo.join("guests/sp1-hash/src/main.rs")).unwrap();
    let changed = main.replace("input must be", "the input must be");
    assert_ne!(changed, main);
    let repo = guests_checkout(
        &f.path("other-program/checkout"),
        &[("guests/sp1-hash/src/main.rs", changed.as_str())],
    );
    let out = f.path("other-program/dist");
    let build = f.run(&[
        "--json",
        "build",
        repo.join("guests/sp1-hash").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    json_report(&build, 0);
    std::fs::read(out.join("sp1-hash/0.1.0/sp1-hash-sp1.vk")).unwrap()
}

/// Publishes, to a layout of its own, the released SP1 artifact with `vk` as its VK, signed by
/// the release key with a statement binding that VK (what a compromised release job could
/// ship); returns its reference.
pub(crate) fn publish_forged_vk(f: &Fixture, released: &Released, name: &str, vk: &[u8]) -> String {
    publish_sp1(f, released, name, Some(vk))
}

/// Publishes, to a layout of its own, the released SP1 artifact with `vk` as its VK (none:
/// without one), signed by the release key with a statement binding it; returns its reference.
pub(crate) fn publish_sp1(
    f: &Fixture,
    released: &Released,
    name: &str,
    vk: Option<&[u8]>,
) -> String {
    let dist = f.path(&format!("forged/{name}/sp1-hash/0.1.0"));
    std::fs::create_dir_all(&dist).unwrap();
    for file in ["sp1-hash-sp1.elf", "sp1-hash-sp1.provenance.json"] {
        std::fs::copy(released.dist.join(file), dist.join(file)).unwrap();
    }
    let vk_path = dist.join("sp1-hash-sp1.vk");
    if let Some(vk) = vk {
        std::fs::write(&vk_path, vk).unwrap();
    }
    let elf = dist.join("sp1-hash-sp1.elf");
    let provenance = dist.join("sp1-hash-sp1.provenance.json");
    let mut sign = vec![
        "sign",
        elf.to_str().unwrap(),
        "--key",
        f.key.secret.to_str().unwrap(),
        "--guest",
        "sp1-hash",
        "--version",
        "0.1.0",
        "--zkvm",
        "sp1",
        "--target",
        "riscv64im-succinct-zkvm-elf",
        "--provenance",
        provenance.to_str().unwrap(),
    ];
    if vk.is_some() {
        sign.extend(["--vk", vk_path.to_str().unwrap()]);
    }
    cli::Output::from(&f.run(&sign)).assert_exit(0);
    let layout = f.path(&format!("forged/{name}/oci"));
    let publish = f.run(&[
        "publish",
        dist.to_str().unwrap(),
        "--to",
        &format!("oci-layout:{}", layout.display()),
        "--policy",
        f.policy.to_str().unwrap(),
    ]);
    cli::Output::from(&publish).assert_exit(0);
    format!("oci-layout:{}:0.1.0-sp1", layout.display())
}
