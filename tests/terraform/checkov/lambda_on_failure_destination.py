"""CKV_ECOMM_2: every asynchronous invoke config sends failures to an SQS on-failure destination.

EventBridge invokes Lambda targets asynchronously, so a function error is retried by Lambda and
then goes to the on-failure destination, never to the target's DLQ: without a destination those
events are dropped (see docs/architecture.md, "How failures flow").
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


def _first(value):
    while isinstance(value, list):
        if not value:
            return None
        value = value[0]
    return value


class LambdaAsyncInvokeHasOnFailureDestination(BaseResourceCheck):
    def __init__(self):
        super().__init__(
            name="Ensure every Lambda async invoke config has an SQS on-failure destination",
            id="CKV_ECOMM_2",
            categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["aws_lambda_function_event_invoke_config"],
        )

    def scan_resource_conf(self, conf):
        destination_config = _first(conf.get("destination_config"))
        on_failure = _first(destination_config.get("on_failure")) if isinstance(destination_config, dict) else None
        if not isinstance(on_failure, dict):
            self.details.append("no destination_config.on_failure block")
            return CheckResult.FAILED
        destination = str(_first(on_failure.get("destination")) or "")
        if "sqs" not in destination:
            self.details.append(f"on_failure.destination {destination!r} is not an SQS queue")
            return CheckResult.FAILED
        return CheckResult.PASSED


check = LambdaAsyncInvokeHasOnFailureDestination()
