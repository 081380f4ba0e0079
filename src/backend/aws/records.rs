//! Lambda's S3 on-failure records (`s3://BUCKET/aws/lambda/async/FUNCTION/…`), read, held and
//! deleted as messages of the consumer's DLQ (`QueueRef::records`), so that every command that
//! reads a DLQ reads them too.
//!
//! S3 has no visibility timeout, so this process holds what it reads itself: a receive walks the
//! prefix (`ListObjectsV2`, a page at a time), leases the keys it hands out for the visibility
//! asked, and fetches their bodies (`GetObject`). A walk that reached the end hands out nothing
//! more, which is what tells a scan the records are drained; releasing a record (a visibility of
//! 0) starts the next walk from the top. A record leaves the bucket only by `DeleteObjects`,
//! which a command sends only for what it deleted from the queue too: a redrive after the
//! delivery was confirmed, a purge after the archive and the confirmation. In the versioned
//! bucket Terraform makes, a delete leaves the record as a noncurrent version until the
//! lifecycle expires it.
//!
//! Another process (a second `ecomm`) does not see these leases: two redrives of the same
//! records at once both deliver them, and the consumers' idempotency absorbs the second.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use chrono::{DateTime, Utc};
use ecomm_events::MessageAttributes;
use ecomm_ports::error_codes::CodeClass;

use super::AwsBackend;
use super::errors::classify;
use crate::backend::{BackendError, EntryError, EntryOutcome, Message, RecordBucket, RecordStats};

/// Where a record's receipt says it is: `s3://BUCKET/KEY`. SQS receipt handles never start so.
const SCHEME: &str = "s3://";

/// The receipt of the record at `key`.
pub(super) fn receipt(bucket: &str, key: &str) -> String {
    format!("{SCHEME}{bucket}/{key}")
}

/// `(bucket, key)` of a record's receipt; `None` for an SQS receipt handle.
pub(super) fn object_of(receipt: &str) -> Option<(&str, &str)> {
    receipt.strip_prefix(SCHEME)?.split_once('/')
}

/// The leases and walks of this process, by `s3://BUCKET/PREFIX`.
#[derive(Debug, Clone, Default)]
pub(super) struct Leases(Arc<tokio::sync::Mutex<HashMap<String, Walk>>>);

/// One walk of a prefix, and the keys this process holds.
#[derive(Debug, Default)]
pub(super) struct Walk {
    /// The next page's token, once a page was listed and more follow.
    token: Option<String>,
    /// The last page was listed.
    ended: bool,
    /// Listed, not yet handed out.
    listed: VecDeque<Listed>,
    /// Held keys, until when.
    leases: HashMap<String, Instant>,
}

impl Walk {
    fn held(&self, key: &str, now: Instant) -> bool {
        self.leases.get(key).is_some_and(|until| *until > now)
    }

    /// Start again from the top at the next receive.
    fn restart(&mut self) {
        self.token = None;
        self.ended = false;
        self.listed.clear();
    }
}

/// A listed object.
#[derive(Debug, Clone)]
struct Listed {
    key: String,
    written: Option<DateTime<Utc>>,
}

