//! Which git sources zkelf hands to git at all: the one check, used for a provenance's source,
//! `--source`, a lock file's git URLs and mirror prefixes.

/// Why git must not be handed `uri` (it could read it as an option, `--upload-pack=…`, or
/// pass it to a transport helper that runs commands, `ext::sh -c …`); `None` for the
/// `https://`, `ssh://`, `file://`, `git@host:path` URLs and local paths that pass.
pub fn refusal(uri: &str) -> Option<&'static str> {
    if uri.is_empty() {
        return Some("it is empty");
    }
    if uri.starts_with('-') {
        return Some("it starts with `-`, so git would take it as an option");
    }
    if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Some("it contains whitespace or control characters");
    }
    let host_ok = |authority: &str| {
        let host = authority.rsplit('@').next().unwrap_or_default();
        !host.is_empty() && !host.starts_with('-')
    };
    for scheme in ["https://", "ssh://"] {
        if let Some(rest) = uri.strip_prefix(scheme) {
            let authority = rest.split('/').next().unwrap_or_default();
            return if host_ok(authority) {
                None
            } else {
                Some("its host is empty or starts with `-`")
            };
        }
    }
    if let Some(rest) = uri.strip_prefix("git@") {
        return match rest.split_once(':') {
            Some((host, path)) if host_ok(host) && !host.contains('/') && !path.is_empty() => None,
            _ => Some("it is not `git@host:path`"),
        };
    }
    // A local path: `file://`, absolute or explicitly relative, or anything without a `:`
    // (with one, git may read `host:path` as ssh or `name::address` as a transport helper).
    let local = uri.starts_with("file://")
        || uri.starts_with('/')
        || uri.starts_with("./")
        || uri.starts_with("../")
        || !uri.contains(':');
    if local {
        None
    } else {
        Some("it is neither `https://`, `ssh://`, `file://`, `git@host:path` nor a local path")
    }
}
