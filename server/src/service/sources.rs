//! Sources: systems whose own webhooks become Hookline events. A Logto
//! source checks Logto's signature over the raw body, reads the event's
//! name from the body and stores it like any ingested event, so Hookline's
//! hooks get it signed, retried and logged. Logto repeating a request (the
//! same body) within 24 hours makes no second event.

use async_trait::async_trait;
use domain::delivery::Ingested;
use domain::ids::SourceId;
use domain::ports::{Actor, SourcePort};
use domain::source::{NewSource, Source, SourceKind};
use domain::{AppError, ErrorCode};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::event_body::EventBody;
use super::events::{StoredEvent, IDEMPOTENCY_WINDOW_MS};
use super::secrets::sha256_hex;
use super::Service;
use crate::clock::now_ms;
use crate::ids::new_id;
use crate::store::{IdempotencyKey, SourceRow};

/// The path a source's caller posts to, under the server's origin.
pub fn intake_path(id: &SourceId) -> String {
    format!("/api/sources/{id}/events")
}

fn source_of(row: SourceRow, origin: &str) -> Result<Source, AppError> {
    let kind = SourceKind::parse(&row.kind).ok_or_else(|| {
        tracing::error!(source = %row.id, kind = %row.kind, "a source of an unknown kind");
        AppError::internal()
    })?;
    Ok(Source {
        url: format!("{origin}{}", intake_path(&row.id)),
        id: row.id,
        name: row.name,
        kind,
        created_at: row.created_at,
    })
}

#[async_trait]
impl SourcePort for Service {
    /// Every signed-in user and API key may list them: the signing keys
    /// never leave the server.
    async fn list_sources(&self, _actor: &Actor, origin: &str) -> Result<Vec<Source>, AppError> {
        self.store
            .list_sources()
            .await?
            .into_iter()
            .map(|row| source_of(row, origin))
            .collect()
    }

    async fn create_source(
        &self,
        actor: &Actor,
        input: NewSource,
        origin: &str,
    ) -> Result<Source, AppError> {
        actor.require_write()?;
        let input = input.validated()?.into_inner();
        let row = SourceRow {
            id: new_id(),
            name: input.name,
            kind: input.kind.as_str().to_owned(),
            signing_key: input.signing_key,
            created_at: now_ms(),
        };
        self.store.insert_source(&row).await?;
        source_of(row, origin)
    }

    async fn delete_source(&self, actor: &Actor, id: &SourceId) -> Result<(), AppError> {
        actor.require_write()?;
        if self.store.delete_source(id).await? {
            Ok(())
        } else {
            Err(AppError::not_found("source"))
        }
    }
}

impl Service {
    /// A request from source `id`'s caller: checked against its signature
    /// (`None` when the header was missing), then stored as an event. An
    /// unknown source is a 404, a wrong signature a 401; neither stores
    /// anything.
    pub async fn take_from_source(
        &self,
        id: &SourceId,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<Ingested, AppError> {
        let source = self
            .store
            .source(id)
            .await?
            .ok_or_else(|| AppError::not_found("source"))?;
        if !logto_signature_matches(&source.signing_key, body, signature) {
            return Err(AppError::new(
                ErrorCode::Unauthorized,
                "logto-signature-sha-256 does not match the body with this source's signing key",
            ));
        }
        let parsed = EventBody::parse_logto(body)?;
        self.check_event_type(&parsed).await?;
        let now = now_ms();
        // The body is the request: the same body again is Logto's retry.
        let digest = sha256_hex(&String::from_utf8_lossy(body));
        let idempotency = IdempotencyKey {
            scope: format!("source:{id}"),
            key: digest.clone(),
            request_hash: digest,
            expires_at: now + IDEMPOTENCY_WINDOW_MS,
        };
        Ok(
            match self.store_event(&parsed, Some(idempotency), now).await? {
                StoredEvent::New { id, deliveries } => Ingested {
                    id,
                    deliveries: deliveries.len() as i64,
                    outcomes: None,
                },
                StoredEvent::Repeat(ingested) => ingested,
            },
        )
    }
}

/// Logto's signature: lowercase hex HMAC-SHA256 of the raw body, compared in
/// constant time.
fn logto_signature_matches(key: &str, body: &[u8], signature: Option<&str>) -> bool {
    let Some(expected) = signature.and_then(|hex| hex::decode(hex.trim()).ok()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logtos_signature_is_hex_hmac_sha256_of_the_body() {
        // HMAC-SHA256("key", "{}").
        let forged = "2b6ad6b8a0d3c5f0b2e2a59af4c1a12c5d3e4f6a7b8c9d0e1f2a3b4c5d6e7f80";
        let mut mac = Hmac::<Sha256>::new_from_slice(b"key").unwrap();
        mac.update(b"{}");
        let real = hex::encode(mac.finalize().into_bytes());
        assert!(logto_signature_matches("key", b"{}", Some(&real)));
        assert!(!logto_signature_matches("key", b"{}", Some(forged)));
        assert!(!logto_signature_matches("other", b"{}", Some(&real)));
        assert!(!logto_signature_matches("key", b"{} ", Some(&real)));
        assert!(!logto_signature_matches("key", b"{}", Some("not hex")));
        assert!(!logto_signature_matches("key", b"{}", None));
    }
}
