//! Short forms shared by the tables and trees: ages, absent values, truncated text.

use chrono::{DateTime, Utc};

/// `3m`, `2h 5m`, `4d 3h`: how long ago.
pub(super) fn age(since: DateTime<Utc>) -> String {
    let secs = (Utc::now() - since).num_seconds().max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => format!("{}h {}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d {}h", secs / 86_400, secs % 86_400 / 3600),
    }
}

/// The value, or `-`.
pub(super) fn opt<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// At most `max` characters, the last one `…` when cut; `-` when absent.
pub(super) fn short(text: Option<&str>, max: usize) -> String {
    match text {
        None => "-".to_owned(),
        Some(t) if t.chars().count() <= max => t.to_owned(),
        Some(t) => format!("{}…", t.chars().take(max - 1).collect::<String>()),
    }
}
