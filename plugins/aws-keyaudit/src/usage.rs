//! `--usage`: where each active key is really used from, from CloudTrail event history.
//!
//! For every active key, LookupEvents with the `AccessKeyId` attribute over the last `--days` days
//! (event history keeps 90), in each region the credential report says the key was last used in
//! plus the `--usage-region`s (event history is regional; IAM and the global STS endpoint log in
//! us-east-1). LookupEvents allows about 2 requests per second per account and region, so every
//! region has a fixed [`Pace`] that spaces the calls (throttling that still happens, from other
//! callers, is retried by the SDK). The events are summarised per key: source networks (in each
//! /24 or /64, the smallest range covering the addresses seen, with counts), VPC endpoints, calls
//! AWS services made for the key, user agents, services, regions, first and last seen. The events
//! themselves are kept for `restrict`'s dry run ([`replay`]).
//!
//! Event history holds management events only (S3 object reads and other data events are not in
//! it), and at most `--usage-max-events` of the newest events are read per key and region:
//! `complete` says whether the summary saw them all.
//!
//! Every value from the events is cleaned (escapes shown, not acted on) and clipped when it is
//! read, so no output format can carry a server's control characters.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use futures_util::StreamExt;
use ipnet::IpNet;
use serde::Serialize;
use serde_json::Value;
use shared::client::ClientSettings;
use shared::client::gate::Pace;
use shared::credentials::sdk_error;
use shared::secret::Credentials;
use time::OffsetDateTime;

/// LookupEvents' limit: requests per second per account and region (not adjustable).
pub const LOOKUP_RATE: f64 = 2.0;
/// Events per LookupEvents page (the most it allows).
const PAGE: i32 = 50;
/// Distinct values listed per dimension (the rest are counted in `other`).
const TOP: usize = 20;

/// What `--usage` looks up.
#[derive(Debug, Clone)]
pub struct Options {
    /// Days of history (1 to 90).
    pub days: u32,
    /// Requests per second per region.
    pub rate: f64,
    /// Newest events read per key and region.
    pub max_events: usize,
}

/// One CloudTrail event of a key (the fields the summary and the replay use).
#[derive(Debug, Clone)]
pub struct Event {
    /// `eventTime`.
    pub time: OffsetDateTime,
    /// `sourceIPAddress` as logged (an address, or a service name for calls AWS made).
    pub source: String,
    /// The source as an address, when it is one.
    pub ip: Option<IpAddr>,
    /// `vpcEndpointId`, when the call came through a VPC endpoint.
    pub vpc_endpoint: Option<String>,
    /// `userAgent`.
    pub user_agent: String,
    /// `eventSource` (`s3.amazonaws.com`).
    pub service: String,
    /// `eventName` (`ListBuckets`).
    pub name: String,
    /// `awsRegion`.
    pub region: String,
}

impl Event {
    /// From a LookupEvents event: its `CloudTrailEvent` record, with the event's own fields where
    /// the record lacks them. None when neither gives a time.
    fn from_lookup(e: &aws_sdk_cloudtrail::types::Event, region: &str) -> Option<Event> {
        let record: Value = e.cloud_trail_event().and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null);
        let field = |k: &str| record.get(k).and_then(Value::as_str);
        let time = field("eventTime")
            .and_then(shared::cache::parse_timestamp)
            .or_else(|| e.event_time().and_then(|t| OffsetDateTime::from_unix_timestamp(t.secs()).ok()))?;
        let source = field("sourceIPAddress").unwrap_or("");
        Some(Event {
            time,
            ip: source.parse().ok(),
            source: shared::text::clip(source),
            vpc_endpoint: field("vpcEndpointId").filter(|v| !v.is_empty()).map(shared::text::clip),
            user_agent: shared::text::clip(field("userAgent").unwrap_or("")),
            service: shared::text::clip(field("eventSource").or(e.event_source()).unwrap_or("")),
            name: shared::text::clip(field("eventName").or(e.event_name()).unwrap_or("")),
            region: shared::text::clip(field("awsRegion").unwrap_or(region)),
        })
    }

    /// A call an AWS service made on the key's behalf (`sourceIPAddress` is the service's name,
    /// or `AWS Internal`): `aws:ViaAWSService` is true for it, so the restriction's exception
    /// lets it through.
    pub fn via_aws_service(&self) -> bool {
        self.ip.is_none() && self.vpc_endpoint.is_none()
    }
}

