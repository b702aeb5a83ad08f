//! What the benchmark examples share: this process's CPU time, the emulator as its own
//! process, `wrk` against the emulator's WhatsApp endpoint, and the console in a
//! pseudo-terminal.

// Each example uses some of these.
#![allow(dead_code)]

use std::io::BufRead;

/// User plus system CPU seconds of this process so far.
pub fn cpu_seconds() -> f64 {
    cpu_seconds_of("self")
}

/// User plus system CPU seconds so far of the process `pid` (`self` for this one).
pub fn cpu_seconds_of(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// The emulator's process, stopped when dropped: also when the example panics (a closed
/// stdout, e.g. `| head`, makes `println!` panic), so no emulator is left running.
pub struct Emulator(std::process::Child);

impl Emulator {
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `target/release/clever sandbox serve` with the platforms' pacing lifted (this measures
/// the client and the emulator, not WhatsApp's limits); its process and base URL.
pub fn emulator() -> (Emulator, String) {
    let bin = concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/clever");
    let mut server = std::process::Command::new(bin)
        .args([
            "sandbox",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--whatsapp-per-second",
            "4000000000",
            "--whatsapp-pair-spacing-ms",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("build the release binary first: cargo build --release");
    let mut base = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut base)
        .unwrap();
    (Emulator(server), base.trim().to_string())
}

/// Runs `wrk -t2 -cN -d5s`, then `oha` with the same request and connections (the target
/// names either), posting a WhatsApp text to the emulator, and prints their rates.
pub fn wrk(base: &str, connections: usize) {
    let body = "{\"messaging_product\":\"whatsapp\",\"recipient_type\":\"individual\",\"to\":\"77021234567\",\"type\":\"text\",\"text\":{\"preview_url\":false,\"body\":\"hello\"}}";
    let url = format!("{base}/v23.0/106540352242922/messages");
    let script = std::env::temp_dir().join("clever-wrk.lua");
    std::fs::write(
        &script,
        format!("wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = \"Bearer EAAGbench\"\nwrk.body = '{body}'\n"),
    )
    .unwrap();
    let mut wrk = std::process::Command::new("wrk");
    wrk.args(["-t2", &format!("-c{connections}"), "-d5s", "-s"])
        .arg(&script)
        .arg(&url);
    let mut oha = std::process::Command::new("oha");
    oha.args(["-z", "5s", "-c", &connections.to_string(), "--no-tui"])
        .args(["-m", "POST", "-H", "Authorization: Bearer EAAGbench"])
        .args(["-T", "application/json", "-d", body])
        .arg(&url);
    for (name, mut cmd, install) in [
        ("wrk", wrk, "apt-get install wrk"),
        ("oha", oha, "cargo install oha"),
    ] {
        match cmd.output() {
            Ok(out) if out.status.success() => {
                let text = String::from_utf8_lossy(&out.stdout);
                let line = text
                    .lines()
                    .map(str::trim)
                    .find(|l| l.starts_with("Requests/sec"))
                    .unwrap_or("no Requests/sec line");
                println!(
                    "{name} against the same endpoint ({connections} connections, 5 s): {line}"
                );
            }
            _ => println!("{name} not installed: `{install}` for the comparison"),
        }
    }
}

/// A 120×36 pseudo-terminal and the console's command in it, on the workspace in `dir`
/// (`extra` follows the workspace's arguments, e.g. `demo`).
pub fn console_in_pty(
    bin: &str,
    dir: &std::path::Path,
    extra: &[&str],
) -> (portable_pty::PtyPair, portable_pty::CommandBuilder) {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 36,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(bin);
    cmd.args([
        "--data-dir",
        &dir.display().to_string(),
        "--config",
        &dir.join("config.toml").display().to_string(),
    ]);
    cmd.args(extra);
    cmd.env("TERM", "xterm-256color");
    cmd.env("LANG", "C.UTF-8");
    (pair, cmd)
}

/// CPU seconds so far of this process's threads whose name starts with `prefix` (live
/// threads only: a thread that has ended no longer counts).
pub fn thread_cpu_seconds(prefix: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    tasks
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.starts_with(prefix))
        })
        .map(|t| {
            let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
            let after = stat.rsplit(')').next().unwrap_or_default().to_string();
            let f: Vec<&str> = after.split_whitespace().collect();
            (f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
                + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0))
                / 100.0
        })
        .sum()
}

/// Sends `total` messages over `concurrency` tasks through `send` (given the recipient, it
/// says whether the message was accepted); prints the rate and this process's CPU a message.
pub async fn round<F, Fut>(name: &str, total: usize, concurrency: usize, send: F)
where
    F: Fn(String) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let cpu0 = cpu_seconds();
    let t = std::time::Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let send = send.clone();
        let per_task = total / concurrency;
        tasks.push(tokio::spawn(async move {
            let mut sent = 0usize;
            for i in 0..per_task {
                // Ending in 5: never one of the emulator's magic numbers.
                if send(format!("+7702{:03}{:03}5", w, i % 1000)).await {
                    sent += 1;
                }
            }
            sent
        }));
    }
    let mut sent = 0;
    for task in tasks {
        sent += task.await.unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    println!(
        "{name:>8}: {sent} sent in {secs:.2} s = {:.0} msg/s; {:.1} µs of CPU a message",
        sent as f64 / secs,
        cpu / sent as f64 * 1e6
    );
}

/// The emulator's WhatsApp number at `base`, as the channels' client sends to it.
pub fn whatsapp_target(base: &str) -> cleverplatform::channels::client::Target {
    cleverplatform::channels::client::Target {
        channel: cleverplatform::domain::Channel::WhatsApp,
        base_url: base.to_string(),
        api_version: "v23.0".into(),
        token: "EAAGbench".into(),
        phone_number_id: "106540352242922".into(),
    }
}
