//! The body of `POST /api/events`, parsed once into a type that can only hold
//! an event Hookline can store, deliver and read back.
//!
//! Valid JSON text can still carry values that no JSON parser downstream can
//! take: nesting deeper than serde_json reads (128 levels), a number too
//! large for an f64 (`1e999999`), a string with a lone UTF-16 surrogate
//! (`"\ud800"`). Ingestion keeps the producer's fields as raw text, so such
//! values used to be stored and delivered, and then failed when they were read
//! back (`"payload": null`) or checked against a schema (a 500).
//! `EventBody::parse` refuses them up front, naming the value at fault.

use std::cell::RefCell;
use std::fmt;

use domain::delivery::EVENT_BODY_LIMIT;
use domain::{AppError, ErrorCode};
use indexmap::IndexMap;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// How deeply an event's JSON may nest, counting the body's own object as
/// level 1: `{"a":{"b":[1]}}` has 3 levels. A deeper event is refused (400
/// `invalid_input`). The limit sits well under serde_json's own (128), so
/// every stored event can be read back and checked against a schema.
pub const MAX_EVENT_DEPTH: usize = 64;

/// The fields Hookline sets in every body; a producer may not.
const RESERVED_FIELDS: [&str; 2] = ["hookId", "createdAt"];

/// What a body's `hookId` and `createdAt` mean: a producer's mistake, or the
/// calling system's own (a Logto webhook's), which Hookline replaces.
#[derive(Debug, Clone, Copy)]
enum Reserved {
    Refused,
    Dropped,
}

/// An event as ingestion accepts it: its type's name and the producer's other
/// top-level fields. Made only by [`EventBody::parse`], so it nests at most
/// [`MAX_EVENT_DEPTH`] levels, every number fits an f64 and every string is
/// valid Unicode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBody {
    name: String,
    fields: String,
}

impl EventBody {
    /// Reads `{event, ...fields}`. Whether the name is a known type is the
    /// service's to check.
    pub fn parse(body: &[u8]) -> Result<EventBody, AppError> {
        Self::read(body, Reserved::Refused)
    }

    /// Reads a Logto webhook's body, `{hookId, event, createdAt, ...}`:
    /// Logto's own `hookId` and `createdAt` are dropped (Hookline's body sets
    /// its own), every other field kept as sent.
    pub fn parse_logto(body: &[u8]) -> Result<EventBody, AppError> {
        Self::read(body, Reserved::Dropped)
    }

    fn read(body: &[u8], reserved: Reserved) -> Result<EventBody, AppError> {
        if body.len() > EVENT_BODY_LIMIT {
            return Err(AppError::new(
                ErrorCode::PayloadTooLarge,
                format!("an event may be at most {} KiB", EVENT_BODY_LIMIT / 1024),
            ));
        }
        check_values(body)?;
        let mut fields: IndexMap<String, Box<RawValue>> =
            serde_json::from_slice(body).map_err(not_an_object)?;
        let name = fields
            .shift_remove("event")
            .ok_or_else(|| AppError::invalid("event", "`event` is required"))?;
        let name: String = serde_json::from_str(name.get())
            .map_err(|_| AppError::invalid("event", "`event` must be a string"))?;
        match reserved {
            Reserved::Refused => {
                if let Some(field) = RESERVED_FIELDS.iter().find(|f| fields.contains_key(**f)) {
                    return Err(AppError::invalid(
                        field,
                        format!("`{field}` is set by Hookline and may not be sent"),
                    ));
                }
            }
            Reserved::Dropped => {
                for field in RESERVED_FIELDS {
                    fields.shift_remove(field);
                }
            }
        }
        // Each value is written back exactly as it was sent: receivers get the
        // producer's fields unchanged.
        let fields = serde_json::to_string(&fields).map_err(|err| {
            tracing::error!(error = %err, "an event's fields could not be written back");
            AppError::internal()
        })?;
        Ok(EventBody { name, fields })
    }

    /// The event type's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The producer's fields as the `events` table keeps them: a JSON object,
    /// each value byte for byte as sent.
    pub fn fields(&self) -> &str {
        &self.fields
    }

    /// The producer's fields as a JSON value, for a schema to check.
    pub fn fields_value(&self) -> Result<serde_json::Value, AppError> {
        // `parse` made sure serde_json reads every value.
        serde_json::from_str(&self.fields).map_err(|err| {
            tracing::error!(error = %err, "a parsed event's fields could not be read");
            AppError::internal()
        })
    }
}

fn not_an_object(err: serde_json::Error) -> AppError {
    AppError::invalid("body", format!("the body must be a JSON object: {err}"))
}

/// Reads every value of `body` once, as serde_json would, and refuses the
/// first that is too deep, a number out of range or a string with a lone
/// surrogate; `field` is its JSON Pointer. Other faults are syntax errors.
fn check_values(body: &[u8]) -> Result<(), AppError> {
    let walk = RefCell::new(Walk::default());
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let read = Node(&walk)
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    match read {
        Ok(()) => Ok(()),
        Err(err) => Err(walk
            .into_inner()
            .problem
            .unwrap_or_else(|| not_an_object(err))),
    }
}

