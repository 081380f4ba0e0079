//! The backend over the embedded local stack: one per account it models. The central account
//! has the consumers; each tenant account (`ecomm demo --tenants N`) has one, its forward to
//! the central bus, with the forward DLQ.

use std::path::Path;
use std::rc::Rc;

use async_trait::async_trait;
use chrono::Utc;
use ecomm_consumers::TargetDecl;
use ecomm_local::engine::Bus;
use ecomm_local::sqs::{ACCOUNT, SqsError, queue_arn};
use ecomm_local::tenants::Tenant;
use ecomm_local::{LocalError, LocalStack, StackOptions, names};
use ecomm_ports::IdGenerator as _;

use super::targets::TargetKind;
use super::{
    Attributes, Backend, BackendError, Consumer, DirectEntry, EntryError, EntryOutcome, LogLine,
    LogRequest, LogSearch, Message, QueueReader, QueueRef, QueueStats,
};

/// The local stack as a backend, in one of its accounts.
pub(crate) struct LocalBackend {
    stack: Rc<LocalStack>,
    /// `None` for the central account, else the tenant's index.
    tenant: Option<usize>,
}

/// What the local stack calls its central account.
pub(crate) const CENTRAL_NAME: &str = "platform";

impl std::fmt::Debug for LocalBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalBackend")
            .field("state", &self.stack.db().path())
            .finish_non_exhaustive()
    }
}

fn local(error: LocalError) -> BackendError {
    match error {
        LocalError::Sqs(e) => sqs(e),
        other => BackendError::Other(other.to_string()),
    }
}

#[allow(clippy::needless_pass_by_value, reason = "used as a map_err function")]
fn sqs(error: SqsError) -> BackendError {
    match error {
        SqsError::QueueDoesNotExist(q) => BackendError::QueueNotFound(q),
        e @ SqsError::PurgeInProgress { .. } => BackendError::PurgeInProgress(e.to_string()),
        other => BackendError::Other(other.to_string()),
    }
}

impl LocalBackend {
    /// Open an existing state file. Commands that read or act on the stack never create one:
    /// an absent file is an empty stack, and the answer says how to fill it.
    pub(crate) fn open(state: &Path) -> Result<Self, BackendError> {
        if !state.exists() {
            return Err(BackendError::EmptyLocalStack(state.to_owned()));
        }
        let stack = LocalStack::open(
            state,
            &StackOptions {
                seed: rand_seed(),
                start: Utc::now(),
            },
        )
        .map_err(local)?;
        Ok(Self {
            stack: Rc::new(stack),
            tenant: None,
        })
    }

    /// The stack's tenant accounts, each a backend of its own after this central one's; none
    /// when the stack has no tenants.
    pub(crate) fn tenant_accounts(&self) -> Vec<(Tenant, Self)> {
        self.stack
            .tenants()
            .into_iter()
            .enumerate()
            .map(|(i, tenant)| {
                (
                    tenant.clone(),
                    Self {
                        stack: self.stack.clone(),
                        tenant: Some(i),
                    },
                )
            })
            .collect()
    }

    /// This backend's account id.
    pub(crate) fn account(&self) -> String {
        self.of_tenant()
            .map_or_else(|| ACCOUNT.to_owned(), |t| t.account.clone())
    }

    fn of_tenant(&self) -> Option<&Tenant> {
        self.tenant.and_then(|i| self.stack.tenant(i))
    }

    fn bus(&self) -> Bus {
        self.tenant.map_or(Bus::Central, Bus::Tenant)
    }

    /// A tenant account's one consumer: its forward to the central bus.
    fn forward(&self, tenant: &Tenant) -> Consumer {
        let dlq = QueueRef {
            name: tenant.forward_dlq(),
            arn: tenant.forward_dlq_arn(),
            url: tenant.forward_dlq(),
            records: None,
        };
        Consumer {
            target: self.stack.forward().decl.name.clone(),
            rule: tenant.forward_rule(),
            rule_arn: tenant.forward_rule_arn(),
            target_arn: names::bus_arn(),
            kind: TargetKind::EventBus {
                bus_arn: names::bus_arn(),
            },
            input: ecomm_consumers::input::TargetInput::default(),
            function: None,
            function_dlq: None,
            failure_bucket: None,
            delivery_dlq: Some(dlq.arn.clone()),
            dlq: Some(dlq),
            reader: None,
            findings: Vec::new(),
        }
    }
}

#[cfg(test)]
impl LocalBackend {
    /// The stack's queues, for unit tests that check what a command left.
    pub(crate) fn stack_queues(&self) -> &ecomm_local::sqs::Queues {
        self.stack.queues()
    }
}

