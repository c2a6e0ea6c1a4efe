//! How errors leave the REST API: `{"code", "message"}` with a 4xx, a 503
//! with `Retry-After` while the database cannot be reached, or, for our own
//! failures only, a 500.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::OriginalUri;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::{AppError, ErrorCode};

pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        ApiError(err)
    }
}

/// The `Retry-After` of a 503 or 429 whose error does not name its own wait
/// (`AppError::retry_after`):
/// long enough for a database restart or a busy moment to pass.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 5;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let passing = matches!(
            status,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
        );
        let retry_after = self
            .0
            .retry_after
            .or(passing.then_some(DEFAULT_RETRY_AFTER_SECS));
        let mut response = (status, Json(self.0)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A body the server could not take: too large (413) or malformed (400).
fn body_rejection(status: StatusCode, what: &str, detail: String) -> ApiError {
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
        ErrorCode::PayloadTooLarge
    } else {
        ErrorCode::InvalidInput
    };
    ApiError(AppError::new(code, format!("{what}: {detail}")))
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        body_rejection(
            rejection.status(),
            "invalid JSON body",
            rejection.body_text(),
        )
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        body_rejection(
            rejection.status(),
            "could not read the body",
            rejection.body_text(),
        )
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError(AppError::new(
            ErrorCode::InvalidInput,
            format!("invalid query string: {}", rejection.body_text()),
        ))
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        let message = rejection.body_text();
        if rejection.status() != StatusCode::BAD_REQUEST {
            // A route declared without the parameter: ours to fix, not the caller's.
            tracing::error!(%message, "path parameters could not be read");
            return ApiError(AppError::internal());
        }
        let field = match &rejection {
            PathRejection::FailedToDeserializePathParams(err) => match err.kind() {
                ErrorKind::InvalidUtf8InPathParam { key }
                | ErrorKind::ParseErrorAtKey { key, .. } => Some(key.as_str()),
                _ => None,
            },
            _ => None,
        };
        ApiError(match field {
            Some(field) => AppError::invalid(field, message),
            None => AppError::new(ErrorCode::InvalidInput, message),
        })
    }
}

/// `axum::Json` whose rejections are API errors.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// The raw body, for routes that must see the exact bytes.
pub struct ApiBody(pub axum::body::Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for ApiBody {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        Ok(ApiBody(
            axum::body::Bytes::from_request(request, state).await?,
        ))
    }
}

/// `axum::extract::Path` whose rejections are API errors.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// `axum::extract::Query` whose rejections are API errors.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

pub type ApiResult<T> = Result<T, ApiError>;

/// For `/api` paths no route serves: JSON, like every other API answer.
pub async fn no_such_route(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError(AppError::new(
        ErrorCode::NotFound,
        format!("no API route {}", uri.path()),
    ))
}

pub async fn method_not_allowed(
    method: axum::http::Method,
    OriginalUri(uri): OriginalUri,
) -> ApiError {
    ApiError(AppError::new(
        ErrorCode::MethodNotAllowed,
        format!("{method} is not allowed on {}", uri.path()),
    ))
}
