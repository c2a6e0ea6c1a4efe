//! The hook form's payload filter: the filter's JSON, checked in the browser
//! with the same rules as the server, and a "Try it" box that says whether a
//! body would be delivered, and why not.

use leptos::prelude::*;

use domain::catalog::find_event;
use domain::filter::Filter;
use domain::AppError;

use crate::components::FieldError;
use crate::server_fns::ConsoleError;

/// The filter as the form holds it: empty text for none.
pub fn parse_filter(text: &str) -> Result<Option<Filter>, AppError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let json: serde_json::Value = serde_json::from_str(text)
        .map_err(|err| AppError::invalid("filter", format!("not valid JSON: {err}")))?;
    Ok(Some(Filter::from_json(json)?))
}

/// The filter's text for the form: pretty JSON, or empty for none.
pub fn filter_text(filter: Option<&Filter>) -> String {
    filter
        .and_then(|filter| serde_json::to_string_pretty(filter.as_json()).ok())
        .unwrap_or_default()
}

#[component]
pub fn FilterField(
    text: RwSignal<String>,
    /// The events the hook listens to: their examples are the bodies to try.
    events: RwSignal<Vec<String>>,
    #[prop(into)] error: Signal<Option<ConsoleError>>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for="hook-form-filter">"Payload filter"</label>
            <p class="muted small">
                "Optional. Only events whose body matches are delivered, e.g. "
                <code>{r#"{"data": {"organizationId": {"$in": ["o1", "o2"]}}}"#}</code>
                ". Leave empty to get every event of the types above."
            </p>
            <textarea
                id="hook-form-filter"
                class="mono"
                rows="4"
                spellcheck="false"
                placeholder=r#"{"event": "PostSignIn", "userIp": {"$startsWith": "10."}}"#
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            ></textarea>
            <FieldError error field="filter" />
            <TryFilter text events />
        </div>
    }
}

/// Evaluates the filter, as typed, against a body: an example of one of the
/// hook's events, or one pasted in.
#[component]
fn TryFilter(text: RwSignal<String>, events: RwSignal<Vec<String>>) -> impl IntoView {
    let body = RwSignal::new(String::new());
    let verdict = RwSignal::new(None::<Result<String, String>>);
    // Fills the body with the example of the event picked.
    let use_example = move |name: String| {
        if let Some(event) = find_event(&name) {
            let mut example = event.example_json();
            if let Some(fields) = example.as_object_mut() {
                fields.insert("event".to_owned(), name.into());
            }
            body.set(serde_json::to_string_pretty(&example).unwrap_or_default());
        }
    };
    let try_it = move |_| {
        let outcome = parse_filter(&text.get_untracked())
            .map_err(|err| err.message)
            .and_then(|filter| {
                let body: serde_json::Value = serde_json::from_str(&body.get_untracked())
                    .map_err(|err| format!("the body is not valid JSON: {err}"))?;
                Ok(match filter {
                    None => "Match: without a filter every event is delivered".to_owned(),
                    Some(filter) => {
                        let explained = filter.explain(&body);
                        match (explained.matched, explained.reason) {
                            (true, _) => "Match: this event would be delivered".to_owned(),
                            (false, Some(reason)) => format!("No match: {reason}"),
                            (false, None) => "No match".to_owned(),
                        }
                    }
                })
            });
        verdict.set(Some(outcome));
    };
    view! {
        <details class="try-filter">
            <summary>"Try it"</summary>
            <div class="try-filter-body">
                <div class="try-filter-examples">
                    <span class="muted small">"Example body of "</span>
                    <For
                        each=move || events.get()
                        key=|name| name.clone()
                        children=move |name| {
                            let label = name.clone();
                            view! {
                                <button
                                    type="button"
                                    class="btn btn-ghost btn-small mono"
                                    on:click=move |_| use_example(name.clone())
                                >
                                    {label}
                                </button>
                            }
                        }
                    />
                </div>
                <textarea
                    class="mono"
                    rows="6"
                    spellcheck="false"
                    aria-label="Event body to try"
                    placeholder=r#"{"event": "PostSignIn", "userIp": "10.0.0.7"}"#
                    prop:value=move || body.get()
                    on:input=move |ev| body.set(event_target_value(&ev))
                ></textarea>
                <div class="try-filter-actions">
                    <button type="button" class="btn btn-secondary btn-small" on:click=try_it>
                        "Try filter"
                    </button>
                    {move || verdict.get().map(|outcome| {
                        let (matched, text) = match outcome {
                            Ok(text) => (text.starts_with("Match"), text),
                            Err(text) => (false, text),
                        };
                        view! {
                            <p class="filter-verdict" class:matched=matched data-testid="filter-verdict">
                                {text}
                            </p>
                        }
                    })}
                </div>
            </div>
        </details>
    }
}
