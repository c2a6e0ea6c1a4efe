//! First run: the one-time link the server printed creates the first admin.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::{action_error, AuthCard, ErrorNotice, FieldError};
use crate::SessionActions;
use domain::user::PASSWORD_MIN_CHARS;

#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = expect_context::<SessionActions>().setup;
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let error = action_error(setup);
    view! {
            <Title text="Set up" />
            <AuthCard title="Create the first admin">
                    <p class="muted">"This account can add other admins and viewers later."</p>
                    <ErrorNotice error />
                    <ActionForm action=setup>
                        <input type="hidden" name="token" value=token />
                        <div class="field">
    <label for="setup-email">"Email"</label>
                            <input id="setup-email" type="email" name="email" required autocomplete="username" />
                            <FieldError error field="email" />
                        </div>
                        <div class="field">
    <label for="setup-password">"Password"</label>
                            <input id="setup-password"
                                type="password"
                                name="password"
                                required
                                minlength=PASSWORD_MIN_CHARS
                                autocomplete="new-password"
                            />
                            <FieldError error field="password" />
                        </div>
                        <button type="submit" class="btn btn-primary btn-block" disabled=move || setup.pending().get()>
                            "Create admin and sign in"
                        </button>
                    </ActionForm>
            </AuthCard>
        }
}
