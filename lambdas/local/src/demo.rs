//! `ecomm demo`: realistic orders and injected faults through the local stack.
//!
//! Orders arrive over a simulated window (an hour by default, ending now): mostly valid v2
//! orders through the producer's HTTP path, some v1 events from a "legacy producer" put
//! straight on the bus, a few invalid orders the producer rejects with field errors, and SKUs
//! that run out of stock so the refund saga runs. The default fault profile leaves a realistic
//! mix in the DLQs. Same seed (and start), same outcome.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value, json};

use ecomm_ports::Clock as _;

use crate::engine::RunStats;
use crate::faults::{FORWARD, FaultSpec, Faults};
use crate::sqs::{ACCOUNT, REGION};
use crate::{LocalError, LocalStack, StackOptions, names};

/// How to run the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// How many orders.
    pub orders: usize,
    /// Seeds every choice and id.
    pub seed: u64,
    /// The faults to inject.
    pub faults: FaultSpec,
    /// The simulated window starts here.
    pub start: DateTime<Utc>,
    /// How long the window is.
    pub window: Duration,
    /// Tenant accounts whose producers take the orders, each forwarding to the central bus;
    /// none sends every order through the central account's producer.
    pub tenants: usize,
}

impl DemoOptions {
    /// `orders` orders over the hour ending now, with the default faults.
    pub fn new(orders: usize, seed: u64) -> Self {
        let window = Duration::hours(1);
        Self {
            orders,
            seed,
            faults: FaultSpec::default_profile(),
            start: Utc::now() - window,
            window,
            tenants: 0,
        }
    }
}

/// One row of the demo's summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerSummary {
    /// The consumer.
    pub consumer: String,
    /// Invocations that did their work (retries that succeeded included).
    pub succeeded: u64,
    /// Replays skipped by idempotency, and events with nothing to do.
    pub skipped: u64,
    /// Failed attempts (retried, or dead-lettered).
    pub failed_attempts: u64,
    /// Failed delivery attempts.
    pub delivery_failures: u64,
    /// Messages now in the consumer's DLQ.
    pub dlq_depth: u64,
    /// For a queue target with a function behind it: that queue's redrive DLQ, and the
    /// records now in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reader_dlq: Option<ReaderDlq>,
}

/// A queue target's redrive DLQ, where the function behind the queue fails records to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReaderDlq {
    /// The queue.
    pub queue: String,
    /// Records now in it.
    pub depth: u64,
}

/// What the demo did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoReport {
    /// The state file.
    pub state: String,
    /// The seed used.
    pub seed: u64,
    /// Orders submitted to the producer.
    pub orders_submitted: u64,
    /// Accepted by the producer.
    pub orders_accepted: u64,
    /// Rejected with field errors.
    pub orders_rejected: u64,
    /// v1 events from the legacy producer.
    pub legacy_v1_events: u64,
    /// Poison events (unknown major version).
    pub poison_events: u64,
    /// Events put on the bus, emitted ones included.
    pub events_routed: u64,
    /// Per consumer.
    pub consumers: Vec<ConsumerSummary>,
    /// The first rejection's body (field errors), as an example.
    pub rejection_example: Option<Value>,
    /// An order that ran out of stock, to trace.
    pub out_of_stock_order: Option<String>,
    /// Per tenant account (none without `--tenants`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<TenantSummary>,
    /// The engine's raw counters.
    pub stats: RunStats,
}

/// One tenant account of the demo's summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantSummary {
    /// The tenant id.
    pub tenant: String,
    /// Its account.
    pub account: String,
    /// Orders its producer accepted.
    pub orders_accepted: u64,
    /// Events its forward put on the central bus.
    pub forwarded: u64,
    /// Forward attempts that failed.
    pub forward_failures: u64,
    /// The forward DLQ.
    pub forward_dlq: String,
    /// Messages now in it.
    pub forward_dlq_depth: u64,
}

struct Product {
    sku: &'static str,
    price: &'static str,
    stock_per_100_orders: u32,
}

