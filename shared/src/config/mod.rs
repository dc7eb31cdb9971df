//! The AWS CLI's config and credentials files, in three layers:
//! - [`doc`]: a lossless document of one INI file (every edit goes through it);
//! - [`model`]: the two files read together as the AWS CLI reads them (profiles, sso-sessions,
//!   services; credentials-file values over config-file values);
//! - [`resolve`]: a profile turned into a plan: one base credential source plus role hops;
//! - [`write`]: edits of the user's files as documents through the one write path.

pub mod doc;
pub mod model;
pub mod resolve;
pub mod write;

pub use model::{AwsFiles, FileKind, Profile, Setting, SsoSession};
pub use resolve::{Base, CredentialSourceKind, Hop, Plan};

/// Whether a region name has the shape of one (`us-east-1`, `eu-central-2`, `us-gov-west-1`,
/// `local`): ASCII letters, digits and `-`, starting with a letter, at most 63 characters. The
/// same rule applies to `--region`, the environment and the config.
pub fn valid_region(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 63
        && r.starts_with(|c: char| c.is_ascii_alphabetic())
        && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !r.ends_with('-')
}
