//! Who is calling the REST API: `Authorization: Bearer <api key>`.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use domain::ports::Actor;
use domain::AppError;

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
            .and_then(bearer_token)
            .ok_or_else(|| ApiError(AppError::unauthorized()))?;
        service
            .api_key_actor(key)
            .await?
            .map(ApiActor)
            .ok_or_else(|| {
                ApiError(AppError::new(
                    domain::ErrorCode::Unauthorized,
                    "API key is not valid or was revoked",
                ))
            })
    }
}

/// The token of an `Authorization: Bearer <token>` value. The scheme is
/// matched case-insensitively and may be followed by more than one space
/// (RFC 9110 §11.1, RFC 6750 §2.1).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once([' ', '\t'])?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_scheme_is_case_insensitive_and_spaces_may_repeat() {
        for value in [
            "Bearer k1",
            "bearer k1",
            "BEARER k1",
            "bEaReR k1",
            "Bearer   k1",
            "Bearer\tk1",
            "Bearer k1 ",
        ] {
            assert_eq!(bearer_token(value), Some("k1"), "{value:?}");
        }
        for value in [
            "",
            "Bearer",
            "Bearer ",
            "Bearer   ",
            "Basic k1",
            "Bearerk1",
            "Token k1",
        ] {
            assert_eq!(bearer_token(value), None, "{value:?}");
        }
    }
}
