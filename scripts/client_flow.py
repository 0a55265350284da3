"""The day-one flow through a client generated from api/openapi.json (scripts/client.sh runs it).

    python client_flow.py BASE_URL CLIENT_DIR

CLIENT_DIR holds the package `repopal_client` that openapi-python-client generated; every call and
every body goes through its functions and models, so a document that differs from the server fails
here: a missing operation, a wrong field, a response the models cannot parse.
"""

import http.server
import sys
import threading
import time
import uuid

base, client_dir = sys.argv[1], sys.argv[2]
sys.path.insert(0, client_dir)

from repopal_client import AuthenticatedClient, Client  # noqa: E402
from repopal_client.types import UNSET  # noqa: E402
from repopal_client.api.auth import auth_register, me_get  # noqa: E402
from repopal_client.api.integrations import (  # noqa: E402
    integrations_create,
    integrations_get,
    integrations_health,
    integrations_test,
)
from repopal_client.api.jobs import jobs_get, jobs_list  # noqa: E402
from repopal_client.api.orgs import (  # noqa: E402
    audit_logs_list,
    invitations_create,
    invitations_list,
    orgs_create,
)
from repopal_client.models import (  # noqa: E402
    CheckOutcome,
    HealthStatus,
    IntegrationCreateIn,
    IntegrationCreateInConfig,
    IntegrationCreateInCredentials,
    IntegrationKind,
    InviteIn,
    JobOutcome,
    JobOutQueue,
    JobsListQueue,
    OrgIn,
    RegisterIn,
    Role,
)

steps = []


def step(name, response, status):
    """Checks the status and that the generated models parsed the body; returns the envelope's data."""
    if response.status_code != status:
        sys.exit(f"client: {name}: expected {status}, got {response.status_code}: {response.content[:500]!r}")
    parsed = response.parsed
    if parsed is None or not getattr(parsed, "success", False):
        sys.exit(f"client: {name}: the generated models did not parse the body: {response.content[:500]!r}")
    steps.append(name)
    return parsed.data


# The HTTP probe's target: a page this script serves, counting the requests that reach it.
hits = []


class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the standard library's name)
        hits.append(self.path)
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
threading.Thread(target=server.serve_forever, daemon=True).start()
page_url = f"http://127.0.0.1:{server.server_address[1]}/health"

suffix = uuid.uuid4().hex[:10]
anonymous = Client(base_url=base, raise_on_unexpected_status=True)

# 1. Register.
signed_in = step(
    "auth_register",
    auth_register.sync_detailed(
        client=anonymous,
        body=RegisterIn(
            email=f"owner-{suffix}@client.example", password="Day-one-client-42", full_name="Client Owner"
        ),
    ),
    201,
)
client = AuthenticatedClient(
    base_url=base, token=signed_in.tokens.access_token, raise_on_unexpected_status=True
)
me = step("me_get", me_get.sync_detailed(client=client), 200)
assert me.email == f"owner-{suffix}@client.example", me.email

# 2. Create an organisation.
org = step("orgs_create", orgs_create.sync_detailed(client=client, body=OrgIn(name=f"Client Org {suffix}")), 201)
assert org.role == Role.ORG_ADMIN, org.role

# 3. Invite a member.
invited = step(
    "invitations_create",
    invitations_create.sync_detailed(
        org.id, client=client, body=InviteIn(email=f"dev-{suffix}@client.example", role=Role.DEVELOPER)
    ),
    201,
)
pending = step("invitations_list", invitations_list.sync_detailed(org.id, client=client), 200)
assert [i.id for i in pending.items] == [invited.id], pending

# 4. Create an HTTP probe integration against the page above.
config = IntegrationCreateInConfig.from_dict({"url": page_url, "method": "GET", "expected_status": 200})
integration = step(
    "integrations_create",
    integrations_create.sync_detailed(
        org.id,
        client=client,
        body=IntegrationCreateIn(
            name="Day-one page",
            type_=IntegrationKind.HTTP,
            config=config,
            credentials=IntegrationCreateInCredentials.from_dict({}),
        ),
    ),
    201,
)

# 5. Test it: the server requests the page now.
before = len(hits)
tested = step("integrations_test", integrations_test.sync_detailed(org.id, integration.id, client=client), 200)
assert tested.ok and tested.status == CheckOutcome.OK, tested
assert len(hits) > before, "the connection test did not reach the page"

# 6. Its health: the worker runs the check scheduled at creation; wait for its first result.
deadline = time.monotonic() + 60
while True:
    health = step("integrations_health", integrations_health.sync_detailed(org.id, integration.id, client=client), 200)
    if health.last_check_at or time.monotonic() > deadline:
        break
    time.sleep(0.5)
assert health.last_check_at, f"no health check ran within 60 s: {health}"
assert health.status == HealthStatus.ACTIVE, health
step("integrations_get", integrations_get.sync_detailed(org.id, integration.id, client=client), 200)

# 7. Jobs: the org's jobs include the integration's health check, which succeeded.
jobs = step(
    "jobs_list",
    jobs_list.sync_detailed(org.id, client=client, queue=JobsListQueue.CHECK_INTEGRATION, limit=50),
    200,
)
checks = [j for j in jobs.items if j.queue == JobOutQueue.CHECK_INTEGRATION]
assert checks, f"no check_integration job among the org's jobs: {jobs.items}"
assert any(j.state == JobOutcome.SUCCEEDED for j in checks), [j.state for j in checks]
step("jobs_get", jobs_get.sync_detailed(org.id, checks[0].id, client=client), 200)

# 8. Page the audit log, two entries a page.
actions, cursor, pages = [], UNSET, 0
while True:
    page = step(
        "audit_logs_list",
        audit_logs_list.sync_detailed(org.id, client=client, limit=2, cursor=cursor),
        200,
    )
    assert len(page.items) <= 2, len(page.items)
    actions += [e.action for e in page.items]
    pages += 1
    cursor = page.next_cursor if isinstance(page.next_cursor, str) else UNSET
    if cursor is UNSET:
        break
for expected in ("org.create", "member.invite", "integration.create"):
    assert expected in actions, f"{expected} missing from the audit log: {actions}"
assert pages >= 2, f"{len(actions)} entries in {pages} page(s): paging was not exercised"

server.shutdown()
print(f"client: day-one flow passed: {len(steps)} calls ({', '.join(dict.fromkeys(steps))}); "
      f"{len(actions)} audit entries in {pages} pages; the probe saw {len(hits)} requests")
