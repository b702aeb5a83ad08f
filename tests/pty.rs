//! The real binary in a pseudo-terminal: it draws, switches panes, quits on keys and on
//! SIGTERM/SIGHUP, and always gives the terminal back (termios, alternate screen, cursor).

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Session {
    output: Arc<Mutex<Vec<u8>>>,
    /// Set, the reader lets go of the terminal after its next read.
    hang_up: Arc<std::sync::atomic::AtomicBool>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

const ROWS: u16 = 30;
const COLS: u16 = 110;

/// Starts `sh -c 'stty -g; clever … demo; echo EXIT=$?; stty -g'` in a terminal.
fn start(home: &Path, extra_env: &[(&str, &str)]) -> Session {
    let bin = env!("CARGO_BIN_EXE_clever");
    let script = format!(
        "stty -g; '{bin}' --data-dir '{d}' --config '{d}/config.toml' demo; echo EXIT=$?; stty -g",
        d = home.display()
    );
    let mut cmd = CommandBuilder::new("sh");
    cmd.args(["-c", &script]);
    spawn(cmd, home, extra_env)
}

/// Starts `clever … demo` itself in a terminal, as the terminal's session leader (as a
/// login shell's `exec clever` would be over SSH).
fn start_alone(home: &Path, extra_env: &[(&str, &str)]) -> Session {
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_clever"));
    let d = home.display().to_string();
    cmd.args([
        "--data-dir",
        &d,
        "--config",
        &format!("{d}/config.toml"),
        "demo",
    ]);
    spawn(cmd, home, extra_env)
}

fn spawn(mut cmd: CommandBuilder, home: &Path, extra_env: &[(&str, &str)]) -> Session {
    let pty = native_pty_system();
    let pair = pty
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    cmd.env("TERM", "xterm-256color");
    cmd.env("HOME", home);
    cmd.env("LANG", "C.UTF-8");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let writer = pair.master.take_writer().unwrap();
    let output = Arc::new(Mutex::new(Vec::new()));
    let sink = output.clone();
    let hang_up = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hung_up = hang_up.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || hung_up.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    Session {
        output,
        hang_up,
        writer,
        child,
        _master: pair.master,
    }
}

impl Session {
    fn screen(&self) -> String {
        let mut parser = vt100::Parser::new(
            std::num::NonZero::new(ROWS).unwrap(),
            std::num::NonZero::new(COLS).unwrap(),
            0,
        );
        parser.process(&self.output.lock().unwrap());
        parser.screen().contents()
    }

    fn raw(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Waits (generously: the first run seeds the demo) until the screen or output shows `text`.
    fn wait_for(&self, text: &str, in_raw: bool) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let have = if in_raw { self.raw() } else { self.screen() };
            if have.contains(text) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "never saw {text:?}; screen:\n{have}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the screen no longer shows `text`.
    fn wait_gone(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.screen().contains(text) {
            assert!(Instant::now() < deadline, "{text:?} stayed on screen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// The pid of `clever`, the shell's child.
    fn clever_pid(&self) -> u32 {
        let sh = self.child.process_id().unwrap();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // pid (comm) state ppid …
            let after = stat.rsplit(')').next().unwrap_or_default();
            let ppid: u32 = after
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            if ppid == sh {
                return entry.file_name().to_str().unwrap().parse().unwrap();
            }
        }
        panic!("clever is not running under the shell");
    }

    /// Checks the exit line and that termios, screen and cursor were restored.
    fn assert_restored(&mut self, exit: &str) {
        self.wait_for(exit, true);
        let _ = self.child.wait();
        let raw = self.raw();
        let stty: Vec<&str> = raw
            .lines()
            .map(|l| l.trim_matches(|c: char| c.is_control()))
            .filter(|l| l.matches(':').count() > 20)
            .collect();
        assert_eq!(stty.len(), 2, "two stty -g lines expected in:\n{raw}");
        assert_eq!(stty[0], stty[1], "terminal modes were not restored");
        let tail = &raw[raw
            .find("\x1b[?1049h")
            .expect("entered the alternate screen")..];
        assert!(tail.contains("\x1b[?1049l"), "left the alternate screen");
        assert!(
            tail.rfind("\x1b[?25h") > tail.rfind("\x1b[?25l"),
            "cursor shown again"
        );
        assert!(!raw.contains("\x1b[?1000h"), "mouse capture must stay off");
    }
}

#[test]
fn start_switch_panes_and_quit_restores_the_terminal() {
    let home = tempfile::tempdir().unwrap();
    let mut s = start(home.path(), &[]);
    s.wait_for("Accounts · 4", false);
    s.wait_for("SANDBOX", false);
    s.send("2");
    s.wait_for("Subscribers · 5 000", false);
    s.send("\t");
    s.wait_for("Campaigns · 6", false);
    // The demo's licence, activated against its in-process licence server.
    s.send("4");
    s.wait_for("licence: active", false);
    s.wait_for("Demo", false);
    s.send("3");
    s.wait_for("Campaigns · 6", false);
    s.send("?");
    s.wait_for("Show all keys", false);
    s.send("\x1b");
    // A key right after Esc would read as Alt+key, as in any terminal: wait for the redraw.
    s.wait_gone("Show all keys");
    // Russian layout: `й` is `q`; a running campaign makes it ask first.
    s.send("й");
    s.wait_for("┌ Quit? ", false);
    s.send("y");
    s.assert_restored("EXIT=0");
}

#[test]
fn sigterm_and_sighup_leave_cleanly() {
    for signal in ["TERM", "HUP"] {
        let home = tempfile::tempdir().unwrap();
        let mut s = start(home.path(), &[("NO_COLOR", "1")]);
        s.wait_for("Accounts · 4", false);
        let pid = s.clever_pid();
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        s.assert_restored("EXIT=0");
    }
}

#[test]
fn ctrl_c_quits_at_once() {
    let home = tempfile::tempdir().unwrap();
    let mut s = start(home.path(), &[]);
    s.wait_for("Accounts · 4", false);
    s.send("\x03");
    s.assert_restored("EXIT=0");
}

/// Which process sends for the demo workspace in `home`, by `clever campaigns status`.
fn engine_holder(home: &Path) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_clever"))
        .args(["--data-dir"])
        .arg(home.join("demo"))
        .args(["campaigns", "status", "1", "--json"])
        .output()
        .unwrap();
    if !out.status.success() {
        // Not seeded yet.
        return serde_json::Value::Null;
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["engine"].clone()
}

/// The connection drops (the terminal closes under the console, as when SSH goes away): the
/// console still ends cleanly, and its engine finishes what is in flight and gives the
/// engine lease back, so `clever run` or the next console sends at once instead of waiting
/// for the lease to run out.
#[test]
fn a_dropped_connection_gives_the_engine_lease_back() {
    let home = tempfile::tempdir().unwrap();
    let s = start_alone(home.path(), &[("NO_COLOR", "1")]);
    s.wait_for("Accounts · 4", false);
    let deadline = Instant::now() + Duration::from_secs(60);
    while engine_holder(home.path()).is_null() {
        assert!(Instant::now() < deadline, "the console's engine never sent");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Every handle on the terminal's master side closes: the reader's at its next read,
    // which a key that switches panes (a redraw) makes sure of.
    let Session {
        hang_up,
        mut writer,
        mut child,
        _master: master,
        ..
    } = s;
    hang_up.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.write_all(b"2").unwrap();
    writer.flush().unwrap();
    drop(writer);
    drop(master);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the console did not end");
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = std::fs::read_dir(home.path().join("logs"))
        .map(|d| {
            d.flatten()
                .map(|f| std::fs::read_to_string(f.path()).unwrap_or_default())
                .collect::<String>()
        })
        .unwrap_or_default();
    assert!(status.success(), "{status:?}; log:\n{log}");
    assert_eq!(engine_holder(home.path()), serde_json::Value::Null);
}
