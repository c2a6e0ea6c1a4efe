//! `GET /api/openapi.json`: the document parses as OpenAPI 3.1, lists exactly
//! the routes the API serves, and its schemas accept what the server sends.

mod common;

use std::collections::BTreeSet;

use common::receiver::{Receiver, Reply};
use common::{assert_error, spawn_app, valid_hook, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::{OpenApi, PathItem};

/// Every route of the REST API. A new route needs a line here, and the test
/// fails until it is documented too.
const EXPECTED_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/hooks"),
    ("POST", "/api/hooks"),
    ("GET", "/api/hooks/{id}"),
    ("PATCH", "/api/hooks/{id}"),
    ("DELETE", "/api/hooks/{id}"),
    ("PATCH", "/api/hooks/{id}/signing-key"),
    ("POST", "/api/hooks/{id}/test"),
    ("GET", "/api/hooks/{id}/recent-logs"),
    ("POST", "/api/hooks/{id}/recover"),
    ("GET", "/api/hooks/{id}/lag"),
    ("POST", "/api/events"),
    ("GET", "/api/events/{id}"),
    ("GET", "/api/deliveries/{id}"),
    ("POST", "/api/deliveries/{id}/resend"),
    ("POST", "/api/deliveries/{id}/skip"),
    ("GET", "/api/event-types"),
    ("POST", "/api/event-types"),
    ("GET", "/api/overview"),
    ("GET", "/api/search"),
    ("GET", "/api/sources"),
    ("POST", "/api/sources"),
    ("DELETE", "/api/sources/{id}"),
    ("POST", "/api/sources/{id}/events"),
    ("GET", "/api/settings/alerts"),
    ("PUT", "/api/settings/alerts"),
    ("DELETE", "/api/settings/alerts"),
    ("GET", "/api/incidents"),
    ("GET", "/api/openapi.json"),
];

const METHODS: [HttpMethod; 5] = [
    HttpMethod::Get,
    HttpMethod::Post,
    HttpMethod::Put,
    HttpMethod::Patch,
    HttpMethod::Delete,
];

fn method_name(method: &HttpMethod) -> &'static str {
    match method {
        HttpMethod::Get => "GET",
        HttpMethod::Post => "POST",
        HttpMethod::Put => "PUT",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Delete => "DELETE",
        HttpMethod::Head => "HEAD",
        HttpMethod::Options => "OPTIONS",
        HttpMethod::Trace => "TRACE",
    }
}

fn operation<'a>(item: &'a PathItem, method: &HttpMethod) -> Option<&'a Operation> {
    match method {
        HttpMethod::Get => item.get.as_ref(),
        HttpMethod::Post => item.post.as_ref(),
        HttpMethod::Put => item.put.as_ref(),
        HttpMethod::Patch => item.patch.as_ref(),
        HttpMethod::Delete => item.delete.as_ref(),
        HttpMethod::Head => item.head.as_ref(),
        HttpMethod::Options => item.options.as_ref(),
        HttpMethod::Trace => item.trace.as_ref(),
    }
}

/// The document as served (no API key needed), raw and parsed with utoipa's types.
async fn fetch_document(app: &TestApp) -> (Value, OpenApi) {
    let response = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "content type"
    );
    let raw: Value = response.json().await.expect("JSON");
    let parsed: OpenApi = serde_json::from_value(raw.clone()).expect("an OpenAPI document");
    (raw, parsed)
}

