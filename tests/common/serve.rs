//! `bpftop --serve 127.0.0.1:0 ARGS` for the exporter tests: the port it
//! chose comes from its stderr, which is kept for failure messages. Killed
//! and reaped on drop.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

pub struct Served {
    pub child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Served {
    /// Starts `bin` serving on a free loopback port; panics (with its
    /// stderr) when it does not start serving within a minute.
    pub fn start(bin: &str, args: &[&str]) -> Served {
        let mut child = Command::new(bin)
            .args(["--serve", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = Arc::clone(&log);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("bpftop: serving http://") {
                    let _ = tx.send(rest.trim_end_matches("/metrics").to_owned());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(60));
        let mut served = Served {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
        };
        match addr {
            Ok(addr) => served.addr = addr.parse().unwrap(),
            Err(_) => panic!("bpftop did not start serving: {}", served.log()),
        }
        served
    }

    /// What it has said on stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
