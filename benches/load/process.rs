//! The servers under load, each its own process: the emulator's release binary, and the
//! static baseline (this same benchmark program re-executed in the baseline role). Both
//! announce themselves with one `listening on http://ADDR` line on stdout, printed once the
//! socket is bound, and both are killed when their [`ServerProcess`] is dropped, including
//! when a scenario fails or panics.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The emulator binary cargo built for this benchmark (the `bench` profile, which inherits
/// `release`).
pub const EMULATOR: &str = env!("CARGO_BIN_EXE_twilio-conversations-emulator");

/// How long a server may take to print its address before the benchmark gives up on it.
const READY_DEADLINE: Duration = Duration::from_secs(10);

/// A running server, killed and reaped on drop.
#[derive(Debug)]
pub struct ServerProcess {
    pub addr: SocketAddr,
    child: Child,
    /// Kept open: a server that writes to stdout again must not meet a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl ServerProcess {
    /// Starts the emulator on a free loopback port, with request logging off.
    pub fn emulator() -> Result<Self, String> {
        Self::emulator_with(&[])
    }

    /// Like [`emulator`](Self::emulator), with extra arguments (`--state-file`, say).
    pub fn emulator_with(arguments: &[&str]) -> Result<Self, String> {
        Self::emulator_logging(arguments, Stdio::inherit())
    }

    /// Like [`emulator_with`](Self::emulator_with), its log (stderr) going to `log`.
    pub fn emulator_logging(arguments: &[&str], log: Stdio) -> Result<Self, String> {
        Self::emulator_at("warn", arguments, log)
    }

    /// The emulator with the log level `level` (`info` is the binary's default), its log
    /// going to `log`.
    pub fn emulator_at(level: &str, arguments: &[&str], log: Stdio) -> Result<Self, String> {
        let mut command = emulator_command_at(level);
        command.args(arguments).stderr(log);
        die_with_parent(&mut command);
        let emulator = Self::start(&mut command, None)?;
        // For attaching a profiler to it: `perf record -p PID`.
        eprintln!("  emulator: pid {} on {}", emulator.pid(), emulator.addr);
        Ok(emulator)
    }

    /// Starts this program in the baseline role, which serves `bodies` (JSON, read from
    /// its stdin) from a minimal axum router.
    pub fn baseline(bodies: &[u8]) -> Result<Self, String> {
        let program = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
        let mut command = Command::new(program);
        command.env(crate::ROLE_VARIABLE, crate::BASELINE_ROLE);
        die_with_parent(&mut command);
        let baseline = Self::start(&mut command, Some(bodies))?;
        eprintln!("  baseline: pid {} on {}", baseline.pid(), baseline.addr);
        Ok(baseline)
    }

    fn start(command: &mut Command, stdin: Option<&[u8]>) -> Result<Self, String> {
        let mut child = command
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("start {command:?}: {e}"))?;
        if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // Dropping the pipe after writing closes it: the child reads to end of file.
            if let Err(error) = pipe.write_all(bytes) {
                kill(&mut child);
                return Err(format!("write to {command:?}: {error}"));
            }
        }
        let stdout = child.stdout.take().expect("stdout is piped");
        match read_address(stdout) {
            Ok((addr, stdout)) => Ok(Self { addr, child, _stdout: stdout }),
            Err(error) => {
                kill(&mut child);
                Err(format!("{command:?}: {error}"))
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's resident set size, in bytes (`VmRSS` in `/proc/PID/status`).
    pub fn resident_bytes(&self) -> Result<u64, String> {
        resident_bytes(self.pid())
    }
}

impl ServerProcess {
    /// Stops the server as `docker stop` would (SIGTERM) and waits for it to exit, so that
    /// it writes out what it holds (its request log) first.
    pub fn terminate(&mut self) {
        let Ok(pid) = i32::try_from(self.child.id()) else { return };
        // SAFETY: `kill` only sends a signal to the child this value owns and has not reaped.
        if unsafe { libc::kill(pid, libc::SIGTERM) } == 0 {
            let _ = self.child.wait();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

/// Has the kernel kill the child when this process dies, however it dies: `Drop` covers
/// errors and panics, but not a benchmark stopped by a signal, whose servers would
/// otherwise run on, orphaned, and skew whatever is measured next.
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec, and only makes one
    // async-signal-safe system call, touching no memory shared with the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

fn kill(child: &mut Child) {
    // Errors mean it has already exited; either way it is reaped.
    let _ = child.kill();
    let _ = child.wait();
}

/// `twilio-conversations-emulator --host 127.0.0.1 --port 0 --log-level warn`, without any
/// of the emulator's variables from the caller's environment.
pub fn emulator_command() -> Command {
    emulator_command_at("warn")
}

/// [`emulator_command`] with the log level `level`.
pub fn emulator_command_at(level: &str) -> Command {
    let mut command = Command::new(EMULATOR);
    command
        .args(["--host", "127.0.0.1", "--port", "0", "--log-level", level])
        .env_remove("TWILIO_EMULATOR_HOST")
        .env_remove("TWILIO_EMULATOR_PORT")
        .env_remove("TWILIO_EMULATOR_PUBLIC_URL")
        .env_remove("TWILIO_EMULATOR_LOG")
        .env_remove("TWILIO_EMULATOR_API_KEYS")
        .env_remove("TWILIO_EMULATOR_SEED")
        .env_remove("TWILIO_EMULATOR_MAX_BODY_BYTES")
        .env_remove("TWILIO_EMULATOR_STATE_FILE")
        .env_remove("TWILIO_EMULATOR_STATE_SYNC")
        .env_remove("TWILIO_EMULATOR_STATE_COMPACT_AFTER")
        .env_remove("RUST_LOG")
        .env_remove(crate::ROLE_VARIABLE);
    command
}

/// Reads the `listening on http://ADDR` line, giving up after [`READY_DEADLINE`]. The read
/// blocks, so it runs on a thread of its own that hands the pipe back with the address.
pub fn read_address(stdout: ChildStdout) -> Result<(SocketAddr, BufReader<ChildStdout>), String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let result = reader.read_line(&mut line).map(|_| line);
        let _ = sender.send((result, reader));
    });
    let (line, reader) = receiver
        .recv_timeout(READY_DEADLINE)
        .map_err(|_| format!("no `listening on` line within {READY_DEADLINE:?}"))?;
    let line = line.map_err(|e| format!("reading stdout: {e}"))?;
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|addr| addr.parse().ok())
        .ok_or_else(|| format!("expected `listening on http://ADDR`, read {line:?}"))?;
    Ok((addr, reader))
}

