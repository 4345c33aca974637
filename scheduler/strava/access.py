"""One athlete's calls to Strava: the shared budget checked before each request, the counters recorded after,
a 429 turned into a budget block, and one token refresh after a 401. Webhook-driven calls also take their
read from the webhook share of the budget (see `budget.WEBHOOK_SHARE`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from scheduler.clock import Clock
from scheduler.store.db import transaction
from scheduler.strava import budget, tokens
from scheduler.strava.port import RateLimited, StravaPort, StravaPortFactory, Unauthorized

T = TypeVar("T")


class BudgetSpent(Exception):
    def __init__(self, until: datetime) -> None:
        super().__init__(f"Strava rate budget spent until {until.isoformat()}")
        self.until = until


class WebhookShareSpent(Exception):
    """The webhook share of the budget is spent: webhook work waits, polling goes on as usual."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"the webhook share of the Strava rate budget is spent until {until.isoformat()}")
        self.until = until


class AthleteAccess:
    """One athlete's calls to Strava: budget check first, usage recorded after, one refresh after a 401.

    `webhook` marks calls driven by pushed events: each takes a read from the webhook share first."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        port_factory: StravaPortFactory,
        clock: Clock,
        athlete_id: int,
        reserve: float,
        *,
        webhook: bool = False,
    ) -> None:
        self._sessions = sessions
        self._factory = port_factory
        self._clock = clock
        self.athlete_id = athlete_id
        self._reserve = reserve
        self._webhook = webhook
        self._token = tokens.access_token(sessions, athlete_id, port_factory, clock)
        self._port = port_factory(self._token)
        self._refreshed_after_401 = False
        self.reads = 0

    def _check_budget(self) -> None:
        with transaction(self._sessions) as session:
            if not self._webhook:
                wait = budget.load(session).wait_until(self._clock(), self._reserve)
                if wait is not None:
                    raise BudgetSpent(wait)
                return
            refused = budget.take_webhook_read(session, self._clock(), self._reserve)
        if refused is not None:
            until, whole_budget = refused
            raise BudgetSpent(until) if whole_budget else WebhookShareSpent(until)

    def __call__(self, call: Callable[[StravaPort], T]) -> T:
        self._check_budget()
        port = self._port
        self.reads += 1
        try:
            return call(port)
        except Unauthorized:
            if self._refreshed_after_401:
                raise
            self._refreshed_after_401 = True
            self._token = tokens.access_token(
                self._sessions, self.athlete_id, self._factory, self._clock, rejected=self._token
            )
            self._port = self._factory(self._token)
            return self(call)
        except RateLimited as error:
            with transaction(self._sessions) as session:
                budget.block(session, error.reset_at, port.rate_usage, self._clock())
            raise
        finally:
            if port.rate_usage is not None:
                with transaction(self._sessions) as session:
                    budget.record(session, port.rate_usage, self._clock())
