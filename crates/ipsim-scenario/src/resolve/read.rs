//! Reading a scenario file's text into a [`ScenarioDef`], every structural problem at once.
//!
//! Three stages. The text is parsed to a JSON tree first: a syntax error (or text after the
//! scenario object) is the one error there is, with its line and column. Then every subnet,
//! workload and trace is read on its own, and then the rest of the file; each structural error
//! (unknown field, wrong type, bad enum value, a field of another kind, a missing field) is
//! reported with its JSON path, line and column, and the part it is about is left out, so
//! that reading goes on and finds the others. What a left-out part was required for is filled
//! with a placeholder. Last, the value checks (the [`super::Resolver`]) run on what was read;
//! [`Gaps`] tells them which parts were left out or are placeholders, so that they report
//! nothing about those and nothing that follows only from their absence.
//!
//! Numbers are not taken from the tree for exact arithmetic: the resolver reads each number's
//! token from the text by its JSON path (`locate::token_at`), as before.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess};
use serde_json::{Map, Value};

use crate::def::{MISPLACED, ScenarioDef, SubnetDef, TraceDef, WorkloadDef};
use crate::error::ScenarioError;
use crate::locate::{JsonPath, Seg, locate, locate_key};

/// The duration assumed when the file's cannot be read: long enough for the value checks of
/// demand and executions to run, short enough to sample quickly.
const PLACEHOLDER_DURATION_MS: u64 = 86_400_000;

/// What the structural stage left out of the definition or filled in.
#[derive(Debug, Clone, Default)]
pub(super) struct Gaps {
    /// The parts left out (a broken optional field, an unreadable nested object) or filled
    /// with a placeholder (a required field, a whole element); nothing at or under them is
    /// reported by the value checks.
    pub(super) paths: Vec<JsonPath>,
    /// Sections (`subnets`, `traces`) where some element's name could not be read: a
    /// reference to an undeclared name there may be to that element.
    pub(super) unnamed: BTreeSet<&'static str>,
    /// The duration could not be read: checks relative to the end of the run are skipped.
    pub(super) duration: bool,
}

impl Gaps {
    /// Whether `path` is a gap, inside one, or holds one (an error about an object may
    /// follow from a member left out: a static with its only field left out has none).
    pub(super) fn covers(&self, path: &JsonPath) -> bool {
        self.paths
            .iter()
            .any(|g| path.starts_with(g) || g.starts_with(path))
    }

    /// Whether some gap is at or inside `path`.
    pub(super) fn within(&self, path: &JsonPath) -> bool {
        self.paths.iter().any(|g| g.starts_with(path))
    }
}

/// The outcome of reading: the definition, if the file is a JSON object, and the structural
/// problems found.
pub(super) struct Read {
    pub(super) def: Option<ScenarioDef>,
    pub(super) errs: Vec<ScenarioError>,
    pub(super) gaps: Gaps,
}

/// Reads the file. `Err` is a syntax error, the only error then.
pub(super) fn read(bytes: &[u8], text: &str, path: &Path) -> Result<Read, ScenarioError> {
    let (mut doc, dups) = syntax(bytes, path)?;
    let mut r = Reader {
        text,
        path,
        errs: Vec::new(),
        gaps: Gaps::default(),
    };
    for (d, key) in dups {
        r.key_error(
            &d,
            format!("duplicate field `{key}`: give each field once (the first is read)"),
        );
    }
    if let Value::Object(top) = &mut doc {
        r.elements::<SubnetDef>(top, "subnets");
        r.elements::<WorkloadDef>(top, "workloads");
        r.elements::<TraceDef>(top, "traces");
    }
    let def = r.lenient::<ScenarioDef>(&mut doc, &JsonPath::root(), &|f| top_fill(f));
    // Structural errors in the order of the file.
    r.errs
        .sort_by_key(|e| (e.line.unwrap_or(0), e.column.unwrap_or(0)));
    Ok(Read {
        def,
        errs: r.errs,
        gaps: r.gaps,
    })
}

