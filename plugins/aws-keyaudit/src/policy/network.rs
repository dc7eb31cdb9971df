//! Network sets: parsing addresses and ranges leniently, sizes, intersections, private ranges.
//! Pure arithmetic over `ipnet`; which set a policy allows is decided elsewhere.

use std::net::IpAddr;

use ipnet::IpNet;

/// Parses an address or range leniently: a bare address is /32 or /128, host bits are dropped.
pub fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    if let Ok(n) = s.parse::<IpNet>() {
        return Some(n.trunc());
    }
    s.parse::<IpAddr>().ok().map(IpNet::from)
}

pub(super) fn size(n: &IpNet) -> u128 {
    match n {
        IpNet::V4(v) => 1u128 << (32 - v.prefix_len()),
        IpNet::V6(v) => {
            let bits = 128 - u32::from(v.prefix_len());
            if bits >= 128 { u128::MAX } else { 1u128 << bits }
        }
    }
}

pub(super) fn intersect(a: &[IpNet], b: &[IpNet]) -> Vec<IpNet> {
    let mut out = Vec::new();
    for x in a {
        for y in b {
            if x.contains(y) {
                out.push(*y);
            } else if y.contains(x) {
                out.push(*x);
            }
        }
    }
    IpNet::aggregate(&out)
}

pub(super) fn is_private(n: &IpNet) -> bool {
    const PRIVATE: [&str; 10] = [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
        "0.0.0.0/8",
    ];
    PRIVATE.iter().filter_map(|p| p.parse::<IpNet>().ok()).any(|p| p.contains(n))
}
