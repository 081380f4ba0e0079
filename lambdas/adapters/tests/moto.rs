//! The AWS adapters against moto on loopback, as the deployed Lambdas use them.
//!
//! `./scripts/test` starts moto and sets `ECOMM_TEST_AWS_ENDPOINT`; without it every test here
//! fails with a message saying so. Each test creates its own tables, buses and queues, so the
//! tests run in parallel against one server.

mod support;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, SubsecRound as _, Utc};
use ecomm_adapters::{
    DynamoAnalyticsSink, DynamoAuditTrail, DynamoIdempotencyStore, DynamoRefundStore,
    DynamoStockStore, EventBridgePublisher, SesMailer,
};
use ecomm_events::{DEFAULT_TENANT, DomainEvent, EventEnvelope, ReservedItem, Shortfall};
use ecomm_ports::{
    AnalyticsSink as _, AuditEntry, AuditTrail as _, Claim, Email, EventPublisher as _,
    IdempotencyStore as _, Mailer as _, OrderFact, PortError, PublishError, RefundRecord,
    RefundStore as _, Reservation, StockStore as _,
};
use rust_decimal::Decimal;
use serde_json::json;
use support::{create_table, sdk_config, unique};

type Item = HashMap<String, AttributeValue>;

async fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config().await)
}