const CATALOGUE: [Product; 8] = [
    Product {
        sku: "sku-espresso-beans",
        price: "18.50",
        stock_per_100_orders: 600,
    },
    Product {
        sku: "sku-filter-papers",
        price: "4.20",
        stock_per_100_orders: 800,
    },
    Product {
        sku: "sku-mug",
        price: "12.00",
        stock_per_100_orders: 500,
    },
    Product {
        sku: "sku-kettle",
        price: "59.90",
        stock_per_100_orders: 200,
    },
    Product {
        sku: "sku-grinder",
        price: "129.00",
        stock_per_100_orders: 200,
    },
    Product {
        sku: "sku-scale",
        price: "39.00",
        stock_per_100_orders: 200,
    },
    // Runs short late in a big run.
    Product {
        sku: "sku-dripper",
        price: "24.95",
        stock_per_100_orders: 45,
    },
    // Limited edition: sells out early, which is what drives the refund saga.
    Product {
        sku: "sku-limited-roaster",
        price: "899.00",
        stock_per_100_orders: 2,
    },
];

const FIRST_NAMES: [&str; 10] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Leslie",
];
const CHANNELS: [&str; 4] = ["WEB", "WEB", "MOBILE", "STORE"];
const CURRENCIES: [&str; 5] = ["USD", "USD", "USD", "EUR", "GBP"];

struct Plan {
    /// Request bodies as bytes: a parsed `Value` per order would cost kilobytes each, held
    /// for the whole run.
    submissions: Vec<Submission>,
    legacy: Vec<(DateTime<Utc>, Value)>,
    poison: Vec<(DateTime<Utc>, Value)>,
    valid_order_ids: Vec<String>,
    /// Per tenant, the valid orders its producer takes.
    tenant_order_ids: Vec<Vec<String>>,
}

/// An order for a producer: when, the body, the correlation id, and which tenant's producer
/// (the central account's when `None`).
struct Submission {
    at: DateTime<Utc>,
    body: Vec<u8>,
    correlation_id: String,
    tenant: Option<usize>,
}

fn order_body(rng: &mut ChaCha8Rng, order_id: &str) -> Value {
    let user = rng.random_range(1..=40_u32);
    let name = FIRST_NAMES[(user as usize) % FIRST_NAMES.len()];
    let currency = CURRENCIES[rng.random_range(0..CURRENCIES.len())];
    let lines = rng.random_range(1..=3_usize);
    let mut items = Vec::new();
    let mut total = Decimal::ZERO;
    let mut chosen = Vec::new();
    for _ in 0..lines {
        // One line in thirty wants the limited roaster.
        let index = if rng.random_range(0..30) == 0 {
            CATALOGUE.len() - 1
        } else {
            rng.random_range(0..CATALOGUE.len() - 1)
        };
        if chosen.contains(&index) {
            continue;
        }
        chosen.push(index);
        let product = &CATALOGUE[index];
        let quantity = rng.random_range(1..=3_u32);
        let price: Decimal = product
            .price
            .parse()
            .expect("catalogue prices are decimals");
        total += price * Decimal::from(quantity);
        items.push(json!({"sku": product.sku, "quantity": quantity, "price": price}));
    }
    let mut customer = json!({"userId": format!("usr-{user:03}"), "name": name});
    // One customer in eight has no email address on file.
    if user % 8 != 0 {
        customer["email"] = json!(format!("{}.{user:03}@example.com", name.to_lowercase()));
        customer["shippingAddress"] = json!({"line1": format!("{} Market St", 10 + user), "city": "Springfield", "postalCode": format!("{:05}", 10_000 + user * 7), "country": "US"});
    }
    let status = match rng.random_range(0..20) {
        0 => "PENDING",
        1 => "AUTHORIZED",
        _ => "PAID",
    };
    json!({
        "orderId": order_id,
        "customer": customer,
        "items": items,
        "currency": currency,
        "totalAmount": total,
        "channel": CHANNELS[rng.random_range(0..CHANNELS.len())],
        "payment": {"method": if rng.random_range(0..4) == 0 { "PAYPAL" } else { "CARD" }, "status": status},
        "isRefundEligible": rng.random_range(0..7) != 0,
    })
}

