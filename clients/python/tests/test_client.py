"""Runs against a real sidecar: POLICY_ADVISOR_URL (and POLICY_ADVISOR_TEST_TOKEN when auth is on).

The vitest suite test/clients/python-client.test.ts starts one and runs these with `python3 -m unittest`.
"""

import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from policy_advisor_client import PolicyAdvisorClient, PolicyAdvisorError  # noqa: E402

URL = os.environ.get("POLICY_ADVISOR_URL")
TOKEN = os.environ.get("POLICY_ADVISOR_TEST_TOKEN")

SITUATION = {
    "action_type": "read",
    "actor_role": "member",
    "actor_id": "user:alice",
    "t3_tensor": {"competence": 0.8, "reliability": 0.8, "integrity": 0.9},
    "resource": "docs/public/readme.md",
    "timestamp": "2026-03-03T15:00:00Z",
    "incident_status": "none",
}

R6 = {
    "requestId": "py-1",
    "actorId": "user:alice",
    "action": {"type": "read", "target": "docs/public/readme.md"},
    "context": {},
    "trustState": {"competence": 0.8, "reliability": 0.8, "integrity": 0.9},
    "timestamp": "2026-03-03T15:00:00Z",
}


def dead_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@unittest.skipUnless(URL, "POLICY_ADVISOR_URL not set: start a sidecar to run these")
class AgainstTheSidecar(unittest.TestCase):
    def setUp(self) -> None:
        self.client = PolicyAdvisorClient(URL, token=TOKEN)

    def test_advise_situation(self) -> None:
        answer = self.client.advise(SITUATION)
        self.assertEqual(answer["decision"], "allow")
        self.assertIn(answer["mode"], ("shadow", "advisory", "enforce"))
        self.assertEqual(answer["effectiveDecision"], "allow")
        for key in ("decisionId", "classification", "riskLevel", "reasoning", "policyReferences", "signals", "source", "versions", "latencyMs"):
            self.assertIn(key, answer)

    def test_advise_r6_with_control(self) -> None:
        answer = self.client.advise(R6, control="deny")
        self.assertEqual(answer["decision"], "allow")
        self.assertEqual(answer["effectiveDecision"], "deny")  # advisory mode: the control applies
        self.assertEqual(self.client.decide(R6), "allow")

    def test_deadline_header(self) -> None:
        self.assertEqual(self.client.advise(SITUATION, deadline_ms=5000)["decision"], "allow")
        with self.assertRaises(PolicyAdvisorError) as ctx:
            self.client.advise(SITUATION, deadline_ms=0)
        self.assertEqual(ctx.exception.status, 400)
        self.assertEqual(ctx.exception.issues[0]["path"], "headers.x-deadline-ms")

    def test_bad_request_names_the_field(self) -> None:
        bad = dict(SITUATION, t3_tensor={"competence": 1.5, "reliability": 0.5, "integrity": 0.5})
        with self.assertRaises(PolicyAdvisorError) as ctx:
            self.client.advise(bad)
        self.assertEqual(ctx.exception.status, 400)
        self.assertEqual(ctx.exception.code, "invalid_request")
        self.assertEqual(ctx.exception.issues[0]["path"], "t3_tensor.competence")

    def test_bad_request_is_not_failed_closed(self) -> None:
        client = PolicyAdvisorClient(URL, token=TOKEN, fail_closed="deny")
        with self.assertRaises(PolicyAdvisorError):
            client.advise({"hello": "world"})

    def test_wrong_token(self) -> None:
        if not TOKEN:
            self.skipTest("auth is off")
        with self.assertRaises(PolicyAdvisorError) as ctx:
            PolicyAdvisorClient(URL, token="not-the-token-at-all-123").advise(SITUATION)
        self.assertEqual(ctx.exception.status, 401)

    def test_batch_in_order(self) -> None:
        results = self.client.advise_batch([SITUATION, {"action_type": "read"}, R6])
        self.assertEqual(len(results), 3)
        self.assertEqual(results[0]["decision"], "allow")
        self.assertEqual(results[1]["error"]["code"], "invalid_request")
        self.assertEqual(results[2]["decision"], "allow")

    def test_async_job(self) -> None:
        job_id = self.client.submit_job(SITUATION)
        answer = self.client.wait_for_job(job_id, poll=0.02, timeout=10)
        self.assertEqual(answer["decisionId"], job_id)
        with self.assertRaises(PolicyAdvisorError) as ctx:
            self.client.get_job("no-such-job")
        self.assertEqual(ctx.exception.status, 404)

    def test_health_and_ready(self) -> None:
        self.assertTrue(self.client.health())
        self.assertTrue(self.client.ready()["ready"])


class WhenTheServiceIsDown(unittest.TestCase):
    def test_fail_closed_answer(self) -> None:
        client = PolicyAdvisorClient("http://127.0.0.1:%d" % dead_port(), retries=1, backoff=0.01, fail_closed="require_attestation")
        answer = client.advise(SITUATION)
        self.assertEqual(answer["effectiveDecision"], "require_attestation")
        self.assertEqual(answer["source"], "fallback")
        self.assertEqual(answer["fallbackCause"], "service_unavailable")

    def test_error_without_fail_closed(self) -> None:
        client = PolicyAdvisorClient("http://127.0.0.1:%d" % dead_port(), retries=0)
        with self.assertRaises(PolicyAdvisorError) as ctx:
            client.advise(SITUATION)
        self.assertEqual(ctx.exception.status, 0)
        self.assertEqual(ctx.exception.code, "unreachable")
        self.assertFalse(client.health())

    def test_rejects_a_bad_fail_closed_value(self) -> None:
        with self.assertRaises(ValueError):
            PolicyAdvisorClient("http://127.0.0.1:1", fail_closed="maybe")


if __name__ == "__main__":
    unittest.main()
