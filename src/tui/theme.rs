//! Themes: `themes/*.toml` files mapping meanings (title, selected, muted, ok, warn, error,
//! gauge…) to styles. Widgets ask for a [`Meaning`], never for a colour.
//!
//! Built-in themes are compiled in from `themes/`; a file `themes/NAME.toml` in the config
//! folder adds or shadows one and may name a `parent` to inherit from (a user theme with no
//! parent inherits from `default`). A broken file is reported with its path and line, and the
//! caller falls back to the default theme.

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use toml::Spanned;

/// What a piece of the screen means; each theme gives every meaning a style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Meaning {
    Base,
    Title,
    Border,
    BorderFocused,
    Tab,
    TabActive,
    Header,
    Selected,
    SelectedUnfocused,
    Muted,
    Ok,
    Warn,
    Error,
    Gauge,
    Key,
    Hint,
    StatusBar,
    Popup,
    PopupBorder,
    Badge,
}

impl Meaning {
    /// Every meaning.
    pub const ALL: [Meaning; 20] = [
        Meaning::Base,
        Meaning::Title,
        Meaning::Border,
        Meaning::BorderFocused,
        Meaning::Tab,
        Meaning::TabActive,
        Meaning::Header,
        Meaning::Selected,
        Meaning::SelectedUnfocused,
        Meaning::Muted,
        Meaning::Ok,
        Meaning::Warn,
        Meaning::Error,
        Meaning::Gauge,
        Meaning::Key,
        Meaning::Hint,
        Meaning::StatusBar,
        Meaning::Popup,
        Meaning::PopupBorder,
        Meaning::Badge,
    ];

    /// The key of this meaning in theme files.
    pub fn key(self) -> &'static str {
        match self {
            Meaning::Base => "base",
            Meaning::Title => "title",
            Meaning::Border => "border",
            Meaning::BorderFocused => "border_focused",
            Meaning::Tab => "tab",
            Meaning::TabActive => "tab_active",
            Meaning::Header => "header",
            Meaning::Selected => "selected",
            Meaning::SelectedUnfocused => "selected_unfocused",
            Meaning::Muted => "muted",
            Meaning::Ok => "ok",
            Meaning::Warn => "warn",
            Meaning::Error => "error",
            Meaning::Gauge => "gauge",
            Meaning::Key => "key",
            Meaning::Hint => "hint",
            Meaning::StatusBar => "status_bar",
            Meaning::Popup => "popup",
            Meaning::PopupBorder => "popup_border",
            Meaning::Badge => "badge",
        }
    }

    fn from_key(key: &str) -> Option<Meaning> {
        Meaning::ALL.into_iter().find(|m| m.key() == key)
    }
}

/// The themes shipped in `themes/`, compiled in.
pub const BUILT_IN: [(&str, &str); 4] = [
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// A resolved theme: a style for every meaning, plus the glyphs to draw with.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    styles: BTreeMap<Meaning, Style>,
    /// Draw borders and markers with ASCII only (for terminals without UTF-8).
    pub ascii: bool,
}

/// A theme that could not be loaded, with where the mistake is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeError {
    /// The file, or `built-in NAME`.
    pub source: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ThemeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "theme file {}, line {}: {}",
                self.source, self.line, self.message
            )
        } else {
            write!(f, "theme {}: {}", self.source, self.message)
        }
    }
}

impl std::error::Error for ThemeError {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    parent: Option<Spanned<String>>,
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    styles: BTreeMap<Spanned<String>, Spanned<StyleSpec>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<Spanned<String>>,
    bg: Option<Spanned<String>>,
    #[serde(default)]
    modifiers: Vec<Spanned<String>>,
}

impl Theme {
    /// The style for a meaning.
    pub fn style(&self, meaning: Meaning) -> Style {
        self.styles.get(&meaning).copied().unwrap_or_default()
    }

    /// The built-in default theme (or `mono` when `no_color`). Never fails: the built-in
    /// files are checked by the tests.
    pub fn fallback(no_color: bool) -> Theme {
        let name = if no_color { "mono" } else { "default" };
        Theme::load(name, None).unwrap_or_else(|_| Theme {
            name: name.to_string(),
            styles: BTreeMap::new(),
            ascii: false,
        })
    }

