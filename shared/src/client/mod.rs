//! The one place that builds AWS SDK clients: region, credentials, endpoint overrides
//! (`AWS_ENDPOINT_URL_<SERVICE>`, the profile's `[services]` section, `AWS_ENDPOINT_URL`, the
//! profile's `endpoint_url`, in that order; `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` turns them all
//! off), retry mode and attempts (`AWS_RETRY_MODE`, `AWS_MAX_ATTEMPTS`, or the profile's
//! `retry_mode` / `max_attempts`), timeouts, and the `-v` call log.
//!
//! Every call is bounded: connect and read time-outs, a total deadline per attempt (connect,
//! first byte and the whole body: a server trickling one byte a second cannot outlive it), a
//! deadline across all attempts, and a cap on the size of a response body ([`MAX_BODY_BYTES`]).
//! Audits of many accounts add a [`gate::Gate`]: a global cap on calls in flight and per-account
//! adaptive pacing.

pub mod gate;
pub mod http;
pub mod loopback;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, BeforeSerializationInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::region::Region;

use crate::config::{AwsFiles, Profile};
use crate::env_vars;
use crate::error::ConfigError;
use crate::os::Env;
use crate::secret::Credentials;

/// The largest response body we read (a credential report or a page of account authorization
/// details for a large account stays far below it). A larger answer fails the call.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The time the SDK may spend backing off between attempts, added to the total deadline.
const BACKOFF_ALLOWANCE: Duration = Duration::from_secs(10);
/// How many full attempt deadlines the total deadline allows: many attempts are for fast
/// answers (throttling, 5xx); a server that does not answer at all gets at most this many.
const SLOW_ATTEMPTS: u32 = 3;

/// How clients are built for one run.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// The region calls go to (None: none configured).
    pub region: Option<String>,
    /// Attempts per call.
    pub max_attempts: u32,
    /// `adaptive` retry mode (client-side rate limiting) instead of `standard`.
    pub adaptive: bool,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Read timeout per attempt.
    pub read_timeout: Duration,
    endpoints: BTreeMap<String, String>,
    global_endpoint: Option<String>,
    /// The `-v` call log.
    pub calls: CallLog,
    /// The gate in front of the connector (many-account audits), if any.
    gate: Option<gate::Gate>,
}

/// Services we build clients for: (service id as in `AWS_ENDPOINT_URL_<ID>`, `[services]` key).
pub const SERVICES: [(&str, &str); 7] = [
    ("STS", "sts"),
    ("IAM", "iam"),
    ("SSO", "sso"),
    ("SSO_OIDC", "sso_oidc"),
    ("ORGANIZATIONS", "organizations"),
    ("CLOUDTRAIL", "cloudtrail"),
    // The Sign-In service (`aws login` tokens; the console federation endpoint shares its base).
    ("SIGNIN", "signin"),
];

