//! Search over events and deliveries: any signed-in user or API key may
//! read, as with the log.

use async_trait::async_trait;
use domain::ports::{Actor, SearchPort};
use domain::search::{SearchPage, SearchQuery, SEARCH_MATCH_LIMIT};
use domain::AppError;

use super::Service;

#[async_trait]
impl SearchPort for Service {
    async fn search(&self, _actor: &Actor, query: SearchQuery) -> Result<SearchPage, AppError> {
        let filter = query.validated()?;
        let (matches, counted) = self.store.search(&filter).await?;
        Ok(SearchPage {
            matches,
            total: counted.min(SEARCH_MATCH_LIMIT),
            total_capped: counted > SEARCH_MATCH_LIMIT,
        })
    }
}
