//! The common core of the AWS companion tools.
