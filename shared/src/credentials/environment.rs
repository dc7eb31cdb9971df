//! Environment credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (or the
//! legacy AWS_SECURITY_TOKEN), AWS_CREDENTIAL_EXPIRATION.

use crate::cache::{format_z, parse_timestamp};
use crate::env_vars;
use crate::error::{CredentialError, Error};
use crate::os::{Clock, Env};
use crate::secret::Credentials;

/// The environment's credentials, None when AWS_ACCESS_KEY_ID is unset; an error when half set or
/// expired.
pub fn credentials(env: &Env, clock: &dyn Clock) -> Result<Option<Credentials>, Error> {
    let (id, secret) = (env.get(env_vars::AWS_ACCESS_KEY_ID), env.get(env_vars::AWS_SECRET_ACCESS_KEY));
    let (id, secret) = match (id, secret) {
        (None, None) => return Ok(None),
        (Some(i), Some(s)) => (i, s),
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::usage(
                "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set",
                Some("set both, or unset both to use a profile".into()),
            ));
        }
    };
    let token =
        env.get(env_vars::AWS_SESSION_TOKEN).or_else(|| env.get(env_vars::AWS_SECURITY_TOKEN)).map(str::to_string);
    let mut creds = Credentials::new(id, secret, token);
    if let Some(exp) = env.get(env_vars::AWS_CREDENTIAL_EXPIRATION) {
        let t = parse_timestamp(exp).ok_or_else(|| {
            Error::usage(
                format!("AWS_CREDENTIAL_EXPIRATION = {exp} is not an ISO 8601 time"),
                Some("unset it or use the form 2026-01-01T00:00:00Z".into()),
            )
        })?;
        if t <= clock.now() {
            return Err(CredentialError::Expired {
                source_name: "the environment (AWS_ACCESS_KEY_ID)".into(),
                expired: format_z(t),
                command: "aws-assume PROFILE".into(),
            }
            .into());
        }
        creds.expiration = Some(t);
    }
    Ok(Some(creds))
}
