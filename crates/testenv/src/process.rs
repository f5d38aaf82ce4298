//! Starting and stopping the control plane's processes, always by the pid we recorded and
//! never by name.
//!
//! Every process runs in its own session (`setsid`), with its output in a log file of the
//! state folder. Two lifetimes exist:
//! - *owned*: the process dies with the program that started it (`PR_SET_PDEATHSIG`), so a
//!   test binary that exits or crashes never leaves a control plane behind. The kernel sends
//!   that signal when the *thread* that forked exits, so owned processes are spawned from one
//!   long-lived spawner thread rather than from whatever (short-lived) runtime thread asks.
//! - *detached*: the process outlives the CLI that started it (`testcluster up`), and a later
//!   `testcluster down` stops it by its recorded pid.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::error::TestEnvError;

/// What to run and where its output goes.
#[derive(Debug, Clone)]
pub(crate) struct Launch {
    /// Component name, for messages.
    pub component: String,
    /// The binary.
    pub binary: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// The log file (stdout and stderr, appended).
    pub log: PathBuf,
    /// Whether the process must outlive this program.
    pub detached: bool,
    /// The signal an owned (not detached) process gets when this program exits.
    pub death_signal: libc::c_int,
}

/// Children this program started and has not reaped yet, so that stopping one also reaps it
/// (a zombie would still show in /proc).
fn children() -> &'static Mutex<HashMap<u32, Child>> {
    static CHILDREN: OnceLock<Mutex<HashMap<u32, Child>>> = OnceLock::new();
    CHILDREN.get_or_init(|| Mutex::new(HashMap::new()))
}

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

/// The long-lived thread that forks owned processes (see the module doc).
fn spawner() -> &'static Mutex<mpsc::Sender<SpawnRequest>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("testenv-spawner".into())
            .spawn(move || {
                for (mut command, reply) in rx {
                    let _ = reply.send(command.spawn());
                }
                // The sender lives in a static, so this loop (and thread) lasts as long as
                // the process.
                loop {
                    std::thread::park();
                }
            })
            .expect("starting the testenv spawner thread");
        Mutex::new(tx)
    })
}

/// Starts a process as described and returns its pid.
pub(crate) fn start(launch: &Launch) -> Result<u32, TestEnvError> {
    crate::binaries::require_file(&launch.binary, &launch.component)?;
    let log = File::options()
        .create(true)
        .append(true)
        .open(&launch.log)
        .map_err(TestEnvError::io("opening the log", &launch.log))?;
    let log_err = log.try_clone().map_err(TestEnvError::io("opening the log", &launch.log))?;
    let mut command = Command::new(&launch.binary);
    command
        .args(&launch.args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err));
    let detached = launch.detached;
    let death_signal = launch.death_signal;
    // SAFETY: the closure only calls async-signal-safe functions (setsid, prctl, getppid).
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(move || {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            if !detached {
                if libc::prctl(libc::PR_SET_PDEATHSIG, death_signal as libc::c_ulong, 0, 0, 0) == -1
                {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died between fork and prctl.
                if libc::getppid() == 1 {
                    return Err(std::io::Error::other("the parent exited while starting"));
                }
            }
            Ok(())
        });
    }
    let spawned = if detached {
        command.spawn()
    } else {
        let (reply_tx, reply_rx) = mpsc::channel();
        spawner()
            .lock()
            .expect("spawner lock")
            .send((command, reply_tx))
            .expect("the spawner thread is alive");
        reply_rx.recv().expect("the spawner thread answers")
    };
    let child = spawned.map_err(|e| TestEnvError::Start {
        component: launch.component.clone(),
        reason: format!("spawning {}: {e}", launch.binary.display()),
        log: launch.log.clone(),
        tail: String::new(),
    })?;
    let pid = child.id();
    children().lock().expect("children lock").insert(pid, child);
    Ok(pid)
}

/// Whether `pid` is alive and still runs `binary` (a recycled pid running something else
/// counts as gone; a zombie counts as gone).
pub(crate) fn is_running(pid: u32, binary: &Path) -> bool {
    if let Some(child) = children().lock().expect("children lock").get_mut(&pid)
        && !matches!(child.try_wait(), Ok(None))
    {
        return false;
    }
    let stat = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat,
        Err(_) => return false,
    };
    // The state letter follows the parenthesised command name.
    let state =
        stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()).unwrap_or("?");
    if state == "Z" || state == "X" {
        return false;
    }
    runs_binary(pid, binary)
}

fn runs_binary(pid: u32, binary: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => {
            let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
            Path::new(std::ffi::OsStr::from_bytes(argv0)) == binary
        }
        Err(_) => false,
    }
}

/// Stops the recorded process: SIGTERM, wait up to `grace`, then SIGKILL. A pid that is gone
/// or now runs another program is left alone.
pub(crate) fn stop(
    component: &str,
    pid: u32,
    binary: &Path,
    grace: Duration,
) -> Result<(), TestEnvError> {
    if !is_running(pid, binary) {
        reap(pid);
        return Ok(());
    }
    signal(pid, libc::SIGTERM);
    if wait_gone(pid, binary, grace) {
        reap(pid);
        return Ok(());
    }
    signal(pid, libc::SIGKILL);
    if wait_gone(pid, binary, Duration::from_secs(10)) {
        reap(pid);
        Ok(())
    } else {
        Err(TestEnvError::Stop {
            component: component.to_string(),
            pid,
            reason: "still running 10s after SIGKILL".into(),
        })
    }
}

fn signal(pid: u32, sig: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) on a pid we recorded and just checked runs our binary.
    unsafe {
        libc::kill(pid, sig);
    }
}

fn wait_gone(pid: u32, binary: &Path, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !is_running(pid, binary) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    !is_running(pid, binary)
}

fn reap(pid: u32) {
    if let Some(mut child) = children().lock().expect("children lock").remove(&pid) {
        let _ = child.try_wait();
        let _ = child.wait();
    }
}

/// The exit status of a child we started, if it has exited.
pub(crate) fn exited(pid: u32) -> Option<String> {
    let mut children = children().lock().expect("children lock");
    let child = children.get_mut(&pid)?;
    match child.try_wait() {
        Ok(Some(status)) => Some(status.to_string()),
        _ => None,
    }
}

/// The last `lines` lines of a log file (empty when it cannot be read).
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let text =
        std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A start error for `component` carrying the tail of its log.
pub(crate) fn start_error(component: &str, reason: impl Into<String>, log: &Path) -> TestEnvError {
    TestEnvError::Start {
        component: component.to_string(),
        reason: reason.into(),
        log: log.to_path_buf(),
        tail: tail(log, 40),
    }
}

/// The resident memory of a process in KiB (0 when gone), from /proc/PID/status.
pub(crate) fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
