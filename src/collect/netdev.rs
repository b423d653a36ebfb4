//! Host network throughput from /proc/net/dev, for the header meter.
//!
//! Only traffic that enters or leaves the machine is summed: loopback and
//! virtual devices (bridges, veth pairs, tunnels) are skipped, because a
//! container's packet crosses its veth, the bridge and the uplink, and
//! summing all three would count it three times. A namespace with virtual
//! devices only (inside a container) sums those instead.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::sample::NetDevTotals;

/// One interface's line of /proc/net/dev.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceBytes {
    pub name: String,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

/// Parses /proc/net/dev: two header lines, then `name: rx_bytes rx_packets
/// ... (8 receive fields) tx_bytes ...`. Malformed lines are skipped.
pub fn parse_net_dev(text: &str) -> Vec<InterfaceBytes> {
    text.lines()
        .filter_map(|line| {
            let (name, counters) = line.split_once(':')?;
            let mut fields = counters.split_ascii_whitespace();
            let rx_bytes = fields.next()?.parse().ok()?;
            let tx_bytes = fields.nth(7)?.parse().ok()?;
            Some(InterfaceBytes {
                name: name.trim().to_string(),
                rx_bytes,
                tx_bytes,
            })
        })
        .collect()
}

/// Tells virtual interfaces from real ones, asking sysfs once per name.
pub struct InterfaceKinds {
    sys_root: PathBuf,
    is_virtual: HashMap<String, bool>,
}

impl InterfaceKinds {
    pub fn new(sys_root: &Path) -> Self {
        InterfaceKinds {
            sys_root: sys_root.to_path_buf(),
            is_virtual: HashMap::new(),
        }
    }

    /// Loopback, or a device sysfs places under /sys/devices/virtual.
    fn is_virtual(&mut self, name: &str) -> bool {
        if name == "lo" {
            return true;
        }
        if let Some(&known) = self.is_virtual.get(name) {
            return known;
        }
        // A name that does not resolve (sysfs of another namespace) counts
        // as real: it is better to show traffic than to hide it.
        let resolved = std::fs::canonicalize(self.sys_root.join("class/net").join(name))
            .map(|p| p.to_string_lossy().contains("/devices/virtual/"))
            .unwrap_or(false);
        self.is_virtual.insert(name.to_string(), resolved);
        resolved
    }

