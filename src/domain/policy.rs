//! The content policy (offer 3.2.2; specs/campaigns.md): a campaign's text is checked
//! against the lexicons in `assets/policy/` before it may start. A hit blocks the start and
//! names the rule and the words; the console offers no way around it.
//!
//! Text and lexicon entries are normalised the same way before matching: lower case, `ё`
//! as `е`, separators inside a word dropped (`х.у-й`), single letters spaced out joined
//! (`х у й`), runs of one letter collapsed (`хууууй`), and letters that look alike in Latin
//! and Cyrillic (and digits standing for letters) read in the script of the entry, so
//! `xyй` and `сука` with a Latin `c` are caught. Written here rather than taken from a crate:
//! the maintained profanity crates are English-only and know nothing of Cyrillic look-alikes.

/// One rule and the lexicon it reads.
struct Rule {
    name: &'static str,
    what: &'static str,
    lexicon: &'static str,
}

const RULES: [Rule; 6] = [
    Rule {
        name: "obscenity",
        what: "obscene language (Russian)",
        lexicon: include_str!("../../assets/policy/obscenity-ru.txt"),
    },
    Rule {
        name: "obscenity",
        what: "obscene language (Kazakh)",
        lexicon: include_str!("../../assets/policy/obscenity-kk.txt"),
    },
    Rule {
        name: "obscenity",
        what: "obscene language (English)",
        lexicon: include_str!("../../assets/policy/obscenity-en.txt"),
    },
    Rule {
        name: "violence",
        what: "threats or calls to violence",
        lexicon: include_str!("../../assets/policy/violence.txt"),
    },
    Rule {
        name: "pornography",
        what: "pornography or sexual services",
        lexicon: include_str!("../../assets/policy/pornography.txt"),
    },
    Rule {
        name: "pyramid",
        what: "financial pyramid or get-rich offer",
        lexicon: include_str!("../../assets/policy/pyramids.txt"),
    },
];

const LINKS: &str = include_str!("../../assets/policy/links.txt");

/// One rule a text breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// `obscenity`, `violence`, `pornography`, `pyramid` or `links`.
    pub rule: &'static str,
    /// The rule in words.
    pub what: &'static str,
    /// The words of the text that matched, as written.
    pub words: Vec<String>,
}

impl std::fmt::Display for Hit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.what,
            self.rule,
            self.words.join(", ")
        )
    }
}

/// Latin letters and digits that stand for Cyrillic ones.
fn to_cyrillic(c: char) -> char {
    match c {
        'a' => 'а',
        'b' | '6' => 'б',
        'c' => 'с',
        'e' => 'е',
        'k' => 'к',
        'm' => 'м',
        'h' => 'н',
        'o' | '0' => 'о',
        'p' => 'р',
        't' => 'т',
        'x' => 'х',
        'y' | 'u' => 'у',
        '3' => 'з',
        'ё' => 'е',
        _ => c,
    }
}

/// Cyrillic letters and digits that stand for Latin ones.
fn to_latin(c: char) -> char {
    match c {
        'а' | '@' => 'a',
        'в' => 'b',
        'с' => 'c',
        'е' | 'ё' | '3' => 'e',
        'к' => 'k',
        'м' => 'm',
        'н' => 'h',
        'о' | '0' => 'o',
        'р' => 'p',
        'т' => 't',
        'х' => 'x',
        'у' => 'y',
        '1' | '!' => 'i',
        '$' | '5' => 's',
        _ => c,
    }
}

/// Characters people put inside a word to break it up.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        '.' | '-' | '_' | '*' | '·' | '•' | '\'' | '"' | '`' | '~' | '|' | '/' | '\\'
    )
}

/// The words of a text, each as written and normalised for one script.
fn words(text: &str, script: fn(char) -> char) -> Vec<(String, String)> {
    // Split on whitespace; keep separators inside words, drop them at the edges.
    let mut raw: Vec<String> = Vec::new();
    for token in text.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                ',' | ';' | ':' | '?' | '(' | ')' | '[' | ']' | '«' | '»' | '“' | '”'
            )
    }) {
        let token = token.trim_matches(|c: char| is_separator(c) || c == '!');
        if !token.is_empty() {
            raw.push(token.to_string());
        }
    }
    // Join runs of single letters: `х у й`.
    let mut joined: Vec<String> = Vec::new();
    let mut run = String::new();
    for w in raw {
        if w.chars().count() == 1 && w.chars().all(char::is_alphanumeric) {
            run.push_str(&w);
            continue;
        }
        if !run.is_empty() {
            joined.push(std::mem::take(&mut run));
        }
        joined.push(w);
    }
    if !run.is_empty() {
        joined.push(run);
    }
    joined
        .into_iter()
        .map(|w| {
            let mut norm = String::new();
            let mut last = None;
            for c in w.to_lowercase().chars() {
                if is_separator(c) {
                    continue;
                }
                let c = script(c);
                if Some(c) != last {
                    norm.push(c);
                }
                last = Some(c);
            }
            (w, norm)
        })
        .filter(|(_, n)| !n.is_empty())
        .collect()
}

