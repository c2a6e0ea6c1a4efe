//! Payload filters: a hook may carry a filter on the event's body, and an
//! event whose body does not match creates no delivery for that hook.
//!
//! # The language
//!
//! A filter is a JSON object shaped like the body it tests:
//!
//! ```json
//! {"data": {"organizationId": {"$in": ["o1", "o2"]}}}
//! {"event": "PostSignIn", "userIp": {"$startsWith": "10."}}
//! ```
//!
//! The first matches the events whose `data.organizationId` is `"o1"` or
//! `"o2"`; the second those whose top-level `event` is `"PostSignIn"` and
//! whose `userIp` starts with `10.`.
//!
//! Every object in a filter is a list of conditions that must all hold, each
//! tested against one value of the body (at the top level, the body itself):
//!
//! - **A field name** (a key not starting with `$`) moves to that field of the
//!   value. If its value in the filter is an object, that object's conditions
//!   are tested against the field; a scalar or an array means the field must
//!   equal it. A field of something that is not an object is *missing*.
//!   Field names are literal keys: `"data.id"` names a key containing a dot,
//!   not `id` inside `data` (nest objects for that). Array elements cannot be
//!   addressed, and a field whose name starts with `$` cannot be tested.
//! - **A comparison operator** tests the value itself:
//!   - `$eq` / `$neq`: equal / not equal to any JSON value (an object after
//!     `$eq` is compared literally, not read as a filter);
//!   - `$gt`, `$gte`, `$lt`, `$lte`: greater than, at least, less than, at
//!     most a number or a string. Numbers compare with numbers, strings with
//!     strings (by Unicode code point); any other pairing does not match;
//!   - `$in` / `$nin`: equal to one of / none of a non-empty array of values;
//!   - `$exists`: `true` if the field is present (even if `null`), `false` if
//!     it is missing;
//!   - `$startsWith` / `$endsWith`: a string that starts / ends with the given
//!     string (case-sensitive); anything else does not match.
//! - **A logical operator** combines filter objects tested against the same
//!   value: `$and` (all of a non-empty array hold), `$or` (at least one of a
//!   non-empty array holds), `$not` (an object that must not hold).
//!
//! An object that mixes comparison operators with field names is an error
//! (`{"$gt": 1, "a": 2}` tests neither clearly); logical operators may stand
//! beside either. Unknown operators are errors. An empty object is an error
//! except as the whole filter, which then matches every body (to require a
//! field, write `{"$exists": true}`).
//!
//! Equality is JSON equality, except that numbers compare by value: `1`
//! equals `1.0`. Integers compare exactly; when a float is involved both
//! sides are compared as 64-bit floats. An array equals an array with equal
//! elements in the same order (a field holding an array is not searched for
//! a single value); objects are equal whatever their key order.
//!
//! A missing field is not `null` (`{"a": null}` requires `a` to be present
//! and null). Of the comparison operators only `$exists: false`, `$neq` and
//! `$nin` hold for a missing field, so a `$not` of any other holds for it.
//!
//! # Limits
//!
//! Every size the client controls is capped: [`MAX_DEPTH`] (16 levels of
//! nested objects and arrays), [`MAX_CONDITIONS`] (256 field names and
//! operators), [`MAX_BYTES`] (16 KiB of compact JSON), [`MAX_LIST_LEN`] (256
//! elements in an `$in`, `$nin`, `$and` or `$or`) and [`MAX_STRING_CHARS`]
//! (1,024 characters in a field name or string operand). A filter is checked
//! once, when it is parsed into a [`Filter`] (also when one is deserialised),
//! so an invalid filter can be neither stored nor evaluated.
//!
//! Parsing and evaluation take time linear in the filter's size and recurse
//! no deeper than [`MAX_DEPTH`]: the depth is checked first, without
//! recursion, so a hostile, arbitrarily deep value is refused, not followed.
//! Evaluation ([`Filter::matches`]) allocates nothing and never looks deeper
//! into the body than the filter itself is deep; a hook without a filter
//! costs nothing. [`Filter::explain`] is for the console and may evaluate a
//! condition more than once.
//!
//! # Errors and explanations
//!
//! A [`FilterError`] names the path of the mistake from `filter`, for
//! example `filter.data.organizationId.$in: must be a non-empty array of
//! values`;
//! keys that are not plain words are written `["data.id"]`, array elements
//! `[0]`. [`Filter::explain`] (the console's "try it") says whether a body
//! matches and, if not, the first condition that failed, for example
//! `data.organizationId is "o3", not one of ["o1","o2"]`.

use std::cmp::Ordering;
use std::io;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};

use crate::AppError;

/// At most this many levels of nested objects and arrays, the filter itself
/// being level 1 (operands included: `{"a": {"$in": [1]}}` has 3).
pub const MAX_DEPTH: usize = 16;
/// At most this many conditions (field names and operators) in a filter.
pub const MAX_CONDITIONS: usize = 256;
/// At most this many bytes of compact JSON.
pub const MAX_BYTES: usize = 16 * 1024;
/// At most this many elements in an `$in`, `$nin`, `$and` or `$or` array.
pub const MAX_LIST_LEN: usize = 256;
/// At most this many characters in a field name or a string operand.
pub const MAX_STRING_CHARS: usize = 1024;

/// The operators a filter may use, as error messages list them.
const OPERATORS: &str = "$eq, $neq, $gt, $gte, $lt, $lte, $in, $nin, $exists, \
                         $startsWith, $endsWith, $and, $or, $not";
/// How much of a value an explanation quotes, in bytes of JSON.
const SHOW_MAX_BYTES: usize = 120;

/// Why a filter was refused: where (from `filter`, e.g.
/// `filter.data.organizationId.$in`) and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct FilterError {
    pub path: String,
    pub message: String,
}

impl From<FilterError> for AppError {
    fn from(error: FilterError) -> Self {
        AppError::invalid("filter", error.to_string())
    }
}

/// A payload filter that passed every rule (see the module documentation):
/// only [`Filter::parse`] and deserialising make one. It serialises as the
/// JSON it was parsed from.
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(
        value_type = Object,
        example = json!({"data": {"organizationId": {"$in": ["o1", "o2"]}}})
    )
)]
#[derive(Debug, Clone)]
pub struct Filter(Parsed);

#[derive(Debug, Clone)]
struct Parsed {
    json: Value,
    root: Vec<Cond>,
}

/// One condition on a value of the body; a list of them must all hold.
#[derive(Debug, Clone)]
enum Cond {
    /// The conditions hold for this field of the value.
    Field(Box<str>, Vec<Cond>),
    Eq(Value),
    Neq(Value),
    /// The operand is a number or a string.
    Cmp(CmpOp, Value),
    In(Vec<Value>),
    Nin(Vec<Value>),
    Exists(bool),
    StartsWith(Box<str>),
    EndsWith(Box<str>),
    And(Vec<Vec<Cond>>),
    Or(Vec<Vec<Cond>>),
    Not(Vec<Cond>),
}