/// Every (method, path) the document lists.
fn documented(doc: &OpenApi) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in &doc.paths.paths {
        for method in [HttpMethod::Head, HttpMethod::Options, HttpMethod::Trace]
            .iter()
            .chain(METHODS.iter())
        {
            if operation(item, method).is_some() {
                routes.insert((method_name(method).to_owned(), path.clone()));
            }
        }
    }
    routes
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_lists_exactly_the_api_routes() {
    let app = spawn_app().await;
    let (raw, doc) = fetch_document(&app).await;
    assert!(
        raw["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "{}",
        raw["openapi"]
    );
    assert_eq!(raw["info"]["title"], "Hookline");
    assert_eq!(raw["info"]["version"], env!("CARGO_PKG_VERSION"));

    let expected: BTreeSet<(String, String)> = EXPECTED_ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let documented = documented(&doc);
    let undocumented: Vec<_> = expected.difference(&documented).collect();
    let unexpected: Vec<_> = documented.difference(&expected).collect();
    assert!(
        undocumented.is_empty() && unexpected.is_empty(),
        "not documented: {undocumented:?}; documented but not expected: {unexpected:?}"
    );

    // Operation ids are unique (generated clients name their methods after them).
    let mut ids = BTreeSet::new();
    for item in raw["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"].as_str().expect("an operationId");
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
        }
    }

    // Links, OpenAPI's way of saying where an answer's ids lead, name real operations.
    let mut links = 0;
    for item in raw["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            for response in op["responses"].as_object().unwrap().values() {
                for link in response["links"]
                    .as_object()
                    .into_iter()
                    .flat_map(|l| l.values())
                {
                    let target = link["operationId"].as_str().expect("operationId");
                    assert!(ids.contains(target), "a link to {target}");
                    assert!(link.get("operation_id").is_none(), "{link}");
                    links += 1;
                }
            }
        }
    }
    assert!(links >= 7, "{links} links");

    // Bearer auth everywhere but on this document and a source's intake
    // (which its caller's signature guards).
    assert_eq!(
        raw["components"]["securitySchemes"]["bearerAuth"],
        json!({"type": "http", "scheme": "bearer",
               "description": "An API key, created in the console or with `hookline api-key create`"})
    );
    assert_eq!(raw["security"], json!([{ "bearerAuth": [] }]));
    for (path, item) in raw["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if path == "/api/openapi.json" {
                assert_eq!(op["security"], json!([{}]), "{method} {path} needs no key");
                continue;
            }
            if path == "/api/sources/{id}/events" {
                assert_eq!(op["security"], json!([{}]), "{method} {path} needs no key");
            } else {
                assert!(op.get("security").is_none(), "{method} {path}");
            }
            // Every 4xx and 5xx is the API's error body.
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("401"), "{method} {path}: no 401");
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/AppError",
                        "{method} {path} {status}"
                    );
                }
            }
            // Path parameters are declared.
            if path.contains("{id}") {
                let params = op["parameters"].as_array().expect("parameters");
                assert!(
                    params
                        .iter()
                        .any(|p| p["name"] == "id" && p["in"] == "path"),
                    "{method} {path}: no id parameter"
                );
            }
        }
    }

    // Hooks carry their delivery policy under the API's names.
    let schemas = &raw["components"]["schemas"];
    let policy = &schemas["DeliveryPolicy"]["properties"];
    for field in ["ordered", "rateLimit", "retrySchedule", "requestTimeout"] {
        assert!(policy[field].is_object(), "{field} in {policy}");
    }
    for schema in ["Hook", "NewHook"] {
        assert!(
            schemas[schema]
                .to_string()
                .contains("#/components/schemas/DeliveryPolicy"),
            "{schema}: {}",
            schemas[schema]
        );
    }
    assert!(schemas["HookPatch"].to_string().contains("PolicyPatch"));

    // The error body: code and message always, field when one is at fault.
    let error = &raw["components"]["schemas"]["AppError"];
    assert_eq!(error["required"], json!(["code", "message"]), "{error}");
    assert!(error["properties"]["field"].is_object(), "{error}");
    let codes = &raw["components"]["schemas"]["ErrorCode"]["enum"];
    for code in [
        "invalid_input",
        "unauthorized",
        "not_found",
        "schema_mismatch",
        "unavailable",
    ] {
        assert!(
            codes.as_array().unwrap().contains(&json!(code)),
            "{code} in {codes}"
        );
    }

    // Query parameters and the idempotency header, with the names the server reads.
    let ingest = &raw["paths"]["/api/events"]["post"];
    let names: Vec<(&str, &str)> = ingest["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["in"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("wait", "query"), ("Idempotency-Key", "header")]);
    let logs = &raw["paths"]["/api/hooks/{id}/recent-logs"]["get"];
    let names: Vec<&str> = logs["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "event",
            "status",
            "start_time",
            "end_time",
            "page",
            "page_size"
        ]
    );
    assert!(logs["responses"]["200"]["headers"]["Total-Number"].is_object());
    // Ingestion may be told to come back later, and when.
    let unavailable = &raw["paths"]["/api/events"]["post"]["responses"]["503"];
    assert_eq!(
        unavailable["headers"]["Retry-After"]["schema"]["type"], "integer",
        "{unavailable}"
    );
    let list = &raw["paths"]["/api/hooks"]["get"]["parameters"][0];
    assert_eq!(list["name"], "includeExecutionStats");
}

