//! Event types: the built-in catalog plus the custom types an admin adds.

use serde::{Deserialize, Serialize};

use super::catalog::{builtin_events, find_event, is_valid_name, CATALOG};
use super::{AppError, Valid};

/// The console group custom types are listed under.
pub const CUSTOM_GROUP: &str = "Custom";
/// The longest name a custom event type may have, in characters.
pub const NAME_MAX_CHARS: usize = 128;
/// The longest description an event type may have, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 256;
/// The largest JSON Schema a custom event type may have, in bytes of compact
/// JSON.
pub const SCHEMA_MAX_BYTES: usize = 64 * 1024;

/// One event type as `GET /api/event-types` lists it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTypeInfo {
    pub name: String,
    pub group: String,
    pub description: String,
    /// The producer's fields of a typical event (built-in types only).
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = Option<Object>))]
    pub example: Option<serde_json::Value>,
    /// The JSON Schema ingested events must match (custom types only).
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = json_schema))]
    pub schema: Option<serde_json::Value>,
    pub custom: bool,
}

/// Every built-in type, in catalog order.
pub fn builtin_event_types() -> Vec<EventTypeInfo> {
    CATALOG
        .iter()
        .flat_map(|group| {
            group.events.iter().map(move |event| EventTypeInfo {
                name: event.name.to_owned(),
                group: group.name.to_owned(),
                description: event.description.to_owned(),
                example: Some(event.example_json()),
                schema: None,
                custom: false,
            })
        })
        .collect()
}

/// `POST /api/event-types`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEventType {
    /// Letters and digits, starting with a letter, in dot-separated parts;
    /// not a built-in name; at most 128 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^[A-Za-z][A-Za-z0-9]*(\\.[A-Za-z][A-Za-z0-9]*)*$",
            max_length = 128,
            example = "Order.Paid"
        )
    )]
    pub name: String,
    /// 1 to 256 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 256, example = "An order was paid")
    )]
    pub description: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = json_schema))]
    pub schema: Option<serde_json::Value>,
}

/// A JSON Schema (an object, or `true`/`false`), or null for none.
#[cfg(feature = "openapi")]
fn json_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([
            Type::Object,
            Type::Boolean,
            Type::Null,
        ]))
        .description(Some(
            "A JSON Schema (draft 2020-12 or earlier; remote `$ref`s are not fetched) \
             that the fields of each event of this type must match; at most 64 KiB",
        ))
        .build()
}

impl NewEventType {
    /// The name's shape, the description and that the schema is an object;
    /// whether the schema compiles is the server's to check.
    pub fn validated(&self) -> Result<Valid<NewEventType>, AppError> {
        let name = self.name.trim();
        if name.chars().count() > NAME_MAX_CHARS {
            return Err(AppError::invalid(
                "name",
                format!("name must be at most {NAME_MAX_CHARS} characters"),
            ));
        }
        if !is_valid_name(name) {
            return Err(AppError::invalid(
                "name",
                "a name is letters and digits, starting with a letter, in dot-separated parts (e.g. Order.Paid)",
            ));
        }
        if find_event(name).is_some() {
            return Err(AppError::invalid(
                "name",
                format!("`{name}` is a built-in event type"),
            ));
        }
        if crate::alert::is_operational_event(name) {
            return Err(AppError::invalid(
                "name",
                format!("`{name}` is reserved for Hookline's alerts"),
            ));
        }
        let description =
            super::required_text("description", &self.description, DESCRIPTION_MAX_CHARS)?;
        if self
            .schema
            .as_ref()
            .is_some_and(|s| !s.is_object() && !s.is_boolean())
        {
            return Err(AppError::invalid(
                "schema",
                "schema must be a JSON Schema (an object)",
            ));
        }
        let schema_bytes = self
            .schema
            .as_ref()
            .map_or(0, |schema| schema.to_string().len());
        if schema_bytes > SCHEMA_MAX_BYTES {
            return Err(AppError::invalid(
                "schema",
                format!(
                    "schema must be at most {} KiB as compact JSON",
                    SCHEMA_MAX_BYTES / 1024
                ),
            ));
        }
        Ok(Valid::new(NewEventType {
            name: name.to_owned(),
            description,
            schema: self.schema.clone(),
        }))
    }
}

/// How many built-in types there are (for the catalog page's header).
pub fn builtin_count() -> usize {
    builtin_events().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(name: &str) -> NewEventType {
        NewEventType {
            name: name.into(),
            description: "Paid".into(),
            schema: None,
        }
    }

    #[test]
    fn custom_names_follow_the_documented_pattern_and_avoid_builtins() {
        assert!(new("Order.Paid").validated().is_ok());
        for bad in [
            "",
            "1Order",
            "Order.",
            "Order..Paid",
            "Order-Paid",
            "User.Created",
        ] {
            assert_eq!(
                new(bad).validated().unwrap_err().field.as_deref(),
                Some("name"),
                "{bad}"
            );
        }
        let mut no_schema_object = new("Order.Paid");
        no_schema_object.schema = Some(serde_json::json!("string"));
        assert_eq!(
            no_schema_object.validated().unwrap_err().field.as_deref(),
            Some("schema")
        );
    }

    #[test]
    fn name_description_and_schema_are_capped() {
        let longest = format!("A{}", "a".repeat(NAME_MAX_CHARS - 1));
        assert_eq!(new(&longest).validated().unwrap().name, longest);
        let err = new(&format!("{longest}a")).validated().unwrap_err();
        assert_eq!(err.field.as_deref(), Some("name"));
        assert!(err.message.contains("128"), "{err}");
        let err = new(&"A".repeat(1024 * 1024)).validated().unwrap_err();
        assert_eq!(err.field.as_deref(), Some("name"));

        let mut long_description = new("Order.Paid");
        long_description.description = "d".repeat(DESCRIPTION_MAX_CHARS + 1);
        assert_eq!(
            long_description.validated().unwrap_err().field.as_deref(),
            Some("description")
        );

        let schema_of = |bytes: usize| {
            // `{"description":"…"}` is 18 bytes around the text.
            let text = "x".repeat(bytes - 18);
            let mut input = new("Order.Paid");
            input.schema = Some(serde_json::json!({ "description": text }));
            input
        };
        assert!(schema_of(SCHEMA_MAX_BYTES).validated().is_ok());
        let err = schema_of(SCHEMA_MAX_BYTES + 1).validated().unwrap_err();
        assert_eq!(err.field.as_deref(), Some("schema"));
        assert!(err.message.contains("64 KiB"), "{err}");
    }

    #[test]
    fn builtins_list_every_catalog_event_with_its_group_and_example() {
        let types = builtin_event_types();
        assert_eq!(types.len(), builtin_count());
        assert!(types
            .iter()
            .all(|t| t.example.as_ref().is_some_and(|e| e.is_object())));
        assert_eq!(types[0].group, "User interaction");
    }
}