#[derive(Debug, Clone, Copy)]
enum CmpOp {
    Gt,
    Gte,
    Lt,
    Lte,
}

impl CmpOp {
    fn accepts(self, order: Ordering) -> bool {
        match self {
            CmpOp::Gt => order.is_gt(),
            CmpOp::Gte => order.is_ge(),
            CmpOp::Lt => order.is_lt(),
            CmpOp::Lte => order.is_le(),
        }
    }

    fn words(self) -> &'static str {
        match self {
            CmpOp::Gt => "greater than",
            CmpOp::Gte => "at least",
            CmpOp::Lt => "less than",
            CmpOp::Lte => "at most",
        }
    }
}

/// Whether a body matched a filter and, if not, why (the console's "try it").
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub matched: bool,
    /// The first condition that failed, as a sentence naming its path (none
    /// when the body matched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Filter {
    /// Checks `json` against every rule and reads it into a filter.
    pub fn parse(json: &Value) -> Result<Filter, FilterError> {
        let root = check(json)?;
        Ok(Filter(Parsed {
            json: json.clone(),
            root,
        }))
    }

    /// [`Filter::parse`], keeping `json` without copying it.
    pub fn from_json(json: Value) -> Result<Filter, FilterError> {
        let root = check(&json)?;
        Ok(Filter(Parsed { json, root }))
    }

    /// The JSON the filter was parsed from.
    pub fn as_json(&self) -> &Value {
        &self.0.json
    }

    pub fn into_json(self) -> Value {
        self.0.json
    }

    /// Whether `body` matches.
    pub fn matches(&self, body: &Value) -> bool {
        all(&self.0.root, Some(body))
    }

    /// Whether `body` matches and, if not, the first condition that failed.
    pub fn explain(&self, body: &Value) -> Explanation {
        let reason = explain_all(&self.0.root, Some(body), &mut Vec::new());
        Explanation {
            matched: reason.is_none(),
            reason,
        }
    }
}

impl PartialEq for Filter {
    fn eq(&self, other: &Self) -> bool {
        self.0.json == other.0.json
    }
}

impl Eq for Filter {}

impl Serialize for Filter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.json.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Filter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = Value::deserialize(deserializer)?;
        Filter::from_json(json).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------
// Parsing