/// What a missing required field of the scenario is filled with.
fn top_fill(field: &str) -> Option<(Value, Fill)> {
    Some(match field {
        "name" | "description" => (Value::from(""), Fill::Plain),
        "duration" => (Value::from(PLACEHOLDER_DURATION_MS), Fill::Duration),
        "subnets" => (Value::Array(Vec::new()), Fill::Unnamed("subnets")),
        _ => return None,
    })
}

/// What filling a field means for the value checks.
#[derive(Debug, Clone, Copy)]
enum Fill {
    Plain,
    Duration,
    Unnamed(&'static str),
}

/// What a missing required field of an element of `section` is filled with.
fn element_fill(section: &'static str, field: &str) -> Option<(Value, Fill)> {
    Some(match field {
        "name" => (Value::from(""), Fill::Unnamed(section)),
        "subnet" | "file" => (Value::from(""), Fill::Plain),
        "cidr" => (Value::from("0.0.0.0/32"), Fill::Plain),
        "format" => (Value::from("csv"), Fill::Plain),
        _ => return None,
    })
}

/// The element of `section` that stands for `item`, nothing of which can be read: its name
/// (and a workload's subnet) if those are strings, placeholders for its other required fields.
/// Whether the name was read too.
fn placeholder(section: &str, item: &Value) -> (Value, bool) {
    let text = |key: &str| match item.get(key) {
        Some(Value::String(s)) => Some(Value::String(s.clone())),
        _ => None,
    };
    let named = text("name").is_some();
    let name = text("name").unwrap_or_else(|| Value::from(""));
    let v = match section {
        "subnets" => serde_json::json!({ "name": name, "cidr": "0.0.0.0/32" }),
        "workloads" => {
            serde_json::json!({ "name": name, "subnet": text("subnet").unwrap_or_else(|| Value::from("")) })
        }
        _ => serde_json::json!({ "name": name, "format": "csv", "file": "" }),
    };
    (v, named)
}

struct Reader<'a> {
    text: &'a str,
    path: &'a Path,
    errs: Vec<ScenarioError>,
    gaps: Gaps,
}

