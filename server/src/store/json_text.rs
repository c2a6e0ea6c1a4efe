//! JSON kept as text on both databases.
//!
//! sqlx's `Json` binds as PostgreSQL `jsonb`, which reorders object keys; a
//! hook's headers must go out in the order given, so JSON columns are plain
//! `TEXT` everywhere and this type turns values into that text and back.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText<T>(pub T);

impl<T, DB: Database> Type<DB> for JsonText<T>
where
    String: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as Type<DB>>::compatible(ty)
    }
}

impl<'q, T: Serialize, DB: Database> Encode<'q, DB> for JsonText<T>
where
    String: Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut <DB as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, DB>>::encode(serde_json::to_string(&self.0)?, buf)
    }
}

impl<'r, T: DeserializeOwned, DB: Database> Decode<'r, DB> for JsonText<T>
where
    &'r str: Decode<'r, DB>,
{
    fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&'r str as Decode<'r, DB>>::decode(value)?;
        Ok(JsonText(serde_json::from_str(text)?))
    }
}

// Row fields keep their plain types: `#[sqlx(try_from = "JsonText<…>")]`.
impl From<JsonText<Vec<String>>> for Vec<String> {
    fn from(value: JsonText<Vec<String>>) -> Self {
        value.0
    }
}

impl From<JsonText<domain::hook::Headers>> for domain::hook::Headers {
    fn from(value: JsonText<domain::hook::Headers>) -> Self {
        value.0
    }
}
