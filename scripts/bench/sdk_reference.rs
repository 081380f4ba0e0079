//! The lean Rust reference client of `scripts/bench-redrive`: the same receive → `PutEvents`
//! (or `SendMessageBatch`) → `DeleteMessageBatch` loop as the Python reference in `bench.py`,
//! with the same requests, on the AWS SDK for Rust that ecomm uses, on one thread as ecomm
//! runs. It does nothing else: no parsing beyond what the put needs, no journal, no report.
//!
//! What it costs per message is what the SDK itself costs for this loop on this machine, the
//! floor under any client built on it; ecomm's CPU above it is ecomm's own.
//!
//! ```text
//! cargo run --release --example sdk-reference -- --endpoint URL --case CASE.json --workers 8 [--via bus|queue]
//! ```
//!
//! Credentials and region come from the environment, as for ecomm. It prints what it moved on
//! stderr and exits 1 if a call failed after the SDK's retries.

use std::io::Write as _;
use std::time::Instant;

use anyhow::Context as _;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, SendMessageBatchRequestEntry};
use clap::Parser;
use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use serde::Deserialize;
use serde_json::Value;

#[derive(Parser)]
struct Args {
    /// The endpoint (LocalStack, or the delay proxy in front of it).
    #[arg(long)]
    endpoint: String,
    /// The case `bench.py setup` wrote: the DLQ, the bus and the sink queue.
    #[arg(long)]
    case: std::path::PathBuf,
    /// Receive loops at once.
    #[arg(long, default_value_t = 8)]
    workers: usize,
    /// bus: `PutEvents` (as `ecomm redrive --via bus`); queue: `SendMessageBatch` to the sink.
    #[arg(long, default_value = "bus")]
    via: Via,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Via {
    Bus,
    Queue,
}

#[derive(Deserialize)]
struct Case {
    dlq_url: String,
    bus: String,
    sink_url: String,
}

#[derive(Default)]
struct Moved {
    deleted: usize,
    put_failed: usize,
    delete_failed: usize,
}

struct Mover {
    sqs: aws_sdk_sqs::Client,
    events: aws_sdk_eventbridge::Client,
    case: Case,
    via: Via,
}

impl Mover {
    /// Receive, put and delete until a receive comes back empty.
    async fn run(&self) -> anyhow::Result<Moved> {
        let mut moved = Moved::default();
        loop {
            let mut receive = self
                .sqs
                .receive_message()
                .queue_url(&self.case.dlq_url)
                .max_number_of_messages(10)
                .visibility_timeout(300)
                .wait_time_seconds(1);
            if self.via == Via::Queue {
                // What a DLQ mover asks for, as the Python reference does.
                receive = receive
                    .message_attribute_names("All")
                    .message_system_attribute_names(
                        aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp,
                    )
                    .message_system_attribute_names(
                        aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount,
                    );
            }
            let messages = receive.send().await?.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(moved);
            }
            let ok = match self.via {
                Via::Bus => self.put(&messages).await?,
                Via::Queue => self.send(&messages).await?,
            };
            moved.put_failed += messages.len() - ok.len();
            if ok.is_empty() {
                continue;
            }
            let entries = ok
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .set_receipt_handle(m.receipt_handle.clone())
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            let deleted = self
                .sqs
                .delete_message_batch()
                .queue_url(&self.case.dlq_url)
                .set_entries(Some(entries))
                .send()
                .await?;
            moved.deleted += deleted.successful().len();
            moved.delete_failed += deleted.failed().len();
        }
    }

    /// Each body's event on the bus; the messages whose entry was accepted.
    async fn put<'m>(&self, messages: &'m [Message]) -> anyhow::Result<Vec<&'m Message>> {
        let entries = messages
            .iter()
            .map(|m| {
                let event: Value = serde_json::from_str(m.body().unwrap_or_default())?;
                let text =
                    |field: &str| event.get(field).and_then(Value::as_str).map(str::to_owned);
                let resources = event.get("resources").and_then(Value::as_array).map(|r| {
                    r.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                });
                Ok(PutEventsRequestEntry::builder()
                    .event_bus_name(&self.case.bus)
                    .set_source(text("source"))
                    .set_detail_type(text("detail-type"))
                    .detail(serde_json::to_string(&event["detail"])?)
                    .set_resources(resources)
                    .build())
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let answer = self
            .events
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await?;
        Ok(messages
            .iter()
            .zip(answer.entries())
            .filter(|(_, e)| e.event_id.is_some() && e.error_code.is_none())
            .map(|(m, _)| m)
            .collect())
    }

    /// Each body to the sink queue; the messages that were sent.
    async fn send<'m>(&self, messages: &'m [Message]) -> anyhow::Result<Vec<&'m Message>> {
        let entries = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .set_message_body(m.body.clone())
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let answer = self
            .sqs
            .send_message_batch()
            .queue_url(&self.case.sink_url)
            .set_entries(Some(entries))
            .send()
            .await?;
        let sent: std::collections::HashSet<&str> = answer
            .successful()
            .iter()
            .map(aws_sdk_sqs::types::SendMessageBatchResultEntry::id)
            .collect();
        Ok(messages
            .iter()
            .enumerate()
            .filter(|(i, _)| sent.contains(i.to_string().as_str()))
            .map(|(_, m)| m)
            .collect())
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let case: Case = serde_json::from_str(
        &std::fs::read_to_string(&args.case)
            .with_context(|| format!("reading {}", args.case.display()))?,
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&args.endpoint)
            .load()
            .await;
        let mover = Mover {
            sqs: aws_sdk_sqs::Client::new(&config),
            events: aws_sdk_eventbridge::Client::new(&config),
            case,
            via: args.via,
        };
        let started = Instant::now();
        let mut workers: FuturesUnordered<_> =
            (0..args.workers.max(1)).map(|_| mover.run()).collect();
        let mut total = Moved::default();
        while let Some(result) = workers.next().await {
            let worker = result.context("a call failed after the SDK's retries")?;
            total.deleted += worker.deleted;
            total.put_failed += worker.put_failed;
            total.delete_failed += worker.delete_failed;
        }
        writeln!(
            std::io::stderr(),
            "sdk-reference: {} moved in {:.1}s with {} workers; put failed {}, delete failed {}",
            total.deleted,
            started.elapsed().as_secs_f64(),
            args.workers,
            total.put_failed,
            total.delete_failed
        )?;
        Ok(())
    })
}