fn break_order(rng: &mut ChaCha8Rng, body: &mut Value) {
    match rng.random_range(0..3) {
        0 => body["items"][0]["quantity"] = json!(0),
        1 => body["currency"] = json!("usd"),
        _ => body["totalAmount"] = json!(1),
    }
}

/// A v1 `OrderCreated`, as the legacy producer publishes it: no `eventId`, no channel, no
/// eligibility flag.
fn legacy_event(body: &Value, id: &str, at: DateTime<Utc>, correlation_id: &str) -> Value {
    let mut customer = json!({"userId": body["customer"]["userId"]});
    if let Some(email) = body["customer"].get("email") {
        customer["email"] = email.clone();
    }
    json!({
        "version": "0", "id": id, "detail-type": "OrderCreated", "source": "ecomm.orders",
        "account": ACCOUNT, "time": at, "region": REGION, "resources": [],
        "detail": {
            "eventVersion": "1.0",
            "order": {"orderId": body["orderId"], "totalAmount": body["totalAmount"], "currency": body["currency"], "items": body["items"]},
            "customer": customer,
            "payment": body["payment"],
            "metadata": {"correlationId": correlation_id, "createdAt": at}
        }
    })
}

/// The seed of one demo run: the user's seed, mixed with the first order number the run
/// reserved. A fresh state starts at order 1, so its run is the seed's alone; a run extending a
/// state draws other ids than the runs before it, even with the same seed.
fn run_seed(seed: u64, first_order: u64) -> u64 {
    seed ^ first_order
        .saturating_sub(1)
        .wrapping_mul(0xD1B5_4A32_D192_ED03)
}

fn plan(options: &DemoOptions, first_order: u64) -> Plan {
    let mut rng = ChaCha8Rng::seed_from_u64(run_seed(options.seed, first_order));
    let mut plan = Plan {
        submissions: Vec::new(),
        legacy: Vec::new(),
        poison: Vec::new(),
        valid_order_ids: Vec::new(),
        tenant_order_ids: vec![Vec::new(); options.tenants],
    };
    let step_ms =
        options.window.num_milliseconds() / i64::try_from(options.orders.max(1)).unwrap_or(1);
    for i in 0..options.orders {
        let order_id = format!("ord-{:05}", first_order + i as u64);
        let jitter = rng.random_range(0..step_ms.max(1));
        let at = options.start
            + Duration::milliseconds(step_ms * i64::try_from(i).unwrap_or(i64::MAX) + jitter);
        // 64 random bits: 32 would repeat within a run of tens of thousands of orders, and a
        // repeated correlation id merges two journeys in `ecomm trace`.
        let correlation_id = format!("corr-{:016x}", rng.random::<u64>());
        let mut body = order_body(&mut rng, &order_id);
        // The tenants take the orders in turn; the legacy producer stays in the central account.
        let tenant = (options.tenants > 0).then(|| i % options.tenants);
        match rng.random_range(0..100) {
            0..=2 => break_order(&mut rng, &mut body),
            3..=12 => {
                // v1 events have no eventId: consumers key idempotency on this id, so a repeat
                // would be skipped as a duplicate.
                let id = format!("legacy-{:016x}", rng.random::<u64>());
                plan.legacy
                    .push((at, legacy_event(&body, &id, at, &correlation_id)));
                plan.valid_order_ids.push(order_id);
                continue;
            }
            _ => {
                if let Some(t) = tenant {
                    plan.tenant_order_ids[t].push(order_id.clone());
                }
                plan.valid_order_ids.push(order_id);
            }
        }
        plan.submissions.push(Submission {
            at,
            body: body.to_string().into_bytes(),
            correlation_id,
            tenant,
        });
    }
    for n in 0..options.faults.poison {
        let at =
            options.start + options.window / 2 + Duration::seconds(i64::try_from(n).unwrap_or(0));
        let number = first_order + n as u64;
        let order_id = format!("ord-poison-{number}");
        let mut body = order_body(&mut rng, &order_id);
        body["channel"] = json!("WEB");
        let mut event = legacy_event(
            &body,
            &format!("poison-{:016x}", rng.random::<u64>()),
            at,
            &format!("corr-{:016x}", rng.random::<u64>()),
        );
        // A producer deployed ahead of its consumers: a major version nobody reads yet.
        event["detail"]["eventVersion"] = json!("3.0");
        event["detail"]["metadata"]["eventId"] = json!(format!("evt-poison-{number}"));
        plan.poison.push((at, event));
    }
    plan
}

