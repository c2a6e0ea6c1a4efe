//! The colour theme: the system's (the default), or light or dark as chosen.
//!
//! The choice is kept in a cookie, not in `localStorage`: the cookie comes
//! with every request, so the server renders `<html data-theme="…">` with the
//! chosen theme on the first load (no flash of the wrong theme), and the
//! browser reads the same cookie when it hydrates, so both agree.

use leptos::prelude::*;
use leptos_meta::Html;

/// The cookie that keeps the choice; absent means "follow the system".
pub const THEME_COOKIE: &str = "hookline_theme";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Theme {
    System,
    Light,
    Dark,
}

impl Theme {
    fn from_cookie(value: Option<&str>) -> Self {
        match value {
            Some("light") => Self::Light,
            Some("dark") => Self::Dark,
            _ => Self::System,
        }
    }

    /// The value of `<html data-theme>`, which the stylesheet keys on.
    fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    fn next(self) -> Self {
        match self {
            Self::System => Self::Light,
            Self::Light => Self::Dark,
            Self::Dark => Self::System,
        }
    }
}

/// The theme cookie's value in a `Cookie` header's text.
fn cookie_value(cookies: &str) -> Option<&str> {
    cookies
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == THEME_COOKIE)
        .map(|(_, value)| value.trim())
}

/// The theme the request asked for, on the server.
#[cfg(feature = "ssr")]
fn initial_theme() -> Theme {
    let parts = use_context::<http::request::Parts>();
    let value = parts.as_ref().and_then(|parts| {
        parts
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(cookie_value)
    });
    Theme::from_cookie(value)
}

/// The theme the page was rendered with, in the browser: the same cookie.
#[cfg(not(feature = "ssr"))]
fn initial_theme() -> Theme {
    let cookies = document_cookies().unwrap_or_default();
    Theme::from_cookie(cookie_value(&cookies))
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn document_cookies() -> Option<String> {
    use wasm_bindgen::JsCast;
    let document = web_sys::window()?.document()?;
    document
        .dyn_into::<web_sys::HtmlDocument>()
        .ok()?
        .cookie()
        .ok()
}

#[cfg(not(any(feature = "hydrate", feature = "ssr")))]
fn document_cookies() -> Option<String> {
    None
}

/// Remembers the choice for a year; "system" forgets it.
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn store_theme(theme: Theme) {
    use wasm_bindgen::JsCast;
    let cookie = match theme {
        Theme::System => format!("{THEME_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax"),
        _ => format!(
            "{THEME_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            theme.as_str()
        ),
    };
    if let Some(document) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
    {
        let _ = document.set_cookie(&cookie);
    }
}

#[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
fn store_theme(_theme: Theme) {}

/// `<html data-theme>` as chosen, for the pages without the top bar's
/// switch (sign-in and setup).
#[component]
pub fn ChosenTheme() -> impl IntoView {
    view! { <Html {..} data-theme=initial_theme().as_str() /> }
}

/// The top bar's theme switch: system, then light, then dark. Sets
/// `data-theme` on `<html>` (on the server too, from the cookie).
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let theme = RwSignal::new(initial_theme());
    let switch = move |_| {
        let next = theme.get_untracked().next();
        store_theme(next);
        theme.set(next);
    };
    let label = move || format!("Theme: {}", theme.get().as_str());
    let title = move || {
        let now = theme.get();
        format!(
            "Theme: {} (switch to {})",
            now.as_str(),
            now.next().as_str()
        )
    };
    view! {
        <Html {..} data-theme=move || theme.get().as_str() />
        <button
            type="button"
            class="icon-btn theme-toggle"
            aria-label=label
            title=title
            data-theme-choice=move || theme.get().as_str()
            on:click=switch
        >
            <svg class="icon icon-system" viewBox="0 0 24 24" aria-hidden="true">
                <rect x="3" y="4" width="18" height="12" rx="2" />
                <path d="M8 20h8M12 16v4" />
            </svg>
            <svg class="icon icon-light" viewBox="0 0 24 24" aria-hidden="true">
                <circle cx="12" cy="12" r="4" />
                <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
            </svg>
            <svg class="icon icon-dark" viewBox="0 0 24 24" aria-hidden="true">
                <path d="M20 14.5A8 8 0 0 1 9.5 4 8 8 0 1 0 20 14.5z" />
            </svg>
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_theme_cookie_among_others() {
        assert_eq!(cookie_value("a=1; hookline_theme=dark; b=2"), Some("dark"));
        assert_eq!(cookie_value("hookline_theme=light"), Some("light"));
        assert_eq!(cookie_value("hookline_session=x"), None);
        assert_eq!(Theme::from_cookie(Some("dark")), Theme::Dark);
        assert_eq!(Theme::from_cookie(Some("purple")), Theme::System);
        assert_eq!(Theme::from_cookie(None), Theme::System);
    }

    #[test]
    fn cycles_through_the_three_choices() {
        assert_eq!(Theme::System.next(), Theme::Light);
        assert_eq!(Theme::Light.next(), Theme::Dark);
        assert_eq!(Theme::Dark.next(), Theme::System);
    }
}
