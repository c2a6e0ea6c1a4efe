//! Who is calling the REST API: `Authorization: Bearer <api key>`.

use std::sync::Arc;

use app::console::Actor;
use app::model::AppError;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::service::Service;

/// An authenticated API caller; extracting it refuses the request with 401 otherwise.
pub struct ApiActor(pub Actor);

impl<S> FromRequestParts<S> for ApiActor
where
    Arc<Service>: axum::extract::FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let service: Arc<Service> = axum::extract::FromRef::from_ref(state);
        let key = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| ApiError(AppError::unauthorized()))?;
        service
            .api_key_actor(key)
            .await?
            .map(ApiActor)
            .ok_or_else(|| {
                ApiError(AppError::new(
                    app::model::ErrorCode::Unauthorized,
                    "API key is not valid or was revoked",
                ))
            })
    }
}
