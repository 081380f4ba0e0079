//! The embedded local stack: the whole order system on a laptop.
//!
//! It runs the very same handlers as the Lambdas, in-process, over a SQLite state file, with
//! the routing of the consumer declarations (`terraform/consumers/*.json`, matched by quamina)
//! and the retry and DLQ semantics of `docs/architecture.md`: delivery failures retried per the
//! target's retry policy then written to the consumer's DLQ in EventBridge's format; function
//! errors retried per the async-invoke settings then written to the same DLQ as Lambda's
//! invocation record. Time is simulated: minutes of retries take milliseconds, and every record
//! carries the time it would have had.

pub mod adapters;
pub mod buslog;
pub mod clock;
pub mod demo;
pub mod engine;
pub mod faults;
pub mod logs;
pub mod sqs;
pub mod store;
pub mod tenants;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use analytics::Analytics;
use audit::{Audit, QueueMessage, RecordResult};
use chrono::{DateTime, SecondsFormat, Utc};
use ecomm_consumers::TargetDecl;
use ecomm_events::dlq::{InvocationRecord, TargetFailure};
use ecomm_events::{DlqMessage, EventEnvelope, EventSummary, Outcome};
use ecomm_ports::consumer::{ConsumerDeps, ConsumerRuntime};
use ecomm_ports::logging::LogRecordLayer;
use ecomm_ports::{Clock, Consumer, ConsumerError, IdGenerator, Invocation, Processed};
use inventory::Inventory;
use notification::Notification;
use order_producer::OrderProducer;
use refund::Refund;
use serde_json::Value;
use tracing::instrument::WithSubscriber as _;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::adapters::{
    FakeGateway, LocalPublisher, OutboxMailer, SqliteAnalytics, SqliteAuditTrail,
    SqliteIdempotency, SqliteRefunds, SqliteStock,
};
use crate::buslog::{BusLog, Hop};
use crate::clock::{SeededIds, SimClock, ms};
use crate::engine::{
    AfterFailure, Bus, RunStats, Schedule, Tries, Work, after_delivery_failure, invoke_backoff,
};
use crate::faults::{Faults, TargetNoun};
use crate::logs::LogStore;
use crate::sqs::{ACCOUNT, Queues, REGION, SqsError};
use crate::store::{Db, StoreError};
use crate::tenants::Tenant;
use ecomm_consumers::forward::Forward;
use ecomm_consumers::{ConfigError, Routing};

/// The name prefix of every local resource, as `ecomm-<environment>` is on AWS.
pub const PREFIX: &str = "ecomm-local";
/// The local bus.
pub const BUS: &str = "ecomm-local";
/// The producer's function name suffix.
pub const PRODUCER: &str = order_producer::NAME;
/// How many work items one transaction groups.
const CHUNK: usize = 512;

/// Names and ARNs of the local resources, shaped like AWS's.
pub mod names {
    use super::{ACCOUNT, BUS, PREFIX, REGION};

    /// The central bus's ARN: the target of every tenant's forward.
    pub fn bus_arn() -> String {
        format!("arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{BUS}")
    }

    /// The function of a consumer (or the producer).
    pub fn function(name: &str) -> String {
        format!("{PREFIX}-{name}")
    }

    /// The function's ARN.
    pub fn function_arn(name: &str) -> String {
        format!(
            "arn:aws:lambda:{REGION}:{ACCOUNT}:function:{}",
            function(name)
        )
    }

    /// The consumer's DLQ.
    pub fn dlq(name: &str) -> String {
        format!("{PREFIX}-{name}-dlq")
    }

    /// The consumer's rule ARN.
    pub fn rule_arn(name: &str) -> String {
        format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/{BUS}/{PREFIX}-{name}")
    }

    /// The queue a queue-target consumer's rule delivers to (`.fifo` when FIFO).
    pub fn target_queue(name: &str, fifo: bool) -> String {
        let suffix = if fifo { ".fifo" } else { "" };
        format!("{PREFIX}-{name}{suffix}")
    }

    /// The redrive-policy DLQ of that queue, where the function behind it fails records to
    /// (`.fifo` when FIFO: a FIFO queue's DLQ is FIFO).
    pub fn reader_dlq(name: &str, fifo: bool) -> String {
        let suffix = if fifo { ".fifo" } else { "" };
        format!("{PREFIX}-{name}-reader-dlq{suffix}")
    }
}

/// A failure of the local stack.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// A consumer declaration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The state file failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A queue call failed.
    #[error(transparent)]
    Sqs(#[from] SqsError),
    /// A declared consumer has no handler in this build.
    #[error(
        "consumer {0:?} is declared in terraform/consumers but has no handler in the local stack"
    )]
    MissingHandler(String),
    /// No such consumer.
    #[error("no consumer named {0:?} (known: {1})")]
    UnknownConsumer(String, String),
}

/// How to open the stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Seeds every id the stack generates.
    pub seed: u64,
    /// The simulated clock starts here.
    pub start: DateTime<Utc>,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            seed: 0,
            start: Utc::now(),
        }
    }
}

