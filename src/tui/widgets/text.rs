//! Width-aware text: columns are measured in terminal cells, never in bytes, so Cyrillic,
//! Kazakh and wide characters are cut at a character boundary with an ellipsis.
//!
//! [`wrap_hanging`] is written here rather than taken from `textwrap`: that crate wraps plain
//! strings, and these lines are styled spans whose styles must survive the wrap.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Cuts `text` to at most `width` cells, ending with `…` when cut.
pub fn truncate(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = prefix(text, width - 1);
    out.push('…');
    out
}

/// The longest start of `text` that takes at most `width` cells. A character of no width of
/// its own can change the one before it (a variation selector makes `🕯` an emoji two cells
/// wide), so the width is measured again, as the terminal will see it, after one.
fn prefix(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        let next = if w == 0 {
            out.push(c);
            let whole = out.width();
            out.pop();
            whole
        } else {
            used + w
        };
        if next > width {
            break;
        }
        out.push(c);
        used = next;
    }
    out
}

/// Cuts a styled line to at most `width` cells, ending with `…` (in the style of the span
/// it cuts) when cut.
pub fn truncate_line(line: Line<'static>, width: usize) -> Line<'static> {
    if line.width() <= width {
        return line;
    }
    let Line {
        spans,
        style,
        alignment,
    } = line;
    let mut out = Vec::new();
    let mut used = 0;
    for span in spans {
        let w = span.content.width();
        if used + w < width {
            used += w;
            out.push(span);
            continue;
        }
        // The span that reaches the edge: as much of it as fits with the ellipsis after it.
        if width > 0 {
            let mut cut = prefix(&span.content, width - used - 1);
            cut.push('…');
            out.push(Span::styled(cut, span.style));
        }
        break;
    }
    let mut cut = Line::from(out).style(style);
    cut.alignment = alignment;
    cut
}

/// Wraps each line to `width` cells at spaces (mid-word only when a word is longer than a
/// row), and indents the rows after the first: under the value of a `field` line (a label
/// span ending in two spaces, or a label span and a span of spaces, then the value), else
/// two cells past the line's own indent (prose at the margin wraps to the margin).
/// Lines that fit are returned as they are.
pub fn wrap_hanging(lines: Vec<Line<'static>>, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        if line.width() <= width || width < 8 {
            out.push(line);
            continue;
        }
        let chars: Vec<(char, Style)> = line
            .spans
            .iter()
            .flat_map(|s| s.content.chars().map(move |c| (c, s.style)))
            .collect();
        let lead = chars.iter().take_while(|(c, _)| *c == ' ').count();
        let indent = match line.spans.as_slice() {
            [label, _, ..] if label.content.ends_with("  ") => label.width(),
            // A label, a gap of spaces, then the value (the help's `keys  description`).
            [label, gap, _, ..] if !gap.content.is_empty() && gap.content.trim().is_empty() => {
                label.width() + gap.width()
            }
            // Prose at the margin wraps to the margin.
            _ if lead == 0 => 0,
            _ => lead + 2,
        }
        .min(width / 2);
        let mut start = 0;
        let mut first = true;
        while start < chars.len() {
            let room = if first { width } else { width - indent };
            // The longest run from `start` that fits in `room` cells.
            let mut end = start;
            let mut used = 0;
            while end < chars.len() {
                let w = chars[end].0.width().unwrap_or(0);
                if used + w > room {
                    break;
                }
                used += w;
                end += 1;
            }
            if end < chars.len() {
                // Break after the last space of the row, unless that leaves it empty.
                let floor = if first { lead + 1 } else { start + 1 };
                if let Some(space) = (floor..end).rev().find(|&i| chars[i].0 == ' ') {
                    end = space;
                }
            }
            let mut spans: Vec<Span<'static>> = Vec::new();
            if !first {
                spans.push(Span::raw(" ".repeat(indent)));
            }
            let mut run = String::new();
            let mut style = chars[start].1;
            for &(c, st) in &chars[start..end] {
                if st != style && !run.is_empty() {
                    spans.push(Span::styled(std::mem::take(&mut run), style));
                }
                style = st;
                run.push(c);
            }
            if !run.is_empty() {
                spans.push(Span::styled(run, style));
            }
            out.push(Line::from(spans).style(line.style));
            start = end;
            // The space a row broke at, and any after it, start no row.
            while start < chars.len() && chars[start].0 == ' ' {
                start += 1;
            }
            first = false;
        }
    }
    out
}

/// A text bar of `width` cells filled to `share`. A cell fills only when its whole share is
/// reached, so the bar is full only when the work is, and agrees with [`percent`].
pub fn bar(share: f64, width: usize, ascii: bool) -> String {
    let filled = ((share.clamp(0.0, 1.0)) * width as f64).floor() as usize;
    let (full, empty) = if ascii { ('#', '.') } else { ('█', '░') };
    let mut s: String = std::iter::repeat_n(full, filled).collect();
    s.extend(std::iter::repeat_n(empty, width - filled));
    s
}

