//! Finds where a JSON path (`workloads[2].demand.peak`) stands in the text of a JSON file, so
//! that errors found after parsing still name a line and column.
//!
//! serde_json keeps no positions for values; this is a small scanner over already valid JSON
//! that walks to the path and returns the position of its value (or of the deepest part of
//! the path that exists).

/// 1-based (line, column) of the value at `path` in `text`, or of the nearest enclosing value.
pub(crate) fn locate(text: &str, path: &str) -> Option<(u64, u64)> {
    let segs = parse_path(path);
    let b = text.as_bytes();
    let mut pos = skip_ws(b, 0);
    for seg in &segs {
        match find_child(b, pos, seg) {
            Some(p) => pos = p,
            None => break,
        }
    }
    Some(line_col(text, pos))
}

/// The text of the scalar value (a number's token, as written) at `path` in `text`, if the
/// whole path exists.
pub(crate) fn token_at<'t>(text: &'t str, path: &str) -> Option<&'t str> {
    let b = text.as_bytes();
    let mut pos = skip_ws(b, 0);
    for seg in &parse_path(path) {
        pos = find_child(b, pos, seg)?;
    }
    text.get(pos..skip_value(b, pos))
}

#[derive(Debug, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            if i > 0 {
                out.push(Seg::Key(rest[..i].to_string()));
            }
            rest = &rest[i..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let end = stripped.find(']').unwrap_or(stripped.len());
                if let Ok(n) = stripped[..end].parse() {
                    out.push(Seg::Index(n));
                }
                rest = stripped.get(end + 1..).unwrap_or("");
            }
        } else if !rest.is_empty() && rest != "?" {
            out.push(Seg::Key(rest.to_string()));
        }
    }
    out
}

fn line_col(text: &str, pos: usize) -> (u64, u64) {
    let before = &text[..pos.min(text.len())];
    let line = before.matches('\n').count() as u64 + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
    (line, col)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Position just past the value starting at `i`.
fn skip_value(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => skip_string(b, i),
        Some(b'{') | Some(b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = skip_string(b, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            j
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']') && !b[j].is_ascii_whitespace()
            {
                j += 1;
            }
            j
        }
    }
}

fn skip_string(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    j
}

/// Position of the child value `seg` of the value at `i`.
fn find_child(b: &[u8], i: usize, seg: &Seg) -> Option<usize> {
    match (b.get(i)?, seg) {
        (b'{', Seg::Key(key)) => {
            let mut j = skip_ws(b, i + 1);
            while j < b.len() && b[j] == b'"' {
                let end = skip_string(b, j);
                let k = std::str::from_utf8(&b[j + 1..end.saturating_sub(1)]).ok()?;
                j = skip_ws(b, end);
                if b.get(j) != Some(&b':') {
                    return None;
                }
                j = skip_ws(b, j + 1);
                if k == key {
                    return Some(j);
                }
                j = skip_ws(b, skip_value(b, j));
                if b.get(j) == Some(&b',') {
                    j = skip_ws(b, j + 1);
                }
            }
            None
        }
        (b'[', Seg::Index(n)) => {
            let mut j = skip_ws(b, i + 1);
            let mut k = 0;
            while j < b.len() && b[j] != b']' {
                if k == *n {
                    return Some(j);
                }
                j = skip_ws(b, skip_value(b, j));
                if b.get(j) == Some(&b',') {
                    j = skip_ws(b, j + 1);
                }
                k += 1;
            }
            None
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{locate, token_at};

    #[test]
    fn finds_nested_values() {
        let text = "{\n  \"a\": 1,\n  \"w\": [\n    {\"x\": \"s\\\"}\", \"d\": {\"peak\": -5}},\n    {\"x\": 2}\n  ]\n}";
        assert_eq!(locate(text, "w[0].d.peak"), Some((4, 33)));
        assert_eq!(locate(text, "w[1].x"), Some((5, 11)));
        assert_eq!(locate(text, "w[1].missing"), Some((5, 5)));
        assert_eq!(locate(text, "a"), Some((2, 8)));
        assert_eq!(token_at(text, "w[0].d.peak"), Some("-5"));
        assert_eq!(token_at(text, "w[1].missing"), None);
        let pts = r#"{"p": [["1m", 48.00000002], [ "2m" , 1e-3 ]]}"#;
        assert_eq!(token_at(pts, "p[1][1]"), Some("1e-3"));
        assert_eq!(token_at(pts, "p[0][1]"), Some("48.00000002"));
    }
}
