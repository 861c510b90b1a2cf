"""Every Kafka topic of the platform, with its key and partition count: the one list to read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """A topic: its name, what its messages are keyed by, how many partitions it has."""

    name: str
    key: str
    partitions: int
    producer: str
    description: str

    def full_name(self, prefix: str = "") -> str:
        """The name on the broker (a prefix isolates tests and tenants of a shared broker)."""
        return f"{prefix}{self.name}"


ACCOUNTS_EVENTS = Topic(
    "accounts.events", key="account id, or establishment UAI for establishment events", partitions=6,
    producer="accounts", description="Account lifecycle, establishment and settings events.",
)
NOTIFIER_JOBS = Topic(
    "notifier.jobs", key="job id (campaign, division, chunk)", partitions=12,
    producer="accounts", description="Notification commands; fanned out over the notifier workers.",
)
NOTIFIER_URGENT = Topic(
    "notifier.urgent", key="notification id", partitions=6, producer="accounts, portal-auth",
    description="One email someone is waiting for (activation link, recovery, a letter sent from an account's "
                "page): consumed by its own group, never queued behind the campaigns' jobs.",
)
NOTIFIER_EVENTS = Topic(
    "notifier.events", key="account id", partitions=6,
    producer="notifier", description="Delivery results: sent by email, printed on paper, failed.",
)
SYNC_EVENTS = Topic(
    "sync.events", key="establishment UAI", partitions=6,
    producer="sync", description="Differences found by the SIECLE/BEE import, one event per change.",
)
PORTAL_EVENTS = Topic(
    "portal.events", key="account id", partitions=6,
    producer="portal-auth", description="First connections, activations, logins and services opened.",
)
DEAD_LETTERS = Topic(
    "deadletters", key="consumer group", partitions=1,
    producer="every consumer", description="Messages that kept failing, with their error; replayable.",
)

ALL_TOPICS: tuple[Topic, ...] = (
    ACCOUNTS_EVENTS, NOTIFIER_JOBS, NOTIFIER_URGENT, NOTIFIER_EVENTS, SYNC_EVENTS, PORTAL_EVENTS, DEAD_LETTERS,
)
