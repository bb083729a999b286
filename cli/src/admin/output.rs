//! Human-readable output: aligned tables and timestamps.

use chrono::{DateTime, SecondsFormat, Utc};

/// `2026-11-27 07:17:35 UTC`, for tables.
pub(super) fn human_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `2026-11-27T07:17:35.123Z`, for JSON (the form Better Auth's API uses).
pub(super) fn json_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A table with a header row; columns are padded to their widest cell.
pub(super) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `1 user` / `2 users`.
pub(super) fn count(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// S56: control characters (from a user agent, say) and format characters
/// (bidi overrides, zero-width characters) shown escaped (`\u{202e}`), so a
/// stored value cannot move the cursor, forge lines or reorder what the
/// operator reads in a terminal.
pub(super) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if needs_escape(c) {
                c.escape_default().collect()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// [`printable`] for JSON text: the same characters written as `\uXXXX`
/// escapes, so the JSON means the same and a terminal shows it as it is.
/// (They can only occur inside strings, where the escape is valid JSON.)
pub(super) fn printable_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        // Control characters in strings are escaped by the serializer already;
        // the ones left are the layout's own newlines.
        if needs_escape(c) && !c.is_control() {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Control characters, Unicode format characters (category Cf) and the line
/// and paragraph separators.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061C}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0001}'
                | '\u{E0020}'..='\u{E007F}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_and_format_characters() {
        assert_eq!(
            printable("Ada\u{202E}x\u{1b}[2J"),
            "Ada\\u{202e}x\\u{1b}[2J"
        );
        assert_eq!(printable("Ада Лавлейс"), "Ада Лавлейс");
        let json =
            serde_json::to_string_pretty(&serde_json::json!({"name": "a\u{202E}b\u{E0041}"}))
                .unwrap();
        let shown = printable_json(&json);
        assert!(shown.contains(r"a\u202eb\udb40\udc41"), "{shown}");
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(back["name"], "a\u{202E}b\u{E0041}");
    }
}