fn rand_seed() -> u64 {
    u64::from(std::process::id())
        ^ u64::try_from(Utc::now().timestamp_nanos_opt().unwrap_or(0)).unwrap_or(0)
}

impl LocalBackend {
    /// `PutEvents` on `bus`: EventBridge assigns a new id and time to every event put on a bus.
    fn put_on(&self, bus: Bus, mut envelope: serde_json::Value) {
        envelope["id"] = self.stack.ids().uuid().into();
        envelope["time"] = Utc::now().to_rfc3339().into();
        self.stack.put_event_on(Utc::now(), bus, envelope);
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

#[async_trait(?Send)]
impl Backend for LocalBackend {
    fn banner(&self) -> String {
        format!("local stack: {}", self.stack.db().path().display())
    }

    async fn consumers(&self) -> Result<Vec<Consumer>, BackendError> {
        if let Some(tenant) = self.of_tenant() {
            return Ok(vec![self.forward(tenant)]);
        }
        Ok(self
            .stack
            .routing()
            .consumers
            .iter()
            .map(|c| {
                let dlq = names::dlq(&c.name);
                let (kind, target_arn, function) = match &c.target {
                    TargetDecl::Function => (
                        TargetKind::Lambda {
                            function: names::function(&c.name),
                            qualifier: None,
                        },
                        names::function_arn(&c.name),
                        Some(names::function(&c.name)),
                    ),
                    TargetDecl::Queue {
                        fifo,
                        message_group_id,
                        ..
                    } => {
                        let queue = names::target_queue(&c.name, *fifo);
                        (
                            TargetKind::Sqs {
                                queue: QueueRef {
                                    name: queue.clone(),
                                    arn: queue_arn(&queue),
                                    url: queue.clone(),
                                    records: None,
                                },
                                message_group_id: message_group_id.clone(),
                            },
                            queue_arn(&queue),
                            None,
                        )
                    }
                };
                Consumer {
                    target: c.name.clone(),
                    rule: format!("{}-{}", ecomm_local::PREFIX, c.name),
                    rule_arn: names::rule_arn(&c.name),
                    target_arn,
                    kind,
                    input: c.target_input(),
                    function_dlq: function.as_ref().map(|_| queue_arn(&dlq)),
                    failure_bucket: None,
                    function,
                    delivery_dlq: Some(queue_arn(&dlq)),
                    dlq: Some(QueueRef {
                        name: dlq.clone(),
                        arn: queue_arn(&dlq),
                        url: dlq,
                        records: None,
                    }),
                    reader: match c.target {
                        TargetDecl::Queue {
                            fifo,
                            reader: Some(_),
                            ..
                        } => {
                            let dlq = names::reader_dlq(&c.name, fifo);
                            Some(QueueReader {
                                function: Some(names::function(&c.name)),
                                dlq: Some(QueueRef {
                                    name: dlq.clone(),
                                    arn: queue_arn(&dlq),
                                    url: dlq,
                                    records: None,
                                }),
                            })
                        }
                        _ => None,
                    },
                    findings: Vec::new(),
                }
            })
            .collect())
    }

    async fn queue_stats(&self, queue: &QueueRef) -> Result<QueueStats, BackendError> {
        let stats = self
            .stack
            .queues()
            .stats(&queue.name, now_ms())
            .map_err(sqs)?;
        Ok(QueueStats {
            visible: stats.visible,
            in_flight: stats.in_flight,
            oldest_sent: stats.oldest_sent_ms.map(ecomm_local::clock::from_ms),
            records: None,
        })
    }

    async fn receive(
        &self,
        queue: &QueueRef,
        max: u8,
        visibility_s: u32,
        _wait_s: u8,
        attributes: Attributes,
    ) -> Result<Vec<Message>, BackendError> {
        let ids = self.stack.ids();
        let received = self
            .stack
            .queues()
            .receive(
                &queue.name,
                usize::from(max),
                visibility_s,
                now_ms(),
                &mut || ids.uuid(),
            )
            .map_err(sqs)?;
        Ok(received
            .into_iter()
            .map(|m| Message {
                message_id: m.message_id,
                receipt_handle: m.receipt_handle,
                body: m.body,
                // As SQS answers: only the attributes asked for.
                attributes: m
                    .attributes
                    .into_iter()
                    .filter(|(name, _)| attributes.includes(name))
                    .collect(),
                sent: Some(ecomm_local::clock::from_ms(m.sent_ms)),
                receive_count: m.receive_count,
            })
            .collect())
    }

    async fn delete(
        &self,
        queue: &QueueRef,
        receipts: &[String],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        let entries: Vec<(String, String)> = receipts
            .iter()
            .enumerate()
            .map(|(i, r)| (i.to_string(), r.clone()))
            .collect();
        let results = self
            .stack
            .queues()
            .delete_batch(&queue.name, &entries)
            .map_err(sqs)?;
        Ok(results
            .into_iter()
            .map(|r| r.error.map_or(Ok(()), |e| Err(EntryError::permanent(e))))
            .collect())
    }

    async fn change_visibility(
        &self,
        queue: &QueueRef,
        receipts: &[String],
        seconds: u32,
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        let entries: Vec<(String, String, u32)> = receipts
            .iter()
            .enumerate()
            .map(|(i, r)| (i.to_string(), r.clone(), seconds))
            .collect();
        let results = self
            .stack
            .queues()
            .change_visibility_batch(&queue.name, &entries, now_ms())
            .map_err(sqs)?;
        Ok(results
            .into_iter()
            .map(|r| r.error.map_or(Ok(()), |e| Err(EntryError::permanent(e))))
            .collect())
    }

    async fn purge(&self, queue: &QueueRef) -> Result<(), BackendError> {
        self.stack
            .queues()
            .purge(&queue.name, now_ms())
            .map_err(sqs)?;
        Ok(())
    }

    async fn invoke_async(&self, function: &str, payload: &str) -> Result<(), BackendError> {
        let consumer = function
            .strip_prefix(&format!("{}-", ecomm_local::PREFIX))
            .unwrap_or(function);
        let payload: serde_json::Value = serde_json::from_str(payload)
            .map_err(|e| BackendError::Other(format!("payload is not JSON: {e}")))?;
        self.stack
            .invoke_async(Utc::now(), consumer, payload)
            .map_err(local)
    }

    async fn send_to_target(
        &self,
        target: &TargetKind,
        entries: &[DirectEntry],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        if let TargetKind::EventBus { bus_arn } = target {
            // A bus target gets the event itself, as a redrive of a forward DLQ delivers it.
            let Some(bus) = self.stack.bus_of_arn(bus_arn) else {
                return Err(BackendError::Other(format!(
                    "the local stack has no event bus {bus_arn}"
                )));
            };
            return Ok(entries
                .iter()
                .map(
                    |entry| match serde_json::from_str::<serde_json::Value>(&entry.payload) {
                        Ok(envelope) if envelope.get("detail-type").is_some() => {
                            self.put_on(bus, envelope);
                            Ok(())
                        }
                        _ => Err(EntryError::permanent(
                            "a bus target takes an event, and this payload is not one",
                        )),
                    },
                )
                .collect());
        }
        let TargetKind::Sqs { queue, .. } = target else {
            return Err(BackendError::Other(format!(
                "the local stack has no {} targets",
                target.describe()
            )));
        };
        Ok(entries
            .iter()
            .map(|entry| {
                self.stack
                    .send_to_queue(Utc::now(), &queue.name, &entry.payload)
                    .map_err(|e| EntryError::permanent(e.to_string()))
            })
            .collect())
    }

    async fn put_events(
        &self,
        envelopes: &[&serde_json::Value],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        for envelope in envelopes {
            self.put_on(self.bus(), (*envelope).clone());
        }
        Ok(envelopes.iter().map(|_| Ok(())).collect())
    }

    fn bus_log_groups(&self) -> Vec<String> {
        let bus = self
            .of_tenant()
            .map_or_else(|| ecomm_local::BUS.to_owned(), Tenant::prefix);
        vec![ecomm_events::buslog::bus_log_group(&bus)]
    }

    fn log_groups(&self, consumers: &[Consumer]) -> Vec<String> {
        match self.of_tenant() {
            // A tenant account runs the tenant's producer, and no consumer.
            Some(tenant) => vec![ecomm_local::logs::log_group(&tenant.producer_function())],
            None => super::default_log_groups(consumers),
        }
    }

    async fn search_logs(&self, request: &LogRequest<'_>) -> Result<LogSearch, BackendError> {
        let query = ecomm_local::logs::LogQuery {
            groups: request.groups.to_vec(),
            term: Some(request.term.to_owned()),
            start_ms: Some(request.start.timestamp_millis()),
            end_ms: Some(request.end.timestamp_millis()),
            limit: None,
        };
        let lines = self
            .stack
            .logs()
            .query(&query)
            .map_err(|e| BackendError::Other(e.to_string()))?;
        Ok(LogSearch {
            lines: lines
                .into_iter()
                .map(|l| LogLine {
                    group: l.group,
                    timestamp: ecomm_local::clock::from_ms(l.ts_ms),
                    message: l.line,
                })
                .collect(),
            problems: Vec::new(),
            partial: false,
        })
    }

    async fn settle(&self) -> Result<(), BackendError> {
        self.stack.clock().advance_to(Utc::now());
        self.stack.run(|_, _| {}).await.map_err(local)?;
        Ok(())
    }
}
