//! The guarded outbound client for user-typed URLs (Argo CD's `server_url`, the HTTP probe's `url`, any later integration): SSRF defence in one place.
//!
//! How it holds:
//! - **Every spelling is one address.** URLs are parsed with the WHATWG rules (`url`), which turn
//!   decimal (`http://2130706433/`), octal (`http://0177.0.0.1/`), hex and short IPv4 forms into the
//!   address they spell; IPv6 addresses embedding IPv4 (`[::ffff:127.0.0.1]`) are judged as the
//!   IPv4 address (`policy`). `localhost`, `localhost.` and `*.localhost` are loopback by name.
//! - **Names are resolved, then every address is checked**: one refused address refuses the name.
//! - **The connection goes only where the check looked.** Each hop gets its own reqwest client
//!   whose DNS resolver knows exactly one name and answers exactly the addresses that were
//!   checked (any other name fails), with proxies off. A resolver that answers differently the
//!   second time (DNS rebinding) is never asked a second time for that hop.
//! - **Every redirect is a new hop**: reqwest follows none; `Outbound::send` follows up to
//!   `MAX_REDIRECTS`, checking and pinning each `Location` like the first URL, and drops the
//!   bearer token once the origin changes.
//!
//! GitHub's and Slack's base URLs are operator settings and do not go through here.

mod guard;
pub mod policy;

pub use guard::{
    Destination, MAX_REDIRECTS, Outbound, OutboundError, Resolve, SystemResolver, Tls,
};
pub use policy::{Class, Policy};
