"""Structural tests of terraform/, run by scripts/check-terraform.

`terraform validate` and `plan` cannot run here (no provider registry), so these tests parse the
HCL and assert what a review would: every consumer's failure paths end in its DLQ, every grant is
scoped, every queue is encrypted, every log group expires, and every name and reference resolves.

Every consumer is one instance of modules/consumer (for_each over the consumers/*.json whose
target is their function) or of modules/queue-consumer (those whose target is a queue), so
asserting a module's wiring asserts it for every such consumer; the root tests assert that the
modules are instantiated for exactly the declaration files.

TERRAFORM_DIR points the tests at another copy of terraform/ (default: the repo's).
"""

from __future__ import annotations

import json
import os
import re
import unittest
from pathlib import Path
from typing import Any

from hcl import COMMENTS, Module, block, blocks, is_expression, load_tree, ref, walk

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = Path(os.environ.get("TERRAFORM_DIR", REPO / "terraform")).resolve()

TREE = load_tree(TERRAFORM)
ROOT = TREE[TERRAFORM]
CONSUMER = TREE[TERRAFORM / "modules" / "consumer"]
QUEUE_CONSUMER = TREE[TERRAFORM / "modules" / "queue-consumer"]
PRODUCER = TREE[TERRAFORM / "modules" / "producer"]
TENANT = TREE[TERRAFORM / "modules" / "tenant"]
TWO_TENANTS = TREE[TERRAFORM / "environments" / "two-tenants"]


def declarations() -> dict[str, dict[str, Any]]:
    """consumers/*.json, by name."""
    return {p.stem: json.loads(p.read_text()) for p in sorted((TERRAFORM / "consumers").glob("*.json"))}


def targets_a_queue(decl: dict[str, Any]) -> bool:
    """Whether a declaration's target is a queue (else: its own function)."""
    return decl.get("target", {}).get("type", "function") == "queue"

IDEMPOTENCY_LOCK_SECONDS = 120
SQS_MAX_RETENTION = 1_209_600


def only(resources: dict[str, Any], what: str) -> tuple[str, dict[str, Any]]:
    """The one resource of a type in a module."""
    if len(resources) != 1:
        raise AssertionError(f"expected exactly one {what}, found {sorted(resources)}")
    return next(iter(resources.items()))


def default_of(module: Module, variable: str) -> Any:
    """A variable's default value."""
    return module.variables[variable].get("default")


def literal_or_default(module: Module, value: Any) -> Any:
    """A literal, or the default of the variable it references."""
    reference = ref(value)
    if reference and reference.startswith("var."):
        return default_of(module, reference.split(".", 1)[1])
    return value


def policy_documents(module: Module) -> dict[str, dict[str, Any]]:
    """The module's aws_iam_policy_document data sources, by name."""
    return {name: body for (kind, name), body in module.data.items() if kind == "aws_iam_policy_document"}


