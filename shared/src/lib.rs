//! The common core of the AWS companion tools: the AWS CLI's config and credentials files (read
//! and edited losslessly), the credential chain, the AWS CLI's caches, SDK clients, output and
//! errors. Every plugin stands on it; plugins never import each other.
//!
//! Modules import only modules listed before them, so any one could become its own crate.
#![deny(missing_docs)]

pub mod app;
pub mod cache;
pub mod cli;
pub mod client;
pub mod config;
pub mod credentials;
pub mod env_vars;
pub mod error;
pub mod fsutil;
pub mod os;
pub mod output;
pub mod secret;
pub mod text;