fn timestamp(t: Option<&aws_sdk_s3::primitives::DateTime>) -> Option<DateTime<Utc>> {
    let t = t?;
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// A failed entry of `DeleteObjects`: S3's own fault (`InternalError`, `SlowDown`) may pass on
/// a second try.
fn entry_error(code: &str, message: &str) -> EntryError {
    let class = CodeClass::of(code);
    EntryError {
        message: format!("{code}: {message}"),
        retryable: matches!(class, CodeClass::Server | CodeClass::Throttling)
            || code == "InternalError",
        throttled: class == CodeClass::Throttling || code == "SlowDown",
    }
}

impl AwsBackend {
    /// One page of the prefix: its objects, and the next page's token.
    async fn list_page(
        &self,
        at: &RecordBucket,
        token: Option<String>,
    ) -> Result<(Vec<Listed>, Option<String>), BackendError> {
        let page = self
            .s3
            .list_objects_v2()
            .bucket(&at.bucket)
            .prefix(&at.prefix)
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| classify(&format!("while listing {}", at.url()), &e))?;
        let listed = page
            .contents()
            .iter()
            .filter_map(|o| {
                Some(Listed {
                    key: o.key()?.to_owned(),
                    written: timestamp(o.last_modified()),
                })
            })
            .collect();
        let next = page
            .is_truncated()
            .unwrap_or(false)
            .then(|| page.next_continuation_token().map(str::to_owned))
            .flatten();
        Ok((listed, next))
    }

    /// The records under the prefix, and how many of them this process holds.
    pub(super) async fn record_stats(
        &self,
        at: &RecordBucket,
    ) -> Result<(RecordStats, u64), BackendError> {
        let mut stats = RecordStats {
            objects: 0,
            oldest: None,
        };
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let (listed, next) = self.list_page(at, token).await?;
            for object in listed {
                stats.objects += 1;
                stats.oldest = stats.oldest.into_iter().chain(object.written).min();
                keys.push(object.key);
            }
            token = next;
            if token.is_none() {
                break;
            }
        }
        let walks = self.records.0.lock().await;
        let now = Instant::now();
        let held = walks
            .get(&at.url())
            .map_or(0, |walk| keys.iter().filter(|k| walk.held(k, now)).count());
        Ok((stats, held as u64))
    }

    /// Up to `max` records no one here holds, held for `visibility_s`; none once this walk of
    /// the prefix has handed out every record.
    pub(super) async fn receive_records(
        &self,
        at: &RecordBucket,
        max: u8,
        visibility_s: u32,
    ) -> Result<Vec<Message>, BackendError> {
        let chosen = {
            let mut walks = self.records.0.lock().await;
            let walk = walks.entry(at.url()).or_default();
            let now = Instant::now();
            let until = now + Duration::from_secs(visibility_s.into());
            let mut chosen = Vec::new();
            loop {
                while chosen.len() < usize::from(max)
                    && let Some(object) = walk.listed.pop_front()
                {
                    if !walk.held(&object.key, now) {
                        walk.leases.insert(object.key.clone(), until);
                        chosen.push(object);
                    }
                }
                if !chosen.is_empty() || walk.ended {
                    break;
                }
                let (listed, next) = self.list_page(at, walk.token.take()).await?;
                walk.listed.extend(listed);
                walk.ended = next.is_none();
                walk.token = next;
            }
            chosen
        };
        let fetched =
            futures::future::join_all(chosen.iter().map(|object| self.fetch(at, object))).await;
        let mut messages = Vec::with_capacity(chosen.len());
        let mut failure = None;
        let mut walks = self.records.0.lock().await;
        let walk = walks.entry(at.url()).or_default();
        for (object, fetched) in chosen.into_iter().zip(fetched) {
            match fetched {
                Ok(Some(message)) => messages.push(message),
                // Deleted since it was listed (by another reader): nothing to hold.
                Ok(None) => {
                    walk.leases.remove(&object.key);
                }
                Err(e) => {
                    // Not handed out: this walk hands it out again at the next receive.
                    walk.leases.remove(&object.key);
                    walk.listed.push_front(object);
                    failure = Some(e);
                }
            }
        }
        match failure {
            Some(e) => {
                for message in messages.drain(..) {
                    walk.leases.remove(&message.message_id);
                }
                Err(e)
            }
            None => Ok(messages),
        }
    }

    /// A record as a message; `None` when it no longer exists.
    async fn fetch(
        &self,
        at: &RecordBucket,
        object: &Listed,
    ) -> Result<Option<Message>, BackendError> {
        let context = || format!("while reading s3://{}/{}", at.bucket, object.key);
        let answer = match self
            .s3
            .get_object()
            .bucket(&at.bucket)
            .key(&object.key)
            .send()
            .await
        {
            Ok(answer) => answer,
            Err(e)
                if e.as_service_error()
                    .is_some_and(GetObjectError::is_no_such_key) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(classify(&context(), &e)),
        };
        let written = timestamp(answer.last_modified()).or(object.written);
        let bytes = answer
            .body
            .collect()
            .await
            .map_err(|e| BackendError::Unavailable(format!("{}: {e}", context())))?
            .into_bytes();
        Ok(Some(Message {
            message_id: object.key.clone(),
            receipt_handle: receipt(&at.bucket, &object.key),
            body: String::from_utf8_lossy(&bytes).into_owned(),
            attributes: MessageAttributes::new(),
            sent: written,
            receive_count: 1,
        }))
    }

    /// Delete records by receipt, one outcome per receipt, in order.
    pub(super) async fn delete_records(
        &self,
        receipts: &[&str],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        let mut outcomes: Vec<Option<EntryOutcome>> = vec![None; receipts.len()];
        let mut by_bucket: HashMap<&str, Vec<(usize, &str)>> = HashMap::new();
        for (i, r) in receipts.iter().enumerate() {
            match object_of(r) {
                Some((bucket, key)) => by_bucket.entry(bucket).or_default().push((i, key)),
                None => {
                    outcomes[i] = Some(Err(EntryError::permanent(format!(
                        "{r} is not a record's receipt"
                    ))));
                }
            }
        }
        for (bucket, keys) in by_bucket {
            let objects = keys
                .iter()
                .map(|(_, key)| ObjectIdentifier::builder().key(*key).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| BackendError::Other(e.to_string()))?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(false)
                .build()
                .map_err(|e| BackendError::Other(e.to_string()))?;
            let answer = self
                .s3
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| classify(&format!("while deleting from s3://{bucket}"), &e))?;
            let deleted: Vec<&str> = answer.deleted().iter().filter_map(|d| d.key()).collect();
            let failed: HashMap<&str, EntryError> = answer
                .errors()
                .iter()
                .filter_map(|e| {
                    Some((
                        e.key()?,
                        entry_error(e.code().unwrap_or("Unknown"), e.message().unwrap_or("")),
                    ))
                })
                .collect();
            let mut walks = self.records.0.lock().await;
            for (i, key) in keys {
                outcomes[i] = Some(if let Some(error) = failed.get(key) {
                    Err(error.clone())
                } else if deleted.contains(&key) {
                    for walk in walks.values_mut() {
                        walk.leases.remove(key);
                    }
                    Ok(())
                } else {
                    Err(EntryError::unanswered())
                });
            }
        }
        Ok(outcomes
            .into_iter()
            .map(|o| o.expect("every receipt has an outcome"))
            .collect())
    }

    /// Hold records `seconds` more; 0 releases them, and the next receive walks the prefix
    /// again from the top to find them.
    pub(super) async fn lease_records(
        &self,
        at: &RecordBucket,
        receipts: &[&str],
        seconds: u32,
    ) -> Vec<EntryOutcome> {
        let mut walks = self.records.0.lock().await;
        let walk = walks.entry(at.url()).or_default();
        let until = Instant::now() + Duration::from_secs(seconds.into());
        for r in receipts {
            if let Some((_, key)) = object_of(r) {
                if seconds == 0 {
                    walk.leases.remove(key);
                } else {
                    walk.leases.insert(key.to_owned(), until);
                }
            }
        }
        if seconds == 0 {
            walk.restart();
        }
        receipts.iter().map(|_| Ok(())).collect()
    }

    /// Delete every record under the prefix.
    pub(super) async fn purge_records(&self, at: &RecordBucket) -> Result<(), BackendError> {
        let mut token = None;
        loop {
            let (listed, next) = self.list_page(at, token).await?;
            let receipts: Vec<String> =
                listed.iter().map(|o| receipt(&at.bucket, &o.key)).collect();
            let refs: Vec<&str> = receipts.iter().map(String::as_str).collect();
            if let Some(Err(e)) = self
                .delete_records(&refs)
                .await?
                .into_iter()
                .find(Result::is_err)
            {
                return Err(BackendError::Other(format!(
                    "while purging {}: {e}",
                    at.url()
                )));
            }
            token = next;
            if token.is_none() {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_records_receipt_names_its_object_and_an_sqs_receipt_handle_names_none() {
        let r = receipt("ecomm-failures", "aws/lambda/async/fn/2026/12/02/a");
        assert_eq!(
            object_of(&r),
            Some(("ecomm-failures", "aws/lambda/async/fn/2026/12/02/a"))
        );
        assert_eq!(
            object_of("AQEBzJ6+8k1Tq/0aS2xw+Yq3lrLx9KQ=="),
            None,
            "SQS receipt handles are base64"
        );
    }

    #[test]
    fn s3s_own_faults_are_retried_and_access_denied_is_not() {
        assert!(entry_error("InternalError", "try again").retryable);
        assert!(entry_error("SlowDown", "reduce your rate").throttled);
        assert!(!entry_error("AccessDenied", "no").retryable);
    }
}
