//! The terminal: raw mode and the alternate screen while the console runs, always given
//! back — on a normal exit (RAII guard), on a panic (chained hook), and on SIGTERM/SIGHUP
//! (the event loop leaves through the same guard).

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::{
    cursor,
    event::DisableMouseCapture,
    execute,
    terminal::{self, EnterAlternateScreen, LeaveAlternateScreen},
};
use std::io::{self, Stdout, Write};
use std::sync::Once;

/// The terminal type the console draws on.
pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Owns the terminal while the console runs; dropping it restores the terminal.
pub struct TerminalGuard {
    /// Never dropped: ratatui's `Terminal` shows the cursor again when dropped and, when the
    /// terminal is gone (an SSH connection that dropped), prints that failure to the same
    /// dead terminal, which panics the process before its engine has stopped. [`restore`]
    /// shows the cursor instead, ignoring a terminal that is gone; the `Terminal`'s buffers
    /// go with the process, which is ending.
    pub terminal: std::mem::ManuallyDrop<Term>,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen. Mouse reporting stays off.
    pub fn enter() -> io::Result<TerminalGuard> {
        install_panic_hook();
        terminal::enable_raw_mode()?;
        let mut out = io::stdout();
        if let Err(e) = execute!(out, EnterAlternateScreen, cursor::Hide) {
            restore();
            return Err(e);
        }
        let terminal = match Terminal::new(CrosstermBackend::new(out)) {
            Ok(t) => std::mem::ManuallyDrop::new(t),
            Err(e) => {
                restore();
                return Err(e);
            }
        };
        Ok(TerminalGuard { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Gives the terminal back: leaves the alternate screen, shows the cursor, leaves raw mode.
/// Safe to call more than once.
pub fn restore() {
    let mut out = io::stdout();
    let _ = execute!(
        out,
        ratatui::crossterm::terminal::EndSynchronizedUpdate,
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = terminal::disable_raw_mode();
    let _ = out.flush();
}

/// Restores the terminal before the previous panic hook prints, so the message is readable.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// Whether the locale promises UTF-8 output. `LC_ALL`, then `LC_CTYPE`, then `LANG`, as
/// the C library reads them; unset everywhere counts as UTF-8 (most SSH clients are).
pub fn locale_is_utf8() -> bool {
    for var in ["LC_ALL", "LC_CTYPE", "LANG"] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
        {
            let v = v.to_ascii_lowercase();
            return v.contains("utf-8") || v.contains("utf8");
        }
    }
    true
}
