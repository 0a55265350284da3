"""Seeds the contract-fuzzing database over the API; prints the org admin's access token, the org id, and
two more access tokens of the admin (separate sessions) for the runs of the operations that end a session."""

import sys

import requests

base = sys.argv[1]
s = requests.Session()


def call(method, path, token=None, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = s.request(method, base + path, headers=headers, timeout=30, **kw)
    if r.status_code >= 300:
        sys.exit(f"seed: {method} {path} answered {r.status_code}: {r.text}")
    return r.json().get("data") if r.content else None


auth = call(
    "POST",
    "/api/v1/auth/register",
    json={
        "email": "admin@contract.example",
        "password": "correct horse battery staple 42",
        "full_name": "Contract Admin",
        "organization_name": "Contract Org",
    },
)
token = auth["tokens"]["access_token"]
org = call("GET", "/api/v1/orgs", token)
org_id = (org["items"] if isinstance(org, dict) else org)[0]["id"]
call(
    "POST",
    f"/api/v1/orgs/{org_id}/integrations",
    token,
    json={
        "type": "http",
        "name": "status page",
        # The API's own liveness probe: the worker's checks stay on this machine.
        "config": {"url": base + "/healthz", "method": "GET", "expected_status": 200},
        "credentials": {},
    },
)
call("POST", f"/api/v1/orgs/{org_id}/invitations", token, json={"email": "dev@contract.example", "role": "developer"})

def login():
    body = {"email": "admin@contract.example", "password": "correct horse battery staple 42"}
    return call("POST", "/api/v1/auth/login", json=body)["tokens"]["access_token"]


print(token, org_id, login(), login())