/// `count` distinct orders of `pool` not in `taken`, so `throttle=analytics:2` leaves two
/// messages, not sometimes one (fewer when the pool runs out).
fn pick_orders(
    rng: &mut ChaCha8Rng,
    pool: &[String],
    count: usize,
    taken: &[&String],
) -> Vec<String> {
    let free = pool.iter().filter(|o| !taken.contains(o)).count();
    let mut picked: Vec<String> = Vec::new();
    while picked.len() < count.min(free) {
        let order = &pool[rng.random_range(0..pool.len())];
        if !taken.contains(&order) && !picked.contains(order) {
            picked.push(order.clone());
        }
    }
    picked
}

/// Reserve `count` order numbers atomically, so that two demos extending one state file at
/// once never reuse an order id.
fn reserve_order_numbers(path: &Path, count: u64) -> Result<u64, LocalError> {
    let db = crate::store::Db::open(path)?;
    let first = db.atomically(|c| {
        use rusqlite::OptionalExtension as _;
        let next: Option<String> = c
            .query_row(
                "SELECT value FROM meta WHERE key = 'demo.next_order'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let first = next.and_then(|v| v.parse::<u64>().ok()).unwrap_or(1);
        c.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('demo.next_order', ?1)",
            [(first + count).to_string()],
        )?;
        Ok(first)
    })?;
    Ok(first)
}

