//! Every environment variable the tools read, in one place, with what it means.

/// Profile name (`--profile` wins over it).
pub const AWS_PROFILE: &str = "AWS_PROFILE";
/// Profile name, older spelling (used when AWS_PROFILE is unset).
pub const AWS_DEFAULT_PROFILE: &str = "AWS_DEFAULT_PROFILE";
/// Path of the config file (default `~/.aws/config`).
pub const AWS_CONFIG_FILE: &str = "AWS_CONFIG_FILE";
/// Path of the credentials file (default `~/.aws/credentials`).
pub const AWS_SHARED_CREDENTIALS_FILE: &str = "AWS_SHARED_CREDENTIALS_FILE";
/// Region (SDK spelling; wins over AWS_DEFAULT_REGION).
pub const AWS_REGION: &str = "AWS_REGION";
/// Region (AWS CLI spelling).
pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
/// Access key id of environment credentials.
pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
/// Secret of environment credentials.
pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
/// Session token of environment credentials.
pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
/// Legacy session token name.
pub const AWS_SECURITY_TOKEN: &str = "AWS_SECURITY_TOKEN";
/// Expiry of environment credentials (ISO 8601), as set by `aws configure export-credentials`.
pub const AWS_CREDENTIAL_EXPIRATION: &str = "AWS_CREDENTIAL_EXPIRATION";
/// Endpoint for every service.
pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
/// Prefix of per-service endpoints: `AWS_ENDPOINT_URL_STS`, `_IAM`, `_SSO`, `_SSO_OIDC`.
pub const AWS_ENDPOINT_URL_PREFIX: &str = "AWS_ENDPOINT_URL_";
/// Ignore every configured endpoint.
pub const AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: &str = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";
/// `standard`, `adaptive` or `legacy`.
pub const AWS_RETRY_MODE: &str = "AWS_RETRY_MODE";
/// Attempts per call, the first included.
pub const AWS_MAX_ATTEMPTS: &str = "AWS_MAX_ATTEMPTS";
/// Web identity token file.
pub const AWS_WEB_IDENTITY_TOKEN_FILE: &str = "AWS_WEB_IDENTITY_TOKEN_FILE";
/// Role for web identity from the environment.
pub const AWS_ROLE_ARN: &str = "AWS_ROLE_ARN";
/// Session name for web identity from the environment.
pub const AWS_ROLE_SESSION_NAME: &str = "AWS_ROLE_SESSION_NAME";
/// ECS/container credentials, relative URI.
pub const AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: &str = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
/// ECS/container credentials, full URI.
pub const AWS_CONTAINER_CREDENTIALS_FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
/// The container credentials endpoint's authorization token.
pub const AWS_CONTAINER_AUTHORIZATION_TOKEN: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
/// A file holding that token (read on every request; it wins over the variable).
pub const AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
/// Turns off IMDS.
pub const AWS_EC2_METADATA_DISABLED: &str = "AWS_EC2_METADATA_DISABLED";
/// aws-whoami: skip the account alias lookup (`true`/`1`).
pub const AWS_WHOAMI_DISABLE_ACCOUNT_ALIAS: &str = "AWS_WHOAMI_DISABLE_ACCOUNT_ALIAS";
/// Disables colour in any output.
pub const NO_COLOR: &str = "NO_COLOR";
/// Seconds to wait for another run's lock on a config or cache file before giving up (default 60).
pub const AWS_COMPANIONS_LOCK_TIMEOUT: &str = "AWS_COMPANIONS_LOCK_TIMEOUT";
/// aws-assume `--console`: the AWS sign-in (federation) endpoint, as the AWS SDKs name it.
pub const AWS_ENDPOINT_URL_SIGNIN: &str = "AWS_ENDPOINT_URL_SIGNIN";
/// The instance metadata endpoint (overrides the mode).
pub const AWS_EC2_METADATA_SERVICE_ENDPOINT: &str = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
/// `IPv4` (default) or `IPv6`: which instance metadata address to use.
pub const AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: &str = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE";
/// Set by aws-assume in exports and `--` runs: the profile this shell or command runs as (for
/// shell prompts).
pub const AWS_ASSUME_PROFILE: &str = "AWS_ASSUME_PROFILE";
/// Set by aws-assume beside AWS_ASSUME_PROFILE: when those credentials expire (UTC, RFC 3339).
pub const AWS_ASSUME_EXPIRATION: &str = "AWS_ASSUME_EXPIRATION";

/// The key store backend: `os` (the OS keyring, the default) or `file` (an encrypted file).
pub const AWS_COMPANIONS_KEY_STORE: &str = "AWS_COMPANIONS_KEY_STORE";
/// The encrypted file's passphrase, for machines where nobody types it (CI, containers).
pub const AWS_COMPANIONS_KEY_STORE_PASSPHRASE: &str = "AWS_COMPANIONS_KEY_STORE_PASSPHRASE";
/// The folder of the key index and the encrypted file (default `~/.aws/aws-companions`).
pub const AWS_COMPANIONS_KEY_STORE_DIR: &str = "AWS_COMPANIONS_KEY_STORE_DIR";
