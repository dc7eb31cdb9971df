//! Vanity start URLs (AWS CLI 2.35.13, `awscli/customizations/sso/resolve.py`): a start URL on a
//! host that is not AWS's (`https://sso.example.com`) is resolved the way the AWS CLI does it:
//! HEAD (GET when HEAD answers 405 or 501), at most one redirect followed, the final URL must be
//! https on an AWS-owned host, and the Identity Center region comes from that host when it names
//! one (`<id>.portal.<region>.app.aws`, ...), else from `--sso-region`.
//!
//! The config keeps the URL the user gave (as `aws configure sso` does), so the AWS CLI and we
//! name the same token cache.

use std::time::Duration;

use shared::error::Error;

/// Suffixes of AWS-owned portal hosts.
const OWNED_SUFFIXES: [&str; 8] = [
    ".app.aws",
    ".portal.amazonaws.com",
    ".portal.amazonaws.com.cn",
    ".app.amazonwebservices.com.cn",
    ".portal.amazonaws.eu",
    ".api.amazonwebservices.eu",
    ".awsapps.com",
    ".awsapps.cn",
];

/// AWS-owned hosts named exactly.
const OWNED_EXACT: [&str; 4] = [
    "identitycenter.amazonaws.com",
    "identitycenter.amazonaws.com.cn",
    "identitycenter.amazonaws.eu",
    "identitycenter.us-gov.amazonaws.com",
];

/// How long one resolution may take (the AWS CLI's default time-out).
const DEADLINE: Duration = Duration::from_secs(10);

/// Whether a host belongs to AWS's Identity Center portals.
pub fn is_aws_owned(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    OWNED_EXACT.contains(&host) || OWNED_SUFFIXES.iter().any(|s| host == s.trim_start_matches('.') || host.ends_with(s))
}

/// The region a portal host names, if any.
pub fn region_from_host(host: &str) -> Option<String> {
    let host = host.to_ascii_lowercase();
    let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    let region_ok =
        |r: &str| !r.is_empty() && r.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    // (the labels after the instance id, with `*` where the region is)
    const PATTERNS: [&[&str]; 6] = [
        &["portal", "*", "app", "aws"],
        &["*", "portal", "amazonaws", "com"],
        &["*", "portal", "amazonaws", "com", "cn"],
        &["portal", "*", "app", "amazonwebservices", "com", "cn"],
        &["*", "portal", "amazonaws", "eu"],
        &["portal", "*", "api", "amazonwebservices", "eu"],
    ];
    PATTERNS.iter().find_map(|p| {
        if labels.len() != p.len() + 1 || labels[0].is_empty() {
            return None;
        }
        let mut region = None;
        for (label, want) in labels[1..].iter().zip(p.iter()) {
            match *want {
                "*" if region_ok(label) => region = Some(label.to_string()),
                "*" => return None,
                w if w == *label => {}
                _ => return None,
            }
        }
        region
    })
}

fn parts(url: &str) -> Option<(String, String, Option<u16>, String)> {
    let uri: http::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let host = uri.host()?.to_ascii_lowercase();
    Some((scheme, host, uri.port_u16(), uri.path().to_string()))
}

fn loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1")
}

/// `scheme://host[:port]/path` without a trailing slash, query or fragment (the CLI's
/// `_normalize_url`).
fn normalize(url: &str) -> Option<String> {
    let (scheme, host, port, path) = parts(url)?;
    let default = if scheme == "https" { 443 } else { 80 };
    let port = port.filter(|p| *p != default).map(|p| format!(":{p}")).unwrap_or_default();
    Some(format!("{scheme}://{host}{port}{}", path.trim_end_matches('/')))
}

/// Resolves `Location` against the URL that sent it (absolute, or an absolute path).
fn join(base: &str, location: &str) -> Option<String> {
    if location.starts_with("https://") || location.starts_with("http://") {
        return Some(location.to_string());
    }
    let (scheme, host, port, _) = parts(base)?;
    location
        .starts_with('/')
        .then(|| format!("{scheme}://{host}{}{location}", port.map(|p| format!(":{p}")).unwrap_or_default()))
}

fn bad(message: String) -> Error {
    Error::usage(
        message,
        Some("give the AWS access portal URL (…awsapps.com/start or …app.aws) and --sso-region".into()),
    )
}

/// What a start URL resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The AWS-owned portal URL (the start URL itself when it is one).
    pub url: String,
    /// The Identity Center region.
    pub region: String,
    /// Whether a redirect was followed.
    pub followed: bool,
}