enum Handler {
    Inventory(ConsumerRuntime<Inventory>),
    Notification(ConsumerRuntime<Notification>),
    Analytics(ConsumerRuntime<Analytics>),
    Refund(ConsumerRuntime<Refund>),
}

impl Handler {
    async fn process(
        &self,
        event: Value,
        invocation: &Invocation,
    ) -> Result<Processed, ConsumerError> {
        match self {
            Self::Inventory(rt) => rt.process(event, invocation).await,
            Self::Notification(rt) => rt.process(event, invocation).await,
            Self::Analytics(rt) => rt.process(event, invocation).await,
            Self::Refund(rt) => rt.process(event, invocation).await,
        }
    }
}

/// A tenant account at run time: its producer, publishing to its own bus, and its log groups.
struct TenantRuntime {
    tenant: Tenant,
    producer: OrderProducer,
    publisher: Arc<LocalPublisher>,
    dispatch: tracing::Dispatch,
}

impl TenantRuntime {
    /// The state's tenants, their forward DLQs created.
    fn all(
        db: &Db,
        clock: &Arc<SimClock>,
        ids: &Arc<SeededIds>,
        queues: &Queues,
        now_ms: i64,
    ) -> Result<Vec<Self>, LocalError> {
        tenants::load(db)?
            .into_iter()
            .map(|tenant| {
                queues.create(&tenant.forward_dlq(), now_ms)?;
                // The tenant's functions log to its own groups (`/aws/lambda/ecomm-local-acme-…`).
                let layer =
                    LogRecordLayer::new("local", LogStore::new(db.clone(), &tenant.prefix()))
                        .with_clock(clock.clone());
                let publisher = Arc::new(LocalPublisher::default());
                Ok(Self {
                    producer: OrderProducer::new(publisher.clone(), clock.clone(), ids.clone())
                        .with_tenant(Some(tenant.id.clone())),
                    publisher,
                    dispatch: tracing::Dispatch::new(tracing_subscriber::registry().with(layer)),
                    tenant,
                })
            })
            .collect()
    }
}

/// The stack over one state file.
pub struct LocalStack {
    db: Db,
    routing: Routing,
    clock: Arc<SimClock>,
    ids: Arc<SeededIds>,
    faults: Arc<Faults>,
    publisher: Arc<LocalPublisher>,
    producer: OrderProducer,
    /// One per consumer: `None` for a consumer whose target is a queue.
    handlers: Vec<Option<Handler>>,
    /// One per consumer: the function behind a queue target, if it has one.
    readers: Vec<Option<Audit>>,
    queues: Queues,
    logs: LogStore,
    stock: SqliteStock,
    schedule: Mutex<Schedule>,
    stats: Mutex<RunStats>,
    dispatch: tracing::Dispatch,
    /// The tenant accounts (none unless `ecomm demo --tenants N` added them).
    tenants: Vec<TenantRuntime>,
    /// The tenants' forward rule.
    forward: Forward,
    /// The buses' own logs.
    bus_log: BusLog,
}

