//! `GET /api/openapi.json`: the REST API's OpenAPI 3.1 document. Each route
//! module registers its handlers with `utoipa_axum::routes!`, which adds the
//! route to the router and its operation to the document in one call, so the
//! two cannot drift; this module holds what the operations share: the
//! document's header, the bearer scheme, the error responses and the body of
//! an event.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::Extension;
use domain::{AppError, ErrorCode};
use utoipa::openapi::schema::AdditionalProperties;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, ObjectBuilder, Ref, RefOr, Response, ResponseBuilder, Schema,
    Type,
};
use utoipa::{IntoResponses, Modify, OpenApi, PartialSchema, ToSchema};

use crate::service::MAX_EVENT_DEPTH;

/// The document's header; the paths come from the route modules.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hookline",
        description = "Self-hosted webhooks: ingest events, deliver them signed to hooks, \
                       read every attempt. Hook routes follow Logto's Management API.",
        license(name = "MIT", identifier = "MIT")
    ),
    modifiers(&BearerAuth),
    security(("bearerAuth" = [])),
    components(schemas(AppError, ErrorCode)),
    tags(
        (name = "hooks", description = "Hooks, in Logto's Management API shape"),
        (name = "events", description = "Ingesting events and reading them back"),
        (name = "deliveries", description = "Deliveries and their attempts"),
        (name = "event-types", description = "The event catalog, built-in and custom"),
        (name = "overview", description = "The whole system at a glance"),
        (name = "search", description = "Events and deliveries by id, key or payload words"),
        (name = "sources", description = "Systems whose webhooks Hookline takes in as events (Logto)"),
        (name = "alerts", description = "Alerts to an operations endpoint, and the incidents behind them"),
        (name = "meta", description = "This document")
    )
)]
pub struct ApiDoc;

/// Every `/api` route but this document's and a source's intake (signed by
/// its caller instead) wants `Authorization: Bearer <api key>`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearerAuth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key, created in the console or with `hookline api-key create`",
                    ))
                    .build(),
            ),
        );
    }
}

/// The serialized document, shared by every request for it.
#[derive(Clone)]
pub struct Document(pub Arc<Bytes>);

impl Document {
    pub fn new(doc: &utoipa::openapi::OpenApi) -> Self {
        let mut json = serde_json::to_value(doc).expect("the OpenAPI document serializes");
        camel_case_links(&mut json);
        let bytes = serde_json::to_vec(&json).expect("JSON serializes");
        Document(Arc::new(Bytes::from(bytes)))
    }
}

/// utoipa 5 writes a Link object's fields in snake case (`operation_id`);
/// OpenAPI spells them `operationId`, `operationRef` and `requestBody`.
fn camel_case_links(doc: &mut serde_json::Value) {
    let operations = doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut());
    for operation in operations {
        let links = operation["responses"]
            .as_object_mut()
            .into_iter()
            .flat_map(|responses| responses.values_mut())
            .filter_map(|response| response.get_mut("links"))
            .filter_map(|links| links.as_object_mut())
            .flat_map(|links| links.values_mut())
            .filter_map(|link| link.as_object_mut());
        for link in links {
            for (from, to) in [
                ("operation_id", "operationId"),
                ("operation_ref", "operationRef"),
                ("request_body", "requestBody"),
            ] {
                if let Some(value) = link.remove(from) {
                    link.insert(to.to_owned(), value);
                }
            }
        }
    }
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of this API",
               content_type = "application/json", body = Object))
)]
pub async fn openapi_json(Extension(doc): Extension<Document>) -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], Bytes::clone(&doc.0))
}

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(AppError::name())))
                .build(),
        )
        .build()
}

/// One error response per type, for `responses(...)` lists.
macro_rules! error_responses {
    ($($(#[$doc:meta])* $name:ident = $status:literal, $description:literal;)*) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    BTreeMap::from([($status.to_string(), error_response($description).into())])
                }
            }
        )*
    };
}

error_responses! {
    /// 400 `invalid_input`.
    BadRequest = 400, "Bad input (query, path, header or body); `field` names the one at fault (`invalid_input`)";
    /// 401 `unauthorized`.
    Unauthorized = 401, "No API key, or a wrong or revoked one (`unauthorized`)";
    /// 404 `not_found`.
    NotFound = 404, "No such resource (`not_found`)";
    /// 409 `conflict`.
    Conflict = 409, "The request clashes with the current state (`conflict`)";
    /// 413 `payload_too_large`.
    PayloadTooLarge = 413, "The body is too large (`payload_too_large`)";
    /// 422 `schema_mismatch`.
    SchemaMismatch = 422, "The event does not match its type's JSON Schema; `field` is the failing path (`schema_mismatch`)";
}

/// 503 `unavailable`, with the `Retry-After` header it always carries.
pub struct ServiceUnavailable;

impl IntoResponses for ServiceUnavailable {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut response = error_response(
            "The database cannot be reached for now; retry after `Retry-After` seconds \
             (`unavailable`)",
        );
        response.headers.insert(
            "Retry-After".to_owned(),
            HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1)),
                )
                .description(Some("Seconds to wait before trying again"))
                .build(),
        );
        BTreeMap::from([("503".to_owned(), response.into())])
    }
}

/// The body of `POST /api/events`: read as raw bytes by the handler, so its
/// schema is written here.
pub struct EventBody;

impl PartialSchema for EventBody {
    fn schema() -> RefOr<Schema> {
        event_object(
            format!(
                "An event: `event` names its type (built-in or custom), every other field \
                 is the producer's and is delivered exactly as sent. `hookId` and \
                 `createdAt` are Hookline's to set and may not be sent. At most 256 KiB, \
                 nested at most {MAX_EVENT_DEPTH} levels (the event's object is level 1); \
                 every number must fit a 64-bit float and every string be valid Unicode \
                 (no lone surrogate escapes).",
            ),
            serde_json::json!({
                "event": "User.Created",
                "data": { "id": "u1", "primaryEmail": "ada@example.com" }
            }),
        )
    }
}

/// The body of `POST /api/sources/:id/events`: a Logto webhook's, read as
/// raw bytes (its signature covers them).
pub struct LogtoBody;

impl PartialSchema for LogtoBody {
    fn schema() -> RefOr<Schema> {
        event_object(
            "A Logto webhook's body exactly as Logto sends it: `event` names a type \
             from the catalog; Logto's `hookId` and `createdAt` give way to Hookline's; \
             every other field is delivered as sent. The same limits as `POST /api/events`."
                .to_owned(),
            serde_json::json!({
                "hookId": "logto-hook-id",
                "event": "PostRegister",
                "createdAt": "2026-12-02T10:00:00.000Z",
                "sessionId": "s1",
                "user": { "id": "u1" }
            }),
        )
    }
}

impl ToSchema for LogtoBody {}

/// An object with a required string `event` and any other fields.
fn event_object(description: String, example: serde_json::Value) -> RefOr<Schema> {
    ObjectBuilder::new()
        .description(Some(description))
        .property(
            "event",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("A name from the event catalog")),
        )
        .required("event")
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .examples([example])
        .into()
}

impl ToSchema for EventBody {}
