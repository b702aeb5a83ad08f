//! Facts about the machine the console runs on that several modules need (the engine names
//! its lease holder with it, the licence sends it with activations). Kept apart so neither
//! of those reaches into the other for it.

/// This machine's name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`).
pub fn name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this machine".into())
}