impl ClientSettings {
    /// Settings from the environment and (when one is in use) the profile.
    pub fn new(env: &Env, files: &AwsFiles, profile: Option<&Profile>, verbose: u8) -> Result<Self, ConfigError> {
        let pget = |k: &str| profile.and_then(|p| p.get(k));
        let region = env
            .get(env_vars::AWS_REGION)
            .or_else(|| env.get(env_vars::AWS_DEFAULT_REGION))
            .or_else(|| pget("region"))
            .map(str::to_string)
            .or_else(|| {
                let session = pget("sso_session")?;
                files.sso_session(session).ok().flatten()?.get("sso_region").map(str::to_string)
            });
        let bad = |key: &str, value: &str, fix: &str| ConfigError::InvalidProfile {
            profile: profile.map(|p| p.name.clone()).unwrap_or_else(|| "(environment)".into()),
            path: files.config_path.clone(),
            line: profile.and_then(|p| p.line(key)),
            message: format!("has {key} = {value}"),
            fix: Some(fix.into()),
        };
        if let Some(r) = &region
            && !crate::config::valid_region(r)
        {
            return Err(bad(
                "region",
                r,
                "use a region name such as us-east-1 (AWS_REGION / AWS_DEFAULT_REGION / the profile's region)",
            ));
        }
        let attempts = env.get(env_vars::AWS_MAX_ATTEMPTS).or_else(|| pget("max_attempts"));
        let max_attempts = match attempts {
            None => 3,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| bad("max_attempts", v, "use a whole number of 1 or more"))?,
        };
        let adaptive = match env.get(env_vars::AWS_RETRY_MODE).or_else(|| pget("retry_mode")) {
            None | Some("standard") | Some("legacy") => false,
            Some("adaptive") => true,
            Some(other) => return Err(bad("retry_mode", other, "use standard, adaptive or legacy")),
        };
        let ignore = env.flag(env_vars::AWS_IGNORE_CONFIGURED_ENDPOINT_URLS)
            || pget("ignore_configured_endpoint_urls").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let mut endpoints = BTreeMap::new();
        let mut global_endpoint = None;
        if !ignore {
            let services = match pget("services") {
                Some(name) => files.services(name)?,
                None => BTreeMap::new(),
            };
            for (id, key) in SERVICES {
                let from_env = env.get(&format!("{}{id}", env_vars::AWS_ENDPOINT_URL_PREFIX)).map(str::to_string);
                let from_services = services.get(key).and_then(|s| s.get("endpoint_url")).cloned();
                if let Some(url) = from_env.or(from_services) {
                    endpoints.insert(id.to_string(), url);
                }
            }
            global_endpoint = env.get(env_vars::AWS_ENDPOINT_URL).or_else(|| pget("endpoint_url")).map(str::to_string);
        }
        Ok(Self {
            region,
            max_attempts,
            adaptive,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(30),
            endpoints,
            global_endpoint,
            calls: CallLog::new(verbose),
            gate: None,
        })
    }

    /// The deadline of one attempt: connecting, the first byte and the whole body.
    pub fn attempt_timeout(&self) -> Duration {
        self.connect_timeout + self.read_timeout
    }

    /// The deadline of a call across all its attempts and back-offs:
    /// `attempt_timeout × min(attempts, 3) + 10 s` (documented in the README).
    pub fn total_timeout(&self) -> Duration {
        self.attempt_timeout() * self.max_attempts.clamp(1, SLOW_ATTEMPTS) + BACKOFF_ALLOWANCE
    }

    /// The endpoint override for a service id (`STS`, `IAM`, `SSO`, `SSO_OIDC`), if any.
    pub fn endpoint(&self, service_id: &str) -> Option<&str> {
        self.endpoints.get(service_id).or(self.global_endpoint.as_ref()).map(String::as_str)
    }

    /// These settings for another account: `gate` in front of every call (its cap shared, its
    /// pace this account's: retried attempts slow it down), and the account's own call counts.
    pub fn with_gate(&self, gate: gate::Gate) -> ClientSettings {
        let mut s = self.clone();
        s.calls.counts = Arc::default();
        s.calls.pace = Some(gate.pace.clone());
        s.gate = Some(gate);
        s
    }

    /// The shared SDK configuration: region (us-east-1 when none is set: STS and IAM are
    /// global), credentials, retries, timeouts.
    pub fn sdk_config(&self, region: Option<&str>, creds: Option<&Credentials>) -> aws_types::SdkConfig {
        let region = region.or(self.region.as_deref()).unwrap_or("us-east-1").to_string();
        let retry = if self.adaptive { RetryConfig::adaptive() } else { RetryConfig::standard() }
            .with_max_attempts(self.max_attempts);
        let mut b = aws_types::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region))
            .retry_config(retry)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(self.connect_timeout)
                    .read_timeout(self.read_timeout)
                    .operation_attempt_timeout(self.attempt_timeout())
                    .operation_timeout(self.total_timeout())
                    .build(),
            )
            .sleep_impl(aws_smithy_async::rt::sleep::default_async_sleep().expect("tokio sleep"));
        if let Some(c) = creds {
            b = b.credentials_provider(SharedCredentialsProvider::new(c.to_sdk()));
        }
        if let Some(g) = &self.gate {
            b = b.http_client(g.http_client());
        }
        b.build()
    }

    /// An STS client with these credentials (None: unsigned calls only).
    pub fn sts(&self, creds: Option<&Credentials>) -> aws_sdk_sts::Client {
        let mut b = aws_sdk_sts::config::Builder::from(&self.sdk_config(None, creds)).interceptor(self.calls.clone());
        if let Some(url) = self.endpoint("STS") {
            b = b.endpoint_url(url);
        }
        aws_sdk_sts::Client::from_conf(b.build())
    }

    /// An IAM client with these credentials (IAM is global: the configured region signs).
    pub fn iam(&self, creds: &Credentials) -> aws_sdk_iam::Client {
        let mut b =
            aws_sdk_iam::config::Builder::from(&self.sdk_config(None, Some(creds))).interceptor(self.calls.clone());
        if let Some(url) = self.endpoint("IAM") {
            b = b.endpoint_url(url);
        }
        aws_sdk_iam::Client::from_conf(b.build())
    }

    /// An AWS Organizations client with these credentials (its endpoint lives in us-east-1).
    pub fn organizations(&self, creds: &Credentials) -> aws_sdk_organizations::Client {
        let mut b = aws_sdk_organizations::config::Builder::from(&self.sdk_config(Some("us-east-1"), Some(creds)))
            .interceptor(self.calls.clone());
        if let Some(url) = self.endpoint("ORGANIZATIONS") {
            b = b.endpoint_url(url);
        }
        aws_sdk_organizations::Client::from_conf(b.build())
    }

    /// A CloudTrail client in `region` (event history is regional: each region is asked itself).
    pub fn cloudtrail(&self, creds: &Credentials, region: &str) -> aws_sdk_cloudtrail::Client {
        let mut b = aws_sdk_cloudtrail::config::Builder::from(&self.sdk_config(Some(region), Some(creds)))
            .interceptor(self.calls.clone());
        if let Some(url) = self.endpoint("CLOUDTRAIL") {
            b = b.endpoint_url(url);
        }
        aws_sdk_cloudtrail::Client::from_conf(b.build())
    }

    /// An SSO portal client in the Identity Center region.
    pub fn sso(&self, sso_region: &str) -> aws_sdk_sso::Client {
        let mut b = aws_sdk_sso::config::Builder::from(&self.sdk_config(Some(sso_region), None))
            .interceptor(self.calls.clone());
        if let Some(url) = self.endpoint("SSO") {
            b = b.endpoint_url(url);
        }
        aws_sdk_sso::Client::from_conf(b.build())
    }

    /// An SSO-OIDC client in the Identity Center region.
    pub fn ssooidc(&self, sso_region: &str) -> aws_sdk_ssooidc::Client {
        let mut b = aws_sdk_ssooidc::config::Builder::from(&self.sdk_config(Some(sso_region), None))
            .interceptor(self.calls.clone());
        if let Some(url) = self.endpoint("SSO_OIDC") {
            b = b.endpoint_url(url);
        }
        aws_sdk_ssooidc::Client::from_conf(b.build())
    }
}

