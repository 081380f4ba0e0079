//! Deterministic event ids.
//!
//! An event a consumer emits gets an id derived from the event that caused it, so a retry or a
//! replay that emits it again emits the *same* id, and the next consumer's idempotency absorbs
//! it. A random id per attempt would turn one retry into two refunds downstream.

use uuid::Uuid;

/// Namespace of every derived id (UUID v5).
const NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2b3a_9d84_4e57_a0b1_c2d3_e4f5_0617);

/// The id of the `detail_type` event that `producer` emits because of event `cause_id`.
pub fn derived_event_id(producer: &str, cause_id: &str, detail_type: &str) -> String {
    let name = format!("{producer}\n{cause_id}\n{detail_type}");
    Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_cause_gives_the_same_id_and_another_cause_another() {
        let a = derived_event_id("inventory", "e-1", "InventoryReserved");
        assert_eq!(a, derived_event_id("inventory", "e-1", "InventoryReserved"));
        assert_ne!(a, derived_event_id("inventory", "e-2", "InventoryReserved"));
        assert_ne!(a, derived_event_id("refund", "e-1", "InventoryReserved"));
        assert_eq!(Uuid::parse_str(&a).unwrap().get_version_num(), 5);
    }
}