/// Whether `response` came from the API's fallbacks rather than a route.
async fn from_a_fallback(response: reqwest::Response) -> Option<String> {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let fallback = (status == StatusCode::NOT_FOUND
        && body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("no API route")))
        || status == StatusCode::METHOD_NOT_ALLOWED;
    fallback.then(|| format!("{status} {body}"))
}

#[tokio::test]
async fn every_documented_route_is_served_and_nothing_else_on_its_path() {
    let app = spawn_app().await;
    let (_, doc) = fetch_document(&app).await;

    // The fallbacks are told apart from real answers (a route's own 404 included).
    let nowhere = app.call(Method::GET, "/api/no-such-thing").await;
    assert!(from_a_fallback(nowhere).await.is_some());
    let wrong_method = app.call(Method::PUT, "/api/hooks").await;
    assert!(from_a_fallback(wrong_method).await.is_some());
    let missing_hook = app.call(Method::GET, "/api/hooks/no-such-hook").await;
    assert_eq!(missing_hook.status(), StatusCode::NOT_FOUND);
    assert_eq!(from_a_fallback(missing_hook).await, None);

    let mut checked = 0;
    for (path, item) in &doc.paths.paths {
        let concrete = path.replace("{id}", "no-such-id");
        for method in &METHODS {
            let request = app.api(
                Method::from_bytes(method_name(method).as_bytes()).unwrap(),
                &concrete,
            );
            let request = match method {
                HttpMethod::Get | HttpMethod::Delete => request,
                _ => request.json(&json!({})),
            };
            let response = request.send().await.unwrap();
            let status = response.status();
            let fallback = from_a_fallback(response).await;
            if operation(item, method).is_some() {
                assert_eq!(
                    fallback,
                    None,
                    "{} {path} is documented but not served",
                    method_name(method)
                );
                assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR);
                checked += 1;
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{} {path} is served but not documented",
                    method_name(method)
                );
            }
        }
    }
    assert_eq!(checked, EXPECTED_ROUTES.len());
}

/// A JSON Schema validator for one of the document's component schemas; its
/// `$ref`s resolve inside the document.
fn validator(doc: &Value, name: &str) -> jsonschema::Validator {
    let mut root = doc.clone();
    root["$ref"] = json!(format!("#/components/schemas/{name}"));
    jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("schema {name}: {e}"))
}

fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:?}\n{instance}");
}

