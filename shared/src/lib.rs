//! The common core of the AWS companion tools: the AWS CLI's config and credentials files (read
//! and edited losslessly), the credential chain, the AWS CLI's caches, SDK clients, output and
//! errors. Every plugin stands on it; plugins never import each other.
//!
//! Modules import only modules listed before them in this order, so any one could become its own
//! crate (checked by hand with `grep 'crate::' shared/src/<module>`; see CONTRIBUTING.md):
//!
//! | module | owns | does not own |
//! | --- | --- | --- |
//! | [`os`] | the `Env` snapshot, the `Clock` (real and fixed), browser opening, URL coding | anything AWS-specific |
//! | [`env_vars`] | the name and meaning of every environment variable we read | reading them (`os::Env`) |
//! | [`text`] | escaping outside text for terminals, clipping, CSV formula neutralising | where text is written |
//! | [`secret`] | `Secret` (masked, zeroized) and `Credentials` | where they come from |
//! | [`fsutil`] | the one write path, locks that say who holds them, atomic cache writes, folder trust | file formats |
//! | [`error`] | typed errors per area, hints, exit codes | rendering them (`cli::report`) |
//! | [`config`] | the INI document, the botocore-exact model, profile plans, document edits | credentials, network |
//! | [`cache`] | the AWS CLI's SSO and role-credential caches (paths, hashes, JSON) | refreshing them (`credentials`) |
//! | [`keystore`] | long-term keys out of plaintext: the OS keyring, the encrypted file, the index | which profile uses them (`config`) |
//! | [`output`] | the renderer over typed rows: table, JSON, text, CSV, markdown; broken pipes | what the rows mean |
//! | [`client`] | every SDK client: endpoints, retries, deadlines, body cap, call log | which calls a tool makes |
//! | [`cli`] | the shared flags, validated values, completion candidates, `main` and error rendering | a tool's own flags |
//! | [`credentials`] | the credential chain, one module per source, single-flight refresh | config parsing, caches' formats |
//! | [`app`] | one run's world: environment, files, selection, settings, clock | any command's logic |
//!
//! (`credentials` sits above `cache` and `client` because a source reads caches and calls STS.)
#![deny(missing_docs)]

pub mod os;
pub mod env_vars;
pub mod text;
pub mod secret;
pub mod fsutil;
pub mod error;
pub mod config;
pub mod cache;
pub mod keystore;
pub mod output;
pub mod client;
pub mod cli;
pub mod credentials;
pub mod app;
