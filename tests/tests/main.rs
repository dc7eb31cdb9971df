//! The end-to-end suite: one test binary (one link, one harness) whose modules run the built
//! tools against the local sandbox. `harness::binary` refuses a build older than the sources, so
//! a stale binary is never what gets tested.

mod assume;
mod config_compat;
mod edges;
mod hardening;
mod integration;
mod keyaudit;
mod keys;
mod login;
mod sandbox;
mod snapshots;
mod sso_sync;
mod whoami;