async fn the_schemas_accept_what_the_server_sends() {
    let app = spawn_app().await;
    let (raw, _) = fetch_document(&app).await;

    let hook_schema = validator(&raw, "Hook");
    let created = app.create_hook(valid_hook()).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let hook: Value = created.json().await.unwrap();
    assert_valid(&hook_schema, &hook, "a new hook");
    let id = hook["id"].as_str().unwrap();
    let idle = app.get_json(&format!("/api/hooks/{id}/lag")).await;
    assert!(idle["oldestWaitingAt"].is_null(), "{idle}");
    assert_valid(&validator(&raw, "HookLag"), &idle, "an idle hook's lag");
    let with_stats = app
        .get_json(&format!("/api/hooks/{id}?includeExecutionStats=true"))
        .await;
    assert!(with_stats["executionStats"].is_object());
    assert_valid(&hook_schema, &with_stats, "a hook with its stats");
    // Not vacuous: a wrong field type is refused.
    let mut wrong = hook.clone();
    wrong["enabled"] = json!("yes");
    assert!(!hook_schema.is_valid(&wrong));
    let mut missing = hook.clone();
    missing.as_object_mut().unwrap().remove("signatureScheme");
    assert!(!hook_schema.is_valid(&missing));
    // An Ed25519 hook: its public key, and its secret key only when made.
    let mut ed25519 = valid_hook();
    ed25519["signatureScheme"] = json!("ed25519");
    let created: Value = app.create_hook(ed25519).await.json().await.unwrap();
    assert_valid(&hook_schema, &created, "a new Ed25519 hook");
    let read = app
        .get_json(&format!("/api/hooks/{}", created["id"].as_str().unwrap()))
        .await;
    assert!(read.get("signingKey").is_none() && read["publicKey"].is_string());
    assert_valid(&hook_schema, &read, "an Ed25519 hook");
    // Fields the server always sends, null or not, are required.
    assert!(hook["disabledReason"].is_null());
    let mut missing = hook.clone();
    missing.as_object_mut().unwrap().remove("disabledReason");
    assert!(!hook_schema.is_valid(&missing));

    let error = app
        .call_json(
            Method::POST,
            "/api/hooks",
            json!({"name": "x", "events": ["Nope"], "config": {"url": "https://example.com"}}),
        )
        .await;
    let error = assert_error(error, StatusCode::BAD_REQUEST, "invalid_input").await;
    let error_schema = validator(&raw, "AppError");
    assert_valid(&error_schema, &error, "an error");
    assert!(!error_schema.is_valid(&json!({"code": "oops", "message": "m"})));

    let types = app.get_json("/api/event-types").await;
    let type_schema = validator(&raw, "EventTypeInfo");
    for event_type in types.as_array().unwrap() {
        assert_valid(&type_schema, event_type, "an event type");
    }

    // An event through to its delivery, to a real receiver that fails it.
    let receiver = Receiver::start(Reply::status(500).body("not today")).await;
    let created = app
        .create_hook(
            json!({"name": "failing", "events": ["PostRegister"], "config": {"url": receiver.url}}),
        )
        .await;
    let failing_hook: Value = created.json().await.unwrap();
    let ingested = app
        .api(Method::POST, "/api/events?wait=5s")
        .json(&json!({"event": "PostRegister", "userId": "u1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ingested.status(), StatusCode::OK);
    let ingested: Value = ingested.json().await.unwrap();
    assert_valid(
        &validator(&raw, "Ingested"),
        &ingested,
        "a synchronous answer",
    );
    let event = app
        .get_json(&format!("/api/events/{}", ingested["id"].as_str().unwrap()))
        .await;
    assert_valid(&validator(&raw, "EventRecord"), &event, "an event");
    let delivery_id = ingested["outcomes"][0]["deliveryId"].as_str().unwrap();
    let delivery = app
        .get_json(&format!("/api/deliveries/{delivery_id}"))
        .await;
    assert!(!delivery["attempts"].as_array().unwrap().is_empty());
    assert_valid(&validator(&raw, "Delivery"), &delivery, "a delivery");
    let logs = app
        .get_json(&format!(
            "/api/hooks/{}/recent-logs",
            failing_hook["id"].as_str().unwrap()
        ))
        .await;
    let summary_schema = validator(&raw, "AttemptSummary");
    assert_eq!(logs.as_array().unwrap().len(), 1);
    for row in logs.as_array().unwrap() {
        assert_valid(&summary_schema, row, "a log row");
    }
    // Its delivery waits for a retry, after one first attempt.
    let lag_schema = validator(&raw, "HookLag");
    let lag = app
        .get_json(&format!(
            "/api/hooks/{}/lag",
            failing_hook["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(lag["firstAttempt"]["count"], 1, "{lag}");
    assert_valid(&lag_schema, &lag, "a hook's lag");
}

async fn bad_path_parameters_and_unknown_routes_answer_with_the_api_error_body() {
    let app = spawn_app().await;
    // `%FF` decodes to no UTF-8: a 400 naming the parameter, as JSON.
    for path in [
        "/api/hooks/%FF",
        "/api/events/%C3%28",
        "/api/deliveries/%FF/resend",
    ] {
        let method = if path.ends_with("resend") {
            Method::POST
        } else {
            Method::GET
        };
        let body = assert_error(
            app.call(method, path).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
        assert_eq!(body["field"], "id", "{path}: {body}");
    }
    // Found by the fuzzer: a page so far out its offset overflowed, and the
    // connection dropped without an answer.
    let hook: Value = app.create_hook(valid_hook()).await.json().await.unwrap();
    let far = format!(
        "/api/hooks/{}/recent-logs?page=461168601842738792",
        hook["id"].as_str().unwrap()
    );
    let body = assert_error(
        app.call(Method::GET, &far).await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
    assert_eq!(body["field"], "page", "{body}");

    // The fallbacks name the path as the caller sent it.
    let body = assert_error(
        app.call(Method::GET, "/api/hooks/x/nothing").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(body["message"], "no API route /api/hooks/x/nothing");
    let body = assert_error(
        app.call(Method::PUT, "/api/hooks/x").await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    assert_eq!(body["message"], "PUT is not allowed on /api/hooks/x");
}

// Real responses, from the store on each database.
crate::on_both_databases!(
    the_schemas_accept_what_the_server_sends,
    bad_path_parameters_and_unknown_routes_answer_with_the_api_error_body,
);
