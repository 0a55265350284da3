//! Reading and parsing single variables, each error naming the variable.

use std::time::Duration;

use url::Url;

use super::{ConfigError, Source};

/// A required secret of at least `min_len` characters that is neither a placeholder nor guessable.
pub(super) fn strong_secret(
    env: &dyn Source,
    name: &'static str,
    min_len: usize,
) -> Result<String, ConfigError> {
    let value = required(env, name)?;
    if value.chars().count() < min_len {
        return Err(ConfigError::Malformed {
            name,
            reason: format!("must be at least {min_len} characters"),
        });
    }
    if let Some(reason) = crate::crypto::strength::weakness(&value) {
        return Err(ConfigError::Malformed { name, reason });
    }
    Ok(value)
}

pub(super) fn required(env: &dyn Source, name: &'static str) -> Result<String, ConfigError> {
    env.get(name).ok_or(ConfigError::Missing(name))
}

pub(super) fn optional<T>(
    env: &dyn Source,
    name: &'static str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<T>, ConfigError> {
    env.get(name)
        .map(|v| parse(v.trim()).map_err(|reason| ConfigError::Malformed { name, reason }))
        .transpose()
}

pub(super) fn or_default<T>(
    env: &dyn Source,
    name: &'static str,
    default: T,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    Ok(optional(env, name, parse)?.unwrap_or(default))
}

pub(super) fn default_url(url: &str) -> Url {
    Url::parse(url).unwrap_or_else(|_| unreachable!("built-in URL {url} is valid"))
}

pub(super) fn parse_url(v: &str) -> Result<Url, String> {
    let url = Url::parse(v).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("expected an http:// or https:// URL".into());
    }
    Ok(url)
}

pub(super) fn parse_u16(v: &str) -> Result<u16, String> {
    v.parse()
        .map_err(|_| format!("`{v}` is not a number between 0 and 65535"))
}

pub(super) fn parse_u32(v: &str) -> Result<u32, String> {
    v.parse()
        .map_err(|_| format!("`{v}` is not a positive whole number"))
}

pub(super) fn parse_u64(v: &str) -> Result<u64, String> {
    v.parse()
        .map_err(|_| format!("`{v}` is not a positive whole number"))
}

/// At most a year, so `now() - window` is always a valid timestamp.
pub(super) fn parse_notify_window(v: &str) -> Result<u64, String> {
    match parse_u64(v)? {
        secs if secs <= 31_536_000 => Ok(secs),
        _ => Err(format!("`{v}` is more than a year (31536000 seconds)")),
    }
}

pub(super) fn parse_usize(v: &str) -> Result<usize, String> {
    v.parse()
        .map_err(|_| format!("`{v}` is not a positive whole number"))
}

pub(super) fn parse_bool(v: &str) -> Result<bool, String> {
    match v {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(format!("`{v}` is not true or false")),
    }
}

/// Comma-separated CIDRs (`10.0.0.0/8, 2001:db8::/32`); a bare address means just that address.
pub(super) fn parse_cidrs(v: &str) -> Result<Vec<ipnet::IpNet>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.parse::<ipnet::IpNet>()
                .or_else(|_| c.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|n| n.trunc())
                .map_err(|_| format!("`{c}` is not a CIDR such as 10.0.0.0/8"))
        })
        .collect()
}

/// Comma-separated browser origins (`https://app.example.com`): scheme, host and optional port,
/// nothing else; `*` is refused (CORS stays an allow-list).
pub(super) fn parse_origins(v: &str) -> Result<Vec<String>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| {
            let url = parse_url(o).map_err(|e| format!("`{o}`: {e}"))?;
            let bare = url.path() == "/"
                && url.query().is_none()
                && url.fragment().is_none()
                && url.username().is_empty()
                && url.password().is_none()
                && !o.contains('*');
            if url.host().is_none() || !bare {
                return Err(format!(
                    "`{o}` is not an origin (scheme://host[:port], no path, no wildcard)"
                ));
            }
            Ok(url.origin().ascii_serialization())
        })
        .collect()
}

pub(super) fn parse_positive(v: &str) -> Result<usize, String> {
    match v.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{v}` is not a whole number of at least 1")),
    }
}

pub(super) fn parse_secs(v: &str) -> Result<Duration, String> {
    parse_u64(v).map(Duration::from_secs)
}

pub(super) fn parse_positive_secs(v: &str) -> Result<Duration, String> {
    parse_positive(v).map(|n| Duration::from_secs(n as u64))
}

pub(super) fn parse_positive_millis(v: &str) -> Result<Duration, String> {
    parse_positive(v).map(|n| Duration::from_millis(n as u64))
}
