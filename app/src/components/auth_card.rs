//! The centred card of the pages seen before signing in.

use leptos::prelude::*;

use super::ChosenTheme;

#[component]
pub fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <ChosenTheme />
        <main class="auth-page">
            <div class="auth-card">
                <div class="brand brand-large">
                    <span class="brand-mark">"H"</span>
                    "Hookline"
                </div>
                <h1>{title}</h1>
                {children()}
            </div>
        </main>
    }
}
