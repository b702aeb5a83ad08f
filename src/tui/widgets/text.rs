//! Width-aware text: columns are measured in terminal cells, never in bytes, so Cyrillic,
//! Kazakh and wide characters are cut at a character boundary with an ellipsis.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Cuts `text` to at most `width` cells, ending with `…` when cut.
pub fn truncate(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cuts_cyrillic_by_cells() {
        assert_eq!(truncate("Айгерим Сапарова", 8), "Айгерим…");
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("漢字漢字", 5), "漢字…");
        assert_eq!(truncate("abc", 0), "");
    }

    proptest! {
        #[test]
        fn never_wider_than_asked(text in "\\PC{0,40}", width in 0usize..30) {
            let out = truncate(&text, width);
            prop_assert!(out.width() <= width);
            if text.width() <= width { prop_assert_eq!(out, text); }
        }
    }
}