/// A source network and how many events came from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Network {
    /// The smallest range covering the addresses seen in one /24 (IPv4) or /64 (IPv6).
    pub cidr: String,
    /// Events from it.
    pub events: usize,
    /// Distinct addresses seen in it.
    pub addresses: usize,
}

/// A value and how many events carried it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counted {
    /// The value.
    pub value: String,
    /// Events with it.
    pub events: usize,
}

/// Where one key was used from.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Usage {
    /// Days of history asked for.
    pub days: u32,
    /// Events read.
    pub events: usize,
    /// Whether every event of the period was read (false: the newest `--usage-max-events`).
    pub complete: bool,
    /// Oldest event read.
    pub first_seen: Option<String>,
    /// Newest event read.
    pub last_seen: Option<String>,
    /// Source networks, most events first.
    pub networks: Vec<Network>,
    /// VPC endpoints the calls came through.
    pub vpc_endpoints: Vec<Counted>,
    /// AWS services that called on the key's behalf.
    pub via_aws_services: Vec<Counted>,
    /// User agents.
    pub user_agents: Vec<Counted>,
    /// Services called (`eventSource`).
    pub services: Vec<Counted>,
    /// Regions the calls were made in.
    pub regions: Vec<Counted>,
    /// Regions whose event history was read.
    pub regions_searched: Vec<String>,
    /// Why the history could not be read (the summary is then empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The events (for `restrict`'s dry run).
    #[serde(skip)]
    pub records: Vec<Event>,
}

fn counted<'a>(values: impl Iterator<Item = &'a str>) -> Vec<Counted> {
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for v in values {
        *by.entry(v).or_default() += 1;
    }
    let mut out: Vec<Counted> = by.into_iter().map(|(v, n)| Counted { value: v.to_string(), events: n }).collect();
    out.sort_by(|a, b| b.events.cmp(&a.events).then(a.value.cmp(&b.value)));
    if out.len() > TOP {
        let rest: usize = out[TOP..].iter().map(|c| c.events).sum();
        let more = out.len() - TOP;
        out.truncate(TOP);
        out.push(Counted { value: format!("({more} others)"), events: rest });
    }
    out
}

/// The /24 (IPv4) or /64 (IPv6) an address is grouped in.
fn group_of(ip: IpAddr) -> IpNet {
    let prefix = if ip.is_ipv4() { 24 } else { 64 };
    IpNet::new(ip, prefix).map(|n| n.trunc()).unwrap_or_else(|_| IpNet::from(ip))
}

/// The smallest range holding both addresses (of one family).
fn covering(lo: IpAddr, hi: IpAddr) -> IpNet {
    let prefix = match (lo, hi) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) ^ u32::from(b)).leading_zeros() as u8,
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a) ^ u128::from(b)).leading_zeros() as u8,
        _ => 0,
    };
    IpNet::new(lo, prefix).map(|n| n.trunc()).unwrap_or_else(|_| IpNet::from(lo))
}

/// Source addresses grouped per /24 or /64, each group as the smallest range covering what was
/// seen in it; most events first.
pub fn networks(events: &[Event]) -> Vec<Network> {
    let mut groups: BTreeMap<IpNet, BTreeMap<IpAddr, usize>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.vpc_endpoint.is_none()) {
        if let Some(ip) = e.ip {
            *groups.entry(group_of(ip)).or_default().entry(ip).or_default() += 1;
        }
    }
    let mut out: Vec<Network> = groups
        .into_values()
        .filter_map(|addrs| {
            let (lo, hi) = (*addrs.keys().next()?, *addrs.keys().next_back()?);
            Some(Network { cidr: covering(lo, hi).to_string(), events: addrs.values().sum(), addresses: addrs.len() })
        })
        .collect();
    out.sort_by(|a, b| b.events.cmp(&a.events).then(a.cidr.cmp(&b.cidr)));
    out
}