async fn get_item(client: &aws_sdk_dynamodb::Client, table: &str, key: Item) -> Option<Item> {
    client
        .get_item()
        .table_name(table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .expect("get_item")
        .item
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

fn decimal(text: &str) -> Decimal {
    text.parse().expect("a decimal literal")
}

/// Now, to the second: the stores keep epoch seconds.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

mod stock {
    use super::*;

    /// A stock table of its own, with its store.
    struct StockTable {
        client: aws_sdk_dynamodb::Client,
        name: String,
        store: DynamoStockStore,
    }

    impl StockTable {
        async fn with_levels(levels: &[(&str, u32)]) -> Self {
            let client = dynamodb().await;
            let name = unique("stock");
            create_table(&client, &name, "pk", None).await;
            for (sku, available) in levels {
                client
                    .put_item()
                    .table_name(&name)
                    .item("pk", s(&DynamoStockStore::sku_key(sku)))
                    .item("available", AttributeValue::N(available.to_string()))
                    .send()
                    .await
                    .expect("seed stock level");
            }
            let store = DynamoStockStore::new(client.clone(), &name);
            Self {
                client,
                name,
                store,
            }
        }

        async fn available(&self, sku: &str) -> Option<u32> {
            let key = HashMap::from([("pk".to_owned(), s(&DynamoStockStore::sku_key(sku)))]);
            let item = get_item(&self.client, &self.name, key).await?;
            Some(
                item["available"]
                    .as_n()
                    .expect("available is a number")
                    .parse()
                    .expect("available is a whole number"),
            )
        }

        async fn marker(&self, order_id: &str) -> Option<Item> {
            let key = HashMap::from([("pk".to_owned(), s(&format!("reservation#{order_id}")))]);
            get_item(&self.client, &self.name, key).await
        }
    }

    fn lines(lines: &[(&str, u32)]) -> Vec<ReservedItem> {
        lines
            .iter()
            .map(|(sku, quantity)| ReservedItem {
                sku: (*sku).to_owned(),
                quantity: *quantity,
            })
            .collect()
    }

    fn shortfall(sku: &str, requested: u32, available: u32) -> Shortfall {
        Shortfall {
            sku: sku.to_owned(),
            requested,
            available,
        }
    }

    #[tokio::test]
    async fn a_reservation_that_fits_decrements_every_sku_and_marks_the_order() {
        let stock = StockTable::with_levels(&[("sku-abc", 5), ("sku-def", 1)]).await;

        let items = lines(&[("sku-abc", 2), ("sku-def", 1)]);
        let reserved = stock
            .store
            .reserve(DEFAULT_TENANT, "ord-1", &items)
            .await
            .unwrap();

        assert_eq!(reserved, Reservation::Reserved);
        assert_eq!(stock.available("sku-abc").await, Some(3));
        assert_eq!(stock.available("sku-def").await, Some(0));
        let marker = stock.marker("ord-1").await.expect("the order's marker");
        assert_eq!(marker["orderId"], s("ord-1"));
        let recorded: Vec<ReservedItem> =
            serde_json::from_str(marker["items"].as_s().unwrap()).unwrap();
        assert_eq!(recorded, items);
    }

    #[tokio::test]
    async fn each_tenant_reserves_from_its_own_stock_and_its_own_orders() {
        // Only the default tenant has sku-abc; brand-a's level is an item of its own.
        let stock = StockTable::with_levels(&[("sku-abc", 5)]).await;
        let items = lines(&[("sku-abc", 2)]);
        assert_eq!(
            stock
                .store
                .reserve("brand-a", "ord-1", &items)
                .await
                .unwrap(),
            Reservation::OutOfStock(vec![shortfall("sku-abc", 2, 0)])
        );
        stock
            .client
            .put_item()
            .table_name(&stock.name)
            .item("pk", s("tenant#brand-a#sku#sku-abc"))
            .item("available", AttributeValue::N("3".to_owned()))
            .send()
            .await
            .expect("seed brand-a's level");
        assert_eq!(
            stock
                .store
                .reserve("brand-a", "ord-1", &items)
                .await
                .unwrap(),
            Reservation::Reserved
        );
        // The same order id in the default tenant is another order.
        assert_eq!(
            stock
                .store
                .reserve(DEFAULT_TENANT, "ord-1", &items)
                .await
                .unwrap(),
            Reservation::Reserved
        );
        assert_eq!(stock.available("sku-abc").await, Some(3));
        let branded = HashMap::from([("pk".to_owned(), s("tenant#brand-a#sku#sku-abc"))]);
        let left = get_item(&stock.client, &stock.name, branded).await.unwrap();
        assert_eq!(left["available"], AttributeValue::N("1".to_owned()));
    }

    #[tokio::test]
    async fn a_reservation_that_does_not_fit_changes_nothing_and_names_every_short_line() {
        let stock =
            StockTable::with_levels(&[("sku-abc", 5), ("sku-def", 1), ("sku-ghi", 2)]).await;

        let items = lines(&[("sku-abc", 2), ("sku-def", 3), ("sku-ghi", 4)]);
        let outcome = stock
            .store
            .reserve(DEFAULT_TENANT, "ord-2", &items)
            .await
            .unwrap();

        assert_eq!(
            outcome,
            Reservation::OutOfStock(vec![shortfall("sku-def", 3, 1), shortfall("sku-ghi", 4, 2)])
        );
        assert_eq!(stock.available("sku-abc").await, Some(5));
        assert_eq!(stock.available("sku-def").await, Some(1));
        assert_eq!(stock.available("sku-ghi").await, Some(2));
        assert_eq!(stock.marker("ord-2").await, None);
    }

    #[tokio::test]
    async fn an_order_that_failed_for_stock_can_be_reserved_once_stock_arrives() {
        let stock = StockTable::with_levels(&[("sku-abc", 1)]).await;
        let items = lines(&[("sku-abc", 2)]);
        assert!(matches!(
            stock
                .store
                .reserve(DEFAULT_TENANT, "ord-3", &items)
                .await
                .unwrap(),
            Reservation::OutOfStock(_)
        ));

        stock
            .client
            .put_item()
            .table_name(&stock.name)
            .item("pk", s(&DynamoStockStore::sku_key("sku-abc")))
            .item("available", AttributeValue::N("10".to_owned()))
            .send()
            .await
            .unwrap();

        assert_eq!(
            stock
                .store
                .reserve(DEFAULT_TENANT, "ord-3", &items)
                .await
                .unwrap(),
            Reservation::Reserved
        );
        assert_eq!(stock.available("sku-abc").await, Some(8));
    }

    #[tokio::test]
    async fn reserving_the_same_order_twice_decrements_once() {
        let stock = StockTable::with_levels(&[("sku-abc", 5)]).await;
        let items = lines(&[("sku-abc", 2)]);

        let first = stock
            .store
            .reserve(DEFAULT_TENANT, "ord-4", &items)
            .await
            .unwrap();
        let second = stock
            .store
            .reserve(DEFAULT_TENANT, "ord-4", &items)
            .await
            .unwrap();

        assert_eq!(first, Reservation::Reserved);
        assert_eq!(second, Reservation::AlreadyReserved);
        assert_eq!(stock.available("sku-abc").await, Some(3));
    }

    #[tokio::test]
    async fn a_sku_without_an_item_counts_as_none_available() {
        let stock = StockTable::with_levels(&[("sku-abc", 5)]).await;

        let items = lines(&[("sku-abc", 1), ("sku-unknown", 1)]);
        let outcome = stock
            .store
            .reserve(DEFAULT_TENANT, "ord-5", &items)
            .await
            .unwrap();

        assert_eq!(
            outcome,
            Reservation::OutOfStock(vec![shortfall("sku-unknown", 1, 0)])
        );
        assert_eq!(stock.available("sku-abc").await, Some(5));
        assert_eq!(stock.available("sku-unknown").await, None);
    }

    #[tokio::test]
    async fn a_missing_table_is_a_refusal() {
        let store = DynamoStockStore::new(dynamodb().await, unique("no-such-table"));

        let err = store
            .reserve(DEFAULT_TENANT, "ord-6", &lines(&[("sku-abc", 1)]))
            .await
            .unwrap_err();

        assert!(matches!(err, PortError::Refused { .. }), "{err:?}");
    }
}

mod idempotency {
    use super::*;
    use tokio::task::JoinSet;

    async fn store() -> DynamoIdempotencyStore {
        let client = dynamodb().await;
        let table = unique("idempotency");
        create_table(&client, &table, "id", None).await;
        DynamoIdempotencyStore::new(client, table)
    }

    const KEY: &str = "inventory#0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";

    #[tokio::test]
    async fn the_first_claim_acquires_and_a_second_sees_it_in_progress() {
        let store = store().await;
        let now = now();
        let locked_until = now + Duration::minutes(5);

        let first = store.claim(KEY, now, locked_until).await.unwrap();
        let second = store
            .claim(KEY, now + Duration::seconds(1), now + Duration::minutes(6))
            .await
            .unwrap();

        assert_eq!(first, Claim::Acquired);
        assert_eq!(second, Claim::InProgress { locked_until });
    }

    #[tokio::test]
    async fn a_completed_key_returns_its_outcome() {
        let store = store().await;
        let now = now();
        let outcome = json!({"published": ["InventoryReserved"], "reserved": 2});

        assert_eq!(
            store
                .claim(KEY, now, now + Duration::minutes(5))
                .await
                .unwrap(),
            Claim::Acquired
        );
        store
            .complete(KEY, &outcome, now + Duration::days(1))
            .await
            .unwrap();

        let later = now + Duration::hours(1);
        let again = store
            .claim(KEY, later, later + Duration::minutes(5))
            .await
            .unwrap();
        assert_eq!(again, Claim::Completed(outcome));
    }

    #[tokio::test]
    async fn release_frees_the_key_for_a_retry() {
        let store = store().await;
        let now = now();
        let until = now + Duration::minutes(5);

        assert_eq!(store.claim(KEY, now, until).await.unwrap(), Claim::Acquired);
        store.release(KEY).await.unwrap();

        assert_eq!(store.claim(KEY, now, until).await.unwrap(), Claim::Acquired);
    }

    #[tokio::test]
    async fn release_after_complete_does_not_undo_the_completion() {
        let store = store().await;
        let now = now();
        let until = now + Duration::minutes(5);
        let outcome = json!({"published": []});

        store.claim(KEY, now, until).await.unwrap();
        store
            .complete(KEY, &outcome, now + Duration::days(1))
            .await
            .unwrap();
        store.release(KEY).await.unwrap();

        assert_eq!(
            store.claim(KEY, now, until).await.unwrap(),
            Claim::Completed(outcome)
        );
    }

    #[tokio::test]
    async fn releasing_a_key_never_claimed_is_harmless() {
        let store = store().await;

        store.release(KEY).await.unwrap();

        let now = now();
        assert_eq!(
            store
                .claim(KEY, now, now + Duration::minutes(5))
                .await
                .unwrap(),
            Claim::Acquired
        );
    }

    #[tokio::test]
    async fn an_expired_lock_of_a_crashed_invocation_can_be_claimed_again() {
        let store = store().await;
        let now = now();
        let first_lock = now + Duration::minutes(1);
        assert_eq!(
            store.claim(KEY, now, first_lock).await.unwrap(),
            Claim::Acquired
        );

        let before_expiry = now + Duration::seconds(30);
        assert_eq!(
            store
                .claim(KEY, before_expiry, before_expiry + Duration::minutes(1))
                .await
                .unwrap(),
            Claim::InProgress {
                locked_until: first_lock
            }
        );

        let after_expiry = now + Duration::minutes(2);
        let second_lock = after_expiry + Duration::minutes(1);
        assert_eq!(
            store.claim(KEY, after_expiry, second_lock).await.unwrap(),
            Claim::Acquired
        );
        assert_eq!(
            store.claim(KEY, after_expiry, second_lock).await.unwrap(),
            Claim::InProgress {
                locked_until: second_lock
            }
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn of_concurrent_claims_of_one_key_exactly_one_acquires() {
        const CLAIMS: usize = 16;
        let store = store().await;
        let now = now();
        let until = now + Duration::minutes(5);

        let mut claims = JoinSet::new();
        for _ in 0..CLAIMS {
            let store = store.clone();
            claims.spawn(async move { store.claim(KEY, now, until).await });
        }
        let outcomes: Vec<Claim> = claims
            .join_all()
            .await
            .into_iter()
            .map(|claim| claim.expect("claim"))
            .collect();

        let acquired = outcomes.iter().filter(|c| **c == Claim::Acquired).count();
        assert_eq!(acquired, 1, "{outcomes:?}");
        assert!(
            outcomes
                .iter()
                .all(|c| matches!(c, Claim::Acquired | Claim::InProgress { .. })),
            "{outcomes:?}"
        );
    }
}

mod refunds {
    use super::*;

    fn refund(order_id: &str, refund_id: &str) -> RefundRecord {
        RefundRecord {
            order_id: order_id.to_owned(),
            refund_id: refund_id.to_owned(),
            amount: decimal("599.99"),
            currency: "USD".to_owned(),
            event_id: "evt-oos-1".to_owned(),
            refunded_at: now(),
        }
    }

    #[tokio::test]
    async fn an_order_is_recorded_as_refunded_once() {
        let client = dynamodb().await;
        let table = unique("refunds");
        create_table(&client, &table, "orderId", None).await;
        let store = DynamoRefundStore::new(client.clone(), &table);

        let first = store.record(&refund("ord-123", "re_1")).await.unwrap();
        let second = store.record(&refund("ord-123", "re_2")).await.unwrap();
        let other_order = store.record(&refund("ord-124", "re_3")).await.unwrap();

        assert!(first);
        assert!(!second);
        assert!(other_order);
        let key = HashMap::from([("orderId".to_owned(), s("ord-123"))]);
        let item = get_item(&client, &table, key).await.expect("the refund");
        assert_eq!(item["refundId"], s("re_1"));
        assert_eq!(decimal(item["amount"].as_n().unwrap()), decimal("599.99"));
        assert_eq!(item["currency"], s("USD"));
        assert_eq!(item["eventId"], s("evt-oos-1"));
        assert_eq!(
            store.find("ord-123").await.unwrap().as_deref(),
            Some("re_1")
        );
        assert_eq!(store.find("ord-999").await.unwrap(), None);
    }
}

mod audit_trail {
    use super::*;

    fn entry(event_id: &str, order_id: Option<&str>) -> AuditEntry {
        AuditEntry {
            event_id: event_id.to_owned(),
            correlation_id: Some("corr-1".to_owned()),
            detail_type: "OrderCreated".to_owned(),
            order_id: order_id.map(str::to_owned),
            at: now(),
        }
    }

    #[tokio::test]
    async fn an_event_is_appended_once_and_a_second_append_leaves_the_first() {
        let client = dynamodb().await;
        let table = unique("audit");
        create_table(&client, &table, "eventId", None).await;
        let trail = DynamoAuditTrail::new(client.clone(), &table);

        let first = trail.append(&entry("evt-1", Some("ord-1"))).await.unwrap();
        let again = trail
            .append(&entry("evt-1", Some("ord-other")))
            .await
            .unwrap();
        let no_order = trail.append(&entry("evt-2", None)).await.unwrap();

        assert!(first);
        assert!(!again);
        assert!(no_order);
        let key = HashMap::from([("eventId".to_owned(), s("evt-1"))]);
        let item = get_item(&client, &table, key).await.expect("the entry");
        assert_eq!(item["orderId"], s("ord-1"));
        assert_eq!(item["detailType"], s("OrderCreated"));
        assert_eq!(item["correlationId"], s("corr-1"));
        let key = HashMap::from([("eventId".to_owned(), s("evt-2"))]);
        let item = get_item(&client, &table, key).await.expect("the entry");
        assert!(!item.contains_key("orderId"), "{item:?}");
    }

    #[tokio::test]
    async fn a_missing_table_is_a_refusal_not_a_retry() {
        let trail = DynamoAuditTrail::new(dynamodb().await, unique("no-such-table"));
        let err = trail.append(&entry("evt-1", None)).await.unwrap_err();
        assert!(matches!(err, PortError::Refused { .. }), "{err:?}");
    }
}

mod analytics {
    use super::*;
    use chrono::NaiveDate;

    fn fact(channel: &str, currency: &str, amount: &str) -> OrderFact {
        OrderFact {
            tenant: DEFAULT_TENANT.to_owned(),
            day: NaiveDate::from_ymd_opt(2026, 1, 22).unwrap(),
            channel: channel.to_owned(),
            currency: currency.to_owned(),
            amount: decimal(amount),
        }
    }

    #[tokio::test]
    async fn orders_of_a_day_channel_and_currency_add_up_exactly() {
        let client = dynamodb().await;
        let table = unique("analytics");
        create_table(&client, &table, "pk", Some("sk")).await;
        let sink = DynamoAnalyticsSink::new(client.clone(), &table);

        sink.record_order(&fact("WEB", "USD", "0.1")).await.unwrap();
        sink.record_order(&fact("WEB", "USD", "0.2")).await.unwrap();
        sink.record_order(&fact("WEB", "EUR", "5")).await.unwrap();
        sink.record_order(&fact("MOBILE", "USD", "7.5"))
            .await
            .unwrap();

        let counters = |pk: &str, sk: &str| {
            let key = HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))]);
            let client = client.clone();
            let table = table.clone();
            async move {
                let item = get_item(&client, &table, key).await.expect("counters");
                (
                    decimal(item["orderCount"].as_n().unwrap()),
                    decimal(item["revenue"].as_n().unwrap()),
                )
            }
        };
        assert_eq!(
            counters("2026-01-22#WEB", "USD").await,
            (decimal("2"), decimal("0.3"))
        );
        assert_eq!(
            counters("2026-01-22#WEB", "EUR").await,
            (decimal("1"), decimal("5"))
        );
        assert_eq!(
            counters("2026-01-22#MOBILE", "USD").await,
            (decimal("1"), decimal("7.5"))
        );

        // Another tenant's orders count apart, and leave the default tenant's counters alone.
        let branded = OrderFact {
            tenant: "brand-a".to_owned(),
            ..fact("WEB", "USD", "4")
        };
        sink.record_order(&branded).await.unwrap();
        assert_eq!(
            counters("tenant#brand-a#2026-01-22#WEB", "USD").await,
            (decimal("1"), decimal("4"))
        );
        assert_eq!(
            counters("2026-01-22#WEB", "USD").await,
            (decimal("2"), decimal("0.3"))
        );
    }
}