/// Run the demo on the state file at `path`.
#[allow(clippy::too_many_lines, reason = "one scenario, read top to bottom")]
pub async fn run(
    path: &Path,
    options: &DemoOptions,
    progress: impl FnMut(&RunStats, usize),
) -> Result<DemoReport, LocalError> {
    // Poison events are numbered from the same block as the orders.
    let numbers = options.orders.max(options.faults.poison) as u64;
    let first_order = reserve_order_numbers(path, numbers)?;
    let tenants = crate::tenants::ensure(&crate::store::Db::open(path)?, options.tenants)?;
    let seed = run_seed(options.seed, first_order);

    let plan = plan(options, first_order);
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(1));
    let mut faults = Faults::default();
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_precision_loss,
        reason = "a fraction of a window of hours, in ms"
    )]
    let at = |f: f64| {
        options.start
            + Duration::milliseconds((options.window.num_milliseconds() as f64 * f) as i64)
    };
    faults.mail_outage = options.faults.mail_outage.map(|(a, b)| (at(a), at(b)));
    faults.audit_outage = options.faults.audit_outage.map(|(a, b)| (at(a), at(b)));
    for (target, code, count) in &options.faults.delivery {
        // A forward fault takes the tenants' orders, shared out so each tenant has its turn;
        // any other, every valid order.
        let pools: Vec<(&[String], usize)> = if target == FORWARD {
            let n = plan.tenant_order_ids.len().max(1);
            plan.tenant_order_ids
                .iter()
                .enumerate()
                .map(|(t, pool)| (pool.as_slice(), count / n + usize::from(t < count % n)))
                .collect()
        } else {
            vec![(plan.valid_order_ids.as_slice(), *count)]
        };
        for (pool, count) in pools {
            let taken: Vec<&String> = faults
                .delivery
                .iter()
                .filter(|(t, _, _)| t == target)
                .map(|(_, o, _)| o)
                .collect();
            let picked = pick_orders(&mut rng, pool, count, &taken);
            faults.delivery.extend(
                picked
                    .into_iter()
                    .map(|order| (target.clone(), order, *code)),
            );
        }
    }
    *faults
        .gateway_timeouts_left
        .get_mut()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = options.faults.gateway_timeouts;

    let stack = LocalStack::open_with_faults(
        path,
        &StackOptions {
            // Mixed with this run's order numbers: two demos extending one state at once draw
            // different ids even when they read the same run counter.
            seed,
            start: options.start,
        },
        faults,
    )?;
    // The default tenant's stock (the central producer's and the legacy producer's orders),
    // and each tenant's, for its share of the orders: a tenant's SKUs are its own.
    let scale = |orders: usize| u32::try_from(orders.div_ceil(100).max(1)).unwrap_or(u32::MAX);
    let share = options.orders.div_ceil(options.tenants.max(1));
    let stocked = std::iter::once((ecomm_events::DEFAULT_TENANT, scale(options.orders))).chain(
        tenants[..options.tenants]
            .iter()
            .map(|t| (t.id.as_str(), scale(share))),
    );
    for (tenant, scale) in stocked {
        for product in &CATALOGUE {
            stack.stock().set_level(
                tenant,
                product.sku,
                product.stock_per_100_orders.saturating_mul(scale),
            )?;
        }
    }
    let orders_submitted = plan.submissions.len() as u64;
    let legacy_v1_events = plan.legacy.len() as u64;
    let poison_events = plan.poison.len() as u64;
    // Handed over, not copied: the schedule holds the only copy until each runs.
    for order in plan.submissions {
        stack.submit_order_to(
            order.at,
            order.tenant,
            order.body,
            Some(order.correlation_id),
        );
    }
    for (at, event) in plan.legacy.into_iter().chain(plan.poison) {
        stack.put_event(at, event);
    }
    let stats = stack.run(progress).await?;

    let now = crate::clock::ms(stack.clock().now());
    let mut consumers = Vec::new();
    for consumer in &stack.routing().consumers {
        let c = stats
            .consumers
            .get(&consumer.name)
            .cloned()
            .unwrap_or_default();
        let depth = stack.queues().stats(&names::dlq(&consumer.name), now)?;
        let reader_dlq = match consumer.target {
            ecomm_consumers::TargetDecl::Queue {
                fifo,
                reader: Some(_),
                ..
            } => {
                let name = names::reader_dlq(&consumer.name, fifo);
                let depth = stack.queues().stats(&name, now)?;
                Some(ReaderDlq {
                    queue: name,
                    depth: depth.visible + depth.in_flight,
                })
            }
            _ => None,
        };
        consumers.push(ConsumerSummary {
            consumer: consumer.name.clone(),
            // A queue target nobody here reads succeeds when the event is in its queue.
            succeeded: if consumer.is_function() || reader_dlq.is_some() {
                c.succeeded
            } else {
                c.delivered
            },
            skipped: c.duplicates + c.skipped,
            failed_attempts: c.failed_attempts,
            delivery_failures: c.delivery_failures,
            dlq_depth: depth.visible + depth.in_flight,
            reader_dlq,
        });
    }
    let out_of_stock_order = stack.db().with(|c| {
        use rusqlite::OptionalExtension as _;
        c.query_row(
            "SELECT json_extract(body, '$.detail.orderId') FROM events WHERE detail_type = 'InventoryOutOfStock' ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()
    })?;
    let mut tenant_summaries = Vec::new();
    for tenant in &tenants {
        let t = stats.tenants.get(&tenant.id).cloned().unwrap_or_default();
        let depth = stack.queues().stats(&tenant.forward_dlq(), now)?;
        tenant_summaries.push(TenantSummary {
            tenant: tenant.id.clone(),
            account: tenant.account.clone(),
            orders_accepted: t.orders_accepted,
            forwarded: t.forwarded,
            forward_failures: t.forward_failures,
            forward_dlq: tenant.forward_dlq(),
            forward_dlq_depth: depth.visible + depth.in_flight,
        });
    }
    Ok(DemoReport {
        state: path.display().to_string(),
        seed: options.seed,
        orders_submitted,
        orders_accepted: stats.orders_accepted,
        orders_rejected: stats.orders_rejected,
        legacy_v1_events,
        poison_events,
        events_routed: stats.events_put,
        consumers,
        rejection_example: stats.rejections.first().cloned(),
        out_of_stock_order,
        tenants: tenant_summaries,
        stats,
    })
}
