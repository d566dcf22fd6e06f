"""Assets published when an obligation instance is aggregated; downstream cycles start from them."""

from __future__ import annotations

from airflow.sdk import Asset


def obligation_asset(programme_id: str, obligation_id: str) -> Asset:
    """The Asset of a programme obligation's provincial aggregate (events carry cycle_year and period)."""
    return Asset(
        name=f"review_calendar__{programme_id}__{obligation_id}",
        uri=f"review-calendar://{programme_id}/{obligation_id}",
        group="review_calendar",
    )


def proposals_asset(programme_id: str) -> Asset:
    """The Asset a programme's cycle publishes once it has recorded its proposals; it starts the decision DAG."""
    return Asset(
        name=f"review_calendar__{programme_id}__proposals",
        uri=f"review-calendar://{programme_id}/proposals",
        group="review_calendar",
    )
