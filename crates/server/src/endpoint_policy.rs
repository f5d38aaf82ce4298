//! Where the service may connect on a tenant's behalf.
//!
//! A tenant names its API server; without a policy it could name the cloud's metadata
//! service (169.254.169.254), the service's own host (loopback) or any address the service
//! can reach. The service therefore refuses, by default, link-local and cloud-metadata
//! addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254), loopback and the unspecified
//! address; `serve --allow-endpoint CIDR|HOST` (repeatable) lets an operator allow a range
//! or a host name anyway.
//!
//! The policy is checked at registration and again right before every connection, since a
//! name may resolve elsewhere by then (DNS rebinding). The service resolves the name
//! itself, checks every address, and pins the client to the checked address
//! ([`pin`]): the URL's host becomes that address and the TLS server name stays the
//! original host, so the certificate is still verified against the name the tenant gave.
//!
//! [`Endpoint::parse`] also refuses URLs that carry secrets (user info, a query string):
//! they would be shown back, stored in the clear and logged.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use ipnet::IpNet;

/// An API server URL the service accepts: `https://host[:port][/path]`, nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    text: String,
    url: http::Uri,
    host: String,
    port: u16,
}

/// Why an endpoint was refused, or could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// Not a URL the service accepts.
    #[error("the endpoint {shown:?} {why}")]
    Malformed {
        /// The endpoint, cut to 100 characters and without user info.
        shown: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// An address the policy refuses.
    #[error(
        "the endpoint {host} resolves to {addr}, which the service does not connect to ({why}); an operator may allow it with --allow-endpoint"
    )]
    Refused {
        /// The host as given.
        host: String,
        /// The refused address.
        addr: IpAddr,
        /// Which class it is in.
        why: &'static str,
    },
    /// The name did not resolve.
    #[error("the endpoint's host {host} could not be resolved")]
    Unresolved {
        /// The host as given.
        host: String,
        /// The resolver's error, for the operator's log.
        detail: String,
    },
}

impl Endpoint {
    /// Parses and checks the shape of an endpoint URL.
    pub fn parse(text: &str) -> Result<Self, EndpointError> {
        let malformed = |why| EndpointError::Malformed { shown: shown(text), why };
        let url: http::Uri = text.trim().parse().map_err(|_| malformed("is not a URL"))?;
        let authority = url.authority().ok_or_else(|| malformed("has no host"))?;
        if authority.as_str().contains('@') {
            return Err(malformed(
                "carries user info (user:password@); give credentials in their own fields",
            ));
        }
        if url.query().is_some() || text.contains('#') {
            return Err(malformed(
                "has a query string or fragment; give credentials in their own fields",
            ));
        }
        let port = match (url.scheme_str(), authority.port_u16()) {
            (Some("https"), p) => p.unwrap_or(443),
            (Some("http"), p) => p.unwrap_or(80),
            _ => return Err(malformed("must start with https:// (or http://)")),
        };
        let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_owned();
        if host.is_empty() {
            return Err(malformed("has no host"));
        }
        Ok(Self { text: text.trim().to_owned(), url, host, port })
    }

    /// The URL as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The URL, parsed.
    pub fn url(&self) -> &http::Uri {
        &self.url
    }

    /// The host (a name, or an address without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port (443 for https when absent).
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// The endpoint fit to show: no user info, no query or fragment, at most 100 characters.
fn shown(text: &str) -> String {
    let cut: String = text.chars().take(100).collect();
    let cut = match cut.find(['?', '#']) {
        Some(i) => format!("{}?***", &cut[..i]),
        None => cut,
    };
    match cut.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((_, host)) => format!("{scheme}://***@{host}"),
            None => cut,
        },
        None => cut,
    }
}

/// One `--allow-endpoint` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowRule {
    /// Addresses in this range.
    Net(IpNet),
    /// This host name (whatever it resolves to), compared without case.
    Host(String),
}

impl FromStr for AllowRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Ok(net) = s.parse::<IpNet>() {
            return Ok(Self::Net(net));
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Self::Net(IpNet::from(ip)));
        }
        let valid_host = !s.is_empty()
            && s.len() <= 253
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if valid_host {
            Ok(Self::Host(s.to_ascii_lowercase()))
        } else {
            Err(format!(
                "{s:?} is neither a CIDR (10.0.0.0/8, fd00::/8), an address nor a host name"
            ))
        }
    }
}

/// The endpoint policy: the default refusals, minus what the operator allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointPolicy {
    allowed: Vec<AllowRule>,
}

impl EndpointPolicy {
    /// The default refusals with these exceptions.
    pub fn new(allowed: Vec<AllowRule>) -> Self {
        Self { allowed }
    }

    /// A policy that also allows loopback (for tests and single-host setups).
    pub fn allowing_loopback() -> Self {
        Self::new(vec![
            AllowRule::Net("127.0.0.0/8".parse().expect("a valid range")),
            AllowRule::Net("::1/128".parse().expect("a valid range")),
        ])
    }

