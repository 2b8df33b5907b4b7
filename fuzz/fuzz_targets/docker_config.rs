//! docker's `config.json` as zkelf looks up registry credentials in it
//! (`zkelf_registry::auth::docker_config_entry`, which runs no helper). For every host the file
//! names, and one it does not: the entry found is the one docs/distribution.md's order gives (a
//! `credHelpers` entry, an `auths` entry with `auth`, then `credsStore`); an `auth` read is
//! canonical base64 of `user:password`, so it encodes back to exactly itself; and an error never
//! quotes the `auth` secret.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use zkelf_registry::auth::{ConfigEntry, ConfigProblem, docker_config_entry};

/// The error with its causes, as the cli prints it.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fuzz_target!(|data: &[u8]| {
    let Ok(config) = serde_json::from_slice::<serde_json::Value>(data) else {
        let found = docker_config_entry(data, "registry.example:5000");
        assert!(matches!(found, Err(ConfigProblem::Json(_))), "{found:?}");
        return;
    };
    let mut hosts = vec!["registry.example:5000".to_owned()];
    for section in ["credHelpers", "auths"] {
        let keys = config[section]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k);
        hosts.extend(keys.take(8).map(|key| {
            let host = key.strip_prefix("https://").or(key.strip_prefix("http://"));
            host.unwrap_or(key).to_owned()
        }));
    }
    for host in &hosts {
        let keys = [
            host.clone(),
            format!("https://{host}"),
            format!("http://{host}"),
        ];
        let helper = keys.iter().find_map(|k| config["credHelpers"][k].as_str());
        let auth = keys
            .iter()
            .find_map(|k| Some((k, config["auths"][k]["auth"].as_str()?)));
        let found = docker_config_entry(data, host);
        match (helper, auth) {
            (Some(helper), _) => {
                assert!(
                    matches!(&found, Ok(Some(ConfigEntry::Helper(h))) if h == helper),
                    "{found:?}"
                );
            }
            (None, Some((key, auth))) => match found {
                Ok(Some(ConfigEntry::Auth(credentials))) => {
                    assert!(!credentials.username.contains(':'));
                    let pair = format!("{}:{}", credentials.username, *credentials.password);
                    let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                    assert_eq!(encoded, auth, "`auths.{key}.auth` is not canonical");
                }
                Err(
                    ref problem @ (ConfigProblem::AuthNotBase64 { key: ref k, .. }
                    | ConfigProblem::AuthNotUtf8 { key: ref k }
                    | ConfigProblem::AuthNotUserPassword { key: ref k }),
                ) => {
                    assert_eq!(k, key);
                    // A secret-looking value: long, of the base64 alphabet, so that no
                    // word of the messages and no part of the key can be it.
                    let secret = auth.len() >= 12
                        && auth
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
                    if secret && !key.contains(auth) {
                        assert!(
                            !chain(problem).contains(auth),
                            "the error quotes the secret"
                        );
                    }
                }
                other => panic!("`auths.{key}.auth` is there, but the lookup gives {other:?}"),
            },
            (None, None) => {
                let store = config["credsStore"].as_str();
                match (&found, store) {
                    (Ok(Some(ConfigEntry::Helper(h))), Some(store)) => assert_eq!(h, store),
                    (Ok(None), None) => {}
                    _ => panic!("`credsStore` is {store:?}, but the lookup gives {found:?}"),
                }
            }
        }
    }
});
