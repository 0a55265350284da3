//! Which IP addresses a request to a user-typed URL may reach, as a pure function of the address and `OUTBOUND_ALLOWED_CIDRS`.
//!
//! Every address falls in one class:
//! - **public**: always allowed;
//! - **private** (10/8, 172.16/12, 192.168/16, 100.64/10, 192.0.0/24, 198.18/15, the documentation
//!   ranges, fc00::/7, fec0::/10, 2001:db8::/32, Teredo 2001::/32, 100::/64): allowed when any listed CIDR
//!   contains it (so `0.0.0.0/0` opens every private IPv4 network);
//! - **loopback** (127/8, ::1) and **link-local** (169.254/16 with the cloud metadata address
//!   169.254.169.254, fe80::/10): allowed only by a listed CIDR that contains the address AND lies
//!   wholly inside that block (`127.0.0.1/32`, `169.254.10.0/24`); a wider CIDR such as `0.0.0.0/0`
//!   or `0.0.0.0/1` never opens them;
//! - **never** allowed, whatever is listed: unspecified (0.0.0.0/8, ::), multicast (224/4,
//!   ff00::/8), broadcast (255.255.255.255), reserved (240/4, IPv6 outside 2000::/3).
//!
//! An IPv6 address that embeds an IPv4 one (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
//! `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) is judged as that IPv4 address, and so
//! are the CIDRs it is matched against (write IPv4 ranges in IPv4 form).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// What kind of address a destination is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Public,
    Private,
    Loopback,
    LinkLocal,
    Unspecified,
    Multicast,
    Broadcast,
    Reserved,
}

impl Class {
    /// How a refusal names the class.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Public => "a public address",
            Self::Private => "a private-network address",
            Self::Loopback => "a loopback address",
            Self::LinkLocal => "a link-local address (cloud metadata lives there)",
            Self::Unspecified => "an unspecified address",
            Self::Multicast => "a multicast address",
            Self::Broadcast => "a broadcast address",
            Self::Reserved => "a reserved address",
        }
    }
}

fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Ipv4Net {
    Ipv4Net::new(Ipv4Addr::new(a, b, c, d), len).unwrap_or_else(|_| unreachable!("valid prefix"))
}

fn v6(segments: [u16; 8], len: u8) -> Ipv6Net {
    let [a, b, c, d, e, f, g, h] = segments;
    Ipv6Net::new(Ipv6Addr::new(a, b, c, d, e, f, g, h), len)
        .unwrap_or_else(|_| unreachable!("valid prefix"))
}

/// The IPv4 address an IPv6 address stands for, when it embeds one.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(mapped) = ip.to_ipv4_mapped() {
        return Some(mapped);
    }
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    // IPv4-compatible (deprecated), except :: and ::1 themselves.
    if s[..6] == [0; 6] && !(s[6] == 0 && s[7] <= 1) {
        return Some(low);
    }
    if v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96).contains(&ip) {
        return Some(low);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

/// `ip` with any embedded IPv4 address taken out.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => embedded_v4(v6).map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The block a loopback or link-local address belongs to.
fn special_block(ip: IpAddr) -> Option<(Class, IpNet)> {
    let blocks = [
        (Class::Loopback, IpNet::V4(v4(127, 0, 0, 0, 8))),
        (Class::LinkLocal, IpNet::V4(v4(169, 254, 0, 0, 16))),
        (
            Class::Loopback,
            IpNet::V6(v6([0, 0, 0, 0, 0, 0, 0, 1], 128)),
        ),
        (
            Class::LinkLocal,
            IpNet::V6(v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10)),
        ),
    ];
    blocks.into_iter().find(|(_, block)| block.contains(&ip))
}

fn classify_v4(ip: Ipv4Addr) -> Class {
    let o = ip.octets();
    let private = [
        v4(10, 0, 0, 0, 8),
        v4(172, 16, 0, 0, 12),
        v4(192, 168, 0, 0, 16),
        v4(100, 64, 0, 0, 10),
        v4(192, 0, 0, 0, 24),
        v4(198, 18, 0, 0, 15),
        v4(192, 0, 2, 0, 24),
        v4(198, 51, 100, 0, 24),
        v4(203, 0, 113, 0, 24),
    ];
    if o[0] == 0 {
        Class::Unspecified
    } else if ip.is_loopback() {
        Class::Loopback
    } else if ip.is_link_local() {
        Class::LinkLocal
    } else if ip.is_broadcast() {
        Class::Broadcast
    } else if ip.is_multicast() {
        Class::Multicast
    } else if o[0] >= 240 {
        Class::Reserved
    } else if private.iter().any(|n| n.contains(&ip)) {
        Class::Private
    } else {
        Class::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> Class {
    let private = [
        v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),
        v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10),
        v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32),
        v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32),
        v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64),
    ];
    if ip.is_unspecified() {
        Class::Unspecified
    } else if ip.is_loopback() {
        Class::Loopback
    } else if v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10).contains(&ip) {
        Class::LinkLocal
    } else if ip.is_multicast() {
        Class::Multicast
    } else if private.iter().any(|n| n.contains(&ip)) {
        Class::Private
    } else if !v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3).contains(&ip) {
        Class::Reserved
    } else {
        Class::Public
    }
}