    /// Loads a theme by name: from `<config_dir>/themes/NAME.toml` when that exists, else
    /// from the built-ins; parents are followed.
    pub fn load(name: &str, config_dir: Option<&Path>) -> Result<Theme, ThemeError> {
        let mut chain: Vec<(String, ThemeFile, String)> = Vec::new();
        let mut next = Some(name.to_string());
        while let Some(current) = next.take() {
            if chain.iter().any(|(n, _, _)| *n == current) {
                return Err(ThemeError {
                    source: name.to_string(),
                    line: 0,
                    message: format!("parent chain loops back to `{current}`"),
                });
            }
            let (source, text, user) = find(&current, config_dir)?;
            let file = parse(&source, &text)?;
            next = match &file.parent {
                Some(p) => Some(p.get_ref().clone()),
                None if user && current != "default" => Some("default".to_string()),
                None => None,
            };
            chain.push((current, file, source));
        }
        let mut styles = BTreeMap::new();
        // Apply from the root ancestor down, so children override parents.
        for (_, file, source) in chain.iter().rev() {
            for (key, spec) in &file.styles {
                let text = raw_text(source, config_dir);
                let meaning = Meaning::from_key(key.get_ref()).ok_or_else(|| ThemeError {
                    source: source.clone(),
                    line: line_of(&text, key.span().start),
                    message: format!(
                        "unknown meaning `{}`; known: {}",
                        key.get_ref(),
                        Meaning::ALL.map(Meaning::key).join(", ")
                    ),
                })?;
                styles.insert(meaning, to_style(spec.get_ref(), source, &text)?);
            }
        }
        let missing: Vec<&str> = Meaning::ALL
            .into_iter()
            .filter(|m| !styles.contains_key(m))
            .map(Meaning::key)
            .collect();
        if !missing.is_empty() {
            return Err(ThemeError {
                source: chain.first().map(|(_, _, s)| s.clone()).unwrap_or_default(),
                line: 0,
                message: format!("gives no style for: {}", missing.join(", ")),
            });
        }
        Ok(Theme {
            name: name.to_string(),
            styles,
            ascii: false,
        })
    }

    /// The same theme drawn with ASCII borders and markers.
    pub fn with_ascii(mut self, ascii: bool) -> Theme {
        self.ascii = ascii;
        self
    }

    /// The border set to draw boxes with.
    pub fn border_set(&self) -> border::Set<'static> {
        if self.ascii {
            border::Set {
                top_left: "+",
                top_right: "+",
                bottom_left: "+",
                bottom_right: "+",
                vertical_left: "|",
                vertical_right: "|",
                horizontal_top: "-",
                horizontal_bottom: "-",
            }
        } else {
            border::PLAIN
        }
    }

    /// The marker in front of the selected row.
    pub fn marker(&self) -> &'static str {
        if self.ascii { "> " } else { "▶ " }
    }

    /// The separator between status-bar fields.
    pub fn separator(&self) -> &'static str {
        if self.ascii { " | " } else { " │ " }
    }
}

/// Finds a theme's text: the user's file first, then the built-ins.
fn find(name: &str, config_dir: Option<&Path>) -> Result<(String, String, bool), ThemeError> {
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(ThemeError {
            source: name.to_string(),
            line: 0,
            message: "a theme name is a plain word such as `default` or `mono`".into(),
        });
    }
    if let Some(dir) = config_dir {
        let path: PathBuf = dir.join("themes").join(format!("{name}.toml"));
        match std::fs::read_to_string(&path) {
            Ok(text) => return Ok((path.display().to_string(), text, true)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(ThemeError {
                    source: path.display().to_string(),
                    line: 0,
                    message: e.to_string(),
                });
            }
        }
    }
    BUILT_IN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| (format!("built-in {n}"), text.to_string(), false))
        .ok_or_else(|| ThemeError {
            source: name.to_string(),
            line: 0,
            message: format!(
                "no such theme; built-in themes are {}{}",
                BUILT_IN.map(|(n, _)| n).join(", "),
                config_dir
                    .map(|d| format!(
                        ", or add {}",
                        d.join("themes").join(format!("{name}.toml")).display()
                    ))
                    .unwrap_or_default()
            ),
        })
}

fn raw_text(source: &str, _config_dir: Option<&Path>) -> String {
    if let Some(name) = source.strip_prefix("built-in ") {
        BUILT_IN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.to_string())
            .unwrap_or_default()
    } else {
        std::fs::read_to_string(source).unwrap_or_default()
    }
}

