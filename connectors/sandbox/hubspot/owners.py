"""The portal's owners (its sales reps, from the shared demo data) as HubSpot's PublicOwner.

Owners are the portal's users, so they exist in a pristine portal too; seeded records point at
them by ``hubspot_owner_id``.
"""

from __future__ import annotations

from typing import Any, Final

from connectors.sandbox.common.demo_people import OWNERS

__all__ = ["OWNER_RECORDS", "USER_RECORDS", "owner_id"]

FIRST_OWNER_ID: Final = 70_000_001
FIRST_USER_ID: Final = 9_000_001
OWNERS_CREATED_AT: Final = "2020-01-01T00:00:00.000Z"


def owner_id(index: int) -> str:
    """The ``hubspot_owner_id`` of the demo data's owner ``index``."""
    return str(FIRST_OWNER_ID + index)


OWNER_RECORDS: Final[tuple[dict[str, Any], ...]] = tuple(
    {
        "id": owner_id(n),
        "email": owner["email"],
        "type": "PERSON",
        "firstName": owner["first_name"],
        "lastName": owner["last_name"],
        "userId": FIRST_USER_ID + n,
        "userIdIncludingInactive": FIRST_USER_ID + n,
        "createdAt": OWNERS_CREATED_AT,
        "updatedAt": OWNERS_CREATED_AT,
        "archived": False,
        "teams": [],
    }
    for n, owner in enumerate(OWNERS)
)

# The same people as the portal's users (the settings API).
USER_RECORDS: Final[tuple[dict[str, Any], ...]] = tuple(
    {
        "id": str(owner["userId"]),
        "email": owner["email"],
        "firstName": owner["firstName"],
        "lastName": owner["lastName"],
        "roleIds": [],
        "superAdmin": n == 0,
    }
    for n, owner in enumerate(OWNER_RECORDS)
)