    /// Bytes through real interfaces; through the virtual ones other than
    /// loopback when there is no real one.
    pub fn totals(&mut self, interfaces: &[InterfaceBytes]) -> NetDevTotals {
        let sum = |pick: &dyn Fn(&InterfaceBytes) -> bool| {
            interfaces
                .iter()
                .filter(|i| pick(i))
                .fold(NetDevTotals::default(), |acc, i| NetDevTotals {
                    rx_bytes: acc.rx_bytes.saturating_add(i.rx_bytes),
                    tx_bytes: acc.tx_bytes.saturating_add(i.tx_bytes),
                })
        };
        let virtual_flags: Vec<bool> = interfaces
            .iter()
            .map(|i| self.is_virtual(&i.name))
            .collect();
        if virtual_flags.iter().any(|v| !v) {
            let real: Vec<&str> = interfaces
                .iter()
                .zip(&virtual_flags)
                .filter(|(_, v)| !**v)
                .map(|(i, _)| i.name.as_str())
                .collect();
            sum(&|i| real.contains(&i.name.as_str()))
        } else {
            sum(&|i| i.name != "lo")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NET_DEV: &str = "\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 9000     10    0    0    0     0          0         0     9000      10    0    0    0     0       0          0
  eth0: 1000      5    0    0    0     0          0         0     2000       6    0    0    0     0       0          0
docker0: 300      1    0    0    0     0          0         0      400       2    0    0    0     0       0          0
vethab12:  50     1    0    0    0     0          0         0       60       1    0    0    0     0       0          0
broken: 12 x
";

    fn kinds_with(virtuals: &[&str]) -> InterfaceKinds {
        let mut kinds = InterfaceKinds::new(Path::new("/nonexistent"));
        for name in virtuals {
            kinds.is_virtual.insert(name.to_string(), true);
        }
        kinds
    }

    #[test]
    fn parses_receive_and_transmit_bytes() {
        let parsed = parse_net_dev(NET_DEV);
        assert_eq!(parsed.len(), 4, "the malformed line is skipped");
        assert_eq!(
            parsed[1],
            InterfaceBytes {
                name: "eth0".into(),
                rx_bytes: 1000,
                tx_bytes: 2000
            }
        );
        assert_eq!(parsed[2].name, "docker0");
        assert_eq!(parsed[2].tx_bytes, 400);
    }

    #[test]
    fn sums_real_interfaces_only() {
        let mut kinds = kinds_with(&["docker0", "vethab12"]);
        let totals = kinds.totals(&parse_net_dev(NET_DEV));
        assert_eq!(
            totals,
            NetDevTotals {
                rx_bytes: 1000,
                tx_bytes: 2000
            }
        );
    }

    #[test]
    fn a_namespace_with_virtual_devices_only_sums_them_without_loopback() {
        let mut kinds = kinds_with(&["eth0", "docker0", "vethab12"]);
        let totals = kinds.totals(&parse_net_dev(NET_DEV));
        assert_eq!(totals.rx_bytes, 1350);
        assert_eq!(totals.tx_bytes, 2460);
    }

    #[test]
    fn garbage_never_panics() {
        for text in [
            "",
            ":",
            "a:b",
            "x: 1",
            "\u{0}:\u{0}",
            "eth0: 1 2 3 4 5 6 7 8 9999999999999999999999",
        ] {
            let _ = parse_net_dev(text);
        }
        assert!(parse_net_dev("eth0: 1 2 3 4 5 6 7 8 99999999999999999999999").is_empty());
    }

    /// Property tests: no text makes the parser panic, and well-formed
    /// lines are read exactly.
    mod props {
        use super::*;
        use proptest::prelude::*;

        use crate::test_support::proptest_config as config;

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn arbitrary_text_never_panics(raw in prop::collection::vec(any::<u8>(), 0..2048)) {
                for dev in parse_net_dev(&String::from_utf8_lossy(&raw)) {
                    prop_assert_eq!(dev.name.trim(), dev.name.as_str());
                }
            }

            #[test]
            fn interfaces_round_trip(
                devices in prop::collection::vec(
                    ("[A-Za-z0-9_.-]{1,15}", prop::array::uniform16(any::<u64>())),
                    0..6,
                ),
                junk in prop::collection::vec("[^:\n]{0,40}", 0..3),
            ) {
                let mut text = NET_DEV.lines().take(2).collect::<Vec<_>>().join("\n");
                text.push('\n');
                for line in &junk {
                    text.push_str(line);
                    text.push('\n');
                }
                for (name, counters) in &devices {
                    let counters: Vec<String> = counters.iter().map(|c| format!("{c:>8}")).collect();
                    text.push_str(&format!("{name:>6}: {}\n", counters.join(" ")));
                }
                let expected: Vec<InterfaceBytes> = devices
                    .iter()
                    .map(|(name, c)| InterfaceBytes {
                        name: name.clone(),
                        rx_bytes: c[0],
                        tx_bytes: c[8],
                    })
                    .collect();
                prop_assert_eq!(parse_net_dev(&text), expected);
            }

            #[test]
            fn a_mangled_counter_drops_only_its_line(
                field in 0usize..16,
                bad in prop_oneof![
                    Just("-1".to_owned()),
                    Just("18446744073709551616".to_owned()),
                    Just("1e3".to_owned()),
                    "[a-z\u{e9}]{1,5}",
                ],
            ) {
                let mut counters: Vec<String> = (1..=16).map(|n: u32| n.to_string()).collect();
                counters[field] = bad;
                let text = format!("eth0: {}\n  lo: 1 0 0 0 0 0 0 0 2 0 0 0 0 0 0 0\n", counters.join(" "));
                let parsed = parse_net_dev(&text);
                // Only rx (field 0) and tx (field 8) are read.
                let eth0_kept = field != 0 && field != 8;
                prop_assert_eq!(parsed.len(), if eth0_kept { 2 } else { 1 });
                prop_assert_eq!(parsed.last().map(|d| (d.rx_bytes, d.tx_bytes)), Some((1, 2)));
            }
        }
    }
}