fn parse(source: &str, text: &str) -> Result<ThemeFile, ThemeError> {
    toml::from_str(text).map_err(|e| ThemeError {
        source: source.to_string(),
        line: line_of(text, e.span().map(|s| s.start).unwrap_or(0)),
        message: e.message().trim().to_string(),
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    crate::config::line_col(text, offset).0
}

fn to_style(spec: &StyleSpec, source: &str, text: &str) -> Result<Style, ThemeError> {
    let err = |span: std::ops::Range<usize>, message: String| ThemeError {
        source: source.to_string(),
        line: line_of(text, span.start),
        message,
    };
    let colour = |c: &Spanned<String>| {
        Color::from_str(c.get_ref()).map_err(|_| {
            err(
                c.span(),
                format!(
                    "unknown colour `{}`: use an ANSI name such as cyan or lightred, an index 0-255, or #rrggbb",
                    c.get_ref()
                ),
            )
        })
    };
    let mut style = Style::default();
    if let Some(fg) = &spec.fg {
        style = style.fg(colour(fg)?);
    }
    if let Some(bg) = &spec.bg {
        style = style.bg(colour(bg)?);
    }
    for m in &spec.modifiers {
        let modifier = match m.get_ref().to_ascii_lowercase().as_str() {
            "bold" => Modifier::BOLD,
            "dim" => Modifier::DIM,
            "italic" => Modifier::ITALIC,
            "underlined" | "underline" => Modifier::UNDERLINED,
            "reversed" | "reverse" => Modifier::REVERSED,
            "crossed_out" => Modifier::CROSSED_OUT,
            other => {
                return Err(err(
                    m.span(),
                    format!(
                        "unknown modifier `{other}`: use bold, dim, italic, underlined, reversed or crossed_out"
                    ),
                ));
            }
        };
        style = style.add_modifier(modifier);
    }
    Ok(style)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_themes_resolves_every_meaning() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_string();
            assert!(
                BUILT_IN.iter().any(|(n, _)| *n == name),
                "{name} is in themes/ but not compiled in"
            );
            let theme = Theme::load(&name, None).unwrap_or_else(|e| panic!("{e}"));
            for m in Meaning::ALL {
                assert!(theme.styles.contains_key(&m), "{name} lacks {}", m.key());
            }
            seen += 1;
        }
        assert_eq!(seen, BUILT_IN.len());
    }

    #[test]
    fn mono_uses_no_colour() {
        let mono = Theme::load("mono", None).unwrap();
        for m in Meaning::ALL {
            let s = mono.style(m);
            assert!(s.fg.is_none() && s.bg.is_none(), "{} has a colour", m.key());
        }
    }

    fn user_theme(text: &str) -> (tempfile::TempDir, Result<Theme, ThemeError>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("themes")).unwrap();
        std::fs::write(dir.path().join("themes/mine.toml"), text).unwrap();
        let result = Theme::load("mine", Some(dir.path()));
        (dir, result)
    }

    #[test]
    fn user_theme_inherits_from_parent() {
        let (_d, t) = user_theme("parent = \"mono\"\n[styles]\nerror = { fg = \"red\" }\n");
        let t = t.unwrap();
        assert_eq!(t.style(Meaning::Error).fg, Some(Color::Red));
        assert_eq!(
            t.style(Meaning::Selected),
            Style::default().add_modifier(Modifier::REVERSED)
        );
    }

    #[test]
    fn broken_colour_names_file_and_line() {
        let (_d, t) = user_theme(
            "# mine\n[styles]\ntitle = { fg = \"cyan\" }\nerror = { fg = \"purpel\" }\n",
        );
        let e = t.unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.source.ends_with("themes/mine.toml"), "{}", e.source);
        assert!(e.to_string().contains("unknown colour `purpel`"), "{e}");
    }

    #[test]
    fn broken_syntax_names_line() {
        let (_d, t) = user_theme("[styles]\ntitle = { fg = \n");
        assert_eq!(t.unwrap_err().line, 2);
    }

    #[test]
    fn unknown_meaning_and_loops_are_reported() {
        let (_d, t) = user_theme("[styles]\ntitel = {}\n");
        assert!(t.unwrap_err().message.contains("unknown meaning `titel`"));
        let (_d, t) = user_theme("parent = \"mine\"\n");
        assert!(t.unwrap_err().message.contains("loops"));
        assert!(Theme::load("../etc/passwd", None).is_err());
        assert!(
            Theme::load("nope", None)
                .unwrap_err()
                .message
                .contains("no such theme")
        );
    }
}