/// One step of a path in a filter.
#[derive(Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// `filter` followed by `segs`, as error messages name a place.
fn filter_path(segs: &[Seg<'_>]) -> String {
    let mut out = String::from("filter");
    for seg in segs {
        match seg {
            Seg::Key(key) => push_key(&mut out, key, true),
            Seg::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

/// A plain key as `.key` (or `key` first), any other as `["key"]`.
fn push_key(out: &mut String, key: &str, dot: bool) {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '$'));
    if plain {
        if dot {
            out.push('.');
        }
        out.push_str(key);
    } else {
        out.push('[');
        out.push_str(&serde_json::to_string(key).unwrap_or_default());
        out.push(']');
    }
}

/// Every rule, cheapest and most defensive first: the top is an object, the
/// depth (without recursion), the size (now that recursion is bounded), then
/// the structure.
fn check(json: &Value) -> Result<Vec<Cond>, FilterError> {
    let Value::Object(map) = json else {
        return Err(FilterError {
            path: "filter".into(),
            message: "must be a JSON object".into(),
        });
    };
    check_depth(json)?;
    let mut counter = Capped::new(MAX_BYTES);
    if serde_json::to_writer(&mut counter, json).is_err() || counter.truncated {
        return Err(FilterError {
            path: "filter".into(),
            message: format!("must be at most {MAX_BYTES} bytes of JSON"),
        });
    }
    Parser::default().object(map, true)
}

/// Refuses a value nested deeper than [`MAX_DEPTH`], walking it with an
/// explicit stack of at most that many frames.
fn check_depth(json: &Value) -> Result<(), FilterError> {
    enum Frame<'a> {
        Object(serde_json::map::Iter<'a>),
        Array(std::iter::Enumerate<std::slice::Iter<'a, Value>>),
    }
    fn frame(value: &Value) -> Option<Frame<'_>> {
        match value {
            Value::Object(map) => Some(Frame::Object(map.iter())),
            Value::Array(items) => Some(Frame::Array(items.iter().enumerate())),
            _ => None,
        }
    }
    let mut frames: Vec<Frame<'_>> = frame(json).into_iter().collect();
    // segs[i] is how frame i + 1 was entered.
    let mut segs: Vec<Seg<'_>> = Vec::new();
    while let Some(top) = frames.last_mut() {
        let next = match top {
            Frame::Object(entries) => entries.next().map(|(key, value)| (Seg::Key(key), value)),
            Frame::Array(items) => items
                .next()
                .map(|(index, value)| (Seg::Index(index), value)),
        };
        match next {
            None => {
                frames.pop();
                segs.pop();
            }
            Some((seg, value)) => {
                if let Some(inner) = frame(value) {
                    segs.push(seg);
                    if frames.len() >= MAX_DEPTH {
                        return Err(FilterError {
                            path: filter_path(&segs),
                            message: format!(
                                "nests deeper than {MAX_DEPTH} levels of objects and arrays"
                            ),
                        });
                    }
                    frames.push(inner);
                }
            }
        }
    }
    Ok(())
}

#[derive(Default)]
struct Parser<'a> {
    path: Vec<Seg<'a>>,
    conditions: usize,
}

type Parsing<T> = Result<T, FilterError>;

impl<'a> Parser<'a> {
    fn fail<T>(&self, message: impl Into<String>) -> Parsing<T> {
        Err(FilterError {
            path: filter_path(&self.path),
            message: message.into(),
        })
    }

    /// Runs `step` with `seg` appended to the path.
    fn at<T>(&mut self, seg: Seg<'a>, step: impl FnOnce(&mut Self) -> Parsing<T>) -> Parsing<T> {
        self.path.push(seg);
        let result = step(self);
        self.path.pop();
        result
    }

    /// The conditions of a filter object (`top`: the whole filter).
    fn object(&mut self, map: &'a Map<String, Value>, top: bool) -> Parsing<Vec<Cond>> {
        if map.is_empty() && !top {
            return self.fail(
                "an empty object is not a condition (to require a field, use {\"$exists\": true})",
            );
        }
        let field = map.keys().find(|key| !key.starts_with('$'));
        let operator = map
            .keys()
            .find(|key| key.starts_with('$') && !matches!(key.as_str(), "$and" | "$or" | "$not"));
        if let (Some(field), Some(operator)) = (field, operator) {
            return self.fail(format!(
                "mixes the operator `{operator}` with the field `{field}`; \
                 put the field's operators in an object under the field"
            ));
        }
        let mut conds = Vec::with_capacity(map.len());
        for (key, value) in map {
            conds.push(self.at(Seg::Key(key), |parser| parser.entry(key, value))?);
        }
        Ok(conds)
    }

    fn entry(&mut self, key: &'a str, value: &'a Value) -> Parsing<Cond> {
        self.conditions += 1;
        if self.conditions > MAX_CONDITIONS {
            return self.fail(format!(
                "the filter has more than {MAX_CONDITIONS} conditions"
            ));
        }
        if !key.starts_with('$') {
            self.string(key, "a field name")?;
            let conds = match value {
                Value::Object(map) => self.object(map, false)?,
                other => {
                    self.literal(other)?;
                    vec![Cond::Eq(other.clone())]
                }
            };
            return Ok(Cond::Field(key.into(), conds));
        }
        Ok(match key {
            "$eq" | "$neq" => {
                self.literal(value)?;
                if key == "$eq" {
                    Cond::Eq(value.clone())
                } else {
                    Cond::Neq(value.clone())
                }
            }
            "$gt" | "$gte" | "$lt" | "$lte" => {
                match value {
                    Value::Number(_) => {}
                    Value::String(text) => self.string(text, "a string operand")?,
                    _ => return self.fail("must be a number or a string"),
                }
                let op = match key {
                    "$gt" => CmpOp::Gt,
                    "$gte" => CmpOp::Gte,
                    "$lt" => CmpOp::Lt,
                    _ => CmpOp::Lte,
                };
                Cond::Cmp(op, value.clone())
            }
            "$in" | "$nin" => {
                let items = self.list(value, "must be a non-empty array of values")?;
                for (index, item) in items.iter().enumerate() {
                    self.at(Seg::Index(index), |parser| parser.literal(item))?;
                }
                if key == "$in" {
                    Cond::In(items.clone())
                } else {
                    Cond::Nin(items.clone())
                }
            }
            "$exists" => match value {
                Value::Bool(wanted) => Cond::Exists(*wanted),
                _ => return self.fail("must be true or false"),
            },
            "$startsWith" | "$endsWith" => match value {
                Value::String(text) => {
                    self.string(text, "a string operand")?;
                    if key == "$startsWith" {
                        Cond::StartsWith(text.as_str().into())
                    } else {
                        Cond::EndsWith(text.as_str().into())
                    }
                }
                _ => return self.fail("must be a string"),
            },
            "$and" | "$or" => {
                let items = self.list(value, "must be a non-empty array of filter objects")?;
                let mut alternatives = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    alternatives.push(self.at(Seg::Index(index), |parser| match item {
                        Value::Object(map) => parser.object(map, false),
                        _ => parser.fail("must be a filter object"),
                    })?);
                }
                if key == "$and" {
                    Cond::And(alternatives)
                } else {
                    Cond::Or(alternatives)
                }
            }
            "$not" => match value {
                Value::Object(map) => Cond::Not(self.object(map, false)?),
                _ => return self.fail("must be a filter object"),
            },
            unknown => {
                return self.fail(format!(
                    "unknown operator `{unknown}` (the operators are {OPERATORS})"
                ))
            }
        })
    }

    /// A non-empty array of at most [`MAX_LIST_LEN`] elements.
    fn list(&self, value: &'a Value, wrong: &str) -> Parsing<&'a Vec<Value>> {
        match value {
            Value::Array(items) if !items.is_empty() => {
                if items.len() > MAX_LIST_LEN {
                    self.fail(format!("must have at most {MAX_LIST_LEN} elements"))
                } else {
                    Ok(items)
                }
            }
            _ => self.fail(wrong),
        }
    }

    fn string(&self, text: &str, what: &str) -> Parsing<()> {
        if text.chars().count() > MAX_STRING_CHARS {
            return self.fail(format!(
                "{what} must be at most {MAX_STRING_CHARS} characters"
            ));
        }
        Ok(())
    }

    /// A value compared literally: only its strings are checked (its depth
    /// already was).
    fn literal(&mut self, value: &'a Value) -> Parsing<()> {
        match value {
            Value::String(text) => self.string(text, "a string operand"),
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.at(Seg::Index(index), |parser| parser.literal(item))?;
                }
                Ok(())
            }
            Value::Object(map) => {
                for (key, item) in map {
                    self.at(Seg::Key(key), |parser| {
                        parser.string(key, "a key")?;
                        parser.literal(item)
                    })?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------
// Evaluation

/// Whether every condition holds for `value` (`None`: missing).
fn all(conds: &[Cond], value: Option<&Value>) -> bool {
    conds.iter().all(|cond| cond.holds(value))
}

/// The field `key` of `value`, if `value` is an object that has it.
fn field<'v>(value: Option<&'v Value>, key: &str) -> Option<&'v Value> {
    value?.as_object()?.get(key)
}

impl Cond {
    fn holds(&self, value: Option<&Value>) -> bool {
        match self {
            Cond::Field(key, conds) => all(conds, field(value, key)),
            Cond::Eq(operand) => value.is_some_and(|value| json_eq(operand, value)),
            Cond::Neq(operand) => !value.is_some_and(|value| json_eq(operand, value)),
            Cond::Cmp(op, operand) => value
                .and_then(|value| compare(value, operand))
                .is_some_and(|order| op.accepts(order)),
            Cond::In(operands) => value.is_some_and(|value| one_of(operands, value)),
            Cond::Nin(operands) => !value.is_some_and(|value| one_of(operands, value)),
            Cond::Exists(wanted) => value.is_some() == *wanted,
            Cond::StartsWith(prefix) => value
                .and_then(Value::as_str)
                .is_some_and(|text| text.starts_with(&**prefix)),
            Cond::EndsWith(suffix) => value
                .and_then(Value::as_str)
                .is_some_and(|text| text.ends_with(&**suffix)),
            Cond::And(alternatives) => alternatives.iter().all(|conds| all(conds, value)),
            Cond::Or(alternatives) => alternatives.iter().any(|conds| all(conds, value)),
            Cond::Not(conds) => !all(conds, value),
        }
    }
}

fn one_of(operands: &[Value], value: &Value) -> bool {
    operands.iter().any(|operand| json_eq(operand, value))
}

/// JSON equality with numbers compared by value. Recurses only while both
/// sides are containers, so no deeper than the operand (from the filter).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => number_cmp(x, y) == Some(Ordering::Equal),
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .all(|(key, x)| ys.get(key).is_some_and(|y| json_eq(x, y)))
        }
        _ => a == b,
    }
}

/// Numbers with numbers, strings with strings; anything else: no order.
fn compare(value: &Value, operand: &Value) -> Option<Ordering> {
    match (value, operand) {
        (Value::Number(x), Value::Number(y)) => number_cmp(x, y),
        (Value::String(x), Value::String(y)) => Some(x.as_str().cmp(y.as_str())),
        _ => None,
    }
}

/// Integers exactly, anything involving a float as 64-bit floats.
fn number_cmp(x: &Number, y: &Number) -> Option<Ordering> {
    fn integer(n: &Number) -> Option<i128> {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    }
    match (integer(x), integer(y)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => x.as_f64()?.partial_cmp(&y.as_f64()?),
    }
}

