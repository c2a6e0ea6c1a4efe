//! The sign-in page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{action_error, AuthCard, ErrorNotice};
use crate::server_fns::auth::setup_required;
use crate::SessionActions;

#[component]
pub fn SignInPage() -> impl IntoView {
    let sign_in = expect_context::<SessionActions>().sign_in;
    let error = action_error(sign_in);
    let needs_setup = Resource::new(|| (), |_| setup_required());
    view! {
            <Title text="Sign in" />
            <AuthCard title="Sign in to the console">
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            (needs_setup.await == Ok(true))
                                .then(|| {
                                    view! {
                                        <div class="notice notice-info">
                                            "No admin exists yet. Open the setup link the server printed when it started."
                                        </div>
                                    }
                                })
                        })}
                    </Suspense>
                    <ErrorNotice error />
                    <ActionForm action=sign_in>
                        <div class="field">
    <label for="sign-in-email">"Email"</label>
                            <input id="sign-in-email" type="email" name="email" required autocomplete="username" />
                        </div>
                        <div class="field">
    <label for="sign-in-password">"Password"</label>
                            <input id="sign-in-password" type="password" name="password" required autocomplete="current-password" />
                        </div>
                        <button type="submit" class="btn btn-primary btn-block" disabled=move || sign_in.pending().get()>
                            "Sign in"
                        </button>
                    </ActionForm>
            </AuthCard>
        }
}