/// The summary of a key's events.
pub fn summarise(days: u32, mut events: Vec<Event>, complete: bool, regions: Vec<String>) -> Usage {
    events.sort_by_key(|e| e.time);
    Usage {
        days,
        events: events.len(),
        complete,
        first_seen: events.first().map(|e| shared::cache::format_z(e.time)),
        last_seen: events.last().map(|e| shared::cache::format_z(e.time)),
        networks: networks(&events),
        vpc_endpoints: counted(events.iter().filter_map(|e| e.vpc_endpoint.as_deref())),
        via_aws_services: counted(events.iter().filter(|e| e.via_aws_service()).map(|e| e.source.as_str())),
        user_agents: counted(events.iter().map(|e| e.user_agent.as_str())),
        services: counted(events.iter().map(|e| e.service.as_str())),
        regions: counted(events.iter().map(|e| e.region.as_str())),
        regions_searched: regions,
        error: None,
        records: events,
    }
}

impl Usage {
    /// The usage of several keys together (a user-level finding: all the user's active keys).
    pub fn merged<'a>(days: u32, parts: impl Iterator<Item = &'a Usage>) -> Option<Usage> {
        let (mut events, mut complete, mut regions, mut error, mut any) = (Vec::new(), true, Vec::new(), None, false);
        for u in parts {
            any = true;
            events.extend(u.records.iter().cloned());
            complete &= u.complete;
            regions.extend(u.regions_searched.iter().cloned());
            if error.is_none() {
                error.clone_from(&u.error);
            }
        }
        regions.sort();
        regions.dedup();
        any.then(|| Usage { error, ..summarise(days, events, complete, regions) })
    }

    /// One line for the people-facing formats: `120 events in 30 days: 198.51.100.0/28 (80), vpce-0abc
    /// (40); last 2026-11-27T10:00:00Z`.
    pub fn line(&self) -> String {
        if let Some(e) = &self.error {
            return format!("usage unknown: {e}");
        }
        if self.events == 0 {
            return format!("no events in {} days ({})", self.days, self.regions_searched.join(", "));
        }
        let mut from: Vec<String> = self.networks.iter().map(|n| format!("{} ({})", n.cidr, n.events)).collect();
        from.extend(self.vpc_endpoints.iter().map(|v| format!("{} ({})", v.value, v.events)));
        from.extend(self.via_aws_services.iter().map(|v| format!("{} ({})", v.value, v.events)));
        format!(
            "{}{} events in {} days from {}; last {}",
            if self.complete { "" } else { "newest " },
            self.events,
            self.days,
            from.join(", "),
            self.last_seen.as_deref().unwrap_or("?")
        )
    }
}

/// A key's usage with whose key it is (the report's `usage` list).
#[derive(Debug, Clone, Serialize)]
pub struct KeyUsage {
    /// Account id.
    pub account: String,
    /// User name.
    pub user: String,
    /// Access key id.
    pub key: String,
    /// Its usage.
    #[serde(flatten)]
    pub usage: Usage,
}

/// The people-facing columns of the usage list.
pub const COLUMNS: [&str; 9] =
    ["Account", "User", "Key", "Events", "Used from", "User agents", "Services", "Regions", "Last seen"];

fn top(c: &[Counted], n: usize) -> String {
    let mut parts: Vec<String> = c.iter().take(n).map(|c| format!("{} ({})", c.value, c.events)).collect();
    if c.len() > n {
        parts.push(format!("+{} more", c.len() - n));
    }
    parts.join(", ")
}