// ---------------------------------------------------------------------------
// Explanations

/// The first condition of `conds` that fails for `value`, as a sentence.
/// Agrees with [`all`]: `None` exactly when all hold.
fn explain_all<'f>(
    conds: &'f [Cond],
    value: Option<&Value>,
    path: &mut Vec<&'f str>,
) -> Option<String> {
    conds.iter().find_map(|cond| explain_one(cond, value, path))
}

fn explain_one<'f>(
    cond: &'f Cond,
    value: Option<&Value>,
    path: &mut Vec<&'f str>,
) -> Option<String> {
    if let Cond::Field(key, conds) = cond {
        path.push(key);
        let reason = explain_all(conds, field(value, key), path);
        path.pop();
        return reason;
    }
    if cond.holds(value) {
        return None;
    }
    let at = body_path(path);
    let is = value.map_or_else(|| "missing".to_owned(), show);
    Some(match cond {
        Cond::Field(..) => unreachable!("handled above"),
        Cond::Eq(operand) => format!("{at} is {is}, not {}", show(operand)),
        Cond::Neq(_) => format!("{at} is {is}, which $neq excludes"),
        Cond::Cmp(op, operand) => match value {
            Some(value) if compare(value, operand).is_none() => format!(
                "{at} is {is}, which cannot be compared with {} \
                 (numbers compare with numbers, strings with strings)",
                show(operand)
            ),
            _ => format!("{at} is {is}, not {} {}", op.words(), show(operand)),
        },
        Cond::In(operands) => format!("{at} is {is}, not one of {}", show(operands)),
        Cond::Nin(operands) => format!("{at} is {is}, one of the excluded {}", show(operands)),
        Cond::Exists(true) => format!("{at} is missing"),
        Cond::Exists(false) => format!("{at} is {is}, but must be missing"),
        Cond::StartsWith(prefix) => {
            format!(
                "{at} is {is}, which does not start with {}",
                show(&**prefix)
            )
        }
        Cond::EndsWith(suffix) => {
            format!("{at} is {is}, which does not end with {}", show(&**suffix))
        }
        Cond::And(alternatives) => alternatives
            .iter()
            .find_map(|conds| explain_all(conds, value, path))
            .unwrap_or_default(),
        Cond::Or(alternatives) => {
            let first = alternatives
                .first()
                .and_then(|conds| explain_all(conds, value, path))
                .unwrap_or_default();
            format!(
                "none of the {} $or alternatives matched {at} (the first: {first})",
                alternatives.len()
            )
        }
        Cond::Not(_) => format!("{at} matches the condition under $not"),
    })
}

/// A place in the body, as explanations name it.
fn body_path(path: &[&str]) -> String {
    if path.is_empty() {
        return "the body".to_owned();
    }
    let mut out = String::new();
    for (index, key) in path.iter().enumerate() {
        push_key(&mut out, key, index > 0);
    }
    out
}

/// Compact JSON, cut to [`SHOW_MAX_BYTES`] (which also bounds how deep the
/// serialiser recurses into a body).
fn show<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Capped::new(SHOW_MAX_BYTES);
    let _ = serde_json::to_writer(&mut out, value);
    let text = match std::str::from_utf8(&out.bytes) {
        Ok(text) => text,
        Err(error) => std::str::from_utf8(&out.bytes[..error.valid_up_to()]).unwrap_or_default(),
    };
    if out.truncated {
        format!("{text}…")
    } else {
        text.to_owned()
    }
}

/// A writer that keeps at most `limit` bytes and fails once given more.
struct Capped {
    bytes: Vec<u8>,
    limit: usize,
    truncated: bool,
}

impl Capped {
    fn new(limit: usize) -> Self {
        Self {
            bytes: Vec::new(),
            limit,
            truncated: false,
        }
    }
}

