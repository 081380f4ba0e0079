//! Lambda's S3 on-failure destination in moto: a consumer's function wired to a bucket of its
//! own, as Terraform wires it for `"onFailure": "s3"`, and records put there as Lambda writes
//! them, one object each, the same JSON as the SQS on-failure record.

use std::collections::BTreeSet;

use aws_sdk_lambda::types::{DestinationConfig, OnFailure};

use ecomm_events::DlqMessage;

use super::{Stack, sdk_config, unique};

/// A bucket of on-failure records, and the S3 client to check it.
pub(crate) struct FailureBucket {
    s3: aws_sdk_s3::Client,
    /// The bucket.
    pub(crate) bucket: String,
    /// `aws/lambda/async/FUNCTION/`.
    pub(crate) prefix: String,
}

impl Stack {
    /// Make a bucket the on-failure destination of `target`'s function (its target DLQ stays).
    pub(crate) async fn failure_bucket(&self, target: &str) -> FailureBucket {
        let function = self.consumer_of(target).function.clone();
        let config = sdk_config(&self.endpoint).await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .build(),
        );
        let bucket = unique("ecomm-failures");
        s3.create_bucket()
            .bucket(&bucket)
            .send()
            .await
            .expect("create the bucket");
        // moto keeps every config put and answers with the first: replace it, as AWS's put does.
        self.lambda
            .delete_function_event_invoke_config()
            .function_name(&function)
            .send()
            .await
            .expect("delete the SQS on-failure destination");
        self.lambda
            .put_function_event_invoke_config()
            .function_name(&function)
            .destination_config(
                DestinationConfig::builder()
                    .on_failure(
                        OnFailure::builder()
                            .destination(format!("arn:aws:s3:::{bucket}"))
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("wire the bucket as the on-failure destination");
        FailureBucket {
            s3,
            bucket,
            prefix: format!("aws/lambda/async/{function}/"),
        }
    }
}

impl FailureBucket {
    /// `s3://BUCKET/PREFIX`, as `dlq ls` names it.
    pub(crate) fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    /// Put one record where Lambda writes it; returns its key.
    pub(crate) async fn seed(&self, record: &DlqMessage) -> String {
        let key = format!(
            "{}{}/{}",
            self.prefix,
            chrono::Utc::now().format("%Y/%m/%d"),
            unique("record")
        );
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .body(record.body.clone().into_bytes().into())
            .send()
            .await
            .expect("put the record");
        key
    }

    /// The keys under the prefix.
    pub(crate) async fn keys(&self) -> BTreeSet<String> {
        let listed = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&self.prefix)
            .send()
            .await
            .expect("list the records");
        listed
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect()
    }

    /// A record's body.
    pub(crate) async fn body(&self, key: &str) -> String {
        let object = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .expect("get the record");
        let bytes = object.body.collect().await.expect("its body").into_bytes();
        String::from_utf8(bytes.to_vec()).expect("a record is UTF-8 JSON")
    }
}