impl Reader<'_> {
    fn error(&mut self, at: &JsonPath, msg: impl Into<String>) {
        self.error_at(at, locate(self.text, at), msg);
    }

    /// An error about a member that should not be there, at its key.
    fn key_error(&mut self, at: &JsonPath, msg: impl Into<String>) {
        self.error_at(at, locate_key(self.text, at), msg);
    }

    fn error_at(&mut self, at: &JsonPath, pos: Option<(u64, u64)>, msg: impl Into<String>) {
        let (l, c) = pos.unzip();
        self.errs
            .push(ScenarioError::new(self.path, at.to_string(), msg).at(l, c));
    }

    fn fill(&mut self, at: JsonPath, how: Fill) {
        match how {
            Fill::Plain => {}
            Fill::Duration => self.gaps.duration = true,
            Fill::Unnamed(s) => {
                self.gaps.unnamed.insert(s);
            }
        }
        self.gaps.paths.push(at);
    }

    /// Reads each element of `top[section]` on its own; one that cannot be read becomes a
    /// [`placeholder`].
    fn elements<T: DeserializeOwned>(
        &mut self,
        top: &mut Map<String, Value>,
        section: &'static str,
    ) {
        let Some(Value::Array(items)) = top.get_mut(section) else {
            return;
        };
        let base = JsonPath::from(section);
        for (i, item) in items.iter_mut().enumerate() {
            let at = base.index(i);
            if self
                .lenient::<T>(item, &at, &|f| element_fill(section, f))
                .is_some()
            {
                continue;
            }
            let (ph, named) = placeholder(section, item);
            if !named {
                self.gaps.unnamed.insert(section);
            }
            *item = ph;
            self.gaps.paths.push(at);
        }
    }

    /// Reads `v` (at `at`) as a `T`. Each error is reported and the part it is about left out
    /// of `v`, until what is left reads (`Some`) or the error is about `v` itself (`None`). A
    /// required field of `v` that is missing, or was left out, is filled by `fill` if it can.
    fn lenient<T: DeserializeOwned>(
        &mut self,
        v: &mut Value,
        at: &JsonPath,
        fill: &dyn Fn(&str) -> Option<(Value, Fill)>,
    ) -> Option<T> {
        let mut removed: Vec<Vec<Seg>> = Vec::new();
        // Each round leaves out or fills one part, so the rounds are bounded by the parts.
        for _ in 0..1000 {
            let e = match serde_path_to_error::deserialize::<_, T>(&*v) {
                Ok(t) => return Some(t),
                Err(e) => e,
            };
            let mut rel = segments(e.path());
            let mut msg = e.inner().to_string();
            // A field of another kind is refused once the workload's object is read: name the
            // field and point at it.
            if let Some(field) = msg
                .strip_prefix(MISPLACED)
                .and_then(|rest| rest.split_once('`'))
                .map(|(f, _)| f.to_string())
            {
                msg = msg
                    .get(MISPLACED.len() + field.len() + 3..)
                    .unwrap_or_default()
                    .to_string();
                rel.push(Seg::Key(field));
                // Not a gap: the field means nothing for the workload's kind.
                self.key_error(&join(at, &rel), msg);
                if !remove(v, &rel) {
                    return None;
                }
                continue;
            }
            let unknown = field_named(&msg, "unknown field `");
            if let Some(f) = &unknown {
                // An internally tagged enum (a demand) reports its unknown fields at itself.
                if get(v, &rel).is_some_and(|o| o.get(f).is_some()) {
                    rel.push(Seg::Key(f.clone()));
                }
            }
            if let Some(f) = field_named(&msg, "missing field `") {
                let mut full = rel.clone();
                full.push(Seg::Key(f.clone()));
                if !removed.contains(&full) {
                    self.error(&join(at, &rel), msg);
                }
                if rel.is_empty() {
                    if let Some((val, how)) = fill(&f) {
                        if let Value::Object(o) = v {
                            o.insert(f.clone(), val);
                            self.fill(at.key(f), how);
                            continue;
                        }
                    }
                }
            } else if unknown.is_some() {
                self.key_error(&join(at, &rel), msg);
            } else {
                self.error(&join(at, &rel), msg);
            }
            // Leave out the nearest member of an object at or above the error (an element of
            // an array goes with its array; a workload's kind with the workload).
            while let Some(last) = rel.last() {
                match last {
                    Seg::Key(k) if k != "kind" => break,
                    _ => {
                        rel.pop();
                    }
                }
            }
            if rel.is_empty() || !remove(v, &rel) {
                return None;
            }
            if unknown.is_none() {
                // An unknown field means nothing: leaving it out leaves no gap.
                self.gaps.paths.push(join(at, &rel));
            }
            removed.push(rel);
        }
        None
    }
}

/// `x` in a message `<prefix>x`...`.
fn field_named(msg: &str, prefix: &str) -> Option<String> {
    msg.strip_prefix(prefix)
        .and_then(|rest| rest.split_once('`'))
        .map(|(f, _)| f.to_string())
}

fn join(at: &JsonPath, rel: &[Seg]) -> JsonPath {
    let mut p = at.clone();
    for s in rel {
        p = match s {
            Seg::Key(k) => p.key(k.clone()),
            Seg::Index(i) => p.index(*i),
        };
    }
    p
}

/// serde's path as steps; an unknown step ends it.
fn segments(p: &serde_path_to_error::Path) -> Vec<Seg> {
    let mut out = Vec::new();
    for seg in p.iter() {
        match seg {
            serde_path_to_error::Segment::Seq { index } => out.push(Seg::Index(*index)),
            serde_path_to_error::Segment::Map { key } => out.push(Seg::Key(key.clone())),
            serde_path_to_error::Segment::Enum { variant } => out.push(Seg::Key(variant.clone())),
            serde_path_to_error::Segment::Unknown => break,
        }
    }
    out
}

