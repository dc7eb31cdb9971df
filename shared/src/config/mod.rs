//! The AWS CLI's config and credentials files, in three layers:
//! - [`doc`]: a lossless document of one INI file (every edit goes through it);
//! - [`model`]: the two files read together as the AWS CLI reads them (profiles, sso-sessions,
//!   services; credentials-file values over config-file values);
//! - [`resolve`]: a profile turned into a plan: one base credential source plus role hops.

pub mod doc;
pub mod model;
pub mod resolve;

pub use model::{AwsFiles, FileKind, Profile, Setting, SsoSession};
pub use resolve::{Base, CredentialSourceKind, Hop, Plan};
