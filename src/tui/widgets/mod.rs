//! Widgets shared by the panes: the tab bar, the status bar, popups, the help overlay and
//! width-aware text helpers. They take a [`Theme`](super::theme::Theme) and ask it for
//! meanings.

pub mod help;
pub mod popup;
pub mod status;
pub mod tabs;
pub mod text;