    /// Why `addr` is refused, if it is.
    pub fn refusal(&self, host: &str, addr: IpAddr) -> Option<&'static str> {
        let addr = addr.to_canonical();
        let why = default_refusal(addr)?;
        let allowed = self.allowed.iter().any(|rule| match rule {
            AllowRule::Net(net) => net.contains(&addr),
            AllowRule::Host(name) => name.eq_ignore_ascii_case(host),
        });
        (!allowed).then_some(why)
    }

    /// Resolves the endpoint's host and checks every address it resolves to; the first
    /// one is where the client must connect.
    pub async fn resolve(&self, endpoint: &Endpoint) -> Result<SocketAddr, EndpointError> {
        let host = endpoint.host();
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, endpoint.port())],
            Err(_) => tokio::net::lookup_host((host, endpoint.port()))
                .await
                .map_err(|e| EndpointError::Unresolved {
                    host: host.into(),
                    detail: e.to_string(),
                })?
                .collect(),
        };
        for addr in &addrs {
            if let Some(why) = self.refusal(host, addr.ip()) {
                return Err(EndpointError::Refused { host: host.into(), addr: addr.ip(), why });
            }
        }
        addrs.first().copied().ok_or_else(|| EndpointError::Unresolved {
            host: host.into(),
            detail: "no addresses".into(),
        })
    }
}

fn default_refusal(addr: IpAddr) -> Option<&'static str> {
    const METADATA_V6: IpAddr =
        IpAddr::V6(std::net::Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x254));
    match addr {
        a if a.is_loopback() => Some("loopback: the service's own host"),
        a if a.is_unspecified() => Some("unspecified: the service's own host"),
        IpAddr::V4(v4) if v4.is_link_local() => {
            Some("link-local, where cloud metadata services live")
        }
        IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80 => Some("link-local"),
        a if a == METADATA_V6 => Some("a cloud metadata service"),
        _ => None,
    }
}

/// Points `config` at the checked address `addr` instead of `endpoint`'s host, keeping the
/// TLS server name on the host the tenant gave (unless the kubeconfig named one).
pub fn pin(config: &mut kube::Config, endpoint: &Endpoint, addr: SocketAddr) {
    let host_is_name = endpoint.host().parse::<IpAddr>().is_err();
    if host_is_name && config.tls_server_name.is_none() {
        config.tls_server_name = Some(endpoint.host().to_owned());
    }
    let scheme = endpoint.url().scheme_str().unwrap_or("https");
    let path = endpoint.url().path_and_query().map_or("/", |p| p.as_str());
    let pinned = format!("{scheme}://{addr}{path}");
    if let Ok(url) = pinned.parse() {
        config.cluster_url = url;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_link_local_and_loopback_are_refused_by_default() {
        let policy = EndpointPolicy::default();
        for refused in [
            "169.254.169.254",
            "127.0.0.1",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "0.0.0.0",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(policy.refusal("h", refused.parse().unwrap()).is_some(), "{refused}");
        }
        for allowed in ["10.0.0.1", "192.168.1.10", "8.8.8.8", "fd00::1"] {
            assert_eq!(policy.refusal("h", allowed.parse().unwrap()), None, "{allowed}");
        }
    }

    #[test]
    fn the_operator_allows_ranges_and_hosts() {
        let policy = EndpointPolicy::new(vec![
            "127.0.0.0/8".parse().unwrap(),
            "Metadata.Internal".parse().unwrap(),
        ]);
        assert_eq!(policy.refusal("x", "127.0.0.2".parse().unwrap()), None);
        assert!(policy.refusal("x", "::1".parse().unwrap()).is_some());
        assert_eq!(policy.refusal("metadata.internal", "169.254.169.254".parse().unwrap()), None);
        assert!("not a host!".parse::<AllowRule>().is_err());
        assert_eq!("::1".parse::<AllowRule>().unwrap(), AllowRule::Net("::1/128".parse().unwrap()));
    }

    #[test]
    fn urls_with_secrets_or_odd_schemes_are_refused() {
        assert!(Endpoint::parse("https://10.0.0.1:6443").is_ok());
        assert_eq!(Endpoint::parse("https://api.example.com").unwrap().port(), 443);
        assert_eq!(Endpoint::parse("https://[::1]:6443").unwrap().host(), "::1");
        for bad in [
            "https://user:pw@10.0.0.1",
            "https://10.0.0.1/?token=x",
            "ftp://10.0.0.1",
            "10.0.0.1:6443",
            "https://h/#f",
        ] {
            let e = Endpoint::parse(bad).unwrap_err();
            assert!(!e.to_string().contains("pw@") && !e.to_string().contains("token=x"), "{e}");
        }
    }

    #[tokio::test]
    async fn a_name_is_checked_by_every_address_it_resolves_to() {
        let refused = EndpointPolicy::default()
            .resolve(&Endpoint::parse("https://localhost:6443").unwrap())
            .await;
        assert!(matches!(refused, Err(EndpointError::Refused { .. })), "{refused:?}");
        let allowed = EndpointPolicy::allowing_loopback()
            .resolve(&Endpoint::parse("https://localhost:6443").unwrap())
            .await
            .unwrap();
        assert!(allowed.ip().is_loopback() && allowed.port() == 6443);
    }

    #[test]
    fn pinning_keeps_the_name_for_tls() {
        let endpoint = Endpoint::parse("https://api.example.com:6443/prefix").unwrap();
        let mut config = kube::Config::new(endpoint.url().clone());
        pin(&mut config, &endpoint, "10.1.2.3:6443".parse().unwrap());
        assert_eq!(config.cluster_url.to_string(), "https://10.1.2.3:6443/prefix");
        assert_eq!(config.tls_server_name.as_deref(), Some("api.example.com"));
    }
}