/// Counts AWS calls per operation and, with `-v`, logs each one (operation, duration, attempts,
/// outcome) to stderr. Never logs parameters or bodies, so no secret can reach the log.
#[derive(Debug, Clone)]
pub struct CallLog {
    verbose: u8,
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
    /// Told of every retried attempt (see [`gate`]).
    pace: Option<Arc<gate::Pace>>,
}

#[derive(Debug, Clone)]
struct Started(Instant, u32);
impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

impl CallLog {
    /// A log that prints at `verbose >= 1`.
    pub fn new(verbose: u8) -> Self {
        Self { verbose, counts: Arc::default(), pace: None }
    }

    /// Calls made so far, by `service:Operation`.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    fn read_before_execution(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Started(Instant::now(), 0));
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // A second attempt means the first was throttled or failed transiently: slow down.
        if let (Some(pace), Some(s)) = (&self.pace, cfg.load::<Started>())
            && s.1 > 0
        {
            pace.slow_down();
        }
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        ctx: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let resp = ctx.response_mut();
        let declared = resp.headers().get("content-length").and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(format!(
                "the response declares {} bytes, over the {MAX_BODY_BYTES}-byte limit",
                declared.unwrap_or(0)
            )
            .into());
        }
        // Bodies without a length (chunked) are cut at the limit while they are read.
        let body = std::mem::replace(resp.body_mut(), aws_smithy_types::body::SdkBody::taken());
        *resp.body_mut() =
            aws_smithy_types::body::SdkBody::from_body_1_x(http_body_util::Limited::new(body, MAX_BODY_BYTES));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        _: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(s) = cfg.load::<Started>().cloned() {
            cfg.interceptor_state().store_put(Started(s.0, s.1 + 1));
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        ctx: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, op) =
            cfg.load::<Metadata>().map(|m| (m.service().to_lowercase(), m.name().to_string())).unwrap_or_default();
        let name = format!("{service}:{op}");
        if let Ok(mut c) = self.counts.lock() {
            *c.entry(name.clone()).or_default() += 1;
        }
        if self.verbose > 0 {
            let (ms, attempts) =
                cfg.load::<Started>().map(|s| (s.0.elapsed().as_secs_f64() * 1000.0, s.1)).unwrap_or((0.0, 0));
            let status =
                ctx.response().map(|r| r.status().as_u16().to_string()).unwrap_or_else(|| "no response".into());
            let outcome = match ctx.output_or_error() {
                Some(Ok(_)) => "ok",
                _ => "failed",
            };
            eprintln!(
                "aws: {name} {outcome} (HTTP {status}) in {ms:.1} ms, {attempts} attempt{}",
                if attempts == 1 { "" } else { "s" }
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_precedence() {
        let files = AwsFiles::from_text(
            "[profile p]\nendpoint_url = http://profile\nservices = local\nmax_attempts = 5\n[services local]\niam =\n  endpoint_url = http://services-iam\n",
            "",
        );
        let p = files.profile("p").unwrap();
        let env =
            Env::from_pairs([("AWS_ENDPOINT_URL_STS", "http://env-sts"), ("AWS_ENDPOINT_URL", "http://env-global")]);
        let s = ClientSettings::new(&env, &files, Some(&p), 0).unwrap();
        assert_eq!(s.endpoint("STS"), Some("http://env-sts"));
        assert_eq!(s.endpoint("IAM"), Some("http://services-iam"));
        assert_eq!(s.endpoint("SSO"), Some("http://env-global"));
        assert_eq!(s.max_attempts, 5);
        let s = ClientSettings::new(&Env::default(), &files, Some(&p), 0).unwrap();
        assert_eq!(s.endpoint("SSO"), Some("http://profile"));
        let off =
            Env::from_pairs([("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"), ("AWS_ENDPOINT_URL_STS", "http://x")]);
        assert_eq!(ClientSettings::new(&off, &files, Some(&p), 0).unwrap().endpoint("STS"), None);
    }

    #[test]
    fn region_and_retry_settings() {
        let files = AwsFiles::from_text(
            "[profile p]\nregion = eu-west-1\nretry_mode = sideways\n[profile s]\nsso_session = c\n[sso-session c]\nsso_region = ap-south-1\n",
            "",
        );
        let p = files.profile("p").unwrap();
        let e = ClientSettings::new(&Env::default(), &files, Some(&p), 0).unwrap_err();
        assert!(e.to_string().contains("retry_mode = sideways"), "{e}");
        let env = Env::from_pairs([("AWS_RETRY_MODE", "adaptive"), ("AWS_MAX_ATTEMPTS", "1")]);
        let s = ClientSettings::new(&env, &files, Some(&p), 0).unwrap();
        assert_eq!((s.region.as_deref(), s.adaptive, s.max_attempts), (Some("eu-west-1"), true, 1));
        let env = Env::from_pairs([("AWS_DEFAULT_REGION", "us-west-1"), ("AWS_RETRY_MODE", "standard")]);
        assert_eq!(ClientSettings::new(&env, &files, Some(&p), 0).unwrap().region.as_deref(), Some("us-west-1"));
        let env = Env::from_pairs([
            ("AWS_REGION", "us-west-2"),
            ("AWS_DEFAULT_REGION", "us-west-1"),
            ("AWS_RETRY_MODE", "standard"),
        ]);
        assert_eq!(ClientSettings::new(&env, &files, Some(&p), 0).unwrap().region.as_deref(), Some("us-west-2"));
        let s = files.profile("s").unwrap();
        assert_eq!(
            ClientSettings::new(&Env::default(), &files, Some(&s), 0).unwrap().region.as_deref(),
            Some("ap-south-1")
        );
        assert!(ClientSettings::new(&Env::from_pairs([("AWS_MAX_ATTEMPTS", "zero")]), &files, None, 0).is_err());
    }
}
