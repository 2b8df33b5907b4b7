//! Signed statements, minisign keys and the trust policy: what a zkelf signature binds and who may make it.