impl std::fmt::Debug for LocalStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStack")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl LocalStack {
    /// Open the state file at `path` (creating it and the DLQs if needed), without faults.
    pub fn open(path: &Path, options: &StackOptions) -> Result<Self, LocalError> {
        Self::open_with_faults(path, options, Faults::default())
    }

    /// Open with injected faults (the demo).
    pub fn open_with_faults(
        path: &Path,
        options: &StackOptions,
        faults: Faults,
    ) -> Result<Self, LocalError> {
        let db = Db::open(path)?;
        let routing = Routing::embedded()?;
        // Each run of a state file draws fresh ids, so extending a state never reuses one.
        let run = db.next_run()?;
        let clock = Arc::new(SimClock::at(options.start));
        let ids = Arc::new(SeededIds::new(
            options.seed ^ run.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        ));
        let faults = Arc::new(faults);
        let publisher = Arc::new(LocalPublisher::default());
        let deps = ConsumerDeps {
            idempotency: Arc::new(SqliteIdempotency::new(db.clone())),
            publisher: publisher.clone(),
            clock: clock.clone(),
        };
        let mut handlers = Vec::new();
        let mut readers = Vec::new();
        for consumer in &routing.consumers {
            readers.push(match (consumer.queue_reader(), consumer.name.as_str()) {
                (None, _) => None,
                (Some(_), audit::NAME) => Some(Audit::new(Arc::new(SqliteAuditTrail::new(
                    db.clone(),
                    clock.clone(),
                    faults.clone(),
                )))),
                (Some(_), other) => return Err(LocalError::MissingHandler(other.to_owned())),
            });
            if !consumer.is_function() {
                handlers.push(None);
                continue;
            }
            handlers.push(Some(match consumer.name.as_str() {
                Inventory::NAME => Handler::Inventory(ConsumerRuntime::new(
                    Inventory::new(Arc::new(SqliteStock::new(db.clone()))),
                    deps.clone(),
                )),
                Notification::NAME => Handler::Notification(ConsumerRuntime::new(
                    Notification::new(Arc::new(OutboxMailer::new(
                        db.clone(),
                        clock.clone(),
                        ids.clone(),
                        faults.clone(),
                    ))),
                    deps.clone(),
                )),
                Analytics::NAME => Handler::Analytics(ConsumerRuntime::new(
                    Analytics::new(Arc::new(SqliteAnalytics::new(db.clone()))),
                    deps.clone(),
                )),
                Refund::NAME => Handler::Refund(ConsumerRuntime::new(
                    Refund::new(
                        Arc::new(FakeGateway::new(db.clone(), clock.clone(), faults.clone())),
                        Arc::new(SqliteRefunds::new(db.clone())),
                    ),
                    deps.clone(),
                )),
                other => return Err(LocalError::MissingHandler(other.to_owned())),
            }));
        }
        let queues = Queues::new(db.clone());
        for consumer in &routing.consumers {
            queues.create(&names::dlq(&consumer.name), ms(options.start))?;
            if let TargetDecl::Queue { fifo, reader, .. } = consumer.target {
                queues.create(
                    &names::target_queue(&consumer.name, fifo),
                    ms(options.start),
                )?;
                if reader.is_some() {
                    queues.create(&names::reader_dlq(&consumer.name, fifo), ms(options.start))?;
                }
            }
        }
        let logs = LogStore::new(db.clone(), PREFIX);
        let bus_log = BusLog::new(logs.clone());
        let layer = LogRecordLayer::new("local", logs.clone()).with_clock(clock.clone());
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        let producer = OrderProducer::new(publisher.clone(), clock.clone(), ids.clone());
        let tenants = TenantRuntime::all(&db, &clock, &ids, &queues, ms(options.start))?;
        Ok(Self {
            stock: SqliteStock::new(db.clone()),
            db,
            routing,
            clock,
            ids,
            faults,
            publisher,
            producer,
            handlers,
            readers,
            queues,
            logs,
            schedule: Mutex::new(Schedule::default()),
            stats: Mutex::new(RunStats::default()),
            dispatch,
            tenants,
            forward: Forward::embedded()?,
            bus_log,
        })
    }

    /// The state file.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The consumers and their rules.
    pub fn routing(&self) -> &Routing {
        &self.routing
    }

    /// The queues (the consumers' DLQs).
    pub fn queues(&self) -> &Queues {
        &self.queues
    }

    /// The log groups.
    pub fn logs(&self) -> &LogStore {
        &self.logs
    }

    /// The stock levels.
    pub fn stock(&self) -> &SqliteStock {
        &self.stock
    }

    /// The simulated clock.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// The seeded id generator.
    pub fn ids(&self) -> &SeededIds {
        &self.ids
    }

    /// The injected faults.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The tenant accounts, in order.
    pub fn tenants(&self) -> Vec<&Tenant> {
        self.tenants.iter().map(|t| &t.tenant).collect()
    }

    /// Tenant account `i`.
    pub fn tenant(&self, i: usize) -> Option<&Tenant> {
        self.tenants.get(i).map(|t| &t.tenant)
    }

    /// The forward of every tenant account.
    pub fn forward(&self) -> &Forward {
        &self.forward
    }

    /// The consumer's index, or an error listing the known ones.
    pub fn consumer_index(&self, name: &str) -> Result<usize, LocalError> {
        self.routing.index_of(name).ok_or_else(|| {
            let known: Vec<&str> = self
                .routing
                .consumers
                .iter()
                .map(|c| c.name.as_str())
                .collect();
            LocalError::UnknownConsumer(name.to_owned(), known.join(", "))
        })
    }

    /// Schedule an order submission to the producer at `at`.
    pub fn submit_order(&self, at: DateTime<Utc>, body: Vec<u8>, correlation_id: Option<String>) {
        self.submit_order_to(at, None, body, correlation_id);
    }

    /// Schedule an order submission at `at` to the producer of tenant `tenant` (its index), or
    /// the central account's when `None`.
    pub fn submit_order_to(
        &self,
        at: DateTime<Utc>,
        tenant: Option<usize>,
        body: Vec<u8>,
        correlation_id: Option<String>,
    ) {
        lock(&self.schedule).push(
            ms(at),
            Work::Submit {
                body,
                correlation_id,
                tenant,
            },
        );
    }

    /// Schedule an event put on the bus at `at`, as `PutEvents` would (every matching rule
    /// delivers it). The envelope's `id` and `time` are kept if present.
    pub fn put_event(&self, at: DateTime<Utc>, envelope: Value) {
        self.put_event_on(at, Bus::Central, envelope);
    }

    /// The same on `bus`: a tenant's bus forwards what its rule matches to the central bus.
    pub fn put_event_on(&self, at: DateTime<Utc>, bus: Bus, envelope: Value) {
        lock(&self.schedule).push(
            ms(at),
            Work::Put {
                envelope: Arc::new(envelope),
                bus,
            },
        );
    }

    /// The bus whose ARN is `arn`: the central one or a tenant's.
    pub fn bus_of_arn(&self, arn: &str) -> Option<Bus> {
        if arn == names::bus_arn() {
            return Some(Bus::Central);
        }
        self.tenants
            .iter()
            .position(|t| t.tenant.bus_arn() == arn)
            .map(Bus::Tenant)
    }

    /// Schedule an async invocation of a consumer's function with `payload` at `at`, as
    /// `Invoke` with `InvocationType=Event` would.
    pub fn invoke_async(
        &self,
        at: DateTime<Utc>,
        consumer: &str,
        payload: Value,
    ) -> Result<(), LocalError> {
        let target = self.consumer_index(consumer)?;
        let request_id = self.ids.uuid();
        lock(&self.schedule).push(
            ms(at),
            Work::Invoke {
                target,
                envelope: Arc::new(payload),
                attempt: 1,
                first_ms: ms(at),
                request_id,
            },
        );
        Ok(())
    }

    /// Send `body` to `queue` at `at`, as `SendMessage` would; a queue target with a function
    /// behind it is then polled by that function's event source.
    pub fn send_to_queue(
        &self,
        at: DateTime<Utc>,
        queue: &str,
        body: &str,
    ) -> Result<(), SqsError> {
        let at_ms = ms(at);
        self.queues.send(
            queue,
            &self.ids.uuid(),
            body,
            &ecomm_events::MessageAttributes::new(),
            at_ms,
            at_ms,
        )?;
        let read = self.routing.consumers.iter().position(|c| match c.target {
            TargetDecl::Queue { fifo, reader, .. } => {
                reader.is_some() && names::target_queue(&c.name, fifo) == queue
            }
            TargetDecl::Function => false,
        });
        if let Some(target) = read {
            self.schedule_poll(target, at_ms);
        }
        Ok(())
    }

    /// Process everything scheduled, and everything it causes, in time order. `progress` is
    /// called after each transaction with the stats so far and the work still scheduled.
    pub async fn run(
        &self,
        mut progress: impl FnMut(&RunStats, usize),
    ) -> Result<RunStats, LocalError> {
        loop {
            if lock(&self.schedule).is_empty() {
                break;
            }
            self.db.begin()?;
            for _ in 0..CHUNK {
                let Some((at_ms, work)) = lock(&self.schedule).pop() else {
                    break;
                };
                let step = self
                    .step(at_ms, work)
                    .with_subscriber(self.dispatch.clone())
                    .await;
                if let Err(e) = step {
                    self.db.rollback();
                    return Err(e);
                }
            }
            self.db.commit()?;
            let pending = lock(&self.schedule).len();
            progress(&lock(&self.stats), pending);
        }
        Ok(std::mem::take(&mut *lock(&self.stats)))
    }

    async fn step(&self, at_ms: i64, work: Work) -> Result<(), LocalError> {
        self.clock.advance_to(clock::from_ms(at_ms));
        lock(&self.stats).work_done += 1;
        match work {
            Work::Submit {
                body,
                correlation_id,
                tenant,
            } => {
                let response = match tenant {
                    None => self.producer.submit(&body, correlation_id.as_deref()).await,
                    Some(i) => {
                        let runtime = &self.tenants[i];
                        runtime
                            .producer
                            .submit(&body, correlation_id.as_deref())
                            .with_subscriber(runtime.dispatch.clone())
                            .await
                    }
                };
                {
                    let mut stats = lock(&self.stats);
                    if let (Some(i), 202) = (tenant, response.status) {
                        stats
                            .tenants
                            .entry(self.tenants[i].tenant.id.clone())
                            .or_default()
                            .orders_accepted += 1;
                    }
                    match response.status {
                        202 => stats.orders_accepted += 1,
                        400 => {
                            stats.orders_rejected += 1;
                            if stats.rejections.len() < 5 {
                                stats.rejections.push(response.body.clone());
                            }
                        }
                        _ => stats.orders_unpublished += 1,
                    }
                }
                match tenant {
                    None => self.put_published(),
                    Some(i) => self.put_tenant_published(i),
                }
            }
            Work::Put { envelope, bus } => self.put(&envelope, bus),
            Work::Forward {
                tenant,
                envelope,
                tries,
            } => self.forward_to_central(at_ms, tenant, envelope, &tries),
            Work::Deliver {
                target,
                envelope,
                tries,
            } => self.deliver(at_ms, target, envelope, &tries),
            Work::Invoke {
                target,
                envelope,
                attempt,
                first_ms,
                request_id,
            } => {
                self.invoke(at_ms, target, envelope, attempt, first_ms, request_id)
                    .await
            }
            Work::Poll { target } => self.poll(at_ms, target).await,
        }
    }

    /// Route what handlers published since the last call.
    fn put_published(&self) -> Result<(), LocalError> {
        for event in self.publisher.drain() {
            let envelope =
                EventEnvelope::wrap(&event, self.ids.uuid(), self.clock.now(), ACCOUNT, REGION);
            self.put(
                &serde_json::to_value(envelope).expect("envelopes always serialize"),
                Bus::Central,
            )?;
        }
        Ok(())
    }

    /// Route what tenant `i`'s producer published: onto its bus, in its account.
    fn put_tenant_published(&self, i: usize) -> Result<(), LocalError> {
        let runtime = &self.tenants[i];
        for event in runtime.publisher.drain() {
            let envelope = EventEnvelope::wrap(
                &event,
                self.ids.uuid(),
                self.clock.now(),
                &runtime.tenant.account,
                REGION,
            );
            self.put(
                &serde_json::to_value(envelope).expect("envelopes always serialize"),
                Bus::Tenant(i),
            )?;
        }
        Ok(())
    }

    /// An event accepted by `bus`. The central bus records it (the `events` table is what it
    /// accepted) and delivers it to every consumer whose rule matches; a tenant's bus has the
    /// forward rule only.
    fn put(&self, envelope: &Value, bus: Bus) -> Result<(), LocalError> {
        let now = ms(self.clock.now());
        if let Bus::Tenant(i) = bus {
            lock(&self.stats)
                .tenants
                .entry(self.tenants[i].tenant.id.clone())
                .or_default()
                .events_put += 1;
            if self.forward.forwards(envelope) {
                let tries = Tries::first(now, self.ids.uuid());
                let tenant = &self.tenants[i].tenant;
                let (bus, bus_arn, rule_arn) =
                    (tenant.prefix(), tenant.bus_arn(), tenant.forward_rule_arn());
                self.bus_log.matched(
                    &hop(
                        (&bus, &bus_arn),
                        (&rule_arn, &CENTRAL_BUS_ARN, "events"),
                        envelope,
                        &tries,
                    ),
                    now,
                )?;
                lock(&self.schedule).push(
                    now,
                    Work::Forward {
                        tenant: i,
                        envelope: Arc::new(envelope.clone()),
                        tries,
                    },
                );
            }
            return Ok(());
        }
        let summary = EventSummary::of(envelope);
        self.db.with(|c| {
            c.execute(
                "INSERT INTO events(envelope_id, event_id, time_ms, source, detail_type, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                rusqlite::params![
                    envelope.get("id").and_then(Value::as_str).unwrap_or_default(),
                    summary.event_id,
                    now,
                    summary.source.unwrap_or_default(),
                    summary.detail_type.unwrap_or_default(),
                    envelope.to_string()
                ],
            )
        })?;
        lock(&self.stats).events_put += 1;
        let envelope = Arc::new(envelope.clone());
        let mut schedule = lock(&self.schedule);
        for target in self.routing.targets(&envelope) {
            let tries = Tries::first(now, self.ids.uuid());
            let (rule_arn, target_arn, service) = self.target_of(target);
            self.bus_log.matched(
                &hop(
                    (BUS, &CENTRAL_BUS_ARN),
                    (&rule_arn, &target_arn, service),
                    &envelope,
                    &tries,
                ),
                now,
            )?;
            schedule.push(
                now,
                Work::Deliver {
                    target,
                    envelope: envelope.clone(),
                    tries,
                },
            );
        }
        Ok(())
    }

    /// A consumer's rule ARN, its target's ARN, and the service the target is.
    fn target_of(&self, target: usize) -> (String, String, &'static str) {
        let consumer = &self.routing.consumers[target];
        let rule_arn = names::rule_arn(&consumer.name);
        match consumer.target {
            TargetDecl::Function => (rule_arn, names::function_arn(&consumer.name), "lambda"),
            TargetDecl::Queue { fifo, .. } => (
                rule_arn,
                crate::sqs::queue_arn(&names::target_queue(&consumer.name, fifo)),
                "sqs",
            ),
        }
    }

    fn deliver(
        &self,
        at_ms: i64,
        target: usize,
        envelope: Arc<Value>,
        tries: &Tries,
    ) -> Result<(), LocalError> {
        let consumer = &self.routing.consumers[target];
        let order_id = EventSummary::of(&envelope).order_id;
        let fault = self
            .faults
            .delivery_error(&consumer.name, order_id.as_deref());
        let (rule_arn, target_arn, service) = self.target_of(target);
        let hop = hop(
            (BUS, &CENTRAL_BUS_ARN),
            (&rule_arn, &target_arn, service),
            &envelope,
            tries,
        );
        self.bus_log.attempt(&hop, at_ms, tries.attempt(), fault)?;
        let Some(code) = fault else {
            self.bus_log.ended(&hop, at_ms, tries.attempt(), false)?;
            lock(&self.stats)
                .consumers
                .entry(consumer.name.clone())
                .or_default()
                .delivered += 1;
            if let TargetDecl::Queue { fifo, .. } = consumer.target {
                return self.enqueue(target, fifo, &envelope, at_ms);
            }
            let request_id = self.ids.uuid();
            // EventBridge's delivery and Lambda's queueing take tens of milliseconds; a seeded
            // latency keeps a trace's steps apart in time, as they are on AWS.
            let start_ms = at_ms
                + self
                    .ids
                    .with_rng(|rng| rand::RngExt::random_range(rng, 15..140));
            lock(&self.schedule).push(
                start_ms,
                Work::Invoke {
                    target,
                    envelope,
                    attempt: 1,
                    first_ms: start_ms,
                    request_id,
                },
            );
            return Ok(());
        };
        lock(&self.stats)
            .consumers
            .entry(consumer.name.clone())
            .or_default()
            .delivery_failures += 1;
        let envelope_again = envelope.clone();
        let Some(condition) =
            self.retry_delivery(consumer.retry_policy, code, (tries, at_ms), |tries| {
                Work::Deliver {
                    target,
                    envelope: envelope_again,
                    tries,
                }
            })
        else {
            return Ok(());
        };
        self.bus_log.ended(&hop, at_ms, tries.attempt(), true)?;
        let (target_name, noun) = match consumer.target {
            TargetDecl::Function => (names::function(&consumer.name), TargetNoun::Function),
            TargetDecl::Queue { fifo, .. } => {
                (names::target_queue(&consumer.name, fifo), TargetNoun::Queue)
            }
        };
        let failure = TargetFailure {
            rule_arn: Some(rule_arn.clone()),
            target_arn: Some(target_arn.clone()),
            error_code: Some(code.code().to_owned()),
            error_message: Some(code.message(&target_name, noun)),
            exhausted_retry_condition: Some(condition.to_owned()),
            retry_attempts: Some(tries.retries),
        };
        let message = DlqMessage::eventbridge_target(&envelope, &failure);
        self.dead_letter(&names::dlq(&consumer.name), &message, at_ms)?;
        lock(&self.stats)
            .consumers
            .entry(consumer.name.clone())
            .or_default()
            .dead_lettered_delivery += 1;
        Ok(())
    }

    /// After a failed delivery attempt (`tries`, at `at_ms`): schedule `again(tries.next())`
    /// per `policy` and return `None`, or return
    /// the `EXHAUSTED_RETRY_CONDITION` to dead-letter the event with. EventBridge does not
    /// retry what a retry cannot fix: a missing permission or target goes to the DLQ at once.
    fn retry_delivery(
        &self,
        policy: ecomm_consumers::RetryPolicy,
        code: faults::DeliveryError,
        (tries, at_ms): (&Tries, i64),
        again: impl FnOnce(Tries) -> Work,
    ) -> Option<&'static str> {
        match after_delivery_failure(
            policy,
            code.is_retried(),
            tries.retries,
            at_ms,
            tries.first_ms,
        ) {
            AfterFailure::Retry(next) => {
                lock(&self.schedule).push(next, again(tries.next()));
                None
            }
            AfterFailure::DeadLetter(condition) => Some(condition),
        }
    }

    /// What EventBridge does with a tenant bus's event matched by the forward rule: put it on
    /// the central bus (keeping its id and the tenant's account), or, when that fails, retry
    /// per the forward's retry policy and then write it to the tenant's forward DLQ, in the
    /// tenant's account. A forward fault names the target `forward`.
    fn forward_to_central(
        &self,
        at_ms: i64,
        tenant: usize,
        envelope: Arc<Value>,
        tries: &Tries,
    ) -> Result<(), LocalError> {
        let runtime = &self.tenants[tenant];
        let name = &self.forward.decl.name;
        let order_id = EventSummary::of(&envelope).order_id;
        let fault = self.faults.delivery_error(name, order_id.as_deref());
        let t = &runtime.tenant;
        let (bus, bus_arn, rule_arn) = (t.prefix(), t.bus_arn(), t.forward_rule_arn());
        let hop = hop(
            (&bus, &bus_arn),
            (&rule_arn, &CENTRAL_BUS_ARN, "events"),
            &envelope,
            tries,
        );
        self.bus_log.attempt(&hop, at_ms, tries.attempt(), fault)?;
        let Some(code) = fault else {
            self.bus_log.ended(&hop, at_ms, tries.attempt(), false)?;
            lock(&self.stats)
                .tenants
                .entry(runtime.tenant.id.clone())
                .or_default()
                .forwarded += 1;
            // A bus-to-bus hop takes tens of milliseconds.
            let latency = self
                .ids
                .with_rng(|rng| rand::RngExt::random_range(rng, 10..60));
            lock(&self.schedule).push(
                at_ms + latency,
                Work::Put {
                    envelope,
                    bus: Bus::Central,
                },
            );
            return Ok(());
        };
        lock(&self.stats)
            .tenants
            .entry(runtime.tenant.id.clone())
            .or_default()
            .forward_failures += 1;
        let envelope_again = envelope.clone();
        let Some(condition) = self.retry_delivery(
            self.forward.decl.retry_policy,
            code,
            (tries, at_ms),
            |tries| Work::Forward {
                tenant,
                envelope: envelope_again,
                tries,
            },
        ) else {
            return Ok(());
        };
        self.bus_log.ended(&hop, at_ms, tries.attempt(), true)?;
        let failure = TargetFailure {
            rule_arn: Some(runtime.tenant.forward_rule_arn()),
            target_arn: Some(names::bus_arn()),
            error_code: Some(code.code().to_owned()),
            error_message: Some(code.message(&names::bus_arn(), TargetNoun::Bus)),
            exhausted_retry_condition: Some(condition.to_owned()),
            retry_attempts: Some(tries.retries),
        };
        let message = DlqMessage::eventbridge_target(&envelope, &failure);
        self.dead_letter(&runtime.tenant.forward_dlq(), &message, at_ms)?;
        lock(&self.stats)
            .tenants
            .entry(runtime.tenant.id.clone())
            .or_default()
            .dead_lettered += 1;
        Ok(())
    }

    async fn invoke(
        &self,
        at_ms: i64,
        target: usize,
        envelope: Arc<Value>,
        attempt: u32,
        first_ms: i64,
        request_id: String,
    ) -> Result<(), LocalError> {
        let name = self.routing.consumers[target].name.clone();
        let invocation = Invocation {
            request_id: request_id.clone(),
            attempt: Some(attempt),
        };
        let Some(handler) = &self.handlers[target] else {
            // A queue target is never invoked.
            return Ok(());
        };
        let result = handler.process((*envelope).clone(), &invocation).await;
        self.put_published()?;
        let error = match result {
            Ok(processed) => {
                let mut stats = lock(&self.stats);
                let entry = stats.consumers.entry(name).or_default();
                entry.invocations += 1;
                match processed.outcome {
                    Outcome::Duplicate => entry.duplicates += 1,
                    Outcome::Skipped => entry.skipped += 1,
                    _ => entry.succeeded += 1,
                }
                if attempt > 1 {
                    entry.recovered += 1;
                }
                return Ok(());
            }
            Err(error) => error,
        };
        {
            let mut stats = lock(&self.stats);
            let entry = stats.consumers.entry(name.clone()).or_default();
            entry.invocations += 1;
            entry.failed_attempts += 1;
        }
        let settings = self.routing.consumers[target]
            .async_invoke
            .expect("function consumers declare asyncInvoke (checked when loaded)");
        let next = at_ms + invoke_backoff(attempt).num_milliseconds();
        let too_old = next - first_ms > i64::from(settings.maximum_event_age_in_seconds) * 1000;
        if attempt <= settings.maximum_retry_attempts && !too_old {
            lock(&self.schedule).push(
                next,
                Work::Invoke {
                    target,
                    envelope,
                    attempt: attempt + 1,
                    first_ms,
                    request_id,
                },
            );
            return Ok(());
        }
        let record = InvocationRecord::failed(
            self.clock
                .now()
                .to_rfc3339_opts(SecondsFormat::Millis, true),
            request_id,
            format!("{}:$LATEST", names::function_arn(&name)),
            if too_old {
                "EventAgeExceeded"
            } else {
                "RetriesExhausted"
            },
            attempt,
            (*envelope).clone(),
            error.error_type(),
            &error.to_string(),
        );
        self.dead_letter(
            &names::dlq(&name),
            &DlqMessage::lambda_destination(&record),
            at_ms,
        )?;
        lock(&self.stats)
            .consumers
            .entry(name)
            .or_default()
            .dead_lettered_function += 1;
        Ok(())
    }

    /// What EventBridge does for a queue target: the event, through the target's input
    /// transformation, sent to the queue. An event the transformation cannot be applied to is
    /// dropped with a warning, as EventBridge would fail it.
    fn enqueue(
        &self,
        target: usize,
        fifo: bool,
        envelope: &Value,
        at_ms: i64,
    ) -> Result<(), LocalError> {
        let consumer = &self.routing.consumers[target];
        let rule_arn = names::rule_arn(&consumer.name);
        let rule = ecomm_consumers::input::RuleContext {
            name: &format!("{PREFIX}-{}", consumer.name),
            arn: &rule_arn,
        };
        match self.routing.input(target).apply(envelope, &rule) {
            Ok(body) => {
                let message_id = self.ids.uuid();
                self.queues.send(
                    &names::target_queue(&consumer.name, fifo),
                    &message_id,
                    &body,
                    &ecomm_events::MessageAttributes::new(),
                    at_ms,
                    at_ms.min(chrono::Utc::now().timestamp_millis()),
                )?;
                if consumer.queue_reader().is_some() {
                    self.schedule_poll(target, at_ms);
                }
            }
            Err(e) => {
                tracing::warn!(consumer = %consumer.name, error = %e, "input transformation failed");
            }
        }
        Ok(())
    }

    /// Schedule the event source's next look at the queue of consumer `target`, a poll's
    /// latency after `at_ms`.
    fn schedule_poll(&self, target: usize, at_ms: i64) {
        let latency = self
            .ids
            .with_rng(|rng| rand::RngExt::random_range(rng, 20..200));
        lock(&self.schedule).push(at_ms + latency, Work::Poll { target });
    }

    /// What Lambda's SQS event source does for the function behind a queue target: receive a
    /// batch, run the function, delete what it did not report as failed. For a FIFO queue
    /// (one message group here) nothing is received while an earlier batch is in flight, so
    /// the order holds. A failed record received `maxReceiveCount` times is moved to the
    /// queue's own DLQ, as SQS's redrive policy does.
    async fn poll(&self, at_ms: i64, target: usize) -> Result<(), LocalError> {
        let consumer = &self.routing.consumers[target];
        let (TargetDecl::Queue { fifo, .. }, Some(reader), Some(decl)) = (
            &consumer.target,
            &self.readers[target],
            consumer.queue_reader(),
        ) else {
            return Ok(());
        };
        let queue = names::target_queue(&consumer.name, *fifo);
        let stats = self.queues.stats(&queue, at_ms)?;
        if stats.visible == 0 || (*fifo && stats.in_flight > 0) {
            return Ok(());
        }
        let batch_size = usize::try_from(decl.batch_size).unwrap_or(10);
        let received = self.queues.receive(
            &queue,
            batch_size,
            decl.visibility_timeout_seconds,
            at_ms,
            &mut || self.ids.uuid(),
        )?;
        let messages: Vec<QueueMessage> = received
            .iter()
            .map(|m| QueueMessage {
                message_id: m.message_id.clone(),
                body: m.body.clone(),
            })
            .collect();
        let outcome = reader.handle_batch(&messages).await;
        // What to delete: the records done with, and the failed ones the redrive policy moves
        // (received maxReceiveCount times). The other failed ones come back after the
        // visibility timeout.
        let mut delete = Vec::new();
        let mut moved = 0_u64;
        let mut waiting = false;
        let mut stats = lock(&self.stats);
        let entry = stats.consumers.entry(consumer.name.clone()).or_default();
        entry.invocations += 1;
        for ((_, result), message) in outcome.results.iter().zip(&received) {
            match result {
                RecordResult::Appended(_) => entry.succeeded += 1,
                RecordResult::AlreadyThere(_) => entry.duplicates += 1,
                RecordResult::Rejected(_) => entry.skipped += 1,
                RecordResult::Failed(_) | RecordResult::NotTried => {
                    if message.receive_count < decl.max_receive_count {
                        waiting = true;
                        continue;
                    }
                    self.queues.send(
                        &names::reader_dlq(&consumer.name, *fifo),
                        &self.ids.uuid(),
                        &message.body,
                        &message.attributes,
                        at_ms,
                        at_ms.min(chrono::Utc::now().timestamp_millis()),
                    )?;
                    moved += 1;
                }
            }
            delete.push((message.message_id.clone(), message.receipt_handle.clone()));
        }
        if !outcome.failed_message_ids().is_empty() {
            entry.failed_attempts += 1;
        }
        entry.dead_lettered_function += moved;
        drop(stats);
        for chunk in delete.chunks(10) {
            self.queues.delete_batch(&queue, chunk)?;
        }
        // What failed and stays comes back after the visibility timeout; what is left beyond
        // this batch is polled for at once.
        let next = if waiting {
            at_ms + i64::from(decl.visibility_timeout_seconds) * 1000
        } else {
            at_ms
        };
        lock(&self.schedule).push(next + 1, Work::Poll { target });
        Ok(())
    }

    /// Write `message` to `queue` (a DLQ).
    fn dead_letter(&self, queue: &str, message: &DlqMessage, at_ms: i64) -> Result<(), LocalError> {
        let message_id = self.ids.uuid();
        // Stamped with the simulated time of the failure, but readable at once: a run that
        // simulates minutes of retries should not leave its messages hidden in the future.
        let visible_ms = at_ms.min(chrono::Utc::now().timestamp_millis());
        self.queues.send(
            queue,
            &message_id,
            &message.body,
            &message.attributes,
            at_ms,
            visible_ms,
        )?;
        Ok(())
    }
}

/// One delivery of `envelope`, as its bus's log names it: the bus (name, ARN), and the rule,
/// the target and the service the target is.
fn hop<'a>(
    (bus, bus_arn): (&'a str, &'a str),
    (rule_arn, target_arn, service): (&'a str, &'a str, &'static str),
    envelope: &'a Value,
    tries: &'a Tries,
) -> Hop<'a> {
    Hop {
        bus,
        bus_arn,
        rule_arn,
        target_arn,
        service,
        event_id: envelope
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default(),
        invocation_id: &tries.invocation_id,
    }
}

/// The central bus's ARN, made once.
static CENTRAL_BUS_ARN: std::sync::LazyLock<String> = std::sync::LazyLock::new(names::bus_arn);
