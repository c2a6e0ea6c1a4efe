//! The adapter: the console's port (`app::console::Console`) served by this layer.

use app::console::{Actor, Console, NewSession};
use app::model::api_key::{ApiKey, CreatedApiKey};
use app::model::hook::{Hook, HookPatch, NewHook};
use app::model::user::{Role, User};
use app::model::AppError;
use async_trait::async_trait;

use super::Service;

#[async_trait]
impl Console for Service {
    async fn session_actor(&self, token: &str) -> Result<Option<Actor>, AppError> {
        Service::session_actor(self, token).await
    }
    async fn sign_in(&self, email: &str, password: &str) -> Result<NewSession, AppError> {
        Service::sign_in(self, email, password).await
    }
    async fn sign_out(&self, token: &str) -> Result<(), AppError> {
        Service::sign_out(self, token).await
    }
    async fn setup_required(&self) -> Result<bool, AppError> {
        Service::setup_required(self).await
    }
    async fn complete_setup(
        &self,
        token: &str,
        email: &str,
        password: &str,
    ) -> Result<NewSession, AppError> {
        Service::complete_setup(self, token, email, password).await
    }
    async fn list_users(&self, actor: &Actor) -> Result<Vec<User>, AppError> {
        Service::list_users(self, actor).await
    }
    async fn create_user(
        &self,
        actor: &Actor,
        email: &str,
        password: &str,
        role: Role,
    ) -> Result<User, AppError> {
        Service::create_user(self, actor, email, password, role).await
    }
    async fn delete_user(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        Service::delete_user(self, actor, id).await
    }
    async fn list_hooks(&self, actor: &Actor, with_stats: bool) -> Result<Vec<Hook>, AppError> {
        Service::list_hooks(self, actor, with_stats).await
    }
    async fn get_hook(&self, actor: &Actor, id: &str) -> Result<Hook, AppError> {
        Service::get_hook(self, actor, id).await
    }
    async fn create_hook(&self, actor: &Actor, input: NewHook) -> Result<Hook, AppError> {
        Service::create_hook(self, actor, input).await
    }
    async fn update_hook(
        &self,
        actor: &Actor,
        id: &str,
        input: HookPatch,
    ) -> Result<Hook, AppError> {
        Service::update_hook(self, actor, id, input).await
    }
    async fn delete_hook(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        Service::delete_hook(self, actor, id).await
    }
    async fn rotate_signing_key(&self, actor: &Actor, id: &str) -> Result<Hook, AppError> {
        Service::rotate_signing_key(self, actor, id).await
    }
    async fn list_api_keys(&self, actor: &Actor) -> Result<Vec<ApiKey>, AppError> {
        Service::list_api_keys(self, actor).await
    }
    async fn create_api_key(&self, actor: &Actor, name: &str) -> Result<CreatedApiKey, AppError> {
        Service::create_api_key(self, actor, name).await
    }
    async fn revoke_api_key(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        Service::revoke_api_key(self, actor, id).await
    }
}