mod publisher {
    use super::*;
    use std::time::{Duration as StdDuration, Instant};

    fn order_created() -> DomainEvent {
        let fixture = include_str!("../../events/tests/fixtures/events/order_created_v2.json");
        EventEnvelope::from_json(fixture)
            .and_then(|envelope| envelope.decode())
            .expect("the v2 OrderCreated fixture decodes")
    }

    /// A bus with one rule for the orders' events, delivering to one SQS queue.
    struct BusToQueue {
        bus: String,
        sqs: aws_sdk_sqs::Client,
        queue_url: String,
        publisher: EventBridgePublisher,
    }

    impl BusToQueue {
        async fn create() -> Self {
            let config = sdk_config().await;
            let events = aws_sdk_eventbridge::Client::new(&config);
            let sqs = aws_sdk_sqs::Client::new(&config);
            let bus = unique("orders-bus");
            events
                .create_event_bus()
                .name(&bus)
                .send()
                .await
                .expect("create bus");
            let queue_url = sqs
                .create_queue()
                .queue_name(unique("orders-target"))
                .send()
                .await
                .expect("create queue")
                .queue_url
                .expect("a queue url");
            let queue_arn = sqs
                .get_queue_attributes()
                .queue_url(&queue_url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .send()
                .await
                .expect("queue attributes")
                .attributes
                .and_then(|mut a| a.remove(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
                .expect("the queue's arn");
            let rule = unique("orders-rule");
            events
                .put_rule()
                .name(&rule)
                .event_bus_name(&bus)
                .event_pattern(json!({"source": ["ecomm.orders"]}).to_string())
                .send()
                .await
                .expect("put rule");
            events
                .put_targets()
                .rule(&rule)
                .event_bus_name(&bus)
                .targets(
                    aws_sdk_eventbridge::types::Target::builder()
                        .id("queue")
                        .arn(queue_arn)
                        .build()
                        .expect("target is complete"),
                )
                .send()
                .await
                .expect("put targets");
            let publisher = EventBridgePublisher::new(events, &bus);
            Self {
                bus,
                sqs,
                queue_url,
                publisher,
            }
        }

        /// Long-poll the queue until `count` envelopes arrived, then check nothing more does.
        async fn receive(&self, count: usize) -> Vec<EventEnvelope> {
            let deadline = Instant::now() + StdDuration::from_secs(20);
            let mut received = Vec::new();
            while received.len() < count && Instant::now() < deadline {
                received.extend(self.receive_batch(1).await);
            }
            assert_eq!(
                received.len(),
                count,
                "{} of {count} events arrived on the queue of {}",
                received.len(),
                self.bus
            );
            assert!(
                self.receive_batch(0).await.is_empty(),
                "more than {count} events arrived"
            );
            received
        }

        async fn receive_batch(&self, wait_seconds: i32) -> Vec<EventEnvelope> {
            let messages = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(wait_seconds)
                .send()
                .await
                .expect("receive")
                .messages
                .unwrap_or_default();
            let mut envelopes = Vec::new();
            for message in messages {
                let body = message.body().expect("a body");
                envelopes.push(EventEnvelope::from_json(body).expect("an EventBridge envelope"));
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(message.receipt_handle().expect("a receipt handle"))
                    .send()
                    .await
                    .expect("delete");
            }
            envelopes
        }
    }

    #[tokio::test]
    async fn a_published_event_reaches_the_rule_target_intact() {
        let bus = BusToQueue::create().await;
        let event = order_created();

        bus.publisher
            .publish(std::slice::from_ref(&event))
            .await
            .unwrap();

        let received = bus.receive(1).await;
        let envelope = &received[0];
        assert_eq!(envelope.detail_type, "OrderCreated");
        assert_eq!(envelope.source, "ecomm.orders");
        assert_eq!(envelope.decode().unwrap(), event);
        assert_eq!(envelope.event_id(), "0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a");
    }

    #[tokio::test]
    async fn twelve_events_go_out_in_two_batches_and_all_arrive() {
        let bus = BusToQueue::create().await;
        let events: Vec<DomainEvent> = (1..=12)
            .map(|i| {
                let DomainEvent::OrderCreated(mut order) = order_created() else {
                    unreachable!("the fixture is an OrderCreated")
                };
                order.order.order_id = format!("ord-{i}");
                order.metadata.event_id = Some(format!("evt-{i}"));
                DomainEvent::OrderCreated(order)
            })
            .collect();

        bus.publisher.publish(&events).await.unwrap();

        let mut received: Vec<DomainEvent> = bus
            .receive(12)
            .await
            .iter()
            .map(|envelope| envelope.decode().unwrap())
            .collect();
        received.sort_by_key(|e| e.order_id()[4..].parse::<u32>().unwrap());
        assert_eq!(received, events);
    }

    #[tokio::test]
    async fn publishing_to_a_bus_that_does_not_exist_fails() {
        let events = aws_sdk_eventbridge::Client::new(&sdk_config().await);
        let publisher = EventBridgePublisher::new(events, unique("no-such-bus"));

        let result = publisher.publish(&[order_created()]).await;

        // AWS may answer with a failed entry or refuse the call (moto does the latter); either
        // way it must not look like a transient failure worth retrying as is.
        assert!(
            matches!(
                result,
                Err(PublishError::EntriesFailed { .. }
                    | PublishError::Port(PortError::Refused { .. }))
            ),
            "{result:?}"
        );
    }
}

mod mailer {
    use super::*;

    fn email() -> Email {
        Email {
            to: "ada@example.com".to_owned(),
            subject: "Your order ord-123".to_owned(),
            body: "Thank you for your order.".to_owned(),
        }
    }

    #[tokio::test]
    async fn a_verified_sender_sends_and_gets_a_message_id() {
        let ses = aws_sdk_sesv2::Client::new(&sdk_config().await);
        let sender = format!("{}@shop.example.com", unique("orders"));
        ses.create_email_identity()
            .email_identity(&sender)
            .send()
            .await
            .expect("create the sender's identity");
        let mailer = SesMailer::new(ses, sender);

        let message_id = mailer.send(&email()).await.unwrap();

        assert!(!message_id.is_empty());
    }

    #[tokio::test]
    async fn an_unverified_sender_is_refused() {
        let ses = aws_sdk_sesv2::Client::new(&sdk_config().await);
        let mailer = SesMailer::new(ses, format!("{}@unverified.example.com", unique("orders")));

        let err = mailer.send(&email()).await.unwrap_err();

        assert!(matches!(err, PortError::Refused { .. }), "{err:?}");
    }
}