def document_of(module: Module, expression: str) -> dict[str, Any]:
    """The policy document that `${data.aws_iam_policy_document.X.json}` names."""
    reference = ref(expression) or ""
    match = re.fullmatch(r"data\.aws_iam_policy_document\.(\w+)\.json", reference)
    if not match:
        raise AssertionError(f"policy {expression!r} is not an aws_iam_policy_document's json")
    return policy_documents(module)[match.group(1)]


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The literal statements of a policy document."""
    return blocks(document.get("statement"))


class ConsumerDeclarations(unittest.TestCase):
    """consumers/*.json: the shared source of truth is what Terraform can deploy."""

    def test_declarations_are_complete_and_in_range(self):
        files = sorted((TERRAFORM / "consumers").glob("*.json"))
        self.assertTrue(files, "no consumer declarations")
        known_tables = set(ROOT.locals["tables"])
        for path in files:
            with self.subTest(file=path.name):
                decl = json.loads(path.read_text())
                self.assertEqual(decl["name"], path.stem, "name must match the file name")
                self.assertTrue(decl["description"])
                pattern = decl["eventPattern"]
                # The seed's lesson: a pattern must match source and detail-type exactly.
                self.assertTrue(pattern.get("source"), "eventPattern needs a source")
                self.assertTrue(pattern.get("detail-type"), "eventPattern needs a detail-type")
                retry = decl["retryPolicy"]
                self.assertTrue(0 <= retry["maximumRetryAttempts"] <= 185)
                self.assertTrue(60 <= retry["maximumEventAgeInSeconds"] <= 86400)
                transformer = decl.get("inputTransformer")
                if transformer is not None:
                    self.assertTrue(transformer["inputTemplate"])
                    for name, path_ in transformer.get("inputPathsMap", {}).items():
                        self.assertRegex(name, r"^[A-Za-z0-9_-]+$")
                        self.assertFalse(name.startswith("aws."), "reserved for the predefined variables")
                        self.assertTrue(path_.startswith("$"), f"{name}: not a JSONPath")
                if targets_a_queue(decl):
                    target = decl["target"]
                    self.assertIsInstance(target["fifo"], bool)
                    self.assertEqual("messageGroupId" in target, target["fifo"], "a FIFO target needs a message group, and only it")
                    self.assertNotIn("asyncInvoke", decl, "a queue target is no async-invoked function")
                    reader = target.get("reader")
                    if reader is None:
                        self.assertNotIn("tables", decl, "a queue target without a reader has no function")
                        continue
                    self.assertTrue(1 <= reader["batchSize"] <= 10, "a FIFO source takes at most 10")
                    self.assertTrue(1 <= reader["maxReceiveCount"] <= 1000)
                    # AWS's advice for an SQS event source: at least six times the function's timeout.
                    self.assertGreaterEqual(reader["visibilityTimeoutSeconds"], 6 * default_of(ROOT, "function_timeout_seconds"))
                    self.assertLessEqual(set(decl.get("tables", [])), known_tables, "unknown table")
                    continue
                invoke = decl["asyncInvoke"]
                self.assertTrue(0 <= invoke["maximumRetryAttempts"] <= 2)
                self.assertTrue(60 <= invoke["maximumEventAgeInSeconds"] <= 21600)
                self.assertLessEqual(set(decl.get("tables", [])), known_tables, "unknown table")
                self.assertIn("idempotency", decl.get("tables", []), "every consumer is idempotent")


class RootWiring(unittest.TestCase):
    """The root instantiates the consumer module once per declaration, and wires the rest."""

    def test_consumers_come_from_the_declaration_files(self):
        self.assertIn('fileset(path.module, "consumers/*.json")', ROOT.locals["consumer_files"])
        self.assertIn("jsondecode(file(", ROOT.locals["consumers"])
        self.assertIn("local.consumer_files", ROOT.locals["consumers"])

    def test_consumer_module_is_instantiated_for_each_declaration(self):
        self.assertEqual(
            sorted(ROOT.modules), ["consumer", "producer", "queue_consumer"], "one module block per target kind, for_each'd"
        )
        self.assertIn('try(c.target.type, "function") == "function"', ROOT.locals["function_consumers"])
        self.assertIn('try(c.target.type, "function") == "queue"', ROOT.locals["queue_consumers"])
        queue_consumer = ROOT.modules["queue_consumer"]
        self.assertEqual(queue_consumer["source"], "./modules/queue-consumer")
        self.assertEqual(queue_consumer["for_each"], "${local.queue_consumers}")
        self.assertEqual(queue_consumer["fifo"], "${each.value.target.fifo}")
        self.assertIn("each.value.inputTransformer.inputPathsMap", str(queue_consumer["input_transformer"]))
        consumer = ROOT.modules["consumer"]
        self.assertEqual(consumer["source"], "./modules/consumer")
        self.assertEqual(consumer["for_each"], "${local.function_consumers}")
        self.assertEqual(consumer["name"], "${each.key}")
        self.assertEqual(consumer["event_pattern"], "${jsonencode(each.value.eventPattern)}")
        for argument, field_ in (("retry_policy", "retryPolicy"), ("async_invoke", "asyncInvoke")):
            self.assertEqual(
                consumer[argument],
                {
                    "maximum_retry_attempts": f"${{each.value.{field_}.maximumRetryAttempts}}",
                    "maximum_event_age_in_seconds": f"${{each.value.{field_}.maximumEventAgeInSeconds}}",
                },
            )
        self.assertIn("each.value.tables", consumer["tables"])

    def test_every_required_module_variable_is_passed(self):
        calls = (
            (ROOT, "consumer", CONSUMER),
            (ROOT, "queue_consumer", QUEUE_CONSUMER),
            (ROOT, "producer", PRODUCER),
            (TENANT, "producer", PRODUCER),
            (TWO_TENANTS, "brand_a", TENANT),
            (TWO_TENANTS, "brand_b", TENANT),
        )
        for caller, call, module in calls:
            with self.subTest(module=call):
                passed = caller.modules[call]
                required = {name for name, var in module.variables.items() if "default" not in var}
                self.assertEqual(required - set(passed), set())
                self.assertEqual(set(passed) - set(module.variables) - {"source", "for_each", "providers", COMMENTS}, set())

    def test_naming_scheme(self):
        self.assertEqual(ROOT.locals["prefix"], "ecomm-${var.environment}")
        bus = ROOT.resources[("aws_cloudwatch_event_bus", "this")]
        self.assertEqual(bus["name"], "${local.prefix}")
        self.assertEqual(CONSUMER.locals["function_name"], "${var.prefix}-${var.name}")
        self.assertEqual(CONSUMER.locals["rule_name"], "${var.prefix}-${var.name}")
        self.assertEqual(CONSUMER.locals["dlq_name"], "${var.prefix}-${var.name}-dlq")
        self.assertEqual(CONSUMER.locals["log_group"], "/aws/lambda/${local.function_name}")
        self.assertEqual(PRODUCER.locals["producer_name"], "${var.prefix}-order-producer")
        self.assertEqual(ROOT.modules["producer"]["prefix"], "${local.prefix}")
        self.assertEqual(TENANT.locals["prefix"], "ecomm-${var.environment}-${var.tenant}")

    def test_bus_has_an_archive(self):
        _, archive = only(ROOT.of_type("aws_cloudwatch_event_archive"), "archive")
        self.assertEqual(archive["event_source_arn"], "${aws_cloudwatch_event_bus.this.arn}")
        self.assertEqual(archive["retention_days"], "${var.archive_retention_days}")

    def test_tables(self):
        _, table = only(ROOT.of_type("aws_dynamodb_table"), "table resource")
        self.assertEqual(table["for_each"], "${local.tables}")
        self.assertEqual(block(table["point_in_time_recovery"])["enabled"], True)
        self.assertEqual(block(table["server_side_encryption"])["enabled"], True)
        tables = ROOT.locals["tables"]
        self.assertEqual(set(tables), {"stock", "idempotency", "refunds", "analytics", "audit"})
        self.assertEqual(tables["audit"]["hash_key"], "eventId")
        self.assertEqual(tables["idempotency"]["ttl"], "expiresAt")
        self.assertEqual((tables["stock"]["hash_key"], tables["stock"]["range_key"]), ("pk", None))
        self.assertEqual(tables["idempotency"]["hash_key"], "id")
        self.assertEqual(tables["refunds"]["hash_key"], "orderId")
        self.assertEqual((tables["analytics"]["hash_key"], tables["analytics"]["range_key"]), ("pk", "sk"))
        # Exactly the calls of lambdas/ports/src/aws/dynamodb.rs.
        self.assertEqual(
            {name: sorted(t["actions"]) for name, t in tables.items()},
            {
                "stock": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                "idempotency": ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"],
                "refunds": ["dynamodb:GetItem", "dynamodb:PutItem"],
                "analytics": ["dynamodb:UpdateItem"],
                "audit": ["dynamodb:PutItem"],
            },
        )

    def test_producer_behind_http_api_publishing_only_on_the_bus(self):
        route = PRODUCER.resources[("aws_apigatewayv2_route", "post_orders")]
        self.assertEqual(route["route_key"], "POST ${local.producer_orders_path}")
        self.assertEqual(PRODUCER.locals["producer_orders_path"], "/orders")
        integration = PRODUCER.resources[("aws_apigatewayv2_integration", "producer")]
        self.assertEqual(integration["payload_format_version"], "2.0")
        self.assertEqual(integration["integration_uri"], "${aws_lambda_function.producer.invoke_arn}")
        permission = PRODUCER.resources[("aws_lambda_permission", "orders_api")]
        self.assertEqual(permission["principal"], "apigateway.amazonaws.com")
        self.assertIn("aws_apigatewayv2_api.orders.execution_arn", permission["source_arn"])
        producer = PRODUCER.resources[("aws_lambda_function", "producer")]
        self.assertEqual(producer["role"], "${aws_iam_role.producer.arn}")
        self.assertEqual(
            block(producer["environment"])["variables"],
            "${merge({EVENT_BUS_NAME = var.event_bus_name, LOG_LEVEL = var.log_level}, "
            "var.tenant_id == null ? {} : {TENANT_ID = var.tenant_id})}",
        )
        self.assertEqual(TENANT.modules["producer"]["tenant_id"], "${var.tenant}")
        self.assertNotIn("tenant_id", ROOT.modules["producer"], "the platform's events are the default tenant's")
        grants = {
            tuple(s["actions"]): s["resources"]
            for s in statements(document_of(PRODUCER, PRODUCER.resources[("aws_iam_role_policy", "producer")]["policy"]))
        }
        self.assertEqual(
            grants,
            {
                ("logs:CreateLogStream", "logs:PutLogEvents"): ["${aws_cloudwatch_log_group.producer.arn}:*"],
                ("events:PutEvents",): ["${var.event_bus_arn}"],
            },
        )
        # The platform's producer publishes on the platform's bus, a tenant's on its own.
        for caller in (ROOT, TENANT):
            with self.subTest(caller=str(caller.path)):
                self.assertEqual(caller.modules["producer"]["source"].rsplit("/", 1)[-1], "producer")
                self.assertEqual(caller.modules["producer"]["event_bus_arn"], "${aws_cloudwatch_event_bus.this.arn}")
                self.assertEqual(caller.modules["producer"]["event_bus_name"], "${aws_cloudwatch_event_bus.this.name}")

    def test_the_producer_moved_into_its_module_without_being_replaced(self):
        moved = {(m["from"], m["to"]) for m in ROOT.files["producer.tf"].get("moved", [])}
        resources = {f"{kind}.{name}" for kind, name in PRODUCER.resources}
        self.assertEqual(moved, {(f"${{{r}}}", f"${{module.producer.{r}}}") for r in resources})

    def test_notification_may_send_only_as_the_sender(self):
        (grant,) = ROOT.locals["consumer_policy_statements"]["notification"]
        self.assertEqual(grant["actions"], ["ses:SendEmail"])
        self.assertIn("local.ses_identity_arn", grant["resources"])
        self.assertEqual(set(ROOT.locals["consumer_policy_statements"]), {"notification"})

    def test_packaging_builds_every_function_terraform_deploys(self):
        script = (REPO / "scripts" / "package-lambdas").read_text()
        match = re.search(r"^FUNCTIONS=\(([^)]*)\)", script, re.M)
        self.assertTrue(match, "scripts/package-lambdas has no FUNCTIONS=(...) list")
        functions = {
            name for name, decl in declarations().items() if not targets_a_queue(decl) or "reader" in decl["target"]
        }
        self.assertEqual(set(match.group(1).split()), functions | {"order-producer"})
        self.assertEqual(ROOT.locals["artifacts_dir"], '${coalesce(var.artifacts_dir, "${path.module}/../target/lambda")}')
        self.assertEqual(ROOT.modules["consumer"]["package_zip"], "${local.artifacts_dir}/${each.key}/bootstrap.zip")
        self.assertEqual(PRODUCER.locals["producer_zip"], "${var.artifacts_dir}/order-producer/bootstrap.zip")
        self.assertEqual(ROOT.modules["producer"]["artifacts_dir"], "${local.artifacts_dir}")

    def test_function_timeout_stays_below_the_idempotency_lock(self):
        self.assertLess(default_of(ROOT, "function_timeout_seconds"), IDEMPOTENCY_LOCK_SECONDS)
        for tfvars in sorted((TERRAFORM / "environments").glob("*.tfvars")):
            text = tfvars.read_text()
            match = re.search(r"^function_timeout_seconds\s*=\s*(\d+)", text, re.M)
            if match:
                self.assertLess(int(match.group(1)), IDEMPOTENCY_LOCK_SECONDS, tfvars.name)

    def test_environments(self):
        for env in ("staging", "prod"):
            with self.subTest(env=env):
                tfvars = (TERRAFORM / "environments" / f"{env}.tfvars").read_text()
                self.assertRegex(tfvars, rf'(?m)^environment\s*=\s*"{env}"$')
                required = {n for n, v in ROOT.variables.items() if "default" not in v}
                for name in required:
                    self.assertRegex(tfvars, rf"(?m)^{name}\s*=", f"{env}.tfvars must set {name}")
                self.assertTrue((TERRAFORM / "environments" / f"{env}.s3.tfbackend").is_file())
        self.assertIn("backend", json.dumps(ROOT.files["backend.tf"]))


class ConsumerModule(unittest.TestCase):
    """modules/consumer: each consumer's rule, target, function, role and the one DLQ."""

    def setUp(self):
        self.dlq_name, self.dlq = only(CONSUMER.of_type("aws_sqs_queue"), "queue")
        self.dlq_arn = f"${{aws_sqs_queue.{self.dlq_name}.arn}}"
        self.rule_name, self.rule = only(CONSUMER.of_type("aws_cloudwatch_event_rule"), "rule")
        self.rule_arn = f"${{aws_cloudwatch_event_rule.{self.rule_name}.arn}}"
        self.function_name, self.function = only(CONSUMER.of_type("aws_lambda_function"), "function")
        _, self.target = only(CONSUMER.of_type("aws_cloudwatch_event_target"), "target")

    def test_rule_listens_on_the_bus_with_the_declared_pattern(self):
        self.assertEqual(self.rule["event_bus_name"], "${var.event_bus_name}")
        self.assertEqual(self.rule["event_pattern"], "${var.event_pattern}")
        self.assertEqual(self.rule["name"], "${local.rule_name}")

    def test_target_has_retry_policy_and_dead_letter_config_to_the_dlq(self):
        self.assertEqual(self.target["rule"], f"${{aws_cloudwatch_event_rule.{self.rule_name}.name}}")
        self.assertEqual(self.target["event_bus_name"], "${var.event_bus_name}")
        self.assertEqual(self.target["target_id"], "${var.name}")
        self.assertEqual(self.target["arn"], f"${{aws_lambda_function.{self.function_name}.arn}}")
        self.assertIn("retry_policy", self.target, "the target has no retry_policy")
        retry = block(self.target["retry_policy"])
        self.assertEqual(retry["maximum_retry_attempts"], "${var.retry_policy.maximum_retry_attempts}")
        self.assertEqual(
            retry["maximum_event_age_in_seconds"], "${var.retry_policy.maximum_event_age_in_seconds}"
        )
        self.assertIn("dead_letter_config", self.target, "the target has no dead_letter_config")
        self.assertEqual(block(self.target["dead_letter_config"])["arn"], self.dlq_arn)

    def test_function_errors_go_to_the_same_dlq(self):
        _, invoke = only(CONSUMER.of_type("aws_lambda_function_event_invoke_config"), "event invoke config")
        self.assertEqual(invoke["function_name"], f"${{aws_lambda_function.{self.function_name}.function_name}}")
        self.assertEqual(invoke["maximum_retry_attempts"], "${var.async_invoke.maximum_retry_attempts}")
        self.assertEqual(
            invoke["maximum_event_age_in_seconds"], "${var.async_invoke.maximum_event_age_in_seconds}"
        )
        on_failure = block(block(invoke["destination_config"])["on_failure"])
        # The DLQ, unless the declaration asks for a bucket (onFailure s3, see S3Failures).
        self.assertEqual(
            on_failure["destination"], f"${{local.failures_in_s3 ? aws_s3_bucket.failures[0].arn : {self.dlq_arn[2:-1]}}}"
        )
        target_dlq = block(self.target.get("dead_letter_config", [{}])).get("arn")
        self.assertEqual(target_dlq, self.dlq_arn, "the target's DLQ is the consumer's DLQ")

    def test_dlq_is_standard_encrypted_and_keeps_14_days(self):
        self.assertNotEqual(self.dlq.get("fifo_queue"), True, "EventBridge target DLQs must be standard")
        retention = literal_or_default(CONSUMER, self.dlq["message_retention_seconds"])
        self.assertEqual(retention, SQS_MAX_RETENTION)

    def test_dlq_policy_admits_only_this_rule_and_this_role(self):
        _, policy = only(CONSUMER.of_type("aws_sqs_queue_policy"), "queue policy")
        self.assertEqual(policy["queue_url"], f"${{aws_sqs_queue.{self.dlq_name}.id}}")
        by_principal = {}
        for statement in statements(document_of(CONSUMER, policy["policy"])):
            self.assertEqual(statement.get("effect", "Allow"), "Allow")
            self.assertEqual(statement["actions"], ["sqs:SendMessage"])
            self.assertEqual(statement["resources"], [self.dlq_arn])
            (principal,) = blocks(statement["principals"])
            by_principal[tuple(principal["identifiers"])] = statement
        events = by_principal.pop(("events.amazonaws.com",))
        (condition,) = blocks(events.get("condition"))
        self.assertEqual(
            (condition["test"], condition["variable"], condition["values"]),
            ("ArnEquals", "aws:SourceArn", [self.rule_arn]),
            "the DLQ must accept EventBridge's writes only for this consumer's rule",
        )
        self.assertEqual(list(by_principal), [("${aws_iam_role.this.arn}",)])

    def test_lambda_permission_is_scoped_to_the_rule(self):
        _, permission = only(CONSUMER.of_type("aws_lambda_permission"), "lambda permission")
        self.assertEqual(permission["principal"], "events.amazonaws.com")
        self.assertEqual(permission["action"], "lambda:InvokeFunction")
        self.assertEqual(permission["source_arn"], self.rule_arn)
        self.assertEqual(
            permission["function_name"], f"${{aws_lambda_function.{self.function_name}.function_name}}"
        )

    def test_target_is_created_after_what_makes_its_failures_land(self):
        depends = set(self.target.get("depends_on", []))
        for needed in (
            "${aws_lambda_permission.eventbridge}",
            "${aws_sqs_queue_policy.dlq}",
            "${aws_lambda_function_event_invoke_config.this}",
        ):
            self.assertIn(needed, depends)

    def test_function_has_its_own_role_with_exactly_its_grants(self):
        role_name, role = only(CONSUMER.of_type("aws_iam_role"), "role")
        self.assertEqual(self.function["role"], f"${{aws_iam_role.{role_name}.arn}}")
        self.assertEqual(role["name"], "${local.function_name}")
        _, role_policy = only(CONSUMER.of_type("aws_iam_role_policy"), "role policy")
        self.assertEqual(role_policy["role"], f"${{aws_iam_role.{role_name}.id}}")
        document = document_of(CONSUMER, role_policy["policy"])
        grants = {tuple(s["actions"]): s["resources"] for s in statements(document)}
        self.assertEqual(
            grants,
            {
                ("logs:CreateLogStream", "logs:PutLogEvents"): ["${aws_cloudwatch_log_group.this.arn}:*"],
                ("events:PutEvents",): ["${var.event_bus_arn}"],
            },
        )
        dynamic = {}
        for entry in blocks(document.get("dynamic")):
            for label, body in entry.items():
                dynamic.setdefault(label, []).append(body)
        by_feed = {d["for_each"]: block(d["content"]) for d in dynamic.get("statement", [])}
        self.assertEqual(
            sorted(by_feed),
            sorted(
                [
                    "${var.policy_statements}",
                    "${var.tables}",
                    "${local.failures_in_s3 ? [] : [aws_sqs_queue.dlq.arn]}",
                    '${local.failures_in_s3 ? ["s3"] : []}',
                ]
            ),
        )
        for feed in ("${var.policy_statements}", "${var.tables}"):
            self.assertEqual(by_feed[feed]["actions"], "${statement.value.actions}")
        sqs = by_feed["${local.failures_in_s3 ? [] : [aws_sqs_queue.dlq.arn]}"]
        self.assertEqual(sqs["actions"], ["sqs:SendMessage"], "the on-failure destination, when it is the DLQ")

    def test_function_runtime_package_and_environment(self):
        f = self.function
        self.assertEqual((f["runtime"], f["handler"]), ("provided.al2023", "bootstrap"))
        self.assertEqual(f["architectures"], ["${var.architecture}"])
        self.assertEqual(f["filename"], "${var.package_zip}")
        conditions = [p["condition"] for p in blocks(block(f["lifecycle"])["precondition"])]
        self.assertIn("${fileexists(var.package_zip)}", conditions, "a missing zip must be refused")
        self.assertEqual(block(f["logging_config"])["log_group"], "${aws_cloudwatch_log_group.this.name}")
        environment = CONSUMER.locals["environment"]
        for needed in ("EVENT_BUS_NAME = var.event_bus_name", "t.env_var => t.name", "var.environment"):
            self.assertIn(needed, environment)

    def test_alarms_on_dlq_depth_and_age(self):
        alarms = CONSUMER.of_type("aws_cloudwatch_metric_alarm").values()
        on_dlq = {
            a["metric_name"]
            for a in alarms
            if a["namespace"] == "AWS/SQS" and a["dimensions"] == {"QueueName": f"${{aws_sqs_queue.{self.dlq_name}.name}}"}
        }
        self.assertEqual(on_dlq, {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"})
        lost = {a["metric_name"] for a in alarms if a["namespace"] in ("AWS/Events", "AWS/Lambda")}
        self.assertEqual(lost, {"InvocationsFailedToBeSentToDLQ", "DestinationDeliveryFailures"})
        for alarm in alarms:
            self.assertEqual(alarm["alarm_actions"], "${var.alarm_actions}")

    def test_timeout_validation_keeps_below_the_lock(self):
        conditions = [v["condition"] for v in blocks(CONSUMER.variables["timeout"].get("validation"))]
        self.assertTrue(any("var.timeout < 120" in c for c in conditions))


class QueueConsumerModule(unittest.TestCase):
    """modules/queue-consumer: a rule whose target is a queue, with the target's DLQ."""

    def target(self) -> dict[str, Any]:
        return QUEUE_CONSUMER.resources[("aws_cloudwatch_event_target", "this")]

    def test_the_target_is_the_queue_with_retries_and_a_dlq(self):
        target = self.target()
        self.assertEqual(target["arn"], "${aws_sqs_queue.target.arn}")
        self.assertEqual(target["target_id"], "${var.name}")
        self.assertEqual(block(target["dead_letter_config"])["arn"], "${aws_sqs_queue.dlq.arn}")
        retry = block(target["retry_policy"])
        self.assertEqual(retry["maximum_retry_attempts"], "${var.retry_policy.maximum_retry_attempts}")
        self.assertEqual(set(target["depends_on"]), {"${aws_sqs_queue_policy.target}", "${aws_sqs_queue_policy.dlq}"})

    def test_fifo_naming_group_and_input_transformer_come_from_the_declaration(self):
        self.assertEqual(QUEUE_CONSUMER.locals["queue_name"], '${var.prefix}-${var.name}${var.fifo ? ".fifo" : ""}')
        queue = QUEUE_CONSUMER.resources[("aws_sqs_queue", "target")]
        self.assertEqual(queue["fifo_queue"], "${var.fifo ? true : null}")
        dynamic = {name: body for d in blocks(self.target()["dynamic"]) for name, body in d.items()}
        self.assertEqual(dynamic["sqs_target"]["for_each"], "${var.fifo ? [var.message_group_id] : []}")
        self.assertEqual(block(dynamic["sqs_target"]["content"])["message_group_id"], "${sqs_target.value}")
        self.assertIn("var.input_transformer", dynamic["input_transformer"]["for_each"])

    def test_both_queue_policies_admit_only_this_rule(self):
        for name in ("target", "dlq"):
            with self.subTest(queue=name):
                policy = QUEUE_CONSUMER.resources[("aws_sqs_queue_policy", name)]
                self.assertEqual(policy["queue_url"], f"${{aws_sqs_queue.{name}.id}}")
                (statement,) = statements(document_of(QUEUE_CONSUMER, policy["policy"]))
                self.assertEqual(statement["actions"], ["sqs:SendMessage"])
                self.assertEqual(statement["resources"], [f"${{aws_sqs_queue.{name}.arn}}"])
                self.assertEqual(block(statement["principals"])["identifiers"], ["events.amazonaws.com"])
                condition = block(statement["condition"])
                self.assertEqual((condition["test"], condition["variable"]), ("ArnEquals", "aws:SourceArn"))
                self.assertEqual(condition["values"], ["${aws_cloudwatch_event_rule.this.arn}"])

    def test_the_function_behind_the_queue_reports_batch_failures_and_its_failures_land_in_the_queues_own_dlq(self):
        self.assertEqual(QUEUE_CONSUMER.locals["readers"], "${var.reader == null ? {} : {(var.name) = var.reader}}")
        mapping = QUEUE_CONSUMER.resources[("aws_lambda_event_source_mapping", "reader")]
        self.assertEqual(mapping["event_source_arn"], "${aws_sqs_queue.target.arn}")
        self.assertEqual(mapping["function_response_types"], ["ReportBatchItemFailures"])
        self.assertEqual(mapping["batch_size"], "${each.value.batch_size}")
        queue = QUEUE_CONSUMER.resources[("aws_sqs_queue", "target")]
        self.assertIn("deadLetterTargetArn = aws_sqs_queue.reader_dlq[var.name].arn", queue["redrive_policy"])
        self.assertIn("maxReceiveCount = var.reader.max_receive_count", queue["redrive_policy"])
        self.assertIn("var.reader.visibility_timeout_seconds", queue["visibility_timeout_seconds"])
        dlq = QUEUE_CONSUMER.resources[("aws_sqs_queue", "reader_dlq")]
        self.assertEqual(dlq["fifo_queue"], "${var.fifo ? true : null}", "a FIFO queue's DLQ is FIFO")
        self.assertEqual(
            QUEUE_CONSUMER.locals["reader_dlq_name"], '${var.prefix}-${var.name}-reader-dlq${var.fifo ? ".fifo" : ""}'
        )
        allow = QUEUE_CONSUMER.resources[("aws_sqs_queue_redrive_allow_policy", "reader_dlq")]
        self.assertIn("sourceQueueArns = [aws_sqs_queue.target.arn]", allow["redrive_allow_policy"])
        grants = {
            s["sid"]: (s["actions"], s["resources"])
            for s in statements(policy_documents(QUEUE_CONSUMER)["reader"])
            if "sid" in s
        }
        self.assertEqual(
            grants["ReadOwnQueue"],
            (
                ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
                ["${aws_sqs_queue.target.arn}"],
            ),
        )
        function = QUEUE_CONSUMER.resources[("aws_lambda_function", "reader")]
        conditions = [p["condition"] for p in blocks(block(function["lifecycle"])["precondition"])]
        self.assertIn("${each.value.visibility_timeout_seconds >= each.value.timeout}", conditions)

    def test_alarms_on_dlq_depth_age_and_lost_events(self):
        alarms = QUEUE_CONSUMER.of_type("aws_cloudwatch_metric_alarm")
        self.assertEqual(set(alarms), {"dlq_visible", "dlq_oldest_message", "dlq_write_failed", "reader_dlq_visible"})
        self.assertEqual(alarms["reader_dlq_visible"]["for_each"], "${local.readers}")
        self.assertEqual(alarms["dlq_write_failed"]["metric_name"], "InvocationsFailedToBeSentToDLQ")


class S3Failures(unittest.TestCase):
    """A consumer declared `"onFailure": "s3"` sends its function errors' records to a bucket
    of its own: private, encrypted, versioned, expiring as the DLQ does, written by that
    function's role only, which may write there only if the bucket is this account's."""

    def setUp(self):
        self.document = document_of(CONSUMER, CONSUMER.resources[("aws_iam_role_policy", "function")]["policy"])

    def test_the_root_passes_the_declarations_choice(self):
        self.assertEqual(ROOT.modules["consumer"]["on_failure"], '${try(each.value.onFailure, "sqs")}')
        self.assertIn("s3", str(CONSUMER.variables["on_failure"]["validation"]))

    def test_the_bucket_is_private_encrypted_versioned_and_expires_as_the_dlq(self):
        for kind in (
            "aws_s3_bucket",
            "aws_s3_bucket_public_access_block",
            "aws_s3_bucket_server_side_encryption_configuration",
            "aws_s3_bucket_versioning",
            "aws_s3_bucket_lifecycle_configuration",
            "aws_s3_bucket_policy",
        ):
            self.assertEqual(
                CONSUMER.resources[(kind, "failures")]["count"], "${local.failures_in_s3 ? 1 : 0}", kind
            )
        public = CONSUMER.resources[("aws_s3_bucket_public_access_block", "failures")]
        for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
            self.assertIs(public[flag], True, flag)
        rule = block(CONSUMER.resources[("aws_s3_bucket_lifecycle_configuration", "failures")]["rule"])
        self.assertEqual(block(rule["expiration"])["days"], "${ceil(var.dlq_message_retention_seconds / 86400)}")
        self.assertIn("aws/lambda/async/${local.function_name}/", CONSUMER.locals["failure_prefix"])

    def test_only_the_functions_role_writes_and_only_into_this_accounts_bucket(self):
        (statement,) = [
            block(d["statement"]["content"] if isinstance(d.get("statement"), dict) else block(d["statement"])["content"])
            for d in blocks(self.document.get("dynamic"))
            if "statement" in d and '["s3"]' in str(block(d["statement"]).get("for_each"))
        ]
        self.assertEqual(statement["actions"], ["s3:PutObject", "s3:ListBucket"])
        condition = block(statement["condition"])
        self.assertEqual(condition["variable"], "s3:ResourceAccount")
        self.assertEqual(condition["values"], ["${data.aws_caller_identity.current.account_id}"])
        bucket_policy = CONSUMER.data[("aws_iam_policy_document", "failures")]
        (writes,) = [s for s in blocks(bucket_policy["statement"]) if s["sid"] == "OnlyThisFunctionWrites"]
        self.assertEqual(writes["effect"], "Deny")
        self.assertEqual(block(writes["condition"])["variable"], "aws:PrincipalArn")
        self.assertEqual(block(writes["condition"])["values"], ["${aws_iam_role.this.arn}"])


class BusLogging(unittest.TestCase):
    """The bus logs its own work through a vended-logs delivery to the group `ecomm` reads:
    staging at INFO with full detail, prod at ERROR without (event detail holds customer data)."""

    def test_the_bus_has_a_log_config_of_the_variables(self):
        bus = ROOT.resources[("aws_cloudwatch_event_bus", "this")]
        config = block(bus["log_config"])
        self.assertEqual(config["level"], "${var.bus_log_level}")
        self.assertEqual(config["include_detail"], "${var.bus_log_include_detail}")

    def test_the_delivery_goes_from_the_bus_to_the_group_ecomm_reads_and_the_group_expires(self):
        # ecomm_events::buslog::bus_log_group names it so.
        self.assertEqual(ROOT.locals["bus_log_group"], "/aws/vendedlogs/events/event-bus/${local.prefix}")
        group = ROOT.resources[("aws_cloudwatch_log_group", "bus")]
        self.assertEqual(group["name"], "${local.bus_log_group}")
        self.assertEqual(group["retention_in_days"], "${var.log_retention_days}")
        source = ROOT.resources[("aws_cloudwatch_log_delivery_source", "bus")]
        self.assertEqual(source["resource_arn"], "${aws_cloudwatch_event_bus.this.arn}")
        self.assertEqual(source["log_type"], "${var.bus_log_level}_LOGS", "ERROR_LOGS, INFO_LOGS or TRACE_LOGS")
        destination = ROOT.resources[("aws_cloudwatch_log_delivery_destination", "bus")]
        self.assertEqual(
            block(destination["delivery_destination_configuration"])["destination_resource_arn"],
            "${aws_cloudwatch_log_group.bus[0].arn}",
        )
        delivery = ROOT.resources[("aws_cloudwatch_log_delivery", "bus")]
        self.assertEqual(delivery["delivery_source_name"], "${aws_cloudwatch_log_delivery_source.bus[0].name}")
        self.assertEqual(
            delivery["delivery_destination_arn"], "${aws_cloudwatch_log_delivery_destination.bus[0].arn}"
        )
        for resource in (group, source, destination, delivery):
            self.assertEqual(resource["count"], "${local.bus_logging ? 1 : 0}", "OFF creates none of it")

    def test_staging_logs_info_with_detail_and_prod_errors_without(self):
        for env, level, detail in (("staging", "INFO", "FULL"), ("prod", "ERROR", "NONE")):
            with self.subTest(env=env):
                tfvars = (TERRAFORM / "environments" / f"{env}.tfvars").read_text()
                self.assertRegex(tfvars, rf'(?m)^bus_log_level\s*=\s*"{level}"$')
                self.assertRegex(tfvars, rf'(?m)^bus_log_include_detail\s*=\s*"{detail}"$')


class Tenants(unittest.TestCase):
    """modules/tenant forwards a tenant's events to the central bus; the central bus admits
    exactly the tenant accounts; environments/two-tenants applies the module twice."""

    rule_arn = "${aws_cloudwatch_event_rule.forward.arn}"
    dlq_arn = "${aws_sqs_queue.forward_dlq.arn}"

    def setUp(self):
        self.target = TENANT.resources[("aws_cloudwatch_event_target", "forward")]

    def test_the_forward_is_a_bus_target_with_its_role_retries_and_dlq(self):
        self.assertEqual(self.target["target_id"], "forward", "what ecomm names forward@<account>")
        self.assertEqual(self.target["arn"], "${var.central_bus_arn}")
        self.assertEqual(self.target["role_arn"], "${aws_iam_role.forward.arn}")
        self.assertEqual(block(self.target["dead_letter_config"])["arn"], self.dlq_arn)
        self.assertEqual(
            set(block(self.target["retry_policy"])), {"maximum_retry_attempts", "maximum_event_age_in_seconds"}
        )
        self.assertEqual(
            set(self.target["depends_on"]),
            {"${aws_sqs_queue_policy.forward_dlq}", "${aws_iam_role_policy.forward}"},
        )
        rule = TENANT.resources[("aws_cloudwatch_event_rule", "forward")]
        self.assertEqual(rule["event_bus_name"], "${aws_cloudwatch_event_bus.this.name}")

    def test_the_forward_pattern_and_retries_are_the_declaration_the_local_stack_reads(self):
        declaration = json.loads((TERRAFORM / "modules" / "tenant" / "forward.json").read_text())
        self.assertEqual(declaration["name"], self.target["target_id"])
        self.assertIn("forward.json", str(TENANT.locals["forward"]))
        rule = TENANT.resources[("aws_cloudwatch_event_rule", "forward")]
        self.assertEqual(rule["event_pattern"], "${jsonencode(local.forward.eventPattern)}")
        retry = block(self.target["retry_policy"])
        self.assertEqual(retry["maximum_retry_attempts"], "${local.retry_policy.maximum_retry_attempts}")
        self.assertIn("local.forward.retryPolicy.maximumRetryAttempts", str(TENANT.locals["retry_policy"]))

    def test_only_eventbridge_for_this_rule_assumes_the_role_and_it_may_only_put_on_the_central_bus(self):
        trust = document_of(TENANT, TENANT.resources[("aws_iam_role", "forward")]["assume_role_policy"])
        (statement,) = statements(trust)
        self.assertEqual(block(statement["principals"])["identifiers"], ["events.amazonaws.com"])
        (condition,) = blocks(statement["condition"])
        self.assertEqual(
            (condition["test"], condition["variable"], condition["values"]),
            ("ArnEquals", "aws:SourceArn", [self.rule_arn]),
        )
        grants = statements(document_of(TENANT, TENANT.resources[("aws_iam_role_policy", "forward")]["policy"]))
        self.assertEqual(
            [(g["actions"], g["resources"]) for g in grants], [(["events:PutEvents"], ["${var.central_bus_arn}"])]
        )

    def test_the_forward_dlq_is_encrypted_admits_only_this_rule_and_alarms(self):
        queue = TENANT.resources[("aws_sqs_queue", "forward_dlq")]
        self.assertTrue(queue["sqs_managed_sse_enabled"])
        policy = TENANT.resources[("aws_sqs_queue_policy", "forward_dlq")]
        (statement,) = statements(document_of(TENANT, policy["policy"]))
        self.assertEqual((statement["actions"], statement["resources"]), (["sqs:SendMessage"], [self.dlq_arn]))
        self.assertEqual(block(statement["principals"])["identifiers"], ["events.amazonaws.com"])
        (condition,) = blocks(statement["condition"])
        self.assertEqual((condition["variable"], condition["values"]), ("aws:SourceArn", [self.rule_arn]))
        alarm = TENANT.resources[("aws_cloudwatch_metric_alarm", "forward_dlq_visible")]
        self.assertEqual(alarm["metric_name"], "ApproximateNumberOfMessagesVisible")
        self.assertEqual(alarm["dimensions"], {"QueueName": "${aws_sqs_queue.forward_dlq.name}"})
        self.assertEqual((alarm["comparison_operator"], alarm["threshold"]), ("GreaterThanThreshold", 0))
        self.assertEqual(alarm["alarm_actions"], "${var.alarm_actions}")

    def test_the_central_bus_admits_each_tenant_account_by_id_and_only_its_forwarder_or_oncall(self):
        policy = ROOT.resources[("aws_cloudwatch_event_bus_policy", "tenants")]
        self.assertEqual(policy["event_bus_name"], "${aws_cloudwatch_event_bus.this.name}")
        self.assertEqual(policy["count"], "${length(var.tenant_accounts) > 0 ? 1 : 0}")
        document = policy_documents(ROOT)["tenants"]
        (dynamic,) = blocks(document["dynamic"])
        statement = block(dynamic["statement"])
        self.assertEqual(statement["for_each"], "${var.tenant_accounts}")
        content = block(statement["content"])
        self.assertEqual(content["actions"], ["events:PutEvents"])
        self.assertEqual(content["resources"], ["${aws_cloudwatch_event_bus.this.arn}"])
        (principal,) = blocks(content["principals"])
        self.assertEqual(principal["type"], "AWS")
        self.assertEqual(
            principal["identifiers"], ["arn:${data.aws_partition.current.partition}:iam::${statement.value}:root"]
        )
        (condition,) = blocks(content["condition"])
        self.assertEqual(condition["variable"], "aws:PrincipalArn")
        self.assertTrue(any(v.endswith("-${statement.key}-forward") for v in condition["values"]))
        (org,) = blocks(content["dynamic"])
        self.assertEqual(block(block(org["condition"])["content"])["variable"], "aws:PrincipalOrgID")
        self.assertIn("validation", ROOT.variables["tenant_accounts"])

    def test_the_example_applies_the_module_once_per_tenant_with_its_own_provider(self):
        self.assertEqual(sorted(TWO_TENANTS.modules), ["brand_a", "brand_b"])
        providers = {m["providers"]["aws"] for m in TWO_TENANTS.modules.values()}
        self.assertEqual(providers, {"${aws.brand_a}", "${aws.brand_b}"})
        for module in TWO_TENANTS.modules.values():
            self.assertEqual(module["source"], "../../modules/tenant")
            self.assertEqual(module["central_bus_arn"], "${var.central_bus_arn}")


class EveryModule(unittest.TestCase):
    """Rules for every module under terraform/."""

    def test_layout(self):
        for path, module in TREE.items():
            with self.subTest(module=str(path.relative_to(TERRAFORM.parent))):
                for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
                    self.assertIn(name, module.files)

    def test_variables_and_outputs_are_typed_and_described(self):
        for path, module in TREE.items():
            for name, variable in module.variables.items():
                with self.subTest(variable=f"{path.name}:{name}"):
                    self.assertTrue(variable.get("description"))
                    self.assertIn("type", variable)
            for name, output in module.outputs.items():
                with self.subTest(output=f"{path.name}:{name}"):
                    self.assertTrue(output.get("description"))

    def test_versions_are_pinned(self):
        for path, module in TREE.items():
            with self.subTest(module=path.name):
                terraform = block(module.files["versions.tf"]["terraform"])
                self.assertTrue(terraform["required_version"].startswith(">= 1."))
                aws = block(terraform["required_providers"])["aws"]
                self.assertEqual(aws["source"], "hashicorp/aws")
                self.assertRegex(aws["version"], r"^>= \d+\.\d+, < \d+\.\d+$")

    def test_every_queue_is_encrypted(self):
        for path, module in TREE.items():
            for name, queue in module.of_type("aws_sqs_queue").items():
                with self.subTest(queue=f"{path.name}:{name}"):
                    self.assertTrue(
                        queue.get("sqs_managed_sse_enabled") is True or "kms_master_key_id" in queue,
                        "queue is not encrypted",
                    )

    def test_every_log_group_has_retention(self):
        for path, module in TREE.items():
            for name, group in module.of_type("aws_cloudwatch_log_group").items():
                with self.subTest(log_group=f"{path.name}:{name}"):
                    self.assertIn("retention_in_days", group, "log group keeps logs forever")
                    retention = group["retention_in_days"]
                    if ref(retention) and ref(retention).startswith("var.") and module is not ROOT:
                        # A required module variable: the root passes the root's setting.
                        variable = ref(retention).split(".", 1)[1]
                        self.assertNotIn("default", module.variables[variable])
                        self.assertEqual(ROOT.modules["consumer"][variable], "${var.log_retention_days}")
                        retention = "${var.log_retention_days}"
                    self.assertNotIn(literal_or_default(ROOT if module is not ROOT else module, retention), (0, None))

    def test_every_function_has_its_own_role_and_log_group(self):
        roles = []
        for path, module in TREE.items():
            role_names = set(module.of_type("aws_iam_role"))
            for name, function in module.of_type("aws_lambda_function").items():
                with self.subTest(function=f"{path.name}:{name}"):
                    match = re.fullmatch(r"\$\{aws_iam_role\.(\w+)(?:\[each\.key\])?\.arn\}", function["role"])
                    self.assertTrue(match, "the role must be declared next to the function")
                    self.assertIn(match.group(1), role_names)
                    roles.append((path, match.group(1)))
                    log_group = block(function["logging_config"])["log_group"]
                    self.assertRegex(log_group, r"^\$\{aws_cloudwatch_log_group\.\w+(\[each\.key\])?\.name\}$")
                    self.assertTrue(function.get("source_code_hash", "").find("fileexists(") >= 0)
                    conditions = [p["condition"] for p in blocks(block(function["lifecycle"])["precondition"])]
                    self.assertTrue(any(c.startswith("${fileexists(") for c in conditions))
        self.assertEqual(len(roles), len(set(roles)), "two functions share a role")

    def test_no_iam_statement_has_a_wildcard_action(self):
        for path, module in TREE.items():
            for where, key, value in walk(module.files):
                if key == "not_actions":
                    self.fail(f"{path.name}: not_actions in {'/'.join(where)}")
                if key != "actions":
                    continue
                context = f"{path.name}: {'/'.join(where)}"
                if isinstance(value, list):
                    for action in value:
                        self.assertFalse(is_expression(action), context)
                        self.assertNotIn("*", action, f"wildcard action {action!r} in {context}")
                else:
                    # Only a dynamic statement may take its actions from its for_each, and the
                    # variables feeding those are validated to be exact actions.
                    self.assertEqual(value, "${statement.value.actions}", context)
        for name in ("tables", "policy_statements"):
            self.assertIn("validation", CONSUMER.variables[name])

    def test_no_principal_is_a_wildcard(self):
        for path, module in TREE.items():
            for where, key, value in walk(module.files):
                if key == "identifiers":
                    for identifier in value:
                        self.assertNotEqual(identifier.strip(), "*", f"{path.name}: {'/'.join(where)}")
                        self.assertFalse(identifier.endswith(":*"), f"{path.name}: {'/'.join(where)}")

    def test_policies_are_policy_documents(self):
        # A jsonencode'd or heredoc policy would escape the wildcard test.
        for path, module in TREE.items():
            for where, key, value in walk(module.files):
                if key in ("policy", "assume_role_policy", "inline_policy", "managed_policy_arns"):
                    with self.subTest(at=f"{path.name}: {'/'.join(where)}"):
                        self.assertRegex(value, r"^\$\{data\.aws_iam_policy_document\.\w+(\[(each\.key|0)\])?\.json\}$")
            for kind in ("aws_iam_role_policy_attachment", "aws_iam_policy_attachment", "aws_iam_policy"):
                self.assertEqual(module.of_type(kind), {}, f"{path.name}: use inline least-privilege policies")

    def test_checkov_skips_carry_a_reason(self):
        for path, module in TREE.items():
            for where, key, value in walk(module.files):
                if key != COMMENTS:
                    continue
                for comment in value:
                    if "checkov:skip" in comment:
                        with self.subTest(at=f"{path.name}: {'/'.join(where)}"):
                            self.assertRegex(comment, r"checkov:skip=CKV\w*_\d+:\S.{20,}")
                            self.assertEqual(
                                (len(where), where[1]), (5, "resource"), "a skip sits inside the resource it skips"
                            )

    def test_references_resolve(self):
        """A poor man's `terraform validate`: every var., local., resource, data and module
        reference names something declared, and module outputs exist."""
        for path, module in TREE.items():
            text = re.sub(r"(?m)^\s*#.*$", "", module.text())
            # A `moved` block's `from` names an address that, by design, is declared no more.
            text = re.sub(r"moved\s*\{[^}]*\}", "", text)
            resource_types = {kind for kind, _ in module.resources}
            declared = {f"{kind}.{name}" for kind, name in module.resources}
            with self.subTest(module=path.name):
                for name in set(re.findall(r"\bvar\.(\w+)", text)):
                    self.assertIn(name, module.variables, f"undeclared var.{name}")
                for name in set(re.findall(r"\blocal\.(\w+)", text)):
                    self.assertIn(name, module.locals, f"undeclared local.{name}")
                for kind, name in set(re.findall(r"\bdata\.(\w+)\.(\w+)", text)):
                    self.assertIn((kind, name), module.data, f"undeclared data.{kind}.{name}")
                for kind, name in set(re.findall(r"(?<![.\w\"])(aws_\w+)\.(\w+)", text)):
                    if kind in resource_types or f"{kind}.{name}" in declared:
                        self.assertIn(f"{kind}.{name}", declared, f"undeclared {kind}.{name}")
                for call, output in set(re.findall(r"\bmodule\.(\w+)\[[^\]]+\]\.(\w+)", text)):
                    child = TREE[(path / module.modules[call]["source"]).resolve()]
                    self.assertIn(output, child.outputs, f"module.{call} has no output {output}")
                for output in set(re.findall(r"\bconsumer\.(\w+)", text)):
                    self.assertIn(output, CONSUMER.outputs, f"module consumer has no output {output}")


if __name__ == "__main__":
    unittest.main()
