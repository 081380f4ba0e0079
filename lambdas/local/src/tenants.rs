//! The tenant accounts of the local stack, as `terraform/modules/tenant` deploys each: its own
//! bus and order producer, and the forward rule whose target is the central bus, with the
//! forward DLQ in the tenant's account. The central account (`sqs::ACCOUNT`) keeps the
//! consumers, which serve every tenant.
//!
//! A state file has the first N tenants of a fixed list (`ecomm demo --tenants N` adds them),
//! so names and accounts are the same on every machine.

use crate::sqs::{REGION, queue_arn_in};
use crate::store::{Db, StoreError};
use crate::{PREFIX, PRODUCER};

/// The most tenants a state file holds.
pub const MAX_TENANTS: usize = 9;

/// The tenants' ids, in the order they are added.
const IDS: [&str; MAX_TENANTS] = [
    "acme", "globex", "initech", "umbrella", "hooli", "wonka", "tyrell", "stark", "wayne",
];

/// The `meta` key holding how many tenants the state has.
const META_KEY: &str = "tenants";

/// One tenant account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// The tenant id its events carry (`detail.metadata.tenantId`).
    pub id: String,
    /// Its account id.
    pub account: String,
}

impl Tenant {
    /// The `n`th tenant (0-based): `acme` in `111111111111`, `globex` in `222222222222`, ….
    ///
    /// # Panics
    /// When `n` is `MAX_TENANTS` or more.
    pub fn nth(n: usize) -> Self {
        let digit = char::from_digit(u32::try_from(n + 1).unwrap_or(0), 10)
            .filter(|_| n < MAX_TENANTS)
            .expect("at most MAX_TENANTS tenants");
        Self {
            id: IDS[n].to_owned(),
            account: std::iter::repeat_n(digit, 12).collect(),
        }
    }

    /// The name prefix of the tenant's resources, and its bus's name (`ecomm-local-acme`).
    pub fn prefix(&self) -> String {
        format!("{PREFIX}-{}", self.id)
    }

    /// The tenant's bus ARN.
    pub fn bus_arn(&self) -> String {
        format!(
            "arn:aws:events:{REGION}:{}:event-bus/{}",
            self.account,
            self.prefix()
        )
    }

    /// The forward rule's name.
    pub fn forward_rule(&self) -> String {
        format!("{}-forward", self.prefix())
    }

    /// The forward rule's ARN.
    pub fn forward_rule_arn(&self) -> String {
        format!(
            "arn:aws:events:{REGION}:{}:rule/{}/{}",
            self.account,
            self.prefix(),
            self.forward_rule()
        )
    }

    /// The forward DLQ's name.
    pub fn forward_dlq(&self) -> String {
        format!("{}-forward-dlq", self.prefix())
    }

    /// The forward DLQ's ARN, in the tenant's account.
    pub fn forward_dlq_arn(&self) -> String {
        queue_arn_in(&self.account, &self.forward_dlq())
    }

    /// The tenant's order producer function.
    pub fn producer_function(&self) -> String {
        format!("{}-{PRODUCER}", self.prefix())
    }
}

/// The tenants of the state file.
pub fn load(db: &Db) -> Result<Vec<Tenant>, StoreError> {
    let count = db
        .meta(META_KEY)?
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(MAX_TENANTS);
    Ok((0..count).map(Tenant::nth).collect())
}

/// Make sure the state file has at least `count` tenants (at most `MAX_TENANTS`); a state
/// never loses a tenant it has.
pub fn ensure(db: &Db, count: usize) -> Result<Vec<Tenant>, StoreError> {
    let have = load(db)?.len();
    let want = count.min(MAX_TENANTS);
    if want > have {
        db.set_meta(META_KEY, &want.to_string())?;
    }
    load(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_have_fixed_names_and_accounts_of_their_own() {
        let acme = Tenant::nth(0);
        assert_eq!(acme.id, "acme");
        assert_eq!(acme.account, "111111111111");
        assert_eq!(Tenant::nth(1).account, "222222222222");
        assert_eq!(
            acme.forward_rule_arn(),
            "arn:aws:events:local:111111111111:rule/ecomm-local-acme/ecomm-local-acme-forward"
        );
        assert_eq!(
            acme.forward_dlq_arn(),
            "arn:aws:sqs:local:111111111111:ecomm-local-acme-forward-dlq"
        );
        assert_eq!(acme.producer_function(), "ecomm-local-acme-order-producer");
    }

    #[test]
    fn a_state_gains_tenants_and_never_loses_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("state.db")).unwrap();
        assert!(load(&db).unwrap().is_empty());
        assert_eq!(ensure(&db, 2).unwrap().len(), 2);
        assert_eq!(ensure(&db, 1).unwrap().len(), 2);
        assert_eq!(ensure(&db, 99).unwrap().len(), MAX_TENANTS);
    }
}
