//! Shares of each hook's in-flight limit: which of a hook's slots a
//! dispatcher may use, given its place among the live ones (see `roster.rs`,
//! which finds the place, and `state.rs`, which keeps to it).

use domain::ids::HookId;

/// One dispatcher's place among `of` live ones (`of == 0`: no place yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub index: usize,
    pub of: usize,
}

impl Place {
    /// How many of a hook's `limit` slots this place has. The `limit % of`
    /// slots that do not divide evenly go to different places for different
    /// hooks, so no instance is always the one with fewer.
    pub fn slots(&self, hook_id: &HookId, limit: usize) -> usize {
        if self.of == 0 {
            return 0;
        }
        let rank = (self.index + stable_hash(hook_id.as_str()) as usize % self.of) % self.of;
        limit / self.of + usize::from(rank < limit % self.of)
    }
}

/// The same on every instance (unlike `std`'s seeded hashers): FNV-1a.
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The places a dispatcher must keep to at once: while the others have not
/// all moved to its latest view, the smallest of its old and new shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shares(Vec<Place>);

impl Shares {
    /// The share of one place.
    pub fn of(place: Place) -> Shares {
        Shares(vec![place])
    }

    /// No slots at all: a dispatcher that has not yet looked at the roster.
    pub fn none() -> Shares {
        Shares(vec![Place { index: 0, of: 0 }])
    }

    /// Every slot: a dispatcher alone.
    #[cfg(test)]
    pub fn alone() -> Shares {
        Shares(vec![Place { index: 0, of: 1 }])
    }

    /// How many of a hook's `limit` slots are this dispatcher's.
    pub fn slots(&self, hook_id: &HookId, limit: usize) -> usize {
        self.0
            .iter()
            .map(|place| place.slots(hook_id, limit))
            .min()
            .unwrap_or(0)
    }

    /// True when no hook has a slot (this dispatcher takes no work).
    pub fn is_none(&self) -> bool {
        self.0.iter().any(|place| place.of == 0)
    }

    /// These places and `place`: the smallest share of each.
    pub fn and(&self, place: Place) -> Shares {
        let mut places = self.0.clone();
        if !places.contains(&place) {
            places.push(place);
        }
        Shares(places)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_places_of_a_view_share_each_hook_limit_exactly() {
        for of in 1..=5 {
            for limit in [1, 3, 10] {
                for hook in ["a", "hook-2", "zzz"] {
                    let total: usize = (0..of)
                        .map(|index| Place { index, of }.slots(&HookId::from(hook), limit))
                        .sum();
                    assert_eq!(total, limit, "{of} places, limit {limit}, hook {hook}");
                }
            }
        }
    }
}
