//! The event catalog: built-in types and custom ones, and checking an event
//! against its type's JSON Schema.

use async_trait::async_trait;
use domain::catalog::find_event;
use domain::event_type::{builtin_event_types, EventTypeInfo, NewEventType};
use domain::ports::{Actor, EventTypePort};
use domain::{AppError, ErrorCode};

use super::event_body::EventBody;
use super::Service;
use crate::clock::now_ms;
use crate::store::StoreError;

#[async_trait]
impl EventTypePort for Service {
    async fn list_event_types(&self, _actor: &Actor) -> Result<Vec<EventTypeInfo>, AppError> {
        let mut types = builtin_event_types();
        types.extend(self.store.custom_event_types().await?);
        Ok(types)
    }

    async fn create_event_type(
        &self,
        actor: &Actor,
        input: NewEventType,
    ) -> Result<EventTypeInfo, AppError> {
        actor.require_write()?;
        let input = input.validated()?;
        if let Some(schema) = &input.schema {
            jsonschema::validator_for(schema).map_err(|err| {
                AppError::invalid("schema", format!("not a usable JSON Schema: {err}"))
            })?;
        }
        match self.store.insert_event_type(&input, now_ms()).await {
            Err(StoreError::Duplicate(_)) => {
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    format!("an event type named `{}` exists", input.name),
                ))
            }
            written => written?,
        }
        let input = input.into_inner();
        Ok(EventTypeInfo {
            name: input.name,
            group: domain::event_type::CUSTOM_GROUP.to_owned(),
            description: input.description,
            example: None,
            schema: input.schema,
            custom: true,
        })
    }
}

impl Service {
    pub(super) async fn custom_event_names(&self) -> Result<Vec<String>, AppError> {
        Ok(self.store.custom_event_names().await?)
    }

    /// Refuses an event whose type is unknown (400) or whose fields do not
    /// match its custom type's schema (422, naming the failing path). The
    /// fields are only parsed when a schema has to read them.
    pub(super) async fn check_event_type(&self, event: &EventBody) -> Result<(), AppError> {
        let name = event.name();
        if find_event(name).is_some() {
            return Ok(());
        }
        let schema = self.store.custom_event_schema(name).await?.ok_or_else(|| {
            AppError::invalid(
                "event",
                format!("unknown event `{name}`; see GET /api/event-types"),
            )
        })?;
        let Some(schema) = schema else {
            return Ok(());
        };
        // The schema compiled when it was saved; it cannot fail now.
        let validator = jsonschema::validator_for(&schema).map_err(|err| {
            tracing::error!(event = name, error = %err, "a saved event schema does not compile");
            AppError::internal()
        })?;
        let fields = event.fields_value()?;
        let mismatch = validator.iter_errors(&fields).next().map(|error| {
            let path = error.instance_path().to_string();
            let path = if path.is_empty() {
                "/".to_owned()
            } else {
                path
            };
            let message = format!("`{name}` event does not match its schema at {path}: {error}");
            AppError {
                field: Some(path),
                ..AppError::new(ErrorCode::SchemaMismatch, message)
            }
        });
        mismatch.map_or(Ok(()), Err)
    }
}