/// The usage list as rows of [`COLUMNS`].
pub fn rows(all: &[KeyUsage]) -> Vec<Vec<String>> {
    all.iter()
        .map(|k| {
            let u = &k.usage;
            let mut from: Vec<String> = u.networks.iter().map(|n| format!("{} ({})", n.cidr, n.events)).collect();
            from.extend(u.vpc_endpoints.iter().map(|v| format!("{} ({})", v.value, v.events)));
            from.extend(u.via_aws_services.iter().map(|v| format!("{} ({})", v.value, v.events)));
            let events = match (&u.error, u.complete) {
                (Some(e), _) => format!("unknown: {e}"),
                (None, true) => u.events.to_string(),
                (None, false) => format!("{}+ (newest)", u.events),
            };
            vec![
                k.account.clone(),
                k.user.clone(),
                k.key.clone(),
                events,
                from.join(", "),
                top(&u.user_agents, 3),
                top(&u.services, 5),
                top(&u.regions, 5),
                u.last_seen.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect()
}

/// A key to look up: its id and the regions its history is read in.
#[derive(Debug, Clone)]
pub struct Target {
    /// Access key id.
    pub key: String,
    /// Regions.
    pub regions: Vec<String>,
}

impl Target {
    /// The key's regions: where the credential report says it was last used (us-east-1 when it
    /// names none: IAM and global STS calls are logged there), and `extra`.
    pub fn new(key: &str, last_region: Option<&str>, extra: &[String]) -> Target {
        let mut regions: Vec<String> =
            std::iter::once(last_region.unwrap_or("us-east-1").to_string()).chain(extra.iter().cloned()).collect();
        regions.sort();
        regions.dedup();
        Target { key: key.to_string(), regions }
    }
}

/// Events read, and whether they were all of them.
type History = (Vec<Event>, bool);

/// The history of one key in one region: its newest events (at most `max`) and whether that
/// was all of them.
async fn history(
    client: &aws_sdk_cloudtrail::Client,
    pacer: &Pace,
    key: &str,
    region: &str,
    opts: &Options,
    now: OffsetDateTime,
) -> Result<History, shared::error::Error> {
    let start = now - time::Duration::days(i64::from(opts.days));
    let attribute = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::AccessKeyId)
        .attribute_value(key)
        .build()
        .map_err(|e| shared::error::Error::usage(e.to_string(), None))?;
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    // Event history may answer empty pages with a token; a server that never stops is cut off.
    let max_pages = opts.max_events / PAGE as usize + 20;
    for _ in 0..max_pages {
        pacer.wait().await;
        let page = client
            .lookup_events()
            .lookup_attributes(attribute.clone())
            .start_time(aws_smithy_types::DateTime::from_secs(start.unix_timestamp()))
            .end_time(aws_smithy_types::DateTime::from_secs(now.unix_timestamp()))
            .max_results(PAGE)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| {
                sdk_error(
                    "cloudtrail:LookupEvents",
                    Some(key),
                    Some("--usage needs cloudtrail:LookupEvents (see README: IAM permissions)".into()),
                    e,
                )
            })?;
        events.extend(page.events().iter().filter_map(|e| Event::from_lookup(e, region)));
        if events.len() >= opts.max_events {
            events.truncate(opts.max_events);
            return Ok((events, false));
        }
        match page.next_token().filter(|t| !t.is_empty()) {
            Some(t) if token.as_deref() != Some(t) => token = Some(t.to_string()),
            _ => return Ok((events, true)),
        }
    }
    Ok((events, false))
}

/// The usage of every target key, looked up concurrently across regions and paced within each.
/// A refusal (no permission, CloudTrail off in a partition) stops the lookups that have not
/// started and is the usage's `error` for every key.
pub async fn collect(
    settings: &ClientSettings,
    creds: &Credentials,
    targets: &[Target],
    opts: &Options,
    now: OffsetDateTime,
    bar: &indicatif::ProgressBar,
) -> BTreeMap<String, Usage> {
    let mut regions: Vec<&str> = targets.iter().flat_map(|t| t.regions.iter().map(String::as_str)).collect();
    regions.sort_unstable();
    regions.dedup();
    let pacers: BTreeMap<&str, Pace> = regions.iter().map(|r| (*r, Pace::fixed(opts.rate))).collect();
    let clients: BTreeMap<&str, aws_sdk_cloudtrail::Client> =
        regions.iter().map(|r| (*r, settings.cloudtrail(creds, r))).collect();
    let refused: Arc<AtomicBool> = Arc::default();
    let jobs: Vec<(usize, &str)> =
        targets.iter().enumerate().flat_map(|(i, t)| t.regions.iter().map(move |r| (i, r.as_str()))).collect();
    bar.set_length(jobs.len() as u64);
    let results: Vec<(usize, &str, Result<History, String>)> =
        futures_util::stream::iter(jobs.into_iter().map(|(i, region)| {
            let (client, pacer, refused) = (&clients[region], &pacers[region], refused.clone());
            async move {
                if refused.load(Ordering::Relaxed) {
                    return (i, region, Err("not looked up after an earlier refusal".to_string()));
                }
                let r = history(client, pacer, &targets[i].key, region, opts, now).await.map_err(|e| {
                    if matches!(e.exit_code(), shared::error::exit::CREDENTIALS)
                        || e.to_string().contains("AccessDenied")
                    {
                        refused.store(true, Ordering::Relaxed);
                    }
                    e.to_string()
                });
                (i, region, r)
            }
        }))
        .buffer_unordered(16)
        .inspect(|_| bar.inc(1))
        .collect()
        .await;
    let mut per_key: Vec<(Vec<Event>, bool, Option<String>)> = vec![(Vec::new(), true, None); targets.len()];
    for (i, region, r) in results {
        match r {
            Ok((events, complete)) => {
                per_key[i].0.extend(events);
                per_key[i].1 &= complete;
            }
            Err(e) => {
                per_key[i].2.get_or_insert_with(|| format!("{region}: {e}"));
            }
        }
    }
    targets
        .iter()
        .zip(per_key)
        .map(|(t, (events, complete, error))| {
            let mut u = summarise(opts.days, events, complete, t.regions.clone());
            u.error = error;
            (t.key.clone(), u)
        })
        .collect()
}

/// What the dry run found when the proposed restriction is replayed on past events.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Replay {
    /// Events replayed.
    pub events: usize,
    /// Events the restriction lets through.
    pub allowed: usize,
    /// Events it would have denied.
    pub would_be_denied: usize,
    /// Events through a VPC endpoint when the restriction names VPCs (`aws:SourceVpc`): the event
    /// names the endpoint, not its VPC, so they cannot be judged.
    pub not_judged: usize,
    /// The first denied events (time, source, endpoint, call, agent).
    pub denied: Vec<Value>,
}

