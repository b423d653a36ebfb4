//! `strace -p PID` for the trace panel (s): started when the panel opens,
//! its output (strace writes the trace to stderr) read line by line on a
//! thread of its own, and stopped — terminated, then killed if it lingers,
//! and always reaped — when the panel closes, when bpftop quits, and when
//! the tracer is dropped for any other reason.
//!
//! Its output never reaches the terminal: stdin and stdout are /dev/null,
//! stderr is a pipe whose lines go to the panel, which makes them safe to
//! print. strace runs in a process group of its own, so keys typed at the
//! terminal send it no signal.

use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::thread;
use std::time::{Duration, Instant};

/// The longest line kept from strace; the rest of a longer one is cut.
const LINE_MAX: usize = 4096;

/// How long strace gets to detach after SIGTERM before SIGKILL.
const DETACH_GRACE: Duration = Duration::from_secs(2);

pub struct Tracer {
    pid: u32,
    child: Option<Child>,
    lines: Receiver<Vec<u8>>,
    /// Set once the exit has been reported.
    ended: bool,
}

/// What the trace brought since the last look.
#[derive(Debug, Default)]
pub struct Progress {
    pub lines: Vec<Vec<u8>>,
    /// strace ended (and its output is all read): how, as a sentence,
    /// and whether it failed (rather than outlived its process).
    pub ended: Option<(String, bool)>,
}

impl Tracer {
    /// Starts `program` (strace) on `pid`. Err: a sentence saying why not.
    pub fn start(program: &str, pid: u32) -> Result<Tracer, String> {
        let mut command = Command::new(program);
        command.args(["-tt", "-T", "-s", "256", "-p", &pid.to_string()]);
        Tracer::spawn(command, program, pid)
    }

    /// Runs `command` as the tracer of `pid`.
    fn spawn(mut command: Command, program: &str, pid: u32) -> Result<Tracer, String> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => format!(
                    "{program} is not installed: install it (the strace package) to trace system calls"
                ),
                _ => format!("cannot start {program}: {e}"),
            })?;
        let Some(stderr) = child.stderr.take() else {
            stop(&mut child);
            return Err(format!("cannot read {program}'s output"));
        };
        let (tx, rx) = mpsc::channel();
        let reader = thread::Builder::new()
            .name("strace-output".into())
            .spawn(move || {
                let mut reader = BufReader::new(stderr);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match reader.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {
                            if line.last() == Some(&b'\n') {
                                line.pop();
                            }
                            line.truncate(LINE_MAX);
                            if tx.send(line.clone()).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        if let Err(e) = reader {
            stop(&mut child);
            return Err(format!("cannot read {program}'s output: {e}"));
        }
        Ok(Tracer {
            pid,
            child: Some(child),
            lines: rx,
            ended: false,
        })
    }

    /// The traced process.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The lines that arrived, and whether strace has ended (reported
    /// once, after its last line).
    pub fn progress(&mut self) -> Progress {
        let mut progress = Progress::default();
        let mut closed = false;
        loop {
            match self.lines.try_recv() {
                Ok(line) => progress.lines.push(line),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    closed = true;
                    break;
                }
            }
        }
        if closed && !self.ended {
            if let Some(mut child) = self.child.take() {
                let status = child.wait().ok();
                progress.ended = Some(describe_exit(status));
                self.ended = true;
            }
        }
        progress
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop(&mut child);
        }
    }
}

/// SIGTERM (strace detaches from the process and exits), SIGKILL after
/// [`DETACH_GRACE`]; reaped either way.
fn stop(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill has no memory preconditions; the child is not yet
        // reaped (try_wait said so), so its pid is still its own.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let deadline = Instant::now() + DETACH_GRACE;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn describe_exit(status: Option<ExitStatus>) -> (String, bool) {
    match status {
        Some(s) if s.success() => ("strace ended: the process has exited".to_owned(), false),
        Some(s) => match (s.code(), s.signal()) {
            (Some(code), _) => (
                format!("strace failed (exit status {code}); its message is above"),
                true,
            ),
            (None, Some(signal)) => (format!("strace was stopped by signal {signal}"), true),
            _ => ("strace ended".to_owned(), true),
        },
        None => ("strace ended".to_owned(), true),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_is_said_plainly() {
        let err = Tracer::start("/nonexistent/strace", 1).err().unwrap();
        assert!(err.contains("is not installed"), "{err}");
    }

    /// A stand-in for strace that writes to stderr and exits with an
    /// error, as strace does when it cannot attach.
    #[test]
    fn output_and_exit_status_arrive() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo 'attach: \\033[2J not permitted' >&2; exit 1"]);
        let mut tracer = Tracer::spawn(command, "sh", 42).unwrap();
        let start = Instant::now();
        let mut lines = Vec::new();
        let ended = loop {
            let p = tracer.progress();
            lines.extend(p.lines);
            if let Some(ended) = p.ended {
                break ended;
            }
            assert!(start.elapsed() < Duration::from_secs(30));
            thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(lines, vec![b"attach: \x1b[2J not permitted".to_vec()]);
        assert!(ended.0.contains("exit status 1") && ended.1, "{ended:?}");
    }

    /// Dropping the tracer stops and reaps a strace that would run on.
    #[test]
    fn dropping_stops_and_reaps_it() {
        let mut command = Command::new("sleep");
        command.arg("600");
        let tracer = Tracer::spawn(command, "sleep", 1).unwrap();
        let child_pid = tracer.child.as_ref().unwrap().id();
        drop(tracer);
        // Reaped: no process (not even a zombie) has that pid as our child.
        let ours = std::fs::read_to_string(format!("/proc/{child_pid}/stat"))
            .map(|s| {
                let after = &s[s.rfind(')').unwrap() + 2..];
                after.split(' ').nth(1) == Some(&std::process::id().to_string())
            })
            .unwrap_or(false);
        assert!(!ours, "stand-in {child_pid} still our child");
    }
}
