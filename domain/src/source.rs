//! Sources: systems whose own webhooks Hookline takes in as events. A Logto
//! source is the URL a Logto webhook posts to; Hookline checks Logto's
//! signature and fans the event out to its hooks, with the retries, log and
//! resends Logto's own webhooks lack (README, "Put Hookline behind Logto").

use serde::{Deserialize, Serialize};

use crate::ids::SourceId;
use crate::{AppError, Valid};

/// The longest signing key a source keeps: Logto's are 32 characters.
pub const SIGNING_KEY_MAX_CHARS: usize = 256;

/// Who calls a source, and so how its requests are checked and read.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A Logto webhook: `logto-signature-sha-256` (hex HMAC-SHA256 of the
    /// raw body with the webhook's signing key), the event's name in the
    /// body's `event`.
    Logto,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logto => "logto",
        }
    }

    pub fn parse(text: &str) -> Option<SourceKind> {
        (text == "logto").then_some(SourceKind::Logto)
    }
}

/// A source as the API returns it. Its signing key is never sent back: it
/// lives in the calling system's settings already.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    pub id: SourceId,
    pub name: String,
    pub kind: SourceKind,
    /// Where the calling system posts, as an absolute URL (with
    /// `--public-url` behind a proxy).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://hookline.example.com/api/sources/0mx6abc/events")
    )]
    pub url: String,
    pub created_at: i64,
}

/// `POST /api/sources`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSource {
    /// 1 to 256 characters (trimmed).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 256, example = "Logto production")
    )]
    pub name: String,
    pub kind: SourceKind,
    /// The signing key of the Logto webhook that will call this source
    /// (Logto's console, the webhook's page): 1 to 256 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 256))]
    pub signing_key: String,
}

impl NewSource {
    pub fn validated(&self) -> Result<Valid<NewSource>, AppError> {
        let signing_key = self.signing_key.trim();
        if signing_key.is_empty() || signing_key.chars().count() > SIGNING_KEY_MAX_CHARS {
            return Err(AppError::invalid(
                "signingKey",
                format!("signingKey must be 1 to {SIGNING_KEY_MAX_CHARS} characters"),
            ));
        }
        Ok(Valid::new(NewSource {
            name: crate::hook::validate_name(&self.name)?,
            kind: self.kind,
            signing_key: signing_key.to_owned(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_source_needs_a_name_and_a_key() {
        let source = |name: &str, key: &str| NewSource {
            name: name.into(),
            kind: SourceKind::Logto,
            signing_key: key.into(),
        };
        assert!(source("Logto", "k").validated().is_ok());
        assert!(source(" ", "k").validated().is_err());
        assert!(source("Logto", " ").validated().is_err());
        assert!(source("Logto", &"k".repeat(257)).validated().is_err());
        assert_eq!(
            serde_json::to_string(&SourceKind::Logto).unwrap(),
            "\"logto\""
        );
    }
}