/// Resolves a start URL as the AWS CLI does. `http://` is accepted only for a loopback host (a
/// local test portal); the AWS CLI takes https alone.
pub async fn resolve(start_url: &str, configured_region: Option<&str>) -> Result<Resolved, Error> {
    let shown = shared::text::clip(&shared::text::clean(start_url));
    let (scheme, host, _, _) = parts(start_url).ok_or_else(|| bad(format!("--start-url {shown} is not a URL")))?;
    if scheme != "https" && !(scheme == "http" && loopback(&host)) {
        return Err(bad(format!("--start-url {shown} must use https")));
    }
    if is_aws_owned(&host) {
        let region = configured_region
            .map(str::to_string)
            .or_else(|| region_from_host(&host))
            .ok_or_else(|| bad(format!("{shown} does not name its region: --sso-region is needed")))?;
        return Ok(Resolved { url: start_url.to_string(), region, followed: false });
    }
    let mut url = start_url.to_string();
    let mut followed = false;
    // At most one redirect: the answer to the start URL itself.
    let mut answer = shared::client::http::send(http::Method::HEAD, &url, &[], Default::default(), DEADLINE, 64 * 1024)
        .await
        .map_err(|e| bad(format!("could not resolve the start URL {shown}: {e}")))?;
    if matches!(answer.status, 405 | 501) {
        answer = shared::client::http::send(http::Method::GET, &url, &[], Default::default(), DEADLINE, 64 * 1024)
            .await
            .map_err(|e| bad(format!("could not resolve the start URL {shown}: {e}")))?;
    }
    match answer.status {
        301 | 302 | 303 | 307 | 308 => {
            let location = answer
                .header("location")
                .ok_or_else(|| bad(format!("{shown} answered a redirect without a Location")))?;
            url = join(&url, location).ok_or_else(|| {
                bad(format!(
                    "{shown} redirects to {}, which is not a URL",
                    shared::text::clip(&shared::text::clean(location))
                ))
            })?;
            followed = true;
        }
        s if s >= 400 => return Err(bad(format!("could not resolve the start URL {shown}: HTTP {s}"))),
        _ => {}
    }
    let resolved = normalize(&url).ok_or_else(|| bad(format!("{shown} resolves to something that is not a URL")))?;
    let shown_resolved = shared::text::clip(&shared::text::clean(&resolved));
    let (scheme, host, _, _) = parts(&resolved).expect("normalized URLs parse");
    if !is_aws_owned(&host) {
        return Err(bad(format!(
            "{shown} does not lead to an AWS access portal within one redirect (it ends at {shown_resolved})"
        )));
    }
    if scheme != "https" {
        return Err(bad(format!("{shown} resolves to {shown_resolved}, which is not https")));
    }
    let region = region_from_host(&host).or_else(|| configured_region.map(str::to_string)).ok_or_else(|| {
        bad(format!("{shown} resolves to {shown_resolved}, which does not name its region: --sso-region is needed"))
    })?;
    Ok(Resolved { url: resolved, region, followed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_hosts_like_the_aws_cli() {
        assert!(is_aws_owned("d-1234567890.awsapps.com"));
        assert!(is_aws_owned("ssoins-1.portal.eu-west-1.app.aws"));
        assert!(is_aws_owned("IdentityCenter.AmazonAWS.com."));
        assert!(!is_aws_owned("awsapps.com.evil.example"));
        assert!(!is_aws_owned("evilawsapps.com"));
        assert!(!is_aws_owned("sso.example.com"));
    }

    #[test]
    fn regions_from_hosts() {
        assert_eq!(region_from_host("ssoins-1.portal.eu-west-1.app.aws").as_deref(), Some("eu-west-1"));
        assert_eq!(region_from_host("ssoins-1.us-east-2.portal.amazonaws.com").as_deref(), Some("us-east-2"));
        assert_eq!(region_from_host("x.cn-north-1.portal.amazonaws.com.cn").as_deref(), Some("cn-north-1"));
        assert_eq!(
            region_from_host("x.portal.eusc-de-east-1.api.amazonwebservices.eu").as_deref(),
            Some("eusc-de-east-1")
        );
        assert_eq!(region_from_host("d-1234567890.awsapps.com"), None);
        assert_eq!(region_from_host("a.b.portal.eu-west-1.app.aws"), None);
    }

    #[test]
    fn urls_normalize_and_join() {
        assert_eq!(normalize("https://X.awsapps.com:443/start/?a=1").as_deref(), Some("https://x.awsapps.com/start"));
        assert_eq!(join("http://127.0.0.1:5/a", "/b").as_deref(), Some("http://127.0.0.1:5/b"));
        assert_eq!(join("http://127.0.0.1:5/a", "b"), None);
    }
}
