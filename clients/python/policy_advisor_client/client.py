"""HTTP client of the policy-advisor sidecar: POST /v1/advisory and friends.

Standard library only. Retries what is worth retrying (429 and 503, honouring Retry-After, network
errors, timeouts) with exponential backoff and jitter; never retries a 4xx the caller caused. With
``fail_closed`` set, an unreachable service answers that decision instead of raising.
"""

import json
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Dict, List, Optional

DECISIONS = ("allow", "deny", "require_attestation")


class PolicyAdvisorError(Exception):
    """An error answer from the sidecar, or a transport failure (status 0)."""

    def __init__(
        self,
        message: str,
        status: int,
        code: str,
        issues: Optional[List[Dict[str, str]]] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.issues = issues or []
        self.retry_after = retry_after

    @property
    def unavailable(self) -> bool:
        """The service is down, overloaded or shutting down: where retries and fail-closed apply."""
        return self.status == 0 or self.status == 429 or self.status >= 500

    def __repr__(self) -> str:
        return "PolicyAdvisorError(status=%d, code=%r, message=%r)" % (self.status, self.code, self.message)


class PolicyAdvisorClient:
    """Talks to one sidecar.

    :param base_url: e.g. ``"http://127.0.0.1:8787"``
    :param token: bearer token when the service has auth on
    :param timeout: seconds per attempt
    :param retries: further attempts after 429, 503, a network error or a timeout
    :param backoff: first backoff in seconds, doubled each attempt (with jitter), capped at ``max_backoff``
    :param fail_closed: ``"deny"`` or ``"require_attestation"`` (or ``"allow"``, at your own risk):
        the answer when the service cannot be reached; ``None`` raises instead
    """

    def __init__(
        self,
        base_url: str,
        token: Optional[str] = None,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.1,
        max_backoff: float = 5.0,
        fail_closed: Optional[str] = None,
    ) -> None:
        if fail_closed is not None and fail_closed not in DECISIONS:
            raise ValueError("fail_closed: expected one of %s, got %r" % (", ".join(DECISIONS), fail_closed))
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.fail_closed = fail_closed

    # -- the calls ---------------------------------------------------------------------------------

    def advise(
        self, request: Dict[str, Any], control: Optional[str] = None, deadline_ms: Optional[int] = None
    ) -> Dict[str, Any]:
        """Decides one request (a situation or an R6Request).

        Returns the decision JSON plus ``mode`` and ``effectiveDecision`` (the decision to apply).
        ``control`` is your current engine's decision, for shadow and advisory rollout.
        ``deadline_ms`` asks for a shorter deadline than the service's (X-Deadline-Ms).
        """
        body = {"request": request, "control": {"decision": control}} if control else request
        headers = {"X-Deadline-Ms": str(int(deadline_ms))} if deadline_ms is not None else None
        try:
            return self._call("POST", "/v1/advisory", body, headers=headers)
        except PolicyAdvisorError as err:
            if self.fail_closed and err.unavailable:
                return _fail_closed_answer(self.fail_closed, err)
            raise

    def decide(self, request: Dict[str, Any], control: Optional[str] = None) -> str:
        """Just the decision to apply: ``allow``, ``deny`` or ``require_attestation``."""
        return self.advise(request, control)["effectiveDecision"]

    def advise_batch(self, requests: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Several requests in one call; results in the same order, each a decision or ``{"error": ...}``."""
        return self._call("POST", "/v1/advisory/batch", {"requests": requests})["results"]

    def submit_job(self, request: Dict[str, Any]) -> str:
        """Queues a request (async pattern); returns the job id (also the decision id)."""
        return self._call("POST", "/v1/jobs", request)["jobId"]

    def get_job(self, job_id: str) -> Dict[str, Any]:
        return self._call("GET", "/v1/jobs/" + urllib.parse.quote(job_id, safe=""))

    def wait_for_job(self, job_id: str, poll: float = 0.2, timeout: float = 60.0) -> Dict[str, Any]:
        """Polls until the job is done (returns its decision) or failed (raises)."""
        until = time.monotonic() + timeout
        while True:
            job = self.get_job(job_id)
            if job["status"] == "done":
                return job["result"]
            if job["status"] == "failed":
                raise PolicyAdvisorError(job["error"]["message"], 200, job["error"]["code"])
            if time.monotonic() > until:
                raise PolicyAdvisorError("job %s still pending" % job_id, 0, "timeout")
            time.sleep(poll)

    def health(self) -> bool:
        try:
            self._call("GET", "/health", retries=0)
            return True
        except PolicyAdvisorError:
            return False

    def ready(self) -> Dict[str, Any]:
        """Readiness and its checks; raises PolicyAdvisorError (503) with the reason when not ready."""
        return self._call("GET", "/ready", retries=0)

    # -- transport ---------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        retries: Optional[int] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> Any:
        retries = self.retries if retries is None else retries
        attempt = 0
        while True:
            try:
                return self._once(method, path, body, headers)
            except PolicyAdvisorError as err:
                retryable = err.status in (0, 429, 503)
                if not retryable or attempt >= retries:
                    raise
                wait = min(self.max_backoff, self.backoff * (2 ** attempt)) * (0.5 + random.random() / 2)
                if err.retry_after is not None:
                    wait = max(wait, err.retry_after)
                attempt += 1
                time.sleep(min(wait, 60.0))

    def _once(self, method: str, path: str, body: Any, extra: Optional[Dict[str, str]] = None) -> Any:
        headers = {"Accept": "application/json"}
        headers.update(extra or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                return json.loads(res.read().decode("utf-8"))
        except urllib.error.HTTPError as res:
            raise _error_from(res, path) from None
        except (socket.timeout, TimeoutError):
            raise PolicyAdvisorError(
                "no answer from %s within %.1f s" % (self.base_url, self.timeout), 0, "timeout"
            ) from None
        except urllib.error.URLError as err:
            reason = err.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise PolicyAdvisorError(
                    "no answer from %s within %.1f s" % (self.base_url, self.timeout), 0, "timeout"
                ) from None
            raise PolicyAdvisorError("cannot reach %s: %s" % (self.base_url, reason), 0, "unreachable") from None
        except (ConnectionError, OSError) as err:
            raise PolicyAdvisorError("cannot reach %s: %s" % (self.base_url, err), 0, "unreachable") from None


def _error_from(res: urllib.error.HTTPError, path: str) -> PolicyAdvisorError:
    try:
        payload = json.loads(res.read().decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        payload = {}
    err = payload.get("error") if isinstance(payload, dict) else None
    retry_after = res.headers.get("Retry-After")
    ra = float(retry_after) if retry_after and retry_after.isdigit() else None
    if isinstance(err, dict):
        return PolicyAdvisorError(
            str(err.get("message", "HTTP %d" % res.code)),
            res.code,
            str(err.get("code", "http_error")),
            err.get("issues") or [],
            ra,
        )
    reason = payload.get("reason") if isinstance(payload, dict) else None
    return PolicyAdvisorError(
        reason or "HTTP %d from %s" % (res.code, path), res.code, "unavailable" if res.code == 503 else "http_error", None, ra
    )


def _fail_closed_answer(decision: str, err: PolicyAdvisorError) -> Dict[str, Any]:
    why = "policy-advisor unavailable (%s: %s); the caller's fail-closed answer applies." % (err.code, err.message)
    return {
        "decisionId": "client-fallback-" + str(uuid.uuid4()),
        "decision": decision,
        "classification": "service_unavailable",
        "riskLevel": "high",
        "reasoning": {"roleCheck": why, "trustCheck": why, "environment": why, "context": why},
        "policyReferences": [],
        "signals": [{"id": "service_unavailable", "severity": "critical", "detail": err.message}],
        "source": "fallback",
        "fallbackCause": "service_unavailable",
        "versions": {"policy": "unknown", "prompt": None, "model": None},
        "latencyMs": 0.0,
        "mode": "enforce",
        "effectiveDecision": decision,
    }
