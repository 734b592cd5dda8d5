//! A parsed document and the fields read from it, so that every field with a value that
//! ipsim does not use is listed once in a note instead of being silently dropped.

use std::collections::BTreeSet;

use serde_json::Value;

/// One document (a YAML document, a JSON file) and the paths read from it.
#[derive(Debug)]
pub(crate) struct Doc<'a> {
    /// The file, for messages.
    pub(crate) file: String,
    pub(crate) root: &'a Value,
    used: BTreeSet<String>,
    /// Read as a whole: nothing under them is listed.
    whole: BTreeSet<String>,
}

/// `.key`, or `["key"]` for a key that is not a plain name (annotation keys).
fn seg(key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        format!(".{key}")
    } else {
        format!("[{key:?}]")
    }
}

/// A path as the user reads it: no leading dot.
pub(crate) fn show(path: &str) -> String {
    path.strip_prefix('.').unwrap_or(path).to_string()
}

impl<'a> Doc<'a> {
    pub(crate) fn new(file: impl Into<String>, root: &'a Value) -> Self {
        Doc {
            file: file.into(),
            root,
            used: BTreeSet::new(),
            whole: BTreeSet::new(),
        }
    }

    /// `v[key]` at `path`, marked as read (absent or null: `None`).
    pub(crate) fn get(
        &mut self,
        v: &'a Value,
        path: &str,
        key: &str,
    ) -> Option<(&'a Value, String)> {
        let p = format!("{path}{}", seg(key));
        let child = v.get(key).filter(|c| !c.is_null())?;
        self.used.insert(p.clone());
        Some((child, p))
    }

    /// The elements of the array `v` at `path`, each marked as read.
    pub(crate) fn items(&mut self, v: &'a Value, path: &str) -> Vec<(&'a Value, String)> {
        let Some(a) = v.as_array() else {
            return Vec::new();
        };
        a.iter()
            .enumerate()
            .map(|(i, c)| {
                let p = format!("{path}[{i}]");
                self.used.insert(p.clone());
                (c, p)
            })
            .collect()
    }

    /// Marks `path` and all under it as read (a field looked at on purpose and set aside,
    /// with its own note or a reason in the code).
    pub(crate) fn mark(&mut self, path: &str) {
        self.used.insert(path.to_string());
        self.whole.insert(path.to_string());
    }

    /// Every field with a value under the read ones that was not read: the largest unread
    /// parts, array indices written `[]`, each once.
    pub(crate) fn unused(&self) -> Vec<String> {
        let mut out = BTreeSet::new();
        self.walk(self.root, "", &mut out);
        out.into_iter().collect()
    }

    fn walk(&self, v: &Value, path: &str, out: &mut BTreeSet<String>) {
        let mut visit = |child: &Value, p: String| {
            if empty(child) {
                return;
            }
            if self.whole.contains(&p) {
            } else if self.used.contains(&p) {
                self.walk(child, &p, out);
            } else {
                out.insert(show(&generic(&p)));
            }
        };
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    visit(c, format!("{path}{}", seg(k)));
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    visit(c, format!("{path}[{i}]"));
                }
            }
            _ => {}
        }
    }
}

/// No value worth a note: null, an empty string, list or object.
fn empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// `a[3].b` as `a[].b`.
fn generic(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '[' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                chars.next();
            }
        }
    }
    out
}
