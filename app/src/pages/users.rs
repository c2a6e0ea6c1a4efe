//! Console users: admins add admins and viewers.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{
    action_error, AdminOnly, ErrorNotice, FieldError, PageData, PageHeader, RemoveCell,
};
use crate::server_fns::users::{list_users, CreateUser, DeleteUser};
use domain::time::format_utc;
use domain::user::{User, PASSWORD_MIN_CHARS};

#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let users = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| list_users(),
    );
    let create_error = action_error(create);
    let delete_error = action_error(delete);
    view! {
            <Title text="Users" />
            <PageHeader title="Users".into() subtitle="Admins change anything; viewers read everything and change nothing." />
            <AdminOnly>
                <ActionForm action=create attr:class="card form inline-form">
                    <div class="field grow">
    <label for="users-email">"Email"</label>
                        <input id="users-email" type="email" name="email" required />
                        <FieldError error=create_error field="email" />
                    </div>
                    <div class="field grow">
    <label for="users-password">"Password"</label>
                        <input id="users-password" type="password" name="password" required minlength=PASSWORD_MIN_CHARS autocomplete="new-password" />
                        <FieldError error=create_error field="password" />
                    </div>
                    <div class="field">
    <label for="users-role">"Role"</label>
                        <select id="users-role" name="role">
                            <option value="viewer">"Viewer"</option>
                            <option value="admin">"Admin"</option>
                        </select>
                    </div>
                    <button type="submit" class="btn btn-primary" disabled=move || create.pending().get()>
                        "Add user"
                    </button>
                </ActionForm>
                <ErrorNotice error=create_error />
            </AdminOnly>
            <ErrorNotice error=delete_error />
            <PageData
                resource=users
                render={move |users: Vec<User>, can_write| view! { <UsersTable users delete can_write /> }}
            />
        }
}

#[component]
fn UsersTable(
    users: Vec<User>,
    delete: ServerAction<DeleteUser>,
    can_write: bool,
) -> impl IntoView {
    view! {
        <div class="card table-card">
            <table class="table">
                <thead>
                    <tr>
                        <th>"Email"</th>
                        <th>"Role"</th>
                        <th>"Added"</th>
                        <th></th>
                    </tr>
                </thead>
                <tbody>
                    {users
                        .into_iter()
                        .map(|user| {
                            let id = user.id.clone();
                            view! {
                                <tr>
                                    <td class="row-title">{user.email.clone()}</td>
                                    <td data-label="Role">
                                        <span class="badge badge-grey">{user.role.as_str()}</span>
                                    </td>
                                    <td data-label="Added" class="muted">{format_utc(user.created_at)}</td>
                                    <RemoveCell
                                        shown=can_write
                                        label="Remove"
                                        title="Remove this user?"
                                        message=format!("{} will no longer be able to sign in.", user.email)
                                        confirm_label="Remove user"
                                        on_confirm=move |()| {
                                            delete.dispatch(DeleteUser { id: id.clone() });
                                        }
                                    />
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
