//! Live updates: the server's word (server-sent events) that a hook's
//! attempt was logged, for pages that refresh on it.

use leptos::prelude::*;

/// A counter that goes up each time the server says an attempt of `hook_id`
/// was logged (server-sent events; in the browser only).
pub fn live_attempts(hook_id: Signal<String>) -> ReadSignal<u64> {
    let (count, set_count) = signal(0u64);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        let hook_id = hook_id.get();
        if hook_id.is_empty() {
            return;
        }
        let Ok(source) = web_sys::EventSource::new(&format!("/live/hooks/{hook_id}")) else {
            return;
        };
        let on_attempt =
            Closure::<dyn Fn()>::new(move || set_count.update(|n| *n += 1)).into_js_value();
        let _ = source.add_event_listener_with_callback("attempt", on_attempt.unchecked_ref());
        let source = send_wrapper::SendWrapper::new(source);
        on_cleanup(move || source.close());
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (hook_id, set_count);
    count
}