fn get<'v>(v: &'v Value, rel: &[Seg]) -> Option<&'v Value> {
    rel.iter().try_fold(v, |v, s| match s {
        Seg::Key(k) => v.get(k),
        Seg::Index(i) => v.get(i),
    })
}

/// Removes the member at `rel` (which ends with a key); false if there is none.
fn remove(v: &mut Value, rel: &[Seg]) -> bool {
    let Some((Seg::Key(k), parent)) = rel.split_last() else {
        return false;
    };
    let mut cur = v;
    for s in parent {
        let next = match s {
            Seg::Key(k) => cur.get_mut(k),
            Seg::Index(i) => cur.get_mut(i),
        };
        match next {
            Some(n) => cur = n,
            None => return false,
        }
    }
    cur.as_object_mut().and_then(|o| o.remove(k)).is_some()
}

/// The JSON tree of the text, and the paths of members given twice in an object (the first is
/// kept, the one `locate` finds).
fn syntax(bytes: &[u8], path: &Path) -> Result<(Value, Vec<(JsonPath, String)>), ScenarioError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let dups = RefCell::new(Vec::new());
    let doc = Tree {
        at: JsonPath::root(),
        dups: &dups,
    }
    .deserialize(&mut de)
    .map_err(|e| {
        let mut msg = e.to_string();
        if let Some(i) = msg.rfind(" at line ") {
            msg.truncate(i);
        }
        if e.is_eof() {
            msg = format!("{msg} (the file ends early: is it truncated?)");
        }
        if msg.starts_with("invalid unicode") {
            msg.push_str(" (scenario files must be UTF-8)");
        }
        if let Some(word) = non_number_at(bytes, e.line(), e.column()) {
            msg = format!("{word} is not valid JSON; use a number");
        }
        ScenarioError::new(path, "", msg).at(Some(e.line() as u64), Some(e.column() as u64))
    })?;
    if !doc.is_object() {
        let what = match &doc {
            Value::Array(_) => "an array",
            Value::String(_) => "a string",
            Value::Number(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Null => "null",
            Value::Object(_) => "an object",
        };
        return Err(ScenarioError::new(
            path,
            "",
            format!("a scenario is a JSON object ({{\"name\": ..., \"subnets\": [...], ...}}), not {what}"),
        )
        .at(Some(1), Some(1)));
    }
    de.end().map_err(|e| {
        ScenarioError::new(path, "", "unexpected text after the scenario object")
            .at(Some(e.line() as u64), Some(e.column() as u64))
    })?;
    Ok((doc, dups.into_inner()))
}

/// `NaN`, `Infinity` or `-Infinity` written where serde_json stopped (1-based line, column),
/// which JavaScript writes but JSON does not have.
fn non_number_at(bytes: &[u8], line: usize, column: usize) -> Option<&'static str> {
    let start = if line <= 1 {
        0
    } else {
        bytes
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c == b'\n')
            .nth(line - 2)
            .map(|(i, _)| i + 1)?
    };
    // serde_json's column is the byte just read; look a few bytes around it.
    let from = (start + column).saturating_sub(2).min(bytes.len());
    let rest = &bytes[from..bytes.len().min(from + 12)];
    ["-Infinity", "Infinity", "NaN"]
        .into_iter()
        .find(|w| rest.windows(w.len()).any(|x| x == w.as_bytes()))
}

/// Builds a [`Value`] at path `at`, noting members given twice.
struct Tree<'d> {
    at: JsonPath,
    dups: &'d RefCell<Vec<(JsonPath, String)>>,
}

impl<'de> DeserializeSeed<'de> for Tree<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> de::Visitor<'de> for Tree<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Tree {
            at: self.at.index(out.len()),
            dups: self.dups,
        })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(Tree {
                at: self.at.key(k.clone()),
                dups: self.dups,
            })?;
            if out.contains_key(&k) {
                self.dups.borrow_mut().push((self.at.key(k.clone()), k));
            } else {
                out.insert(k, v);
            }
        }
        Ok(Value::Object(out))
    }
}