fn is_cyrillic(s: &str) -> bool {
    s.chars().any(|c| ('\u{400}'..='\u{4ff}').contains(&c))
}

/// One lexicon entry: words in a row, each exact or a stem (`*`).
struct Entry {
    parts: Vec<(String, bool)>,
    cyrillic: bool,
}

fn entries(lexicon: &str) -> impl Iterator<Item = Entry> + '_ {
    lexicon
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let cyrillic = is_cyrillic(line);
            let script = if cyrillic { to_cyrillic } else { to_latin };
            let parts = line
                .split_whitespace()
                .map(|p| {
                    let stem = p.ends_with('*');
                    let p = p.trim_end_matches('*');
                    let norm = words(p, script)
                        .into_iter()
                        .map(|(_, n)| n)
                        .collect::<String>();
                    (norm, stem)
                })
                .collect();
            Entry { parts, cyrillic }
        })
}

fn matches_at(words: &[(String, String)], at: usize, e: &Entry) -> bool {
    e.parts.iter().enumerate().all(|(k, (part, stem))| {
        words.get(at + k).is_some_and(|(_, w)| {
            if *stem {
                w.starts_with(part.as_str())
            } else {
                w == part
            }
        })
    })
}

/// Checks a text; every rule it breaks, with the words, or nothing.
pub fn check(text: &str) -> Vec<Hit> {
    let cyr = words(text, to_cyrillic);
    let lat = words(text, to_latin);
    let mut hits: Vec<Hit> = Vec::new();
    let mut add = |rule: &'static str, what: &'static str, word: String| match hits
        .iter_mut()
        .find(|h| h.rule == rule && h.what == what)
    {
        Some(h) if !h.words.contains(&word) => h.words.push(word),
        Some(_) => {}
        None => hits.push(Hit {
            rule,
            what,
            words: vec![word],
        }),
    };
    for rule in &RULES {
        for entry in entries(rule.lexicon) {
            let ws = if entry.cyrillic { &cyr } else { &lat };
            for at in 0..ws.len() {
                if matches_at(ws, at, &entry) {
                    let found: Vec<&str> = ws[at..at + entry.parts.len()]
                        .iter()
                        .map(|(w, _)| w.as_str())
                        .collect();
                    add(rule.name, rule.what, found.join(" "));
                }
            }
        }
    }
    // "300% в месяц" in a text about income: returns of 100 % or more a day, week or month.
    const MONEY: [&str; 9] = [
        "доход",
        "прибыл",
        "заработ",
        "profit",
        "return",
        "income",
        "earn",
        "табыс",
        "пайда",
    ];
    let money = {
        let lower = text.to_lowercase();
        MONEY.iter().any(|m| lower.contains(m))
    };
    let plain: Vec<String> = text.split_whitespace().map(|w| w.to_lowercase()).collect();
    for (i, w) in plain.iter().enumerate() {
        let digits: String = w.chars().take_while(char::is_ascii_digit).collect();
        let percent = w[digits.len()..].starts_with('%')
            || (w.len() == digits.len() && plain.get(i + 1).is_some_and(|n| n.starts_with('%')));
        let Ok(n) = digits.parse::<u64>() else {
            continue;
        };
        let after: String = plain[i + 1..plain.len().min(i + 4)].join(" ");
        let per = [
            "в день",
            "в неделю",
            "в месяц",
            "per day",
            "a day",
            "per week",
            "a week",
            "per month",
            "a month",
            "күніне",
            "айына",
        ];
        if let Some(period) = per.iter().find(|p| after.contains(*p))
            && money
            && percent
            && n >= 100
        {
            let number = if w.contains('%') {
                w.clone()
            } else {
                format!("{w} %")
            };
            add(
                "pyramid",
                "financial pyramid or get-rich offer",
                format!("{number} {period}"),
            );
        }
    }
    for link in links(text) {
        add(
            "links",
            "a link shortener, a program download or a bare IP address",
            link,
        );
    }
    hits
}

