//! Key bindings as data: defaults, overridden per action from `config.toml`.
//!
//! Every binding belongs to a mode; `Global` bindings work in every mode. In the command
//! modes a key with no binding is retried as the Latin key in the same place on a Russian
//! ЙЦУКЕН keyboard (`й` acts as `q`), so an operator need not switch layouts; in the search
//! field keys are text and are never translated. Nothing core sits on Ctrl-a/b/h/j/k/l,
//! which tmux and shells use. Two actions on one key in one mode are reported at start-up.

use super::action::{Action, PaneId};
use crate::config::{Config, ConfigError, KeyOverrides};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::collections::HashMap;
use std::fmt;

/// Where keys are being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// In every mode, before the mode's own bindings.
    Global,
    /// Browsing panes.
    Normal,
    /// The help overlay.
    Help,
    /// A yes/no question.
    Confirm,
    /// Typing into the search field: keys are text.
    Search,
    /// Filling in a form (an account): keys are text.
    Form,
}

impl Mode {
    /// Every mode.
    pub const ALL: [Mode; 6] = [
        Mode::Global,
        Mode::Normal,
        Mode::Help,
        Mode::Confirm,
        Mode::Search,
        Mode::Form,
    ];

    /// The name used in `config.toml` (`[keys.normal]`).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Global => "global",
            Mode::Normal => "normal",
            Mode::Help => "help",
            Mode::Confirm => "confirm",
            Mode::Search => "search",
            Mode::Form => "form",
        }
    }

    /// Whether keys are text here (no layout translation).
    pub fn is_text(self) -> bool {
        matches!(self, Mode::Search | Mode::Form)
    }
}

/// One key with its modifiers, normalised (a shifted letter is just the capital letter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Chord {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Chord {
    /// A chord from a key event, normalised.
    pub fn from_event(e: &KeyEvent) -> Chord {
        Chord::new(e.code, e.modifiers)
    }

    /// A normalised chord.
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Chord {
        let keep = KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT;
        let mut mods = mods & keep;
        let code = match code {
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                if mods.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Chord { code, mods }
    }

    /// Parses `q`, `Q`, `?`, `Ctrl-c`, `Alt-x`, `Enter`, `Shift-Tab`, `F5`, `PageDown`…
    pub fn parse(text: &str) -> Result<Chord, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err("an empty key".into());
        }
        loop {
            let lower = rest.to_ascii_lowercase();
            let strip = |p: &str| lower.starts_with(p) && rest.len() > p.len();
            if strip("ctrl-") || strip("ctrl+") {
                mods |= KeyModifiers::CONTROL;
                rest = &rest[5..];
            } else if strip("alt-") || strip("alt+") {
                mods |= KeyModifiers::ALT;
                rest = &rest[4..];
            } else if strip("shift-") || strip("shift+") {
                mods |= KeyModifiers::SHIFT;
                rest = &rest[6..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" if mods.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" | "ins" => KeyCode::Insert,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "pageup" | "pgup" => KeyCode::PageUp,
                "pagedown" | "pgdn" => KeyCode::PageDown,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "space" => KeyCode::Char(' '),
                f if f.starts_with('f') => match f[1..].parse::<u8>() {
                    Ok(n @ 1..=12) => KeyCode::F(n),
                    _ => return Err(format!("`{text}` is not a key")),
                },
                _ => return Err(format!("`{text}` is not a key")),
            },
        };
        Ok(Chord::new(code, mods))
    }

    /// Whether this chord is one the terminal multiplexer or shell owns.
    pub fn is_reserved(&self) -> bool {
        self.mods == KeyModifiers::CONTROL
            && matches!(self.code, KeyCode::Char('a' | 'b' | 'h' | 'j' | 'k' | 'l'))
    }
}