/// Where the check is in the body, and the first problem it found.
#[derive(Default)]
struct Walk {
    /// Where the value being read is: keys and indexes from the top.
    path: Vec<Step>,
    /// How many arrays and objects enclose the value being read.
    depth: usize,
    problem: Option<AppError>,
}

/// One step down into the body.
enum Step {
    Key(String),
    Index(usize),
}

impl Walk {
    /// The current path as a JSON Pointer (RFC 6901), `/` for the top.
    fn pointer(&self) -> String {
        if self.path.is_empty() {
            return "/".to_owned();
        }
        let mut pointer = String::new();
        for step in &self.path {
            pointer.push('/');
            match step {
                // `~` and `/` are escaped in a pointer's tokens.
                Step::Key(key) => pointer.push_str(&key.replace('~', "~0").replace('/', "~1")),
                Step::Index(index) => pointer.push_str(&index.to_string()),
            }
        }
        pointer
    }

    /// Records the first problem, at the current path.
    fn found(&mut self, message: impl FnOnce(&str) -> String) {
        if self.problem.is_none() {
            let at = self.pointer();
            self.problem = Some(AppError::invalid(&at, message(&at)));
        }
    }

    /// Names what serde_json refused at the current path, if it is a value
    /// that well-formed JSON text can carry but that cannot be read; anything
    /// else is a syntax error, reported as such.
    fn refused(&mut self, error: &str, in_key: bool) {
        let what = if in_key {
            "a key of the object"
        } else {
            "the string"
        };
        if error.starts_with("number out of range") && !in_key {
            self.found(|at| {
                format!("the number at {at} is out of range: it does not fit a 64-bit float")
            });
        } else if error.starts_with("lone leading surrogate")
            || error.starts_with("unexpected end of hex escape")
        {
            self.found(|at| {
                format!(
                    "{what} at {at} has a lone surrogate: a \\uD800-\\uDFFF escape must be \
                     one of a high-low pair"
                )
            });
        }
    }
}

/// One JSON value being checked; as a seed it reads the next value, as a
/// visitor it checks what serde_json read.
#[derive(Clone, Copy)]
struct Node<'w>(&'w RefCell<Walk>);

