//! RISC Zero's example guest, whose VK (the image id) zkelf derives in-process: a VK of another
//! program, bound by a signature, is refused by `sign`, `verify` and `pull`.

use std::path::Path;

use sha2::{Digest, Sha256};
use zkelf_registry::Reference;
use zkelf_registry::artifact::{self, ArtifactSpec, Descriptor};
use zkelf_registry::store::{self, NetworkOptions};
use zkelf_testsupport::cli;
use zkelf_testsupport::minisign_tool;
use zkelf_testsupport::run::assert_nothing_written;

use super::fixture::{Fixture, Released, hex, release_run_rebuild};

#[test]
#[ignore = "heavy (RISC Zero's toolbox): scripts/zkvm-figures runs it"]
fn risc0_guest_builds_reproducibly_runs_in_risc0s_executor_and_its_vk_is_bound() {
    let f = Fixture::new();
    let released = release_run_rebuild(&f, "risc0-hash", "risc0");
    let program = std::fs::read(&released.pulled).unwrap();
    assert!(zkelf_zkvm::risc0::is_program_binary(&program));

    // The VK zkelf derived is the program's image id.
    let vk_path = released.dist.join("risc0-hash-risc0.vk");
    let vk = released.vk.clone();
    let id = zkelf_zkvm::risc0::image_id(&program).unwrap();
    assert_eq!(id.as_bytes().as_slice(), vk.as_slice());

    // Another program: the same kernel around a user ELF one byte different, in the middle of
    // its code (bytes that are not loaded, such as the section headers, leave the id alone).
    let (user, kernel) = zkelf_zkvm::risc0::parts(&program).unwrap();
    let mut other_user = user.to_vec();
    let middle = other_user.len() / 2;
    other_user[middle] ^= 1;
    let other = zkelf_zkvm::risc0::wrap(&other_user, kernel);
    let other_id = zkelf_zkvm::risc0::image_id(&other).unwrap();
    assert_ne!(other_id.as_bytes().as_slice(), vk.as_slice());
    let other_vk = f.path("other.vk");
    std::fs::write(&other_vk, other_id.as_bytes()).unwrap();
    let ids = [hex(other_id.as_bytes()), hex(&vk)];
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();

    // `sign` refuses to bind it.
    let sig = f.path("out/wrong-vk.minisig");
    let signed = f.run(&[
        "sign",
        released.pulled.to_str().unwrap(),
        "--key",
        f.key.secret.to_str().unwrap(),
        "--guest",
        "risc0-hash",
        "--version",
        "0.1.0",
        "--zkvm",
        "risc0",
        "--vk",
        other_vk.to_str().unwrap(),
        "-o",
        sig.to_str().unwrap(),
    ]);
    cli::Output::from(&signed).assert_exit(1).stderr_has(&ids);
    assert!(!sig.exists());

    // A signature that binds it anyway (made by the minisign tool) fails `verify`…
    let d = zkelf_trust::digest::hash_file(&released.pulled).unwrap();
    let provenance =
        zkelf_trust::digest::hash_file(&released.dist.join("risc0-hash-risc0.provenance.json"))
            .unwrap();
    let statement = format!(
        "zkelf/1 kind=release guest=risc0-hash version=0.1.0 zkvm=risc0 target=riscv32im-risc0-zkvm-elf sha256={} size={} provenance={} vk={} created=1700000000",
        d.sha256,
        d.size,
        provenance.sha256,
        hex(&Sha256::digest(other_id.as_bytes()))
    );
    let sig = f.path("wrong-vk.minisig");
    minisign_tool::sign(&f.key, &released.pulled, &sig, &statement, false);
    let verify_with = |vk: &std::path::Path| {
        f.run(&[
            "verify",
            released.pulled.to_str().unwrap(),
            "--sig",
            sig.to_str().unwrap(),
            "--policy",
            f.policy.to_str().unwrap(),
            "--vk",
            vk.to_str().unwrap(),
        ])
    };
    cli::Output::from(&verify_with(&other_vk))
        .assert_exit(1)
        .stderr_has(&ids);
    // …and with the right VK the statement's `vk=` no longer matches.
    cli::Output::from(&verify_with(&vk_path)).assert_exit(1);

    // …and `pull` of an artifact that ships it with that signature.
    let reference = publish_with_vk(&f, &released, &sig, other_id.as_bytes());
    let out = f.path("out/pulled-wrong-vk.elf");
    let pull = f.run(&[
        "pull",
        &reference,
        "--policy",
        f.policy.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    cli::Output::from(&pull).assert_exit(1).stderr_has(&ids);
    assert!(!out.exists());
    std::fs::remove_file(&released.pulled).unwrap();
    assert_nothing_written(&f.path("out"));
}

/// Pushes, into the release's layout under tag `wrong-vk`, the released artifact with `vk` as
/// its VK layer and `signature` as its release signature (what a publisher's mistake or a
/// hostile store would serve).
fn publish_with_vk(f: &Fixture, released: &Released, signature: &Path, vk: &[u8]) -> String {
    let reference: Reference = f.layout_ref("wrong-vk").parse().unwrap();
    let sig = std::fs::read(signature).unwrap();
    let provenance = std::fs::read(released.dist.join("risc0-hash-risc0.provenance.json")).unwrap();
    let elf = std::fs::read(&released.pulled).unwrap();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = store::open(&reference, &NetworkOptions::default()).unwrap();
        for (media_type, bytes) in [
            (artifact::MINISIG_MEDIA_TYPE, &sig),
            (artifact::VK_MEDIA_TYPE, &vk.to_vec()),
            (artifact::PROVENANCE_MEDIA_TYPE, &provenance),
        ] {
            let d = Descriptor::of(media_type, bytes);
            let source = store::BlobSource::Bytes(bytes.clone().into());
            store.put_blob(&d, source).await.unwrap();
        }
        let spec = ArtifactSpec {
            guest: "risc0-hash".into(),
            version: "0.1.0".into(),
            zkvm: "risc0".into(),
            target: "riscv32im-risc0-zkvm-elf".into(),
            revision: None,
            source: None,
            created: 1_700_000_000,
            elf: Descriptor::new(
                artifact::ELF_MEDIA_TYPE,
                format!("sha256:{}", released.sha256).parse().unwrap(),
                elf.len() as u64,
            ),
            signature: Descriptor::of(artifact::MINISIG_MEDIA_TYPE, &sig),
            provenance: Some(Descriptor::of(artifact::PROVENANCE_MEDIA_TYPE, &provenance)),
            vk: Some(Descriptor::of(artifact::VK_MEDIA_TYPE, vk)),
            vk_signature: None,
            annotations: Default::default(),
        };
        let (bytes, _) = spec.manifest();
        store
            .put_manifest(&bytes, artifact::MANIFEST_MEDIA_TYPE, Some("wrong-vk"))
            .await
            .unwrap();
    });
    f.layout_ref("wrong-vk")
}
