"""CKV_ECOMM_1: every EventBridge target has a retry policy and a dead-letter queue.

Without a retry_policy the target silently takes EventBridge's defaults (185 attempts over 24 h);
without a dead_letter_config an event whose delivery retries run out is dropped with no trace
(see docs/architecture.md, "How failures flow").
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


def _first(value):
    """checkov wraps every attribute and block in a list."""
    while isinstance(value, list):
        if not value:
            return None
        value = value[0]
    return value


def _number(value):
    """A literal number, or None for an unresolved expression."""
    value = _first(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(str(value))
    except ValueError:
        return None


class EventTargetHasDlqAndRetryPolicy(BaseResourceCheck):
    def __init__(self):
        super().__init__(
            name="Ensure every EventBridge target has a retry policy and a dead-letter queue (SQS)",
            id="CKV_ECOMM_1",
            categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["aws_cloudwatch_event_target"],
        )

    def scan_resource_conf(self, conf):
        retry = _first(conf.get("retry_policy"))
        if not isinstance(retry, dict):
            self.details.append("no retry_policy block")
            return CheckResult.FAILED
        for field in ("maximum_retry_attempts", "maximum_event_age_in_seconds"):
            if _first(retry.get(field)) in (None, ""):
                self.details.append(f"retry_policy.{field} is not set")
                return CheckResult.FAILED
        attempts = _number(retry.get("maximum_retry_attempts"))
        age = _number(retry.get("maximum_event_age_in_seconds"))
        if attempts is not None and not 0 <= attempts <= 185:
            self.details.append("retry_policy.maximum_retry_attempts is outside 0-185")
            return CheckResult.FAILED
        if age is not None and not 60 <= age <= 86400:
            self.details.append("retry_policy.maximum_event_age_in_seconds is outside 60-86400")
            return CheckResult.FAILED

        dead_letter = _first(conf.get("dead_letter_config"))
        if not isinstance(dead_letter, dict):
            self.details.append("no dead_letter_config block")
            return CheckResult.FAILED
        arn = str(_first(dead_letter.get("arn")) or "")
        if "sqs" not in arn:
            self.details.append(f"dead_letter_config.arn {arn!r} is not an SQS queue")
            return CheckResult.FAILED
        return CheckResult.PASSED


check = EventTargetHasDlqAndRetryPolicy()