impl io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.limit - self.bytes.len();
        if buf.len() > room {
            self.bytes.extend_from_slice(&buf[..room]);
            self.truncated = true;
            return Err(io::Error::other("limit reached"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ErrorCode;

    fn filter(json: Value) -> Filter {
        Filter::parse(&json).unwrap_or_else(|error| panic!("{json}: {error}"))
    }

    fn error(json: Value) -> FilterError {
        match Filter::parse(&json) {
            Ok(_) => panic!("{json} should be refused"),
            Err(error) => error,
        }
    }

    /// Asserts that `filter` matches each of `yes` and none of `no`, and that
    /// `explain` agrees.
    fn check_cases(filter_json: Value, yes: &[Value], no: &[Value]) {
        let filter = filter(filter_json.clone());
        for body in yes {
            assert!(filter.matches(body), "{filter_json} should match {body}");
            assert_eq!(
                filter.explain(body),
                Explanation {
                    matched: true,
                    reason: None
                }
            );
        }
        for body in no {
            assert!(
                !filter.matches(body),
                "{filter_json} should not match {body}"
            );
            let explanation = filter.explain(body);
            assert!(!explanation.matched);
            assert!(
                explanation.reason.as_deref().is_some_and(|r| !r.is_empty()),
                "{filter_json} on {body}: {explanation:?}"
            );
        }
    }

    fn reason(filter_json: Value, body: Value) -> String {
        filter(filter_json)
            .explain(&body)
            .reason
            .expect("should not match")
    }

    /// Drops a value of any depth without recursing.
    fn dismantle(value: Value) {
        let mut stack = vec![value];
        while let Some(value) = stack.pop() {
            match value {
                Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
                Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
    }

    fn deep_object(depth: usize) -> Value {
        let mut value = json!(1);
        for _ in 0..depth {
            // Not `json!`, which would copy `value` by serialising it.
            value = Value::Object(Map::from_iter([("a".to_owned(), value)]));
        }
        value
    }

    #[test]
    fn the_examples_from_the_issue() {
        check_cases(
            json!({"data": {"organizationId": {"$in": ["o1", "o2"]}}}),
            &[
                json!({"event": "X", "data": {"organizationId": "o1"}}),
                json!({"data": {"organizationId": "o2", "other": 1}}),
            ],
            &[
                json!({"data": {"organizationId": "o3"}}),
                json!({"data": {}}),
                json!({"data": "o1"}),
                json!({"organizationId": "o1"}),
                json!([]),
            ],
        );
        check_cases(
            json!({"event": "PostSignIn", "userIp": {"$startsWith": "10."}}),
            &[json!({"event": "PostSignIn", "userIp": "10.0.0.7"})],
            &[
                json!({"event": "PostSignIn", "userIp": "192.168.0.1"}),
                json!({"event": "PostRegister", "userIp": "10.0.0.7"}),
                json!({"event": "PostSignIn"}),
                json!({"event": "PostSignIn", "userIp": 10}),
            ],
        );
        assert_eq!(
            reason(
                json!({"data": {"organizationId": {"$in": ["o1", "o2"]}}}),
                json!({"data": {"organizationId": "o3"}})
            ),
            r#"data.organizationId is "o3", not one of ["o1","o2"]"#
        );
    }

    #[test]
    fn leaves_mean_equality() {
        check_cases(
            json!({"a": "x", "b": null, "c": true, "d": [1, "two", {"three": 3}]}),
            &[json!({"a": "x", "b": null, "c": true, "d": [1.0, "two", {"three": 3}], "e": 5})],
            &[
                json!({"a": "x", "b": null, "c": true, "d": [1, "two"]}),
                json!({"a": "x", "b": null, "c": true, "d": ["two", 1, {"three": 3}]}),
                json!({"a": "x", "c": true, "d": [1, "two", {"three": 3}]}),
                json!({"a": "X", "b": null, "c": true, "d": [1, "two", {"three": 3}]}),
                json!({"a": "x", "b": null, "c": "true", "d": [1, "two", {"three": 3}]}),
            ],
        );
        // An array field is compared whole, not searched.
        check_cases(
            json!({"tags": "a"}),
            &[json!({"tags": "a"})],
            &[json!({"tags": ["a"]})],
        );
    }

    #[test]
    fn numbers_compare_by_value() {
        check_cases(
            json!({"n": 1}),
            &[json!({"n": 1}), json!({"n": 1.0})],
            &[json!({"n": 1.5}), json!({"n": "1"}), json!({"n": true})],
        );
        check_cases(json!({"n": 1.0}), &[json!({"n": 1})], &[json!({"n": 2})]);
        check_cases(
            json!({"n": {"$in": [2.0, 3]}}),
            &[json!({"n": 2})],
            &[json!({"n": 4})],
        );
        check_cases(json!({"n": -1}), &[json!({"n": -1.0})], &[json!({"n": 1})]);
        // Large integers compare exactly.
        check_cases(
            json!({"n": u64::MAX}),
            &[json!({"n": u64::MAX})],
            &[json!({"n": u64::MAX - 1}), json!({"n": -1})],
        );
        check_cases(
            json!({"n": {"$gt": i64::MAX}}),
            &[json!({"n": u64::MAX})],
            &[json!({"n": i64::MAX}), json!({"n": i64::MIN})],
        );
        // Objects are equal whatever their key order, numbers inside by value.
        check_cases(
            json!({"o": {"$eq": {"x": 1, "y": 2}}}),
            &[json!({"o": {"y": 2.0, "x": 1}})],
            &[
                json!({"o": {"x": 1}}),
                json!({"o": {"x": 1, "y": 2, "z": 3}}),
            ],
        );
    }

    #[test]
    fn eq_and_neq() {
        check_cases(
            json!({"a": {"$eq": "x"}}),
            &[json!({"a": "x"})],
            &[json!({"a": "y"}), json!({})],
        );
        // An object after $eq is literal, not a filter.
        check_cases(
            json!({"a": {"$eq": {"$gt": 1}}}),
            &[json!({"a": {"$gt": 1}})],
            &[json!({"a": 2})],
        );
        check_cases(
            json!({"a": {"$neq": "x"}}),
            &[json!({"a": "y"}), json!({"a": null}), json!({})],
            &[json!({"a": "x"})],
        );
        check_cases(
            json!({"a": {"$eq": null}}),
            &[json!({"a": null})],
            &[json!({}), json!({"a": 0})],
        );
    }

    #[test]
    fn ordering_operators() {
        let numbers = [json!({"n": 1}), json!({"n": 2}), json!({"n": 3})];
        let cases = [
            ("$gt", &[2][..]),
            ("$gte", &[1, 2][..]),
            ("$lt", &[0][..]),
            ("$lte", &[0, 1][..]),
        ];
        for (op, matching) in cases {
            let filter = filter(json!({"n": {op: 2}}));
            for (index, body) in numbers.iter().enumerate() {
                assert_eq!(
                    filter.matches(body),
                    matching.contains(&index),
                    "{op} {body}"
                );
            }
        }
        check_cases(
            json!({"n": {"$gt": 1.5, "$lt": 2.5}}),
            &[json!({"n": 2}), json!({"n": 1.6})],
            &[json!({"n": 1}), json!({"n": 2.5}), json!({"n": 3})],
        );
        check_cases(
            json!({"s": {"$gte": "b", "$lt": "c"}}),
            &[json!({"s": "b"}), json!({"s": "bzz"})],
            &[json!({"s": "a"}), json!({"s": "c"}), json!({"s": "B"})],
        );
    }

    #[test]
    fn ordering_across_types_never_matches() {
        for op in ["$gt", "$gte", "$lt", "$lte"] {
            check_cases(
                json!({"v": {op: 5}}),
                &[],
                &[
                    json!({"v": "5"}),
                    json!({"v": "9"}),
                    json!({"v": null}),
                    json!({"v": true}),
                    json!({"v": [5]}),
                    json!({"v": {"x": 5}}),
                    json!({}),
                ],
            );
            check_cases(
                json!({"v": {op: "m"}}),
                &[],
                &[json!({"v": 5}), json!({"v": ["m"]}), json!({})],
            );
        }
        // So its negation matches.
        check_cases(
            json!({"v": {"$not": {"$gt": 5}}}),
            &[json!({"v": "9"})],
            &[],
        );
        assert_eq!(
            reason(json!({"v": {"$gt": 5}}), json!({"v": "9"})),
            r#"v is "9", which cannot be compared with 5 (numbers compare with numbers, strings with strings)"#
        );
    }

    #[test]
    fn in_and_nin() {
        check_cases(
            json!({"a": {"$in": ["x", 2, null, [1]]}}),
            &[
                json!({"a": "x"}),
                json!({"a": 2.0}),
                json!({"a": null}),
                json!({"a": [1]}),
            ],
            &[
                json!({"a": "y"}),
                json!({"a": 1}),
                json!({}),
                json!({"a": ["x"]}),
            ],
        );
        check_cases(
            json!({"a": {"$nin": ["x", 2]}}),
            &[json!({"a": "y"}), json!({"a": 3}), json!({})],
            &[json!({"a": "x"}), json!({"a": 2.0})],
        );
    }

    #[test]
    fn exists() {
        check_cases(
            json!({"a": {"$exists": true}}),
            &[json!({"a": null}), json!({"a": 0}), json!({"a": {}})],
            &[json!({}), json!({"b": 1}), json!("a")],
        );
        check_cases(
            json!({"a": {"$exists": false}}),
            &[json!({}), json!({"b": 1}), json!(7)],
            &[json!({"a": null}), json!({"a": false})],
        );
        // A field of a non-object is missing.
        check_cases(
            json!({"a": {"b": {"$exists": false}}}),
            &[json!({"a": 1}), json!({"a": [{"b": 1}]}), json!({})],
            &[json!({"a": {"b": 1}})],
        );
    }

    #[test]
    fn starts_and_ends_with() {
        check_cases(
            json!({"s": {"$startsWith": "ab"}}),
            &[json!({"s": "ab"}), json!({"s": "abc"})],
            &[
                json!({"s": "xab"}),
                json!({"s": "Ab"}),
                json!({"s": ["ab"]}),
                json!({}),
            ],
        );
        check_cases(
            json!({"s": {"$endsWith": "@example.com"}}),
            &[json!({"s": "a@example.com"})],
            &[json!({"s": "a@example.org"}), json!({"s": 5}), json!({})],
        );
        check_cases(
            json!({"s": {"$startsWith": ""}}),
            &[json!({"s": ""}), json!({"s": "x"})],
            &[json!({"s": 1})],
        );
        check_cases(
            json!({"s": {"$startsWith": "é"}}),
            &[json!({"s": "été"})],
            &[json!({"s": "e"})],
        );
    }

    #[test]
    fn nesting_and_literal_dotted_keys() {
        check_cases(
            json!({"a": {"b": {"c": {"$gte": 3}, "d": "x"}}, "e": 1}),
            &[json!({"a": {"b": {"c": 3, "d": "x"}}, "e": 1})],
            &[
                json!({"a": {"b": {"c": 2, "d": "x"}}, "e": 1}),
                json!({"a": {"b": {"c": 3, "d": "x"}}, "e": 2}),
                json!({"a": {"b": {"c": 3}}, "e": 1}),
                json!({"a": {"c": 3, "d": "x"}, "e": 1}),
            ],
        );
        check_cases(
            json!({"data.id": "x"}),
            &[json!({"data.id": "x"})],
            &[json!({"data": {"id": "x"}})],
        );
    }

    #[test]
    fn and_or_not() {
        check_cases(
            json!({"$or": [{"event": "A"}, {"event": "B", "n": {"$gt": 1}}]}),
            &[json!({"event": "A"}), json!({"event": "B", "n": 2})],
            &[
                json!({"event": "B", "n": 1}),
                json!({"event": "C"}),
                json!({}),
            ],
        );
        check_cases(
            json!({"n": {"$and": [{"$gt": 1}, {"$lt": 5}, {"$neq": 3}]}}),
            &[json!({"n": 2}), json!({"n": 4})],
            &[json!({"n": 1}), json!({"n": 3}), json!({"n": 5}), json!({})],
        );
        check_cases(
            json!({"event": "A", "$not": {"data": {"kind": "test"}}}),
            &[
                json!({"event": "A", "data": {"kind": "live"}}),
                json!({"event": "A"}),
            ],
            &[
                json!({"event": "A", "data": {"kind": "test"}}),
                json!({"event": "B"}),
            ],
        );
        // At a field level, beside nested fields and beside operators.
        check_cases(
            json!({"data": {"$or": [{"a": 1}, {"b": 2}], "c": 3}}),
            &[
                json!({"data": {"a": 1, "c": 3}}),
                json!({"data": {"b": 2, "c": 3}}),
            ],
            &[json!({"data": {"a": 2, "c": 3}}), json!({"data": {"a": 1}})],
        );
        check_cases(
            json!({"s": {"$startsWith": "a", "$not": {"$endsWith": "z"}}}),
            &[json!({"s": "abc"})],
            &[json!({"s": "abz"}), json!({"s": "xbc"})],
        );
        // Nested logic.
        check_cases(
            json!({"$and": [{"$or": [{"a": 1}, {"a": 2}]}, {"$not": {"$or": [{"b": 1}, {"b": 2}]}}]}),
            &[json!({"a": 1}), json!({"a": 2, "b": 3})],
            &[json!({"a": 1, "b": 2}), json!({"a": 3})],
        );
    }

    #[test]
    fn missing_fields() {
        let body = json!({"present": 1});
        let matching = [
            json!({"gone": {"$exists": false}}),
            json!({"gone": {"$neq": 1}}),
            json!({"gone": {"$nin": [1]}}),
            json!({"gone": {"$not": {"$eq": 1}}}),
            json!({"gone": {"$not": {"$gt": 0}}}),
            json!({"gone": {"x": {"$exists": false}}}),
        ];
        let failing = [
            json!({"gone": null}),
            json!({"gone": {"$eq": null}}),
            json!({"gone": {"$exists": true}}),
            json!({"gone": {"$in": [null]}}),
            json!({"gone": {"$gt": 0}}),
            json!({"gone": {"$lte": "z"}}),
            json!({"gone": {"$startsWith": ""}}),
            json!({"gone": {"$endsWith": ""}}),
            json!({"gone": {"$not": {"$exists": false}}}),
            json!({"gone": {"x": 1}}),
        ];
        for json in matching {
            check_cases(json, std::slice::from_ref(&body), &[]);
        }
        for json in failing {
            check_cases(json, &[], std::slice::from_ref(&body));
        }
    }

    #[test]
    fn top_level_operators_apply_to_the_body() {
        check_cases(json!({}), &[json!({}), json!(5), json!({"a": 1})], &[]);
        check_cases(json!({"$eq": 5}), &[json!(5)], &[json!({"a": 5})]);
    }

    #[test]
    fn parse_errors_name_their_path() {
        let cases = [
            (json!([]), "filter", "must be a JSON object"),
            (json!("x"), "filter", "must be a JSON object"),
            (
                json!({"a": {}}),
                "filter.a",
                "an empty object is not a condition",
            ),
            (
                json!({"a": {"$gt": 1, "b": 2}}),
                "filter.a",
                "mixes the operator `$gt` with the field `b`",
            ),
            (
                json!({"$in": [1], "b": 2}),
                "filter",
                "mixes the operator `$in`",
            ),
            (
                json!({"data": {"organizationId": {"$in": "o1"}}}),
                "filter.data.organizationId.$in",
                "must be a non-empty array of values",
            ),
            (
                json!({"a": {"$in": []}}),
                "filter.a.$in",
                "must be a non-empty array of values",
            ),
            (
                json!({"a": {"$nin": {}}}),
                "filter.a.$nin",
                "must be a non-empty array of values",
            ),
            (
                json!({"a": {"$gt": true}}),
                "filter.a.$gt",
                "must be a number or a string",
            ),
            (
                json!({"a": {"$gte": null}}),
                "filter.a.$gte",
                "must be a number or a string",
            ),
            (
                json!({"a": {"$lt": [1]}}),
                "filter.a.$lt",
                "must be a number or a string",
            ),
            (
                json!({"a": {"$lte": {"x": 1}}}),
                "filter.a.$lte",
                "must be a number or a string",
            ),
            (
                json!({"a": {"$exists": "yes"}}),
                "filter.a.$exists",
                "must be true or false",
            ),
            (
                json!({"a": {"$startsWith": 1}}),
                "filter.a.$startsWith",
                "must be a string",
            ),
            (
                json!({"a": {"$endsWith": null}}),
                "filter.a.$endsWith",
                "must be a string",
            ),
            (
                json!({"$and": []}),
                "filter.$and",
                "must be a non-empty array of filter objects",
            ),
            (
                json!({"$or": {"a": 1}}),
                "filter.$or",
                "must be a non-empty array of filter objects",
            ),
            (
                json!({"$or": [{"a": 1}, 2]}),
                "filter.$or[1]",
                "must be a filter object",
            ),
            (
                json!({"$and": [{}]}),
                "filter.$and[0]",
                "an empty object is not a condition",
            ),
            (
                json!({"$or": [{"a": {"$regex": "x"}}]}),
                "filter.$or[0].a.$regex",
                "unknown operator `$regex`",
            ),
            (
                json!({"$not": [1]}),
                "filter.$not",
                "must be a filter object",
            ),
            (
                json!({"$not": {"a": {"$bad": 1}}}),
                "filter.$not.a.$bad",
                "unknown operator `$bad`",
            ),
            (
                json!({"a.b": {"$nope": 1}}),
                r#"filter["a.b"].$nope"#,
                "unknown operator",
            ),
            (
                json!({"$where": "1"}),
                "filter.$where",
                "unknown operator `$where`",
            ),
        ];
        for (json, path, message) in cases {
            let error = error(json.clone());
            assert_eq!(error.path, path, "{json}: {error}");
            assert!(error.message.contains(message), "{json}: {error}");
        }
    }

    #[test]
    fn an_error_becomes_an_invalid_filter_field() {
        let app: AppError = error(json!({"a": {"$in": 1}})).into();
        assert_eq!(app.code, ErrorCode::InvalidInput);
        assert_eq!(app.field.as_deref(), Some("filter"));
        assert_eq!(
            app.message,
            "filter.a.$in: must be a non-empty array of values"
        );
    }

    #[test]
    fn depth_is_capped() {
        // MAX_DEPTH levels (the innermost object holds a scalar) is fine.
        let at_limit = deep_object(MAX_DEPTH);
        let filter = filter(at_limit.clone());
        assert!(filter.matches(&at_limit));
        let over = error(deep_object(MAX_DEPTH + 1));
        assert_eq!(over.path, format!("filter{}", ".a".repeat(MAX_DEPTH)));
        assert!(over.message.contains("deeper than 16"));
        // Operands count too: 2 levels of filter, 14 of arrays.
        let mut operand = json!(1);
        for _ in 0..MAX_DEPTH - 2 {
            operand = json!([operand]);
        }
        assert!(Filter::parse(&json!({"a": {"$eq": operand.clone()}})).is_ok());
        assert!(Filter::parse(&json!({"a": operand.clone()})).is_ok());
        let over = error(json!({"a": {"$eq": [operand]}}));
        assert_eq!(
            over.path,
            format!("filter.a.$eq{}", "[0]".repeat(MAX_DEPTH - 2))
        );
    }

    #[test]
    fn hostile_depth_is_refused_without_recursing() {
        // Deep values are only borrowed and then taken apart by `dismantle`:
        // dropping (or cloning) them the ordinary way would itself recurse.
        let hostile = deep_object(100_001);
        let refused = Filter::parse(&hostile).unwrap_err();
        assert_eq!(refused.path, format!("filter{}", ".a".repeat(MAX_DEPTH)));
        let mut arrays = json!(null);
        for _ in 0..100_000 {
            arrays = Value::Array(vec![arrays]);
        }
        let mut wrapped = json!({"a": {"$in": []}});
        wrapped["a"]["$in"] = Value::Array(vec![arrays]);
        let refused = Filter::parse(&wrapped).unwrap_err();
        assert!(refused.path.starts_with("filter.a.$in[0]"), "{refused}");
        assert!(refused.message.contains("deeper than 16"));

        // Evaluating a shallow filter against a hostile body looks no deeper
        // than the filter does.
        for json in [
            json!({"a": {"$eq": {"a": {"a": 1}}}}),
            json!({"a": {"$neq": {"a": {"a": 1}}}}),
            json!({"a": {"$in": [1, {"a": [1]}]}}),
            json!({"a": {"a": {"a": {"$exists": true}}}}),
            json!({"a": {"a": 2}}),
            json!({"a": {"$gt": 1}}),
        ] {
            let filter = filter(json);
            assert!(!filter.matches(&hostile) || filter.explain(&hostile).matched);
            let explanation = filter.explain(&hostile);
            assert_eq!(explanation.matched, filter.matches(&hostile));
            if let Some(reason) = explanation.reason {
                assert!(reason.len() < 400, "{reason}");
            }
        }
        let reason = filter(json!({"a": {"a": 2}}))
            .explain(&hostile)
            .reason
            .unwrap();
        assert!(
            reason.starts_with(r#"a.a is {"a":{"a":"#) && reason.contains('…'),
            "{reason}"
        );
        dismantle(hostile);
        dismantle(wrapped);

        // Text deeper than serde_json's own limit never becomes a filter.
        let text = format!("{}1{}", "[".repeat(1000), "]".repeat(1000));
        assert!(serde_json::from_str::<Filter>(&format!(r#"{{"a": {text}}}"#)).is_err());
    }

    #[test]
    fn conditions_are_capped() {
        let mut map = Map::new();
        for index in 0..MAX_CONDITIONS {
            map.insert(format!("f{index}"), json!(index));
        }
        assert!(Filter::parse(&Value::Object(map.clone())).is_ok());
        map.insert("last".into(), json!(0));
        let over = error(Value::Object(map));
        assert_eq!(over.path, "filter.last");
        assert!(over.message.contains("more than 256 conditions"));
        // Operators and nested fields count as well.
        let items: Vec<Value> = (0..MAX_CONDITIONS / 2)
            .map(|index| json!({"a": {"$eq": index}}))
            .collect();
        let over = error(json!({"$or": items}));
        assert!(over.message.contains("conditions"), "{over}");
    }

    #[test]
    fn lists_are_capped() {
        let items: Vec<Value> = (0..MAX_LIST_LEN).map(|index| json!(index)).collect();
        assert!(Filter::parse(&json!({"a": {"$in": items.clone()}})).is_ok());
        let mut more = items;
        more.push(json!(-1));
        let over = error(json!({"a": {"$nin": more}}));
        assert_eq!(over.path, "filter.a.$nin");
        assert!(over.message.contains("at most 256 elements"));
        let alternatives: Vec<Value> = (0..=MAX_LIST_LEN)
            .map(|_| json!({"$exists": true}))
            .collect();
        let over = error(json!({"$or": alternatives}));
        assert_eq!(over.path, "filter.$or");
    }

    #[test]
    fn strings_are_capped() {
        let long = "x".repeat(MAX_STRING_CHARS);
        let longer = "é".repeat(MAX_STRING_CHARS + 1);
        assert!(Filter::parse(&json!({"a": {"$startsWith": long.clone()}})).is_ok());
        assert!(Filter::parse(&json!({ long.clone(): 1 })).is_ok());
        for (json, path) in [
            (
                json!({"a": {"$startsWith": longer.clone()}}),
                "filter.a.$startsWith",
            ),
            (
                json!({"a": {"$endsWith": longer.clone()}}),
                "filter.a.$endsWith",
            ),
            (json!({"a": {"$gt": longer.clone()}}), "filter.a.$gt"),
            (json!({"a": longer.clone()}), "filter.a"),
            (
                json!({"a": {"$in": ["ok", longer.clone()]}}),
                "filter.a.$in[1]",
            ),
            (
                json!({"a": {"$eq": {"k": [longer.clone()]}}}),
                "filter.a.$eq.k[0]",
            ),
        ] {
            let over = error(json);
            assert_eq!(over.path, path);
            assert!(over.message.contains("at most 1024 characters"), "{over}");
        }
        let over = error(json!({ longer.clone(): 1 }));
        assert!(over.message.contains("a field name"), "{over}");
    }

    #[test]
    fn size_is_capped() {
        let big: Vec<Value> = (0..MAX_LIST_LEN).map(|_| json!("y".repeat(100))).collect();
        let over = error(json!({"a": {"$in": big}}));
        assert_eq!(over.path, "filter");
        assert!(over.message.contains("16384 bytes"));
        // A filter just under the cap is fine.
        let mut fits = json!({"a": ""});
        let room = MAX_BYTES - serde_json::to_string(&fits).unwrap().len();
        fits["a"] = json!("y".repeat(room.min(MAX_STRING_CHARS)));
        assert!(Filter::parse(&fits).is_ok());
    }

    #[test]
    fn round_trips_as_its_json() {
        let json = json!({
            "event": "PostSignIn",
            "data": {"organizationId": {"$in": ["o1", "o2"]}},
            "$or": [{"n": {"$gte": 1.5}}, {"$not": {"s": {"$endsWith": "z"}}}]
        });
        let filter = filter(json.clone());
        assert_eq!(filter.as_json(), &json);
        let text = serde_json::to_string(&filter).unwrap();
        assert_eq!(text, serde_json::to_string(&json).unwrap());
        let back: Filter = serde_json::from_str(&text).unwrap();
        assert_eq!(back, filter);
        assert_eq!(back.into_json(), json);
        assert_eq!(Filter::from_json(json.clone()).unwrap(), filter);
        // An invalid stored filter cannot be read back.
        let refused = serde_json::from_str::<Filter>(r#"{"a": {"$in": 1}}"#).unwrap_err();
        assert!(
            refused.to_string().contains("filter.a.$in: must be"),
            "{refused}"
        );
        assert!(serde_json::from_str::<Filter>("[1]").is_err());
        // Inside another type, as an optional field.
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Hook {
            filter: Option<Filter>,
        }
        let hook: Hook = serde_json::from_value(json!({"filter": {"a": 1}})).unwrap();
        assert_eq!(hook.filter.as_ref().unwrap().as_json(), &json!({"a": 1}));
        assert_eq!(
            serde_json::to_value(&hook).unwrap(),
            json!({"filter": {"a": 1}})
        );
    }

    #[test]
    fn explanations() {
        let cases = [
            (json!({"a": "x"}), json!({"a": "y"}), r#"a is "y", not "x""#),
            (json!({"a": "x"}), json!({}), r#"a is missing, not "x""#),
            (
                json!({"a": {"b": 1}}),
                json!({"a": 5}),
                "a.b is missing, not 1",
            ),
            (
                json!({"a": {"$neq": 1}}),
                json!({"a": 1.0}),
                "a is 1.0, which $neq excludes",
            ),
            (
                json!({"a": {"$gt": 5}}),
                json!({"a": 5}),
                "a is 5, not greater than 5",
            ),
            (
                json!({"a": {"$gte": 5}}),
                json!({"a": 4}),
                "a is 4, not at least 5",
            ),
            (
                json!({"a": {"$lt": 5}}),
                json!({}),
                "a is missing, not less than 5",
            ),
            (
                json!({"a": {"$lte": "m"}}),
                json!({"a": "z"}),
                r#"a is "z", not at most "m""#,
            ),
            (
                json!({"a": {"$nin": [1, 2]}}),
                json!({"a": 2}),
                "a is 2, one of the excluded [1,2]",
            ),
            (json!({"a": {"$exists": true}}), json!({}), "a is missing"),
            (
                json!({"a": {"$exists": false}}),
                json!({"a": null}),
                "a is null, but must be missing",
            ),
            (
                json!({"ip": {"$startsWith": "10."}}),
                json!({"ip": "1.2.3.4"}),
                r#"ip is "1.2.3.4", which does not start with "10.""#,
            ),
            (
                json!({"m": {"$endsWith": ".com"}}),
                json!({"m": 3}),
                r#"m is 3, which does not end with ".com""#,
            ),
            (
                json!({"$and": [{"a": 1}, {"b": 2}]}),
                json!({"a": 1, "b": 3}),
                "b is 3, not 2",
            ),
            (
                json!({"$or": [{"a": 1}, {"b": 2}]}),
                json!({"a": 0}),
                "none of the 2 $or alternatives matched the body (the first: a is 0, not 1)",
            ),
            (
                json!({"d": {"$or": [{"$eq": 1}, {"$eq": 2}]}}),
                json!({"d": 3}),
                "none of the 2 $or alternatives matched d (the first: d is 3, not 1)",
            ),
            (
                json!({"a": {"$not": {"$eq": 1}}}),
                json!({"a": 1}),
                "a matches the condition under $not",
            ),
            (
                json!({"data.id": 1}),
                json!({"data.id": 2}),
                r#"["data.id"] is 2, not 1"#,
            ),
            (
                json!({"x": {"data.id": 1}}),
                json!({"x": {}}),
                r#"x["data.id"] is missing, not 1"#,
            ),
            (json!({"$eq": 1}), json!({}), "the body is {}, not 1"),
        ];
        for (filter_json, body, expected) in cases {
            assert_eq!(reason(filter_json, body), expected);
        }
        // The first failing condition, in the filter's order.
        assert_eq!(
            reason(json!({"b": 2, "a": 1}), json!({"a": 0, "b": 0})),
            "b is 0, not 2"
        );
        // Long values are cut.
        let long = reason(json!({"a": 1}), json!({"a": "z".repeat(500)}));
        assert!(long.contains('…') && long.len() < 200, "{long}");
        assert!(filter(json!({"a": 1})).explain(&json!({"a": 1})).matched);
    }

    #[test]
    fn explanation_serialises() {
        let explanation = filter(json!({"a": 1})).explain(&json!({"a": 2}));
        assert_eq!(
            serde_json::to_value(&explanation).unwrap(),
            json!({"matched": false, "reason": "a is 2, not 1"})
        );
        let matched = filter(json!({"a": 1})).explain(&json!({"a": 1}));
        assert_eq!(
            serde_json::to_value(&matched).unwrap(),
            json!({"matched": true})
        );
    }

    #[cfg(feature = "openapi")]
    #[test]
    fn its_schema_is_any_object() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(Filter::schema()).unwrap();
        assert_eq!(schema["type"], "object", "{schema}");
        assert!(schema.get("properties").is_none(), "{schema}");
    }
}
