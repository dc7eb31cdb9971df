//! The local AWS sandbox and the end-to-end test harness.
//!
//! `emulator` is the project's own emulator of the AWS services no other emulator has: the IAM
//! Identity Center portal (`sso`), `sso-oidc`, and an STS that really checks MFA codes, trust
//! policies and session-duration rules. It follows the AWS wire protocols (rest-json for the portal
//! and OIDC, awsQuery for STS) as described by botocore's service models, and listens on one
//! loopback port for all of them. `harness` starts it (in-process or as the `aws-sandbox` binary),
//! starts moto for IAM, and gives every test a throwaway HOME.

pub mod emulator;
pub mod harness;
pub mod misbehave;
pub mod totp;
