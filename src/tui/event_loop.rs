//! The one task that owns the terminal: it waits on terminal events, worker replies,
//! signals, the in-process engine's state channel (which moves only while it sends) and the
//! licence sync's (which moves when the licence does), a
//! one-second tick while campaigns run, and — only while something changed — a
//! redraw deadline. Redraws are coalesced
//! to at most 30 a second, each inside synchronized output, and nothing wakes the loop
//! while nothing moves, so an idle console uses no CPU.

use super::app::{App, Msg};
use super::terminal::TerminalGuard;
use super::view;
use super::worker::{self, Request, Services, Tagged};
use futures::StreamExt;
use ratatui::crossterm::event::{Event, EventStream, KeyEventKind};
use ratatui::crossterm::{
    execute,
    terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate},
};
use std::io;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The shortest time between two frames (30 fps).
pub const FRAME: Duration = Duration::from_millis(33);

/// Runs the console until the operator quits or a signal arrives. The terminal is restored
/// on every way out.
pub async fn run(
    app: &mut App,
    services: Services,
    mut engine: Option<tokio::sync::watch::Receiver<crate::engine::sender::EngineState>>,
    mut licence: Option<tokio::sync::watch::Receiver<crate::license::sync::Licence>>,
) -> io::Result<()> {
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut guard = TerminalGuard::enter()?;
    let size = guard.terminal.size()?;
    app.size = (size.width, size.height);

    let (req_tx, req_rx) = mpsc::unbounded_channel::<Tagged<Request>>();
    let (rep_tx, mut rep_rx) = mpsc::unbounded_channel();
    let worker = tokio::spawn(worker::run(services, req_rx, rep_tx));
    let send = |requests: Vec<Tagged<Request>>| {
        for r in requests {
            let _ = req_tx.send(r);
        }
    };
    send(app.start());

    let started = Instant::now();
    draw(&mut guard, app)?;
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        "first frame drawn"
    );
    let mut last_draw = Instant::now();
    let mut events = EventStream::new();
    // While campaigns run, progress is refreshed every second; otherwise nothing ticks.
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    while !app.quit {
        let deadline = app.dirty.then_some(last_draw + FRAME);
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                    send(app.update(Msg::Key(key)));
                }
                Some(Ok(Event::Resize(w, h))) => send(app.update(Msg::Resize(w, h))),
                Some(Ok(_)) => {}
                Some(Err(e)) if gone(&e) => {
                    tracing::info!(error = %e, "the terminal went away (a dropped connection?); leaving");
                    break;
                }
                Some(Err(e)) => {
                    tracing::error!(error = %e, "terminal input failed");
                    break;
                }
                None => break,
            },
            Some(reply) = rep_rx.recv() => send(app.update(Msg::Reply(reply))),
            changed = watched(&mut engine) => match changed {
                Some(state) => send(app.update(Msg::Engine(state))),
                None => engine = None,
            },
            changed = watched(&mut licence) => match changed {
                Some(state) => send(app.update(Msg::Licence(Box::new(state)))),
                None => licence = None,
            },
            _ = tick.tick(), if app.live() => send(app.update(Msg::Tick)),
            _ = sigterm.recv() => { app.update(Msg::Signal("SIGTERM")); }
            _ = sighup.recv() => { app.update(Msg::Signal("SIGHUP")); }
            _ = sigint.recv() => { app.update(Msg::Signal("SIGINT")); }
            _ = sleep_until(deadline), if deadline.is_some() => {
                if !redraw(&mut guard, app)? {
                    break;
                }
                last_draw = Instant::now();
            }
        }
        if app.dirty && !app.quit && last_draw.elapsed() >= FRAME {
            if !redraw(&mut guard, app)? {
                break;
            }
            last_draw = Instant::now();
        }
    }
    drop(req_tx);
    worker.abort();
    drop(guard);
    Ok(())
}

/// A watched value's next state; `None` once its sender is gone (never resolves without
/// one).
async fn watched<T: Clone>(engine: &mut Option<tokio::sync::watch::Receiver<T>>) -> Option<T> {
    match engine {
        Some(rx) => match rx.changed().await {
            Ok(()) => Some(rx.borrow_and_update().clone()),
            Err(_) => None,
        },
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    if let Some(d) = deadline {
        tokio::time::sleep_until(d).await;
    }
}

/// Whether an error says the terminal is gone: the SSH connection or the terminal window
/// closed under the console (the hang-up signal may arrive just after).
fn gone(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
        || matches!(e.raw_os_error(), Some(libc::EIO) | Some(libc::ENXIO))
}

/// Draws a frame; `false` when the terminal is gone, so the console leaves as on a hang-up
/// (cleanly: the engine still stops and gives its lease back).
fn redraw(guard: &mut TerminalGuard, app: &mut App) -> io::Result<bool> {
    match draw(guard, app) {
        Ok(()) => Ok(true),
        Err(e) if gone(&e) => {
            tracing::info!(error = %e, "the terminal went away (a dropped connection?); leaving");
            app.quit = true;
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

fn draw(guard: &mut TerminalGuard, app: &mut App) -> io::Result<()> {
    execute!(guard.terminal.backend_mut(), BeginSynchronizedUpdate)?;
    guard.terminal.draw(|frame| view::draw(frame, app))?;
    execute!(guard.terminal.backend_mut(), EndSynchronizedUpdate)?;
    app.dirty = false;
    Ok(())
}
