//! What a source may point at: http and https URLs of public hosts. A site owner's URL is read
//! by the server, from inside its network, so a URL to `localhost`, to a private address or to
//! the cloud's metadata service (`169.254.169.254`) would read what only the server should see.
//! [`check_url`] refuses such a URL before anything is fetched; [`PublicOnly`] keeps the client
//! from connecting to such an address later (after a redirect, or a DNS answer that changed).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::FetchPolicy;

/// Checks a source URL before anything is fetched: http or https, no user name or password,
/// and, unless `policy.allow_private`, a host that neither is nor resolves to a loopback,
/// private, link-local, shared or unspecified address. Returns the parsed URL.
pub async fn check_url(url: &str, policy: &FetchPolicy) -> Result<reqwest::Url, String> {
    let url = url.trim();
    let parsed = Url::parse(url).map_err(|e| format!("{url} is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "{url} is not a web address: only http:// and https:// URLs can be read"
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "{url} holds a user name or password; only public pages can be read"
        ));
    }
    let Some(host) = parsed.host_str().map(str::to_owned) else {
        return Err(format!("{url} names no host"));
    };
    if policy.allow_private {
        return Ok(parsed);
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<IpAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => {
            let lookup = tokio::net::lookup_host((bare, port));
            match tokio::time::timeout(policy.timeout, lookup).await {
                Ok(Ok(found)) => found.map(|a: SocketAddr| a.ip()).collect(),
                Ok(Err(e)) => return Err(format!("the host {host} was not found ({e})")),
                Err(_) => return Err(format!("looking up the host {host} timed out")),
            }
        }
    };
    if addrs.is_empty() {
        return Err(format!("the host of {url} has no address"));
    }
    for ip in addrs {
        if let Some(kind) = refused(ip) {
            return Err(format!(
                "{url} points to {kind} ({ip}); only public addresses can be read"
            ));
        }
    }
    Ok(parsed)
}

/// Why an address may not be read (`None`: a public address).
pub(super) fn refused(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(ip) => refused_v4(ip),
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return refused_v4(v4);
            }
            let first = ip.segments()[0];
            if ip.is_loopback() {
                Some("a loopback address")
            } else if ip.is_unspecified() {
                Some("an unspecified address")
            } else if first & 0xfe00 == 0xfc00 {
                Some("a private address")
            } else if first & 0xffc0 == 0xfe80 || first & 0xffc0 == 0xfec0 {
                Some("a link-local address")
            } else if ip.is_multicast() {
                Some("a multicast address")
            } else if ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                // NAT64: the IPv4 address in its last 32 bits is the one reached.
                let [.., a, b] = ip.segments();
                refused_v4(Ipv4Addr::from((u32::from(a) << 16) | u32::from(b)))
            } else if ip.segments()[..6] == [0; 6] {
                // Deprecated IPv4-compatible addresses (`::a.b.c.d`).
                let [.., a, b] = ip.segments();
                refused_v4(Ipv4Addr::from((u32::from(a) << 16) | u32::from(b)))
            } else {
                None
            }
        }
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        // 10/8, 172.16/12, 192.168/16, and the carriers' shared 100.64/10.
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if ip.is_multicast() || ip.is_broadcast() || a >= 240 {
        Some("a reserved address")
    } else {
        None
    }
}

/// A DNS resolver that answers only public addresses (the client of
/// [`client`](super::client) when private addresses are not allowed).
pub(super) struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| refused(a.ip()).is_none())
                .collect();
            if public.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        for (addr, kind) in [
            ("127.0.0.1", "a loopback address"),
            ("10.1.2.3", "a private address"),
            ("172.20.0.1", "a private address"),
            ("192.168.1.1", "a private address"),
            ("100.64.0.1", "a private address"),
            ("169.254.169.254", "a link-local address"),
            ("0.0.0.0", "an unspecified address"),
            ("::1", "a loopback address"),
            ("fd00::1", "a private address"),
            ("fe80::1", "a link-local address"),
            ("::ffff:127.0.0.1", "a loopback address"),
            ("64:ff9b::a00:1", "a private address"),
        ] {
            assert_eq!(refused(ip(addr)), Some(kind), "{addr}");
        }
        for public in [
            "93.184.216.34",
            "172.32.0.1",
            "2a00:1450:4001::200e",
            "100.128.0.1",
        ] {
            assert_eq!(refused(ip(public)), None, "{public}");
        }
    }
}