/// Replays `events` against the networks a restriction leaves allowed (as our evaluator reads
/// the policy: `allowed_cidrs` for `aws:SourceIp`, `allowed_vpcs` for `aws:SourceVpc` /
/// `aws:SourceVpce`). A call through a VPC endpoint carries no `aws:SourceIp`, so only its
/// endpoint (or VPC) can let it through; calls AWS services make for the key pass the exception.
pub fn replay(events: &[Event], allowed_cidrs: &[IpNet], allowed_vpcs: &[String]) -> Replay {
    let mut r = Replay { events: events.len(), ..Replay::default() };
    let names_vpcs = allowed_vpcs.iter().any(|v| v.starts_with("vpc-"));
    for e in events {
        let allowed = if e.via_aws_service() {
            Some(true)
        } else if let Some(vpce) = &e.vpc_endpoint {
            if allowed_vpcs.iter().any(|v| v == vpce) {
                Some(true)
            } else if names_vpcs {
                None
            } else {
                Some(false)
            }
        } else {
            Some(e.ip.is_some_and(|ip| allowed_cidrs.iter().any(|n| n.contains(&ip))))
        };
        match allowed {
            Some(true) => r.allowed += 1,
            None => r.not_judged += 1,
            Some(false) => {
                r.would_be_denied += 1;
                if r.denied.len() < 20 {
                    r.denied.push(serde_json::json!({
                        "time": shared::cache::format_z(e.time), "source": e.source, "vpc_endpoint": e.vpc_endpoint,
                        "call": format!("{}:{}", e.service.trim_end_matches(".amazonaws.com"), e.name),
                        "region": e.region, "user_agent": e.user_agent,
                    }));
                }
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(source: &str, vpce: Option<&str>) -> Event {
        Event {
            time: OffsetDateTime::UNIX_EPOCH,
            source: source.into(),
            ip: source.parse().ok(),
            vpc_endpoint: vpce.map(str::to_string),
            user_agent: "agent".into(),
            service: "s3.amazonaws.com".into(),
            name: "ListBuckets".into(),
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn addresses_group_per_24_into_the_smallest_covering_range() {
        let events = vec![
            ev("198.51.100.10", None),
            ev("198.51.100.20", None),
            ev("198.51.100.20", None),
            ev("203.0.113.9", None),
            ev("10.0.1.5", Some("vpce-0abc")),
            ev("2001:db8::1", None),
            ev("ec2.amazonaws.com", None),
        ];
        let n = networks(&events);
        assert_eq!(
            n,
            [
                Network { cidr: "198.51.100.0/27".into(), events: 3, addresses: 2 },
                Network { cidr: "2001:db8::1/128".into(), events: 1, addresses: 1 },
                Network { cidr: "203.0.113.9/32".into(), events: 1, addresses: 1 },
            ]
        );
        let u = summarise(30, events, true, vec!["us-east-1".into()]);
        assert_eq!(u.vpc_endpoints, [Counted { value: "vpce-0abc".into(), events: 1 }]);
        assert_eq!(u.via_aws_services, [Counted { value: "ec2.amazonaws.com".into(), events: 1 }]);
        assert!(u.line().contains("198.51.100.0/27 (3)") && u.line().contains("vpce-0abc (1)"), "{}", u.line());
    }

    #[test]
    fn replay_lets_through_the_allowed_networks_endpoints_and_service_calls() {
        let events = vec![
            ev("198.51.100.10", None),
            ev("203.0.113.9", None),
            ev("10.0.1.5", Some("vpce-0abc")),
            ev("ec2.amazonaws.com", None),
        ];
        let nets = ["198.51.100.0/24".parse().unwrap(), "203.0.113.0/24".parse().unwrap()];
        let all = replay(&events, &nets, &["vpce-0abc".into()]);
        assert_eq!((all.allowed, all.would_be_denied, all.not_judged), (4, 0, 0));
        let narrowed = replay(&events, &nets[..1], &[]);
        assert_eq!((narrowed.allowed, narrowed.would_be_denied), (2, 2));
        assert_eq!(narrowed.denied[0]["source"], "203.0.113.9");
        assert_eq!(narrowed.denied[1]["vpc_endpoint"], "vpce-0abc");
        let by_vpc = replay(&events, &nets, &["vpc-0123".into()]);
        assert_eq!((by_vpc.allowed, by_vpc.not_judged), (3, 1));
    }

    #[test]
    fn many_values_are_capped_with_a_count_of_the_rest() {
        let agents: Vec<String> = (0..30).map(|i| format!("agent-{i:02}")).collect();
        let c = counted(agents.iter().map(String::as_str));
        assert_eq!(c.len(), TOP + 1);
        assert_eq!(c[TOP], Counted { value: "(10 others)".into(), events: 10 });
    }

    #[tokio::test(start_paused = true)]
    async fn the_pacer_never_gives_a_slot_twice() {
        let pacer = Pace::fixed(2.0);
        let start = tokio::time::Instant::now();
        futures_util::future::join_all((0..5).map(|_| pacer.wait())).await;
        assert_eq!(start.elapsed(), std::time::Duration::from_secs(2), "5 calls at 2/s: slots at 0, 0.5, 1, 1.5, 2 s");
    }
}
