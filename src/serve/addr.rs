//! The `--serve` address. A bare port binds the loopback address: serving
//! anything beyond this machine must be asked for by naming the address.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Parses `PORT`, `:PORT`, `localhost:PORT`, `IPv4:PORT` or `[IPv6]:PORT`.
/// Host names other than localhost are refused rather than resolved, so
/// what is bound never depends on DNS.
pub fn parse_listen_addr(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let (host, port) = match s.rsplit_once(':') {
        // "::1" alone has colons but no port.
        Some((host, port)) if !host.contains(':') || host.starts_with('[') => (host, port),
        Some(_) => {
            return Err(format!(
                "'{s}': write an IPv6 address in brackets, as [::1]:9100"
            ))
        }
        None => ("", s),
    };
    let port: u16 = port.parse().map_err(|_| {
        format!("'{s}': expected ADDR:PORT (e.g. 127.0.0.1:9100) or PORT, with PORT in 0–65535")
    })?;
    let ip = match host {
        "" | "localhost" => loopback,
        _ => {
            let bare = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            bare.parse::<IpAddr>().map_err(|_| {
                format!("'{s}': '{host}' is not an IP address (host names other than localhost are not resolved)")
            })?
        }
    };
    Ok(SocketAddr::new(ip, port))
}

/// The warning printed when serving on `addr` reaches beyond this machine
/// (any address but loopback): what the exposition tells whoever can
/// connect, since the exporter has no authentication of its own.
pub fn exposure_warning(addr: &SocketAddr) -> Option<String> {
    let ip = addr.ip().to_canonical();
    if ip.is_loopback() {
        return None;
    }
    let reach = if ip.is_unspecified() {
        "every address of this machine"
    } else {
        "an address other machines may reach"
    };
    Some(format!(
        "bpftop: warning: serving on {addr}, {reach}: anyone who can connect to this port \
         can read the command names, PIDs and users of the busiest processes and the \
         names and resource use of every systemd unit and container. bpftop has no \
         authentication or TLS of its own: bind 127.0.0.1 and put a reverse proxy with TLS \
         and authentication in front, or limit who reaches the port with a firewall."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warns(s: &str) -> Option<String> {
        parse_listen_addr(s).ok().and_then(|a| exposure_warning(&a))
    }

    #[test]
    fn loopback_is_served_quietly_anything_else_with_a_warning() {
        for quiet in ["9100", "127.0.0.1:9100", "127.1.2.3:9100", "[::1]:9100"] {
            assert_eq!(warns(quiet), None, "{quiet}");
        }
        for wildcard in ["0.0.0.0:9100", "[::]:9100"] {
            let w = warns(wildcard).unwrap_or_default();
            assert!(w.contains("every address"), "{wildcard}: {w}");
            assert!(
                w.contains("command names, PIDs and users"),
                "{wildcard}: {w}"
            );
        }
        for other in [
            "10.1.2.3:9100",
            "[2001:db8::1]:9100",
            "[::ffff:10.0.0.1]:9100",
        ] {
            let w = warns(other).unwrap_or_default();
            assert!(w.contains("other machines"), "{other}: {w}");
        }
        assert_eq!(warns("[::ffff:127.0.0.1]:9100"), None);
    }

    fn ok(s: &str) -> String {
        parse_listen_addr(s)
            .map(|a| a.to_string())
            .unwrap_or_else(|e| e)
    }

    #[test]
    fn a_bare_port_binds_loopback_only() {
        assert_eq!(ok("9100"), "127.0.0.1:9100");
        assert_eq!(ok(":9100"), "127.0.0.1:9100");
        assert_eq!(ok("localhost:9100"), "127.0.0.1:9100");
    }

    #[test]
    fn other_addresses_are_taken_as_written() {
        assert_eq!(ok("0.0.0.0:9100"), "0.0.0.0:9100");
        assert_eq!(ok("10.1.2.3:80"), "10.1.2.3:80");
        assert_eq!(ok("[::1]:9100"), "[::1]:9100");
        assert_eq!(ok("[::]:9100"), "[::]:9100");
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(ok("::1").contains("brackets"));
        assert!(ok("example.com:9100").contains("not an IP address"));
        assert!(ok("127.0.0.1:99999").contains("PORT in 0–65535"));
        assert!(ok("127.0.0.1").contains("expected ADDR:PORT"));
        assert!(ok("").contains("expected ADDR:PORT"));
    }
}
