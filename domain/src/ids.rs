//! One type per kind of id, so a hook's id cannot be passed where a
//! delivery's is wanted. Each is the text the database and the API use
//! (serialised as a plain string), made once where the id enters: a path, a
//! form, a row read back, or the server minting a new one.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// A hook (an endpoint and the events it gets).
    HookId
);
id_type!(
    /// An event as ingested.
    EventId
);
id_type!(
    /// One event's delivery to one hook; also the `webhook-id` a receiver sees.
    DeliveryId
);
id_type!(
    /// One HTTP request of a delivery.
    AttemptId
);
id_type!(
    /// A console user.
    UserId
);
id_type!(
    /// An API key (its id, never its secret).
    ApiKeyId
);
id_type!(
    /// A source: a system whose webhooks Hookline takes in as events.
    SourceId
);
id_type!(
    /// An incident: a hook failing, disabled, or letting deliveries run out
    /// of retries, from when it began until it ends.
    IncidentId
);