/// The class of `ip`, embedded IPv4 addresses judged as IPv4.
pub fn classify(ip: IpAddr) -> Class {
    match canonical(ip) {
        IpAddr::V4(a) => classify_v4(a),
        IpAddr::V6(a) => classify_v6(a),
    }
}

/// The outbound policy: the CIDRs from `OUTBOUND_ALLOWED_CIDRS` and the rules above.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    allowed: Vec<IpNet>,
}

impl Policy {
    pub fn new(allowed: &[IpNet]) -> Self {
        Self {
            allowed: allowed.iter().map(IpNet::trunc).collect(),
        }
    }

    /// `Ok` when requests may reach `ip`; otherwise the class that keeps it out.
    pub fn check(&self, ip: IpAddr) -> Result<(), Class> {
        let ip = canonical(ip);
        let class = classify(ip);
        let allowed = match class {
            Class::Public => true,
            Class::Private => self.allowed.iter().any(|n| n.contains(&ip)),
            Class::Loopback | Class::LinkLocal => special_block(ip).is_some_and(|(_, block)| {
                self.allowed
                    .iter()
                    .any(|n| n.contains(&ip) && block.contains(n))
            }),
            Class::Unspecified | Class::Multicast | Class::Broadcast | Class::Reserved => false,
        };
        if allowed { Ok(()) } else { Err(class) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    fn nets(list: &[&str]) -> Policy {
        let nets: Vec<IpNet> = list.iter().map(|n| n.parse().expect("a CIDR")).collect();
        Policy::new(&nets)
    }

    #[test]
    fn classes() {
        for (a, c) in [
            ("127.0.0.1", Class::Loopback),
            ("127.255.0.9", Class::Loopback),
            ("::1", Class::Loopback),
            ("::ffff:127.0.0.1", Class::Loopback),
            ("::127.0.0.1", Class::Loopback),
            ("64:ff9b::7f00:1", Class::Loopback),
            ("2002:7f00:1::", Class::Loopback),
            ("169.254.169.254", Class::LinkLocal),
            ("::ffff:169.254.169.254", Class::LinkLocal),
            ("fe80::1", Class::LinkLocal),
            ("0.0.0.0", Class::Unspecified),
            ("0.1.2.3", Class::Unspecified),
            ("::", Class::Unspecified),
            ("224.0.0.1", Class::Multicast),
            ("ff02::1", Class::Multicast),
            ("255.255.255.255", Class::Broadcast),
            ("240.0.0.1", Class::Reserved),
            ("10.1.2.3", Class::Private),
            ("172.31.0.1", Class::Private),
            ("192.168.1.1", Class::Private),
            ("100.64.0.1", Class::Private),
            ("fd00::1", Class::Private),
            ("8.8.8.8", Class::Public),
            ("172.32.0.1", Class::Public),
            ("2606:4700::1111", Class::Public),
            ("2002:808:808::", Class::Public),
        ] {
            assert_eq!(classify(ip(a)), c, "{a}");
        }
    }

    #[test]
    fn defaults_refuse_everything_but_public() {
        let p = Policy::default();
        assert_eq!(p.check(ip("8.8.8.8")), Ok(()));
        for a in [
            "127.0.0.1",
            "10.0.0.1",
            "169.254.169.254",
            "::ffff:10.0.0.1",
            "fc00::1",
        ] {
            assert!(p.check(ip(a)).is_err(), "{a}");
        }
    }

    #[test]
    fn wide_ranges_never_open_loopback_or_link_local() {
        let p = nets(&["0.0.0.0/0", "::/0"]);
        assert_eq!(p.check(ip("10.0.0.1")), Ok(()));
        assert_eq!(p.check(ip("fd00::1")), Ok(()));
        for a in [
            "127.0.0.1",
            "169.254.169.254",
            "::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
        ] {
            assert!(p.check(ip(a)).is_err(), "{a}");
        }
        let p = nets(&["127.0.0.0/1", "169.0.0.0/8"]);
        assert!(p.check(ip("127.0.0.1")).is_err());
        assert!(p.check(ip("169.254.169.254")).is_err());
    }

    #[test]
    fn explicit_cidrs_open_exactly_what_they_cover() {
        let p = nets(&["127.0.0.1/32", "10.1.0.0/16"]);
        assert_eq!(p.check(ip("127.0.0.1")), Ok(()));
        assert_eq!(p.check(ip("::ffff:127.0.0.1")), Ok(()));
        assert_eq!(p.check(ip("127.0.0.2")), Err(Class::Loopback));
        assert_eq!(p.check(ip("10.1.2.3")), Ok(()));
        assert_eq!(p.check(ip("10.2.0.1")), Err(Class::Private));
        assert_eq!(p.check(ip("169.254.169.254")), Err(Class::LinkLocal));
        // A broad listing inside the loopback block is explicit enough.
        assert_eq!(nets(&["127.0.0.0/8"]).check(ip("127.9.9.9")), Ok(()));
        // Never, whatever is listed.
        assert!(nets(&["0.0.0.0/8"]).check(ip("0.0.0.0")).is_err());
    }
}
