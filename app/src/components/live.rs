//! Live updates: the server's word (server-sent events) that attempts were
//! logged, for pages that refresh on it.

use leptos::prelude::*;

/// A counter that goes up each time the server says an attempt of `hook_id`
/// was logged (server-sent events; in the browser only).
pub fn live_attempts(hook_id: Signal<String>) -> ReadSignal<u64> {
    live_counter(Signal::derive(move || {
        let hook_id = hook_id.get();
        (!hook_id.is_empty()).then(|| format!("/live/hooks/{hook_id}"))
    }))
}

/// A counter that goes up, at most once a second, while any hook's attempts
/// are logged.
pub fn live_any_attempts() -> ReadSignal<u64> {
    live_counter(Signal::stored(Some("/live/attempts".to_owned())))
}

/// A counter that goes up on each `attempt` event of the stream at `path`.
fn live_counter(path: Signal<Option<String>>) -> ReadSignal<u64> {
    let (count, set_count) = signal(0u64);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        let Some(path) = path.get() else {
            return;
        };
        let Ok(source) = web_sys::EventSource::new(&path) else {
            return;
        };
        let on_attempt =
            Closure::<dyn Fn()>::new(move || set_count.update(|n| *n += 1)).into_js_value();
        let _ = source.add_event_listener_with_callback("attempt", on_attempt.unchecked_ref());
        let source = send_wrapper::SendWrapper::new(source);
        on_cleanup(move || source.close());
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (path, set_count);
    count
}
