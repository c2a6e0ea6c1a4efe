//! API keys as the console lists them: never the key itself, only its prefix.

use serde::{Deserialize, Serialize};

use crate::ids::ApiKeyId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    /// The first characters of the key, enough to recognise it.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A key just created: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub secret: String,
}

pub const NAME_MAX_CHARS: usize = 100;

pub fn validate_name(raw: &str) -> Result<String, super::AppError> {
    super::required_text("name", raw, NAME_MAX_CHARS)
}