/// Links in the text that hide their target or deliver a program.
fn links(text: &str) -> Vec<String> {
    let hosts: Vec<&str> = LINKS
        .lines()
        .filter_map(|l| l.trim().strip_prefix("host:"))
        .map(str::trim)
        .collect();
    let exts: Vec<&str> = LINKS
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ext:"))
        .map(str::trim)
        .collect();
    let mut out = Vec::new();
    for token in text.split_whitespace() {
        let t = token.trim_matches(|c: char| {
            matches!(c, '(' | ')' | ',' | '.' | '!' | '?' | '«' | '»' | '"')
        });
        let lower = t.to_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .unwrap_or(&lower);
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = host.rsplit('@').next().unwrap_or_default();
        let host = host
            .split(':')
            .next()
            .unwrap_or_default()
            .trim_start_matches("www.");
        if !host.contains('.') {
            continue;
        }
        let looks_like_link =
            lower.starts_with("http") || lower.starts_with("www.") || rest.contains('/');
        let shortener = hosts
            .iter()
            .any(|h| host == *h || host.ends_with(&format!(".{h}")));
        let ip = host.split('.').count() == 4 && host.split('.').all(|p| p.parse::<u8>().is_ok());
        let path = rest.split(['?', '#']).next().unwrap_or_default();
        let program = rest.contains('/') && exts.iter().any(|e| path.ends_with(&format!(".{e}")));
        if shortener || (ip && looks_like_link) || program {
            out.push(t.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Vec<&'static str> {
        check(text).into_iter().map(|h| h.rule).collect()
    }

    #[test]
    fn catches_disguised_words() {
        for text in [
            "Ну ты и сука",
            "ну ты и cука",       // Latin c
            "xyйня какая-то",     // Latin x and y
            "х у й знает",        // spaced out
            "п.и.з.д.е.ц скидки", // dotted
            "охуууенные цены",    // repeated letters
            "бляяяя",
            "What the FUCK",
            "f.u.c.k this",
            "Сен қотақсың",
        ] {
            assert_eq!(rules(text), ["obscenity"], "{text}");
        }
    }

    #[test]
    fn names_the_rule_and_the_words() {
        let hits = check(
            "Гарантированный доход 300% в месяц! Регистрируйся: bit.ly/x1 и скачай http://1.2.3.4/app.apk",
        );
        let pyramid = hits.iter().find(|h| h.rule == "pyramid").unwrap();
        assert!(
            pyramid.words.iter().any(|w| w == "Гарантированный доход"),
            "{pyramid:?}"
        );
        assert!(
            pyramid.words.iter().any(|w| w.starts_with("300%")),
            "{pyramid:?}"
        );
        let links = hits.iter().find(|h| h.rule == "links").unwrap();
        assert_eq!(links.words, ["bit.ly/x1", "http://1.2.3.4/app.apk"]);
        assert_eq!(rules("Я тебя убью"), ["violence"]);
        assert_eq!(rules("Лучшее порно тут"), ["pornography"]);
        assert!(
            check("Я тебя убью")
                .first()
                .unwrap()
                .to_string()
                .contains("убью")
        );
    }

    #[test]
    fn ordinary_marketing_passes() {
        for text in [
            "Айгерим, скидка 20% на всё до воскресенья! 🎉",
            "Застрахуйте автомобиль со скидкой 15%",
            "Мандарины из Марокко уже в магазине",
            "Педикюр и маникюр со скидкой",
            "Убойные цены на сапоги",
            "Новые цены взорвут рынок!",
            "Сукно и ткани оптом",
            "Cashback 5% в месяц на все покупки",
            "Подпишитесь на наш канал: https://clever.kz/promo?utm=tg",
            "Скачайте приложение в App Store: https://apps.apple.com/kz/app/clever/id123",
            "Ваш заказ №12345 доставлен. Спасибо!",
            "Сәлеметсіз бе! Жаңа жылдық жеңілдіктер 30%",
            "Happy Friday: 2 pizzas for the price of 1",
            "Sale: shirts, shoes and scarves",
            "Доставка 100% в день заказа",
        ] {
            assert!(check(text).is_empty(), "{text}: {:?}", check(text));
        }
    }

    #[test]
    fn every_lexicon_entry_catches_itself() {
        for rule in &RULES {
            for line in rule
                .lexicon
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
            {
                let word = line.replace('*', "");
                assert!(
                    check(&word).iter().any(|h| h.rule == rule.name),
                    "{} does not catch its own entry {line}",
                    rule.what
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,120}") {
            let _ = check(&text);
        }
    }
}
