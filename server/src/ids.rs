//! Ids of stored rows, minted as whichever id type is wanted (`HookId`,
//! `DeliveryId` …). Depends on nothing else in the crate.

use rand::distributions::{Alphanumeric, DistString};
use std::time::{SystemTime, UNIX_EPOCH};

/// A 21-character lowercase id, like Logto's, that sorts by creation time:
/// 9 base-36 digits of the Unix time in milliseconds, then 12 random
/// characters (from `rand`'s thread-local CSPRNG). Rows keyed by such ids go
/// in at the end of their indexes; random keys dirtied a different index
/// page for every row written, and the database wrote each of those pages
/// out again.
pub fn new_id<Id: From<String>>() -> Id {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut id = [b'0'; 9];
    for digit in id.iter_mut().rev() {
        *digit = DIGITS[(millis % 36) as usize];
        millis /= 36;
    }
    let mut id: String = id.iter().map(|&b| char::from(b)).collect();
    id.push_str(
        &Alphanumeric
            .sample_string(&mut rand::thread_rng(), 12)
            .to_ascii_lowercase(),
    );
    Id::from(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_21_lowercase_alphanumerics_in_order_of_creation() {
        let first: String = new_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second: String = new_id();
        for id in [&first, &second] {
            assert_eq!(id.len(), 21);
            assert!(id
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()));
        }
        assert!(first < second);
        assert_ne!(new_id::<String>(), new_id::<String>());
    }
}
