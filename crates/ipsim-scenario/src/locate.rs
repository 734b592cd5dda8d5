//! Finds where a JSON path (`workloads[2].demand.peak`) stands in the text of a JSON file, so
//! that errors found after parsing still name a line and column.
//!
//! serde_json keeps no positions for values; this is a small scanner over already valid JSON
//! that walks to the path and returns the position of its value (or of the deepest part of
//! the path that exists).

/// A JSON path built from typed pieces (`workloads[2].demand.peak` is
/// `JsonPath::root().key("workloads").index(2).key("demand").key("peak")`), shown in errors as
/// that text and walked in the file's text without parsing it back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct JsonPath(Vec<Seg>);

/// One step of a [`JsonPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

impl JsonPath {
    /// The whole file.
    pub(crate) fn root() -> Self {
        JsonPath(Vec::new())
    }

    /// The member `key` of this object.
    pub(crate) fn key(&self, key: impl Into<String>) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(key.into()));
        p
    }

    /// The element `i` of this array.
    pub(crate) fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }

    /// Whether `self` is `other` or inside it.
    pub(crate) fn starts_with(&self, other: &JsonPath) -> bool {
        self.0.starts_with(&other.0)
    }

    /// The first `n` steps.
    pub(crate) fn prefix(&self, n: usize) -> JsonPath {
        JsonPath(self.0[..n.min(self.0.len())].to_vec())
    }
}

/// A top-level member: `"duration"`, `"subnets"`.
impl From<&str> for JsonPath {
    fn from(key: &str) -> Self {
        JsonPath::root().key(key)
    }
}

impl From<&JsonPath> for JsonPath {
    fn from(p: &JsonPath) -> Self {
        p.clone()
    }
}

impl std::fmt::Display for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// 1-based (line, column) of the value at `path` in `text`, or of the nearest enclosing value.
pub(crate) fn locate(text: &str, path: &JsonPath) -> Option<(u64, u64)> {
    let pos = Locator::new(text).position(path);
    Some(line_col_once(text, pos))
}

/// 1-based (line, column) of the key of the member at `path` (which ends with a key), or of
/// its value's nearest enclosing value if there is no such member: where an unknown or
/// misplaced field is written.
pub(crate) fn locate_key(text: &str, path: &JsonPath) -> Option<(u64, u64)> {
    let b = text.as_bytes();
    let Some((Seg::Key(key), parent)) = path.0.split_last() else {
        return locate(text, path);
    };
    let mut pos = skip_ws(b, 0);
    for seg in parent {
        pos = match find_child(b, pos, seg) {
            Some(p) => p,
            None => return locate(text, path),
        };
    }
    match find_member(b, pos, key) {
        Some((k, _)) => Some(line_col_once(text, k)),
        None => locate(text, path),
    }
}

/// Finds many paths in one text in time linear in the text overall: the element offsets of
/// each array walked are kept, so `workloads[i]` is found at once for every `i` after the
/// first walk (a walk from the start for each of a million workloads would be quadratic), and
/// line starts are kept for line and column numbers.
#[derive(Debug)]
pub(crate) struct Locator<'t> {
    text: &'t str,
    /// Array start offset → offsets of its elements.
    arrays: std::collections::BTreeMap<usize, Vec<usize>>,
    /// Offsets where lines start, made on first use.
    lines: Vec<usize>,
}

impl<'t> Locator<'t> {
    /// A locator over `text`.
    pub(crate) fn new(text: &'t str) -> Self {
        Locator {
            text,
            arrays: std::collections::BTreeMap::new(),
            lines: Vec::new(),
        }
    }

    /// Like [`locate`].
    pub(crate) fn locate(&mut self, path: &JsonPath) -> Option<(u64, u64)> {
        let pos = self.position(path);
        Some(self.line_col(pos))
    }

    /// Offset of the value at `path`, or of the deepest part of it that exists.
    fn position(&mut self, path: &JsonPath) -> usize {
        let b = self.text.as_bytes();
        let mut pos = skip_ws(b, 0);
        for seg in &path.0 {
            match self.child(pos, seg) {
                Some(p) => pos = p,
                None => break,
            }
        }
        pos
    }