/// `share` as a whole percentage, rounded down: 99.6 % done is 99 %, never 100 % before the
/// end, and a list and a gauge of the same counts show the same number.
pub fn percent(share: f64) -> u32 {
    (share.clamp(0.0, 1.0) * 100.0).floor() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn a_gauge_is_full_and_at_100_only_when_everything_is_done() {
        // 2 208 of 3 212 is 68.7 %: the list and the gauge both say 68.
        let share = 2208.0 / 3212.0;
        assert_eq!(percent(share), 68);
        assert_eq!(percent(3211.0 / 3212.0), 99);
        assert_eq!(percent(1.0), 100);
        assert_eq!(percent(-0.5), 0);
        assert_eq!(
            bar(3211.0 / 3212.0, 24, true),
            format!("{}.", "#".repeat(23))
        );
        assert_eq!(bar(1.0, 4, false), "████");
        assert_eq!(bar(0.0, 3, true), "...");
    }

    #[test]
    fn continuation_rows_hang_under_the_text() {
        let proof = Line::from(Span::raw(
            "      proof: form #1059: checkbox ticked, IP 95.56.102.33 (recorded by import)",
        ));
        assert_eq!(
            text(&wrap_hanging(vec![proof], 40)),
            [
                "      proof: form #1059: checkbox",
                "        ticked, IP 95.56.102.33",
                "        (recorded by import)",
            ]
        );
        let field = Line::from(vec![
            Span::styled("Quiet hours     ", Style::new().bold()),
            Span::raw("09:00–21:00 in each recipient's own time zone, else the list's"),
        ]);
        let rows = wrap_hanging(vec![field], 40);
        assert_eq!(
            text(&rows),
            [
                "Quiet hours     09:00–21:00 in each",
                "                recipient's own time",
                "                zone, else the list's",
            ]
        );
        // Styles stay with their characters.
        assert_eq!(rows[0].spans[0].style, Style::new().bold());
        assert_eq!(rows[1].spans[1].style, Style::new());
        let short = Line::from("fits");
        assert_eq!(wrap_hanging(vec![short.clone()], 40), vec![short]);
        // A word longer than a row is cut.
        assert_eq!(
            text(&wrap_hanging(
                vec![Line::from(format!("  {}", "x".repeat(23)))],
                10
            )),
            ["  xxxxxxxx", "    xxxxxx", "    xxxxxx", "    xxx"]
        );
        assert_eq!(
            text(&wrap_hanging(
                vec![Line::from("Prose wraps to the margin.")],
                12
            )),
            ["Prose wraps", "to the", "margin."]
        );
    }

    #[test]
    fn cuts_cyrillic_by_cells() {
        assert_eq!(truncate("Айгерим Сапарова", 8), "Айгерим…");
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("漢字漢字", 5), "漢字…");
        assert_eq!(truncate("abc", 0), "");
        let styled = Line::from(vec![
            Span::raw("Welcome "),
            Span::styled("series", Style::new().bold()),
        ]);
        // A variation selector widens the emoji before it: it stays only where that fits.
        assert_eq!(truncate("ab🕯\u{fe0f}cd", 4), "ab🕯…");
        assert_eq!(truncate("ab🕯\u{fe0f}cd", 5), "ab🕯\u{fe0f}…");
        let cut = truncate_line(styled.clone(), 10);
        assert_eq!(cut.to_string(), "Welcome s…");
        assert_eq!(cut.spans[1].style, Style::new().bold());
        assert_eq!(truncate_line(styled.clone(), 14), styled);
        assert_eq!(truncate_line(styled.clone(), 8).to_string(), "Welcome…");
        assert_eq!(truncate_line(styled, 0).to_string(), "");
    }

    proptest! {
        #[test]
        fn never_wider_than_asked(text in "\\PC{0,40}", width in 0usize..30) {
            let out = truncate(&text, width);
            prop_assert!(out.width() <= width);
            if text.width() <= width { prop_assert_eq!(out, text); }
        }

        #[test]
        fn a_cut_line_fits_and_keeps_its_start(
            parts in proptest::collection::vec("\\PC{0,12}", 0..5),
            width in 0usize..30,
        ) {
            let line = Line::from(parts.iter().cloned().map(Span::raw).collect::<Vec<_>>());
            let whole = line.to_string();
            let out = truncate_line(line, width).to_string();
            prop_assert!(out.width() <= width);
            if whole.width() <= width {
                prop_assert_eq!(out, whole);
            } else if width > 0 {
                prop_assert!(out.ends_with('…'));
                prop_assert!(whole.starts_with(out.trim_end_matches('…')));
            }
        }

        #[test]
        fn wrapped_rows_fit_and_keep_every_word(
            words in proptest::collection::vec("[a-zа-я]{1,12}", 0..30),
            lead in 0usize..6,
            width in 8usize..60,
        ) {
            let line = format!("{}{}", " ".repeat(lead), words.join(" "));
            let rows = wrap_hanging(vec![Line::from(line.clone())], width);
            for r in &rows {
                prop_assert!(r.width() <= width, "{:?} wider than {}", r.to_string(), width);
            }
            let joined: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
            let words_out: Vec<&str> = joined.iter().flat_map(|r| r.split_whitespace()).collect();
            let words_in: Vec<&str> = line.split_whitespace().collect();
            // A word is kept whole where it fits a row: beside the lead on the first row
            // (a row is never left holding the lead alone), in half the width on the others.
            let first_fits = words.first().is_none_or(|w| lead + w.chars().count() <= width);
            if first_fits && words.iter().all(|w| w.chars().count() <= width / 2) {
                prop_assert_eq!(words_out, words_in);
            } else {
                prop_assert_eq!(words_out.concat(), words_in.concat());
            }
        }
    }
}
