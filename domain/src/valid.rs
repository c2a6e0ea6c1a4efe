//! Parse, don't validate: a value that passed its checks has its own type.

use std::ops::Deref;

/// A `T` that passed every rule the domain has for it. Only the domain's
/// `validated` functions make one, so a store function that takes a
/// `Valid<NewHook>` cannot be handed input nobody checked. It reads like the
/// `T` inside (`Deref`).
#[derive(Debug, Clone, PartialEq)]
pub struct Valid<T>(T);

impl<T> Valid<T> {
    /// Only for the checks themselves.
    pub(crate) fn new(checked: T) -> Self {
        Self(checked)
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Valid<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}