/// `VmRSS` of process `pid`, in bytes.
pub fn resident_bytes(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| format!("read {path}: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .ok_or_else(|| format!("no VmRSS in {path}"))
}

/// CPU time process `pid` has used so far, summed over its threads, in nanoseconds from
/// `/proc/PID/task/*/schedstat` (the first field: time on a CPU). `/proc/PID/stat` would
/// give the same in 10 ms ticks, too coarse for a short run. A thread that exits between
/// two readings takes its time with it; the servers' and the generator's threads live as
/// long as their runtimes.
pub fn cpu_time(pid: u32) -> Result<Duration, String> {
    threads_cpu_time(pid, |_| true)
}

/// The CPU time of the calling thread, from `/proc/thread-self/schedstat`.
pub fn thread_cpu_time() -> Result<Duration, String> {
    let path = std::path::Path::new("/proc/thread-self/schedstat");
    let stat = std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    schedstat_nanos(path, &stat).map(Duration::from_nanos)
}

/// The name the emulator gives the thread that writes its request log out
/// (`request_log::WRITER_THREAD` in the emulator's source).
const LOG_WRITER_THREAD: &str = "request-log";

/// CPU time the request log's writer thread of emulator `pid` has used so far: its
/// `write`s of the lines into stderr's file, off the request path. Zero without a log.
pub fn log_writer_cpu_time(pid: u32) -> Result<Duration, String> {
    threads_cpu_time(pid, |task| {
        std::fs::read_to_string(task.join("comm")).is_ok_and(|name| name.trim_end() == LOG_WRITER_THREAD)
    })
}

fn threads_cpu_time(pid: u32, counted: impl Fn(&std::path::Path) -> bool) -> Result<Duration, String> {
    let tasks = format!("/proc/{pid}/task");
    let entries = std::fs::read_dir(&tasks).map_err(|e| format!("read {tasks}: {e}"))?;
    let mut nanos: u64 = 0;
    for entry in entries.flatten() {
        if !counted(&entry.path()) {
            continue;
        }
        let path = entry.path().join("schedstat");
        // A thread may exit between listing and reading: its time is then simply gone.
        if let Ok(stat) = std::fs::read_to_string(&path) {
            nanos += schedstat_nanos(&path, &stat)?;
        }
    }
    Ok(Duration::from_nanos(nanos))
}

/// The first field of a `schedstat` file read from `path`: nanoseconds on a CPU.
fn schedstat_nanos(path: &std::path::Path, stat: &str) -> Result<u64, String> {
    stat.split_whitespace()
        .next()
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| format!("unexpected {}: {stat:?}", path.display()))
}

/// Start-up as a user sees it: from `spawn` to the first answered request (a 200 from
/// `GET /_emulator/health`), and to the `listening on` line on the way. Plain blocking
/// std I/O, so no client runtime sits in the measurement; and no [`die_with_parent`],
/// whose `pre_exec` would turn the spawn into a full `fork` of this process and add its
/// cost to the emulator's figure (the child lives a few milliseconds, inside this call).
#[derive(Clone, Copy, Debug)]
pub struct StartUp {
    pub to_listening: Duration,
    pub to_first_answer: Duration,
}

pub fn measure_start_up() -> Result<StartUp, String> {
    let started = Instant::now();
    let mut command = emulator_command();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("start the emulator: {e}"))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let result = read_address(stdout).and_then(|(addr, reader)| {
        let to_listening = started.elapsed();
        health_check(addr)?;
        let to_first_answer = started.elapsed();
        drop(reader);
        Ok(StartUp { to_listening, to_first_answer })
    });
    kill(&mut child);
    result
}

/// One `GET /_emulator/health` on a fresh connection; Ok only for a 200.
fn health_check(addr: SocketAddr) -> Result<(), String> {
    use std::io::Read;
    use std::net::TcpStream;
    let mut stream = TcpStream::connect_timeout(&addr, READY_DEADLINE).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(READY_DEADLINE)).map_err(|e| format!("set a read timeout: {e}"))?;
    write!(stream, "GET /_emulator/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("send: {e}"))?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|e| format!("read: {e}"))?;
    if answer.starts_with(b"HTTP/1.1 200 ") {
        Ok(())
    } else {
        let shown = &answer[..answer.len().min(200)];
        Err(format!("health check answered {:?}", String::from_utf8_lossy(shown)))
    }
}
