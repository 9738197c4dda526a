//! How many rows of a kind one owner may have, so that every list is bounded where its rows are
//! created, and a list answers in one piece without pages (its shape stays an array).
//!
//! The numbers are far above what the product needs: there are some 300 housing associations
//! in the Netherlands, a corporation works with tens of maintenance partners, and an HR
//! coupling needs a token or two.

/// Corporations in the system.
pub const MAX_CORPORATIONS: usize = 1_000;
/// Contractors of one corporation.
pub const MAX_CONTRACTORS_PER_CORPORATION: usize = 500;
/// Spellings in one corporation's contractor name catalog.
pub const MAX_CATALOG_NAMES_PER_CORPORATION: usize = 5_000;
/// Service tokens of one person that are neither revoked nor expired.
pub const MAX_LIVE_API_TOKENS_PER_USER: usize = 25;
/// The most rows a list of several owners answers at once (KWH staff's view of every
/// corporation's contractors); a longer one asks for a filter.
pub const MAX_LISTED_ROWS: usize = 1_000;
/// Service tokens a list shows, newest first: revoked and expired ones stay listed (for
/// support), so only the live ones are bounded by [`MAX_LIVE_API_TOKENS_PER_USER`].
pub const MAX_LISTED_API_TOKENS: usize = 200;

/// Whether `adding` more rows fit beside the `existing` ones under `max`.
pub fn has_room(existing: i64, adding: usize, max: usize) -> bool {
    usize::try_from(existing).is_ok_and(|existing| existing.saturating_add(adding) <= max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_fit_up_to_the_limit_and_not_one_beyond() {
        assert!(has_room(0, 500, 500));
        assert!(has_room(499, 1, 500));
        assert!(!has_room(500, 1, 500));
        assert!(!has_room(499, 2, 500));
        assert!(has_room(500, 0, 500), "adding nothing always fits");
        assert!(
            !has_room(501, 0, 500),
            "a count already beyond the limit leaves no room"
        );
        assert!(!has_room(-1, 0, 500), "a negative count is no count");
        assert!(!has_room(0, usize::MAX, 500));
    }
}
