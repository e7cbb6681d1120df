"""Helpers of the reference-wage tests: a wage set by the admin."""

from tests.support import ApiClient

SHANGHAI = {
    "currency": "CNY",
    "region": "Shanghai",
    "hourly_wage": "24.00",
    "source": "Shanghai minimum wage notice, 2025",
    "effective_on": "2025-07-01",
}


def set_wage(api: ApiClient, admin_token: str, **changes) -> dict:
    """The admin sets a reference wage (Shanghai's 24.00 CNY an hour, with `changes`)."""
    answer = api.post("/reference-wages", admin_token, SHANGHAI | changes)
    assert answer.status == 201, answer.body
    return answer.body
