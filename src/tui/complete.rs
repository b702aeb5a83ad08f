//! Completing a file path typed into a prompt as a shell's Tab does: the entries of the
//! folder typed so far that start with what follows its last `/`, completed to their longest
//! common start, with `/` after a folder and `~` for the home folder. Hidden entries are
//! offered only when a `.` was typed. Written here rather than taken from a crate: the
//! completers on crates.io come inside whole line editors (rustyline, reedline), and this is
//! one folder read with `std::fs::read_dir`.

use std::path::{Path, PathBuf};

/// A folder with more entries than this is completed from its first ones only.
const MOST_ENTRIES: usize = 20_000;

/// What Tab made of a typed path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completion {
    /// The path as it now reads (unchanged when nothing matched).
    pub text: String,
    /// When several entries match: their names (folders with a `/`), sorted.
    pub choices: Vec<String>,
}

/// Completes `typed` against the file system; a relative path is read from `cwd`.
pub fn complete(typed: &str, home: Option<&Path>, cwd: &Path) -> Completion {
    let typed = if typed == "~" { "~/" } else { typed };
    let (folder_typed, stem) = match typed.rfind('/') {
        Some(i) => typed.split_at(i + 1),
        None => ("", typed),
    };
    let folder: PathBuf = match (folder_typed.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ if folder_typed.is_empty() => cwd.to_path_buf(),
        _ => cwd.join(folder_typed),
    };
    let unchanged = Completion {
        text: typed.to_string(),
        choices: Vec::new(),
    };
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return unchanged;
    };
    let mut matches: Vec<(String, bool)> = entries
        .take(MOST_ENTRIES)
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let shown = name.starts_with(stem) && (stem.starts_with('.') || !name.starts_with('.'));
            // A link to a folder counts as a folder: `metadata` follows it.
            shown.then(|| (name, e.path().metadata().is_ok_and(|m| m.is_dir())))
        })
        .collect();
    matches.sort();
    let text = match matches.as_slice() {
        [] => return unchanged,
        [(name, dir)] => format!("{folder_typed}{name}{}", if *dir { "/" } else { "" }),
        [..] => format!(
            "{folder_typed}{}",
            common_start(matches.iter().map(|(name, _)| name.as_str()))
        ),
    };
    let choices = if matches.len() > 1 {
        matches
            .into_iter()
            .map(|(name, dir)| if dir { format!("{name}/") } else { name })
            .collect()
    } else {
        Vec::new()
    };
    Completion { text, choices }
}

/// The longest start all `names` share (empty for none).
fn common_start<'a>(mut names: impl Iterator<Item = &'a str>) -> &'a str {
    let first = names.next().unwrap_or("");
    names.fold(first, |common, name| {
        let end = common
            .char_indices()
            .zip(name.chars())
            .find(|((_, a), b)| a != b)
            .map_or(common.len().min(name.len()), |((i, _), _)| i);
        &common[..end]
    })
}

/// Completes `typed` against `names` (a list's name, say): those that start with it in any
/// case, completed to their longest common start; several are offered as choices.
pub fn complete_name(typed: &str, names: &[&str]) -> Completion {
    let low = typed.to_lowercase();
    let mut matches: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.to_lowercase().starts_with(&low))
        .collect();
    matches.sort_unstable();
    let common = common_start(matches.iter().copied());
    Completion {
        // Typed in another case than the names share: what was typed stays.
        text: if common.chars().count() >= typed.chars().count() {
            common.to_string()
        } else {
            typed.to_string()
        },
        choices: if matches.len() > 1 {
            matches.into_iter().map(str::to_string).collect()
        } else {
            Vec::new()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "clients-2026.csv",
            "clients-2025.csv",
            "notes.txt",
            ".hidden.csv",
        ] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("exports")).unwrap();
        std::fs::write(dir.path().join("exports/Клиенты.csv"), "").unwrap();
        dir
    }

    #[test]
    fn a_name_completes_in_any_case() {
        let names = ["Customers", "Customers 2026", "VIP", "Қала"];
        let c = complete_name("cu", &names);
        assert_eq!(c.text, "Customers");
        assert_eq!(c.choices, ["Customers", "Customers 2026"]);
        assert_eq!(complete_name("v", &names).text, "VIP");
        assert!(complete_name("v", &names).choices.is_empty());
        assert_eq!(complete_name("қ", &names).text, "Қала");
        // Nothing matches, or nothing typed: the text stays, every name is offered.
        assert_eq!(complete_name("zz", &names).text, "zz");
        assert!(complete_name("zz", &names).choices.is_empty());
        assert_eq!(complete_name("", &names).choices.len(), 4);
    }

    #[test]
    fn a_path_completes_as_far_as_the_entries_agree() {
        let dir = tree();
        let cwd = dir.path();
        let c = complete("cl", None, cwd);
        assert_eq!(c.text, "clients-202");
        assert_eq!(c.choices, ["clients-2025.csv", "clients-2026.csv"]);
        assert_eq!(complete("clients-2026", None, cwd).text, "clients-2026.csv");
        assert!(complete("clients-2026", None, cwd).choices.is_empty());
        // A folder gets its slash; the next Tab goes inside it, Cyrillic names and all.
        assert_eq!(complete("ex", None, cwd).text, "exports/");
        assert_eq!(complete("exports/", None, cwd).text, "exports/Клиенты.csv");
        assert_eq!(complete("exports/К", None, cwd).text, "exports/Клиенты.csv");
    }

    #[test]
    fn absolute_home_and_hidden_paths() {
        let dir = tree();
        let root = dir.path().display().to_string();
        let elsewhere = Path::new("/");
        assert_eq!(
            complete(&format!("{root}/no"), None, elsewhere).text,
            format!("{root}/notes.txt")
        );
        assert_eq!(
            complete("~/exp", Some(dir.path()), elsewhere).text,
            "~/exports/"
        );
        // Hidden entries only when asked for.
        let all = complete(&format!("{root}/"), None, elsewhere);
        assert!(!all.choices.iter().any(|c| c.starts_with('.')), "{all:?}");
        assert_eq!(
            complete(&format!("{root}/."), None, elsewhere).text,
            format!("{root}/.hidden.csv")
        );
    }

    #[test]
    fn nothing_to_complete_leaves_the_text_alone() {
        let dir = tree();
        for typed in ["zzz", "/no/such/folder/x", "notes.txt/x"] {
            let c = complete(typed, None, dir.path());
            assert_eq!(c.text, typed);
            assert!(c.choices.is_empty());
        }
    }
}