    /// The text of the scalar value (a number's token, as written) at `path`, if the whole
    /// path exists.
    pub(crate) fn token_at(&mut self, path: &JsonPath) -> Option<&'t str> {
        let b = self.text.as_bytes();
        let mut pos = skip_ws(b, 0);
        for seg in &path.0 {
            pos = self.child(pos, seg)?;
        }
        self.text.get(pos..skip_value(b, pos))
    }

    fn child(&mut self, pos: usize, seg: &Seg) -> Option<usize> {
        let b = self.text.as_bytes();
        match (b.get(pos)?, seg) {
            (b'[', Seg::Index(n)) => {
                let elems = self.arrays.entry(pos).or_insert_with(|| elements(b, pos));
                elems.get(*n).copied()
            }
            _ => find_child(b, pos, seg),
        }
    }

    fn line_col(&mut self, pos: usize) -> (u64, u64) {
        if self.lines.is_empty() {
            self.lines.push(0);
            self.lines.extend(
                self.text
                    .bytes()
                    .enumerate()
                    .filter(|&(_, c)| c == b'\n')
                    .map(|(i, _)| i + 1),
            );
        }
        let pos = pos.min(self.text.len());
        let line = self.lines.partition_point(|&start| start <= pos);
        let start = self.lines[line - 1];
        let col = self.text.get(start..pos).map_or(0, |l| l.chars().count()) as u64 + 1;
        (line as u64, col)
    }
}

/// 1-based (line, column) of offset `pos`, for a single look-up: counts up to `pos` only
/// ([`Locator`] keeps a table of line starts for many).
fn line_col_once(text: &str, pos: usize) -> (u64, u64) {
    let before = text.get(..pos.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() as u64 + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
    (line, col)
}

/// Offsets of the elements of the array at `i`.
fn elements(b: &[u8], i: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut j = skip_ws(b, i + 1);
    while j < b.len() && b[j] != b']' {
        out.push(j);
        j = skip_ws(b, skip_value(b, j));
        if b.get(j) == Some(&b',') {
            j = skip_ws(b, j + 1);
        }
    }
    out
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
        (b'{', Seg::Key(key)) => find_member(b, i, key).map(|(_, v)| v),
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

/// Positions of the key and the value of member `key` of the object at `i`.
fn find_member(b: &[u8], i: usize, key: &str) -> Option<(usize, usize)> {
    if b.get(i) != Some(&b'{') {
        return None;
    }
    let mut j = skip_ws(b, i + 1);
    while j < b.len() && b[j] == b'"' {
        let start = j;
        let end = skip_string(b, j);
        let k = std::str::from_utf8(&b[j + 1..end.saturating_sub(1)]).ok()?;
        j = skip_ws(b, end);
        if b.get(j) != Some(&b':') {
            return None;
        }
        j = skip_ws(b, j + 1);
        if k == key {
            return Some((start, j));
        }
        j = skip_ws(b, skip_value(b, j));
        if b.get(j) == Some(&b',') {
            j = skip_ws(b, j + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{JsonPath, Locator, locate, locate_key};

    fn token_at<'t>(text: &'t str, path: &JsonPath) -> Option<&'t str> {
        Locator::new(text).token_at(path)
    }

    #[test]
    fn finds_nested_values() {
        let text = "{\n  \"a\": 1,\n  \"w\": [\n    {\"x\": \"s\\\"}\", \"d\": {\"peak\": -5}},\n    {\"x\": 2}\n  ]\n}";
        let w = JsonPath::from("w");
        let peak = w.index(0).key("d").key("peak");
        assert_eq!(peak.to_string(), "w[0].d.peak");
        assert_eq!(locate(text, &peak), Some((4, 33)));
        assert_eq!(locate(text, &w.index(1).key("x")), Some((5, 11)));
        assert_eq!(locate(text, &w.index(1).key("missing")), Some((5, 5)));
        assert_eq!(locate(text, &"a".into()), Some((2, 8)));
        assert_eq!(locate_key(text, &"a".into()), Some((2, 3)));
        assert_eq!(locate_key(text, &w.index(0).key("d")), Some((4, 19)));
        assert_eq!(token_at(text, &peak), Some("-5"));
        assert_eq!(token_at(text, &w.index(1).key("missing")), None);
        let pts = r#"{"p": [["1m", 48.00000002], [ "2m" , 1e-3 ]]}"#;
        let p = JsonPath::from("p");
        assert_eq!(token_at(pts, &p.index(1).index(1)), Some("1e-3"));
        assert_eq!(token_at(pts, &p.index(0).index(1)), Some("48.00000002"));
    }
}

#[cfg(test)]
mod scale {
    use super::{JsonPath, Locator};

    /// Every element of a long array is found, each at its own line.
    #[test]
    fn a_long_array_is_walked_once() {
        let n = 20_000;
        let items: Vec<String> = (0..n).map(|i| format!("{{\"v\": {i}}}")).collect();
        let text = format!("{{\"w\": [\n{}\n]}}", items.join(",\n"));
        let mut loc = Locator::new(&text);
        for i in (0..n).rev() {
            let p = JsonPath::from("w").index(i).key("v");
            assert_eq!(loc.token_at(&p), Some(i.to_string().as_str()));
            assert_eq!(loc.locate(&p), Some((i as u64 + 2, 7)));
        }
    }
}