impl Node<'_> {
    fn enter<E: de::Error>(self) -> Result<(), E> {
        let mut walk = self.0.borrow_mut();
        walk.depth += 1;
        if walk.depth > MAX_EVENT_DEPTH {
            walk.found(|at| {
                format!("the event nests deeper than {MAX_EVENT_DEPTH} levels at {at}")
            });
            return Err(E::custom("nested too deeply"));
        }
        Ok(())
    }

    fn leave(self) {
        self.0.borrow_mut().depth -= 1;
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer
            .deserialize_any(self)
            .inspect_err(|err| self.0.borrow_mut().refused(&err.to_string(), false))
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<(), E> {
        if value.is_finite() {
            return Ok(());
        }
        // serde_json refuses such numbers itself; this is only a backstop.
        self.0.borrow_mut().refused("number out of range", false);
        Err(E::custom("number out of range"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.enter()?;
        for index in 0usize.. {
            self.0.borrow_mut().path.push(Step::Index(index));
            let next = seq.next_element_seed(self);
            self.0.borrow_mut().path.pop();
            if next?.is_none() {
                break;
            }
        }
        self.leave();
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.enter()?;
        loop {
            let key = map
                .next_key::<String>()
                .inspect_err(|err| self.0.borrow_mut().refused(&err.to_string(), true))?;
            let Some(key) = key else { break };
            self.0.borrow_mut().path.push(Step::Key(key));
            let value = map.next_value_seed(self);
            self.0.borrow_mut().path.pop();
            value?;
        }
        self.leave();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(body: &str) -> AppError {
        EventBody::parse(body.as_bytes()).expect_err(body)
    }

    fn nested(levels: usize) -> String {
        // The body's object is level 1; each array adds one.
        let inner = levels - 1;
        format!(
            r#"{{"event":"User.Created","data":{}1{}}}"#,
            "[".repeat(inner),
            "]".repeat(inner)
        )
    }

    #[test]
    fn a_logto_body_loses_logtos_own_hook_id_and_time_and_keeps_the_rest() {
        let body = br#"{"hookId":"logto-hook","event":"PostSignIn","createdAt":"2026-12-02T10:00:00.000Z","sessionId":"s1","user":{"id":"u1"}}"#;
        let event = EventBody::parse_logto(body).unwrap();
        assert_eq!(event.name(), "PostSignIn");
        assert_eq!(event.fields(), r#"{"sessionId":"s1","user":{"id":"u1"}}"#);
        // From a producer, the same fields are a mistake.
        assert!(EventBody::parse(body).is_err());
    }

    #[test]
    fn fields_keep_their_bytes() {
        let event = EventBody::parse(
            br#"{"a": 1.50, "event":"User.Created", "b" : {"x" :[1, 2E0], "s":"\u00e9\ud83d\ude00"}}"#,
        )
        .unwrap();
        assert_eq!(event.name(), "User.Created");
        assert_eq!(
            event.fields(),
            r#"{"a":1.50,"b":{"x" :[1, 2E0], "s":"\u00e9\ud83d\ude00"}}"#
        );
        assert_eq!(event.fields_value().unwrap()["b"]["s"], "é😀");
    }

    #[test]
    fn nesting_up_to_the_limit_is_accepted_and_deeper_is_refused_with_its_path() {
        let deepest = EventBody::parse(nested(MAX_EVENT_DEPTH).as_bytes()).unwrap();
        assert!(deepest.fields_value().is_ok());

        let err = refused(&nested(MAX_EVENT_DEPTH + 1));
        assert_eq!(err.code, ErrorCode::InvalidInput);
        let at = format!("/data{}", "/0".repeat(MAX_EVENT_DEPTH - 1));
        assert_eq!(err.field.as_deref(), Some(at.as_str()), "{err}");
        assert!(err.message.contains("deeper than 64 levels"), "{err}");
    }

    #[test]
    fn very_deep_bodies_are_refused_without_exhausting_the_stack() {
        for body in [
            nested(100_000),
            format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000)),
            format!(
                r#"{{"event":"User.Created","a":{}"#,
                r#"{"a":"#.repeat(40_000)
            ),
        ] {
            let err = refused(&body);
            assert_eq!(err.code, ErrorCode::InvalidInput);
            assert!(err.message.contains("deeper than"), "{err}");
        }
    }

    #[test]
    fn numbers_that_do_not_fit_an_f64_are_refused() {
        for (body, at) in [
            (r#"{"event":"User.Created","n":1e999999}"#, "/n"),
            (r#"{"event":"User.Created","d":{"n":[0,-1e309]}}"#, "/d/n/1"),
            (r#"{"event":"User.Created","n":1E400}"#, "/n"),
        ] {
            let err = refused(body);
            assert_eq!(err.code, ErrorCode::InvalidInput, "{body}");
            assert_eq!(err.field.as_deref(), Some(at), "{body}: {err}");
            assert!(err.message.contains("out of range"), "{err}");
        }
        // Tiny numbers round to zero, huge integers to the nearest f64: both read back.
        let event = EventBody::parse(
            br#"{"event":"User.Created","a":1e-999999,"b":123456789012345678901234567890}"#,
        )
        .unwrap();
        assert!(event.fields_value().is_ok());
    }

    #[test]
    fn lone_surrogates_are_refused_in_values_and_keys() {
        for (body, at) in [
            (r#"{"event":"User.Created","s":"\ud800"}"#, "/s"),
            (r#"{"event":"User.Created","s":"\udc00"}"#, "/s"),
            (r#"{"event":"User.Created","s":["ok","x\ud800y"]}"#, "/s/1"),
            (r#"{"event":"User.Created","s":"\ud800\u0041"}"#, "/s"),
            (r#"{"event":"User.Created","o":{"\ud800":1}}"#, "/o"),
            (r#"{"event":"User.Created","\udfff":1}"#, "/"),
        ] {
            let err = refused(body);
            assert_eq!(err.code, ErrorCode::InvalidInput, "{body}");
            assert_eq!(err.field.as_deref(), Some(at), "{body}: {err}");
            assert!(err.message.contains("lone surrogate"), "{err}");
        }
    }

    #[test]
    fn pointers_escape_tilde_and_slash() {
        let err = refused(r#"{"event":"User.Created","a/b":{"c~d":1e999}}"#);
        assert_eq!(err.field.as_deref(), Some("/a~1b/c~0d"));
    }

    #[test]
    fn malformed_bodies_and_reserved_fields_are_refused_as_before() {
        for (body, field) in [
            ("", "body"),
            ("[1]", "body"),
            (r#"{"event":"User.Created""#, "body"),
            (r#"{"event":"User.Created"} x"#, "body"),
            ("{\"event\":\"User.Created\",\"s\":\"a\u{1}\"}", "body"),
            (r#"{"a":1}"#, "event"),
            (r#"{"event":1}"#, "event"),
            (r#"{"event":"User.Created","hookId":"h"}"#, "hookId"),
            (r#"{"event":"User.Created","createdAt":"t"}"#, "createdAt"),
        ] {
            let err = refused(body);
            assert_eq!(err.code, ErrorCode::InvalidInput, "{body}");
            assert_eq!(err.field.as_deref(), Some(field), "{body}: {err}");
        }
        assert_eq!(
            EventBody::parse(&b" ".repeat(EVENT_BODY_LIMIT + 1))
                .unwrap_err()
                .code,
            ErrorCode::PayloadTooLarge
        );
        let invalid_utf8 = b"{\"event\":\"User.Created\",\"s\":\"\xff\"}";
        assert_eq!(
            EventBody::parse(invalid_utf8).unwrap_err().field.as_deref(),
            Some("body")
        );
    }
}