impl fmt::Display for Chord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Delete"),
            KeyCode::Insert => f.write_str("Insert"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// The Latin key at the same place as a Russian ЙЦУКЕН key, for command modes.
pub fn latin_for_cyrillic(c: char) -> Option<char> {
    const LOWER: &str = "йцукенгшщзхъфывапролджэячсмитьбюё";
    const LATIN: &str = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`";
    const UPPER: &str = "ЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮЁ";
    const LATIN_UP: &str = "QWERTYUIOP{}ASDFGHJKL:\"ZXCVBNM<>~";
    if let Some(i) = LOWER.chars().position(|x| x == c) {
        return LATIN.chars().nth(i);
    }
    if let Some(i) = UPPER.chars().position(|x| x == c) {
        return LATIN_UP.chars().nth(i);
    }
    // Punctuation that moves on the Russian layout: `.` and `,` sit on `/` and `?`.
    match c {
        '.' => Some('/'),
        ',' => Some('?'),
        _ => None,
    }
}

/// The default bindings: (mode, action, keys).
pub fn defaults() -> Vec<(Mode, Action, Vec<&'static str>)> {
    use Action as A;
    use Mode as M;
    vec![
        (M::Global, A::ForceQuit, vec!["Ctrl-c"]),
        (M::Normal, A::Quit, vec!["q"]),
        (M::Normal, A::Help, vec!["?", "F1"]),
        (M::Normal, A::NextPane, vec!["Tab"]),
        (M::Normal, A::PrevPane, vec!["Shift-Tab"]),
        (M::Normal, A::ShowPane(PaneId::Accounts), vec!["1"]),
        (M::Normal, A::ShowPane(PaneId::Subscribers), vec!["2"]),
        (M::Normal, A::ShowPane(PaneId::Campaigns), vec!["3"]),
        (M::Normal, A::ShowPane(PaneId::License), vec!["4"]),
        (M::Normal, A::ShowPane(PaneId::Counterparty), vec!["5"]),
        (M::Normal, A::Up, vec!["Up", "k"]),
        (M::Normal, A::Down, vec!["Down", "j"]),
        (M::Normal, A::PageUp, vec!["PageUp"]),
        (M::Normal, A::PageDown, vec!["PageDown", "Space"]),
        (M::Normal, A::Top, vec!["Home", "g"]),
        (M::Normal, A::Bottom, vec!["End", "G"]),
        (M::Normal, A::OpenDetail, vec!["Enter", "Right", "l"]),
        (M::Normal, A::Back, vec!["Esc", "Left", "h"]),
        (M::Normal, A::Search, vec!["/"]),
        (M::Normal, A::Refresh, vec!["r", "F5"]),
        (M::Normal, A::PrevList, vec!["["]),
        (M::Normal, A::NextList, vec!["]"]),
        (M::Normal, A::Import, vec!["i"]),
        (M::Normal, A::DeleteList, vec!["D"]),
        (M::Normal, A::OptOut, vec!["o"]),
        (M::Normal, A::Consent, vec!["C"]),
        (M::Normal, A::TimeZone, vec!["z"]),
        (M::Normal, A::ListTimeZone, vec!["Z"]),
        (M::Normal, A::NewSubscriber, vec!["N"]),
        (M::Normal, A::AddToList, vec!["+"]),
        (M::Normal, A::RemoveFromList, vec!["-"]),
        (M::Normal, A::CheckAccount, vec!["c"]),
        (M::Normal, A::PauseResume, vec!["p"]),
        (M::Normal, A::StartCampaign, vec!["s"]),
        (M::Normal, A::CancelCampaign, vec!["x"]),
        (M::Normal, A::RequeueUnknown, vec!["U"]),
        (M::Normal, A::AddAccount, vec!["a"]),
        (M::Normal, A::EditAccount, vec!["e"]),
        (M::Normal, A::NewCampaign, vec!["n"]),
        (M::Normal, A::Export, vec!["E"]),
        (M::Normal, A::ActivateLicence, vec!["A"]),
        (M::Normal, A::SyncLicence, vec!["S"]),
        (M::Normal, A::DeactivateLicence, vec!["X"]),
        (M::Help, A::CloseHelp, vec!["Esc", "?", "q", "F1"]),
        (M::Help, A::Up, vec!["Up", "k"]),
        (M::Help, A::Down, vec!["Down", "j"]),
        (M::Help, A::PageUp, vec!["PageUp"]),
        (M::Help, A::PageDown, vec!["PageDown", "Space"]),
        (M::Confirm, A::Confirm, vec!["y", "Enter"]),
        (M::Confirm, A::Cancel, vec!["n", "Esc"]),
        (M::Search, A::SearchApply, vec!["Enter"]),
        (M::Search, A::SearchCancel, vec!["Esc"]),
        (M::Form, A::FormNext, vec!["Tab", "Down", "Enter"]),
        (M::Form, A::FormPrev, vec!["Shift-Tab", "Up"]),
        (M::Form, A::FormSave, vec!["Ctrl-s", "F2"]),
        (M::Form, A::FormCancel, vec!["Esc"]),
    ]
}

/// One binding: an action and its keys in a mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub mode: Mode,
    pub action: Action,
    pub keys: Vec<Chord>,
}

/// The resolved key map.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<Binding>,
    index: HashMap<(Mode, Chord), Action>,
}

impl Keymap {
    /// The defaults with no overrides.
    pub fn default_map() -> Keymap {
        Keymap::build(&KeyOverrides::new(), None)
            .map(|(k, _)| k)
            .unwrap_or_else(|_| Keymap {
                bindings: Vec::new(),
                index: HashMap::new(),
            })
    }

    /// Defaults with the configuration's overrides. Returns the map and the warnings to show
    /// at start-up (conflicts, reserved keys); a binding that names an unknown mode, action or
    /// key is an error located in the configuration file.
    pub fn build(
        overrides: &KeyOverrides,
        config: Option<&Config>,
    ) -> Result<(Keymap, Vec<String>), ConfigError> {
        let mut bindings: Vec<Binding> = Vec::new();
        for (mode, action, keys) in defaults() {
            let keys = keys.iter().filter_map(|k| Chord::parse(k).ok()).collect();
            bindings.push(Binding { mode, action, keys });
        }
        for (mode_name, actions) in overrides {
            let mode = Mode::ALL.into_iter().find(|m| m.name() == mode_name);
            for (action_name, keys) in actions {
                let locate = |message: String| match config {
                    Some(c) => c.locate(
                        keys.span(),
                        Some(format!("keys.{mode_name}.{action_name}")),
                        message,
                    ),
                    None => ConfigError {
                        file: Default::default(),
                        line: 0,
                        column: 0,
                        key: Some(format!("keys.{mode_name}.{action_name}")),
                        message,
                    },
                };
                let Some(mode) = mode else {
                    return Err(locate(format!(
                        "unknown mode `{mode_name}`; modes are {}",
                        Mode::ALL.map(Mode::name).join(", ")
                    )));
                };
                // `export` was `export_checks` when it exported only checks.
                let name = match action_name.as_str() {
                    "export_checks" => "export",
                    other => other,
                };
                let Some(binding) = bindings
                    .iter_mut()
                    .find(|b| b.mode == mode && b.action.name() == name)
                else {
                    let known: Vec<&str> = defaults()
                        .into_iter()
                        .filter(|(m, _, _)| *m == mode)
                        .map(|(_, a, _)| a.name())
                        .collect();
                    return Err(locate(format!(
                        "no action `{action_name}` in mode {}; actions there: {}",
                        mode.name(),
                        known.join(", ")
                    )));
                };
                let mut chords = Vec::new();
                for k in keys.get_ref() {
                    chords.push(Chord::parse(k).map_err(&locate)?);
                }
                binding.keys = chords;
            }
        }
        let mut warnings = Vec::new();
        let mut index = HashMap::new();
        for b in &bindings {
            for &k in &b.keys {
                if k.is_reserved() {
                    warnings.push(format!(
                        "key {k} for {} ({}) is also tmux's or the shell's; consider another",
                        b.action.name(),
                        b.mode.name()
                    ));
                }
                // A key in a mode clashes with the same key in that mode or in Global.
                let clash = [(b.mode, k), (Mode::Global, k)]
                    .into_iter()
                    .chain(if b.mode == Mode::Global {
                        Mode::ALL.iter().map(|&m| (m, k)).collect::<Vec<_>>()
                    } else {
                        Vec::new()
                    })
                    .find_map(|slot| index.get(&slot).map(|a: &Action| (slot.0, *a)));
                if let Some((mode, other)) = clash.filter(|(_, a)| *a != b.action) {
                    warnings.push(format!(
                        "key {k} is bound to both {} and {} in mode {}; {} wins",
                        other.name(),
                        b.action.name(),
                        mode.name(),
                        other.name()
                    ));
                    continue;
                }
                index.entry((b.mode, k)).or_insert(b.action);
            }
        }
        Ok((Keymap { bindings, index }, warnings))
    }

    /// The action a key asks for in a mode, if any.
    pub fn action(&self, mode: Mode, event: &KeyEvent) -> Option<Action> {
        if event.kind == KeyEventKind::Release {
            return None;
        }
        let chord = Chord::from_event(event);
        let lookup = |c: Chord| {
            self.index
                .get(&(Mode::Global, c))
                .or_else(|| self.index.get(&(mode, c)))
                .copied()
        };
        if let Some(a) = lookup(chord) {
            return Some(a);
        }
        if mode.is_text() {
            return None;
        }
        match chord.code {
            KeyCode::Char(c) => {
                latin_for_cyrillic(c).and_then(|l| lookup(Chord::new(KeyCode::Char(l), chord.mods)))
            }
            _ => None,
        }
    }

    /// Every binding, in help order.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The first key of an action in a mode, for hints.
    pub fn first_key(&self, mode: Mode, action: Action) -> Option<Chord> {
        self.bindings
            .iter()
            .find(|b| b.mode == mode && b.action == action)
            .and_then(|b| b.keys.first().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn defaults_have_no_conflicts_and_no_reserved_keys() {
        let (_, warnings) = Keymap::build(&KeyOverrides::new(), None).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        for (_, action, keys) in defaults() {
            for k in keys {
                let c = Chord::parse(k).unwrap();
                assert!(!c.is_reserved(), "{k} for {}", action.name());
            }
            assert!(!action.description().is_empty());
        }
    }

    #[test]
    fn russian_layout_acts_in_command_modes_only() {
        let k = Keymap::default_map();
        assert_eq!(k.action(Mode::Normal, &key('й')), Some(Action::Quit));
        assert_eq!(k.action(Mode::Normal, &key('о')), Some(Action::Down));
        assert_eq!(k.action(Mode::Normal, &key('к')), Some(Action::Refresh));
        assert_eq!(k.action(Mode::Normal, &key(',')), Some(Action::Help));
        assert_eq!(k.action(Mode::Confirm, &key('н')), Some(Action::Confirm));
        assert_eq!(k.action(Mode::Search, &key('й')), None);
        assert_eq!(k.action(Mode::Search, &key('q')), None);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(k.action(Mode::Search, &ctrl_c), Some(Action::ForceQuit));
    }

    #[test]
    fn every_cyrillic_letter_maps_to_a_distinct_key() {
        let lower = "йцукенгшщзхъфывапролджэячсмитьбюё";
        let mapped: std::collections::BTreeSet<char> =
            lower.chars().filter_map(latin_for_cyrillic).collect();
        assert_eq!(mapped.len(), lower.chars().count());
        assert_eq!(latin_for_cyrillic('Й'), Some('Q'));
        assert_eq!(latin_for_cyrillic('x'), None);
    }

    #[test]
    fn chords_parse_and_print() {
        for (text, shown) in [
            ("q", "q"),
            ("Q", "Q"),
            ("ctrl+C", "Ctrl-c"),
            ("Shift-Tab", "Shift-Tab"),
            ("F5", "F5"),
            ("space", "Space"),
            ("Alt-x", "Alt-x"),
        ] {
            assert_eq!(Chord::parse(text).unwrap().to_string(), shown, "{text}");
        }
        assert!(Chord::parse("F13").is_err());
        assert!(Chord::parse("Hyper-q").is_err());
        assert!(Chord::parse("").is_err());
        let shifted = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(
            Keymap::default_map().action(Mode::Normal, &shifted),
            Some(Action::Bottom)
        );
    }

    fn overrides(src: &str) -> (Config, KeyOverrides) {
        let config = Config::in_folder(Path::new("/tmp")).with_text(src).unwrap();
        let keys = config.keys.clone();
        (config, keys)
    }

    #[test]
    fn overrides_replace_defaults_and_conflicts_are_reported() {
        let (config, keys) =
            overrides("[keys.normal]\nquit = [\"x\"]\nrefresh = [\"x\", \"Ctrl-l\"]\n");
        let (k, warnings) = Keymap::build(&keys, Some(&config)).unwrap();
        assert_eq!(k.action(Mode::Normal, &key('x')), Some(Action::Quit));
        assert_eq!(k.action(Mode::Normal, &key('q')), None);
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("key x is bound to both quit and refresh")),
            "{warnings:?}"
        );
        assert!(
            warnings.iter().any(|w| w.contains("Ctrl-l")),
            "{warnings:?}"
        );
    }

    #[test]
    fn export_keeps_its_older_name() {
        let (config, keys) = overrides("[keys.normal]\nexport_checks = [\"X\"]\n");
        let (k, _) = Keymap::build(&keys, Some(&config)).unwrap();
        assert_eq!(k.action(Mode::Normal, &key('X')), Some(Action::Export));
        assert_eq!(k.action(Mode::Normal, &key('E')), None);
    }

    #[test]
    fn global_keys_conflict_with_every_mode() {
        let (config, keys) = overrides("[keys.search]\nsearch_apply = [\"Ctrl-c\"]\n");
        let (_, warnings) = Keymap::build(&keys, Some(&config)).unwrap();
        assert!(
            warnings.iter().any(|w| w.contains("force_quit")),
            "{warnings:?}"
        );
    }

    #[test]
    fn bad_bindings_are_located() {
        let (config, keys) = overrides("\n[keys.normal]\nquitt = [\"x\"]\n");
        let e = Keymap::build(&keys, Some(&config)).unwrap_err();
        assert_eq!(e.line, 3);
        assert_eq!(e.key.as_deref(), Some("keys.normal.quitt"));
        let (config, keys) = overrides("[keys.normal]\nquit = [\"Hyper-q\"]\n");
        assert!(
            Keymap::build(&keys, Some(&config))
                .unwrap_err()
                .message
                .contains("not a key")
        );
        let (config, keys) = overrides("[keys.nrmal]\nquit = [\"x\"]\n");
        assert!(
            Keymap::build(&keys, Some(&config))
                .unwrap_err()
                .message
                .contains("unknown mode")
        );
    }
}
