//! Short forms shared by the tables and trees: ages, absent values and message names.

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

/// A message's id as a table names it: an SQS message id whole, a record in S3 by the last part
/// of its key (the rest is the prefix every record of the function shares).
pub(super) fn message_name(message_id: &str) -> &str {
    message_id.rsplit('/').next().unwrap_or(message_id)
}
