"""The state behind one HubSpot fake: the portal's records, its limits, faults, call counts
and webhooks, how records render, and the writes that notify webhooks."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any, Final

from connectors.sandbox.common.faults import CallCounter, FaultInjector
from connectors.sandbox.hubspot.association_types import inline_type_names, target_of
from connectors.sandbox.hubspot.errors import HubSpotError
from connectors.sandbox.hubspot.limits import RateLimiter
from connectors.sandbox.hubspot.objects import OBJECT_TYPES, resolve
from connectors.sandbox.hubspot.properties import format_datetime, format_epoch_ms
from connectors.sandbox.hubspot.property_specs import DEFAULT_PROPERTIES, always_returned
from connectors.sandbox.hubspot.seed import seed_portal
from connectors.sandbox.hubspot.store import SINGULAR, CrmObject, ObjectStore, Sandbox
from connectors.sandbox.hubspot.webhooks import APP_ID, SOURCE_API, SOURCE_REP, WebhookDispatcher

__all__ = ["JSON_MEDIA_TYPE", "HubSpotSandbox", "now"]

JSON_MEDIA_TYPE: Final = "application/json;charset=utf-8"


def now() -> str:
    """The current time as HubSpot writes it."""
    return format_datetime(datetime.now(UTC))


class HubSpotSandbox:
    """The state behind one app: the portal's records and the sandbox's knobs (the
    :class:`~connectors.sandbox.common.admin_routes.SandboxControls` of ``/_sandbox/``)."""

    media_type: Final = JSON_MEDIA_TYPE

    def __init__(self, *, token: str, client_secret: str, rate_limit_per_10s: int) -> None:
        self.token = token
        self.client_secret = client_secret
        self.portal = Sandbox()
        self.limiter = RateLimiter(per_10s=rate_limit_per_10s)
        if rate_limit_per_10s == 0:
            self.limiter.configure(per_10s=0)
        self.faults = FaultInjector()
        self.calls = CallCounter()
        self.webhooks = WebhookDispatcher(client_secret)
        self._edit_rng = random.Random(0)

    def reset(
        self,
        *,
        seed: int,
        companies: int,
        deals_per_company: int,
        contacts_per_company: int = 0,
        same_timestamp: bool = False,
    ) -> dict[str, Any]:
        """Reseed the portal; forget call counts, rate-limit windows and pending webhooks."""
        self.portal.clear()
        counts = seed_portal(
            self.portal,
            seed=seed,
            companies=companies,
            deals_per_company=deals_per_company,
            contacts_per_company=contacts_per_company,
            same_timestamp=same_timestamp,
        )
        self.calls.reset()
        self.limiter.reset()
        self.webhooks.reset()
        self._edit_rng = random.Random(seed)
        return counts

    # -- rendering -------------------------------------------------------------------------------

    def property_names(self, store: ObjectStore, requested: list[str] | None) -> list[str]:
        """The properties a read returns: the requested ones that exist, else the defaults."""
        if not requested:
            return list(DEFAULT_PROPERTIES[store.object_type])
        catalog = store.catalog
        names = {n for n in requested if catalog.exists(n)}
        names.update(always_returned(store.object_type))
        return sorted(names)

    @staticmethod
    def history_names(store: ObjectStore, requested: list[str] | None) -> list[str] | None:
        """The ``propertiesWithHistory`` asked for that exist (None: none asked for)."""
        if not requested:
            return None
        exists = store.catalog.exists
        return [n for n in dict.fromkeys(requested) if exists(n)]

    @staticmethod
    def render(
        record: CrmObject,
        names: list[str],
        associations: list[str] | None = None,
        object_type: str = "companies",
        history: list[str] | None = None,
    ) -> dict[str, Any]:
        """A record as HubSpot's SimplePublicObject(WithAssociations), with the
        ``propertiesWithHistory`` of the ``history`` names."""
        props = record.properties
        body: dict[str, Any] = {
            "id": str(record.id),
            "properties": {name: props.get(name) for name in names},
            "createdAt": record.created_at,
            "updatedAt": record.updated_at,
            "archived": record.archived,
        }
        if history is not None:
            body["propertiesWithHistory"] = {
                name: _versions(record, name, object_type) for name in history
            }
        if record.archived:
            body["archivedAt"] = record.archived_at
        if associations:
            rendered = {}
            for other in associations:
                ids = record.associations.get(other)
                if ids:
                    kinds = inline_type_names(object_type, other)
                    rendered[other] = {
                        "results": [{"id": str(i), "type": kind} for i in ids for kind in kinds]
                    }
            if rendered:
                body["associations"] = rendered
        return body

    def linked_ids(self, source: str, source_id: str, target: str) -> set[str]:
        """The ids of the ``target`` records linked to ``source`` record ``source_id``."""
        record = self.portal.stores[source].get(source_id)
        if record is None:
            return set()
        return {str(i) for i in record.associations.get(target, ())}

    # -- writes ------------------------------------------------------------------------------------

    def create(self, store: ObjectStore, payload: Any, now: str) -> CrmObject:
        """Validate and store one new record, linked to the records ``associations`` names."""
        if not isinstance(payload, dict):
            raise HubSpotError.validation(
                "Invalid input JSON: expected an object with 'properties'"
            )
        values = store.catalog.checked_values(payload.get("properties") or {})
        properties = {k: v for k, v in values.items() if v is not None}
        links = [self._link_target(store.object_type, a) for a in payload.get("associations") or []]
        record = store.add(properties, now=now)
        self.webhooks.created(store.object_type, record.id, SOURCE_API)
        for target, to_id in links:
            self.portal.associate(store.object_type, record.id, target, to_id)
            self.webhooks.associated(store.object_type, record.id, target, to_id, SOURCE_API)
            self.webhooks.associated(target, to_id, store.object_type, record.id, SOURCE_API)
        return record

    def _link_target(self, source: str, association: Any) -> tuple[str, int]:
        """The (object type, id) one ``associations`` entry of a create links to, or a 400."""
        to = association.get("to") if isinstance(association, dict) else None
        raw_id = to.get("id") if isinstance(to, dict) else None
        types = association.get("types") if isinstance(association, dict) else None
        if raw_id is None or not isinstance(types, list) or not types:
            raise HubSpotError.validation(
                "Each association needs 'to': {'id'} and 'types': "
                "[{'associationCategory', 'associationTypeId'}]"
            )
        spec = types[0]
        type_id = spec.get("associationTypeId") if isinstance(spec, dict) else None
        target = target_of(source, type_id) if isinstance(type_id, int) else None
        if target is None:
            raise HubSpotError.validation(
                f"association type id {type_id} is not valid for {source}"
            )
        if self.portal.stores[target].get(raw_id) is None:
            raise HubSpotError.validation(
                f"No {target} with id {raw_id} to associate with", context={"ids": [str(raw_id)]}
            )
        return target, int(raw_id)

    def update(
        self,
        store: ObjectStore,
        record: CrmObject,
        values: dict[str, str | None],
        now: str,
        source: str,
    ) -> None:
        """Write normalised values; changed ones bump the record, join its history and become
        webhook events."""
        source_id = str(APP_ID) if source == SOURCE_API else _REP_USER
        changes = store.update(record, values, now=now, source=(source, source_id))
        if changes:
            self.webhooks.changed(store.object_type, changes, source)

    # -- admin: simulated rep edits ----------------------------------------------------------------

    def rep_edits(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Change records as a rep would: the given values on the given ``ids`` of
        ``object_type`` (default companies), or ``count`` random plausible company edits."""
        object_type = resolve(str(payload.get("object_type", "companies")))
        if object_type is None:
            raise ValueError(f"unknown object_type {payload.get('object_type')!r}")
        store, edited_at = self.portal.stores[object_type], now()
        edited = []
        values: dict[str, str | None]
        if "ids" in payload:
            values = store.catalog.checked_values(payload.get("properties") or {})
            for raw_id in payload["ids"]:
                record = store.get(raw_id)
                if record is None:
                    raise HubSpotError.not_found(
                        f"No live {SINGULAR[object_type]} with id {raw_id}"
                    )
                self.update(store, record, values, edited_at, SOURCE_REP)
                edited.append(
                    {
                        "id": str(record.id),
                        "properties": {k: record.properties.get(k) for k in values},
                    }
                )
            return edited
        if object_type != "companies":
            raise ValueError("random edits change companies; give 'ids' and 'properties'")
        count = int(payload.get("count", 1))
        ids = store.live_ids
        rng = self._edit_rng
        chosen = rng.sample(ids, min(count, len(ids)))
        industries = [o["value"] for o in store.catalog.definitions["industry"]["options"]]
        for object_id in chosen:
            record = store.records[object_id]
            props = record.properties
            which = rng.randrange(4)
            if which == 0:
                employees = int(float(props.get("numberofemployees") or 10))
                value = str(max(1, employees + rng.choice((-1, 1)) * max(1, employees // 10)))
                values = {"numberofemployees": value}
            elif which == 1:
                values = {
                    "industry": rng.choice([i for i in industries if i != props.get("industry")])
                }
            elif which == 2:
                values = {
                    "has_inhouse_seo": "false" if props.get("has_inhouse_seo") == "true" else "true"
                }
            else:
                current = props.get("nps_score")
                values = {"nps_score": rng.choice([str(n) for n in range(11) if str(n) != current])}
            self.update(store, record, values, edited_at, SOURCE_REP)
            edited.append({"id": str(object_id), "properties": values})
        return edited

    # -- admin (SandboxControls) -------------------------------------------------------------------

    def reset_from(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Reseed from a ``POST /_sandbox/reset`` body."""
        return self.reset(
            seed=int(payload.get("seed", 1)),
            companies=int(payload.get("companies", 0)),
            deals_per_company=int(payload.get("deals_per_company", 2)),
            contacts_per_company=int(payload.get("contacts_per_company", 0)),
            same_timestamp=bool(payload.get("same_timestamp", False)),
        )

    def stats(self) -> dict[str, Any]:
        """Calls per path template, their total, and how many were rate limited."""
        return self.calls.snapshot()

    def set_rate_limit(self, payload: dict[str, Any]) -> dict[str, Any]:
        """``{"per_10s", "search_per_second"}``: the rolling 10-second and per-second search
        limits (0 = unlimited)."""
        if "per_10s" not in payload:
            raise ValueError("per_10s is required (0 = unlimited)")
        search = payload.get("search_per_second")
        self.limiter.configure(
            per_10s=int(payload["per_10s"]),
            search_per_second=int(search) if search is not None else None,
        )
        return self.rate_limit_state()

    def rate_limit_state(self) -> dict[str, Any]:
        """The limits in force."""
        return {
            "per_10s": self.limiter.per_10s,
            "search_per_second": self.limiter.search_per_second,
        }

    def set_webhooks(self, payload: dict[str, Any], base_url: str) -> dict[str, Any]:
        """Where webhooks go, their retries, and whether accepted ones are sent again."""
        attempts, delay = payload.get("max_attempts"), payload.get("retry_delay_seconds")
        self.webhooks.configure(
            payload.get("target_url"),
            max_attempts=int(attempts) if attempts is not None else None,
            retry_delay_seconds=float(delay) if delay is not None else None,
            redeliver=bool(payload["redeliver"]) if "redeliver" in payload else None,
        )
        return self.webhooks.snapshot()

    def webhooks_state(self) -> dict[str, Any]:
        """The webhook settings and delivery counts."""
        return self.webhooks.snapshot()

    def raw_record(self, record_type: str, record_id: str) -> dict[str, Any]:
        """A record with every property it holds and its associations."""
        store = self.portal.stores[record_type]
        well_formed = record_id.isascii() and record_id.isdigit()
        record = store.records.get(int(record_id)) if well_formed else None
        if record is None:
            raise HubSpotError.not_found()
        return self.render(
            record, sorted(record.properties), list(record.associations), record_type
        )

    def admin_error(self, exc: Exception) -> tuple[int, Any] | None:
        """HubSpot's own error body, as its API would answer it."""
        if isinstance(exc, HubSpotError):
            return exc.status_code, exc.body()
        return None


_REP_USER: Final = "userId:1000001"  # the rep behind simulated edits, as webhooks name them
# Properties the portal computes: their single version is HubSpot's own.
_CALCULATED_SOURCE: Final = "CALCULATED"


def _versions(record: CrmObject, name: str, object_type: str) -> list[dict[str, Any]]:
    """A property's versions, newest first, as HubSpot's ValueWithTimestamp."""
    history = record.versions(name)
    if history is None:
        value = record.properties.get(name)
        if value is None:
            return []
        kind = OBJECT_TYPES[object_type]
        system = name in (kind.modified_property, kind.created_property, "hs_object_id")
        at = value if name == kind.modified_property else record.created_at
        return [
            {
                "value": value,
                "timestamp": at,
                "sourceType": _CALCULATED_SOURCE if system else "CRM_UI",
            }
        ]
    versions = []
    for value, when, source_type, source_id in reversed(history):
        version = {
            "value": value or "",
            "timestamp": format_epoch_ms(when) if isinstance(when, int) else when,
            "sourceType": source_type,
        }
        if source_id is not None:
            version["sourceId"] = source_id
        versions.append(version)
    return versions
