"""The page's routes on the daemon's Starlette listener.

Every route that reads or changes runner data runs its blocking work (the database) in Starlette's thread
pool: GET handlers are plain functions, POST handlers read their bounded body on the loop and hand it over.
Who may see what: a session cookie from a sign-in link sees its athlete only, and anything else of another
athlete is a 404, as if it did not exist; the admin (bearer token, or a session signed in with it) sees
every athlete. Every POST made with a cookie carries the session's CSRF token. GET changes no runner data:
opening a sign-in link only starts a session, opening an action link shows a confirmation.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from scheduler import corrections
from scheduler.clock import Clock
from scheduler.domain.checkins import ANSWER_KINDS, CheckInKind
from scheduler.domain.status import AthleteState
from scheduler.errors import InputError
from scheduler.ingest import IngestConfig
from scheduler.store import athletes as athlete_store
from scheduler.store import models
from scheduler.store.db import transaction
from scheduler.web import answers, calendar_feed, checkins, links, pages, signin, signing, views
from scheduler.web.profile import change_from_form, habit_change_from_form, save_profile

log = logging.getLogger(__name__)

MAX_FORM_BYTES = 8 * 1024  # the profile form is well under 1 KiB
MAX_FORM_FIELDS = 40
PREFIXES = (
    "/signin",
    "/signout",
    "/athletes",
    f"{signing.ACTION_PREFIX}/",
    "/static/",
    f"{calendar_feed.PATH}/",
)
ACTION_LABELS = links.ALL_LABELS
VERBS = {"done": "Mark as done", "skip": "Skip it", "snooze": "Snooze for 30 minutes"}
NOTICES = {
    "done": "Marked as done.",
    "skipped": "Skipped: it will not be sent.",
    "snoozed": "Snoozed: it comes again later.",
    "effort": "Class corrected; the day's plan follows it.",
    "profile": "Saved; your plan follows it.",
    "checkin": "Check-in recorded.",
    "cleared": "Check-in cleared.",
}

Form = dict[str, list[str]]


@dataclass(frozen=True)
class WebConfig:
    sessions: sessionmaker[Session]
    ingest: IngestConfig
    clock: Clock
    base_url: str  # RECOVERY_HTTP__PUBLIC_URL, or http://host:port
    admin_token: str | None  # RECOVERY_HTTP__TOKEN

    @property
    def secure(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def cookie(self) -> str:
        # __Host-: the browser keeps it for this exact host, over HTTPS, for every path.
        return "__Host-recovery" if self.secure else "recovery_session"


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def serves(path: str) -> bool:
    """Whether the path belongs to the page (which does its own sign-in, instead of the bearer guard)."""
    return path == "/" or path.startswith(PREFIXES)


def _first(form: Form, name: str) -> str:
    values = form.get(name)
    return values[0] if values else ""


async def _read_form(request: Request) -> Form:
    if request.headers.get("content-length", "0").isdigit() is False:
        raise _Refused(pages.message(400, "Bad request", "bad Content-Length"))
    if int(request.headers.get("content-length", "0")) > MAX_FORM_BYTES:
        raise _Refused(pages.message(413, "Too large", f"a form is at most {MAX_FORM_BYTES} bytes"))
    body = b""
    try:
        async for chunk in request.stream():  # chunked bodies are bounded here too
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise _Refused(pages.message(413, "Too large", f"a form is at most {MAX_FORM_BYTES} bytes"))
    except ClientDisconnect:
        raise _Refused(pages.message(400, "Bad request", "the form did not arrive whole")) from None
    if not body:
        return {}
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise _Refused(
            pages.message(415, "Unsupported", "send the form as application/x-www-form-urlencoded")
        )
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise _Refused(pages.message(400, "Bad request", "the form could not be read")) from None


class Web:
    def __init__(self, config: WebConfig) -> None:
        self._config = config

    def serves(self, path: str) -> bool:
        return serves(path)

    # -- who is asking -------------------------------------------------------------------------------------

    def _visitor(self, request: Request, session: Session) -> signin.Visitor | None:
        if getattr(request.state, "authenticated", False):
            return signin.Visitor(None, None)  # the bearer token: the admin, and no cookie to forge
        return signin.visitor(session, request.cookies.get(self._config.cookie), self._config.clock())

    def _require(self, request: Request, session: Session, athlete_id: int | None = None) -> signin.Visitor:
        visitor = self._visitor(request, session)
        if visitor is None:
            raise _Refused(self._signin_page(401, "Sign in first: open your personal link."))
        if athlete_id is not None and not visitor.may_see(athlete_id):
            raise _Refused(_not_found())
        return visitor

    @staticmethod
    def _csrf(visitor: signin.Visitor, form: Form) -> None:
        if visitor.csrf_token is None:
            return
        given = _first(form, "csrf")
        if not given or not hmac.compare_digest(given.encode(), visitor.csrf_token.encode()):
            raise _Refused(
                pages.message(
                    403, "Refused", "This form has expired or did not come from this page: reload it."
                )
            )

    def _signin_page(self, status: int, error: str | None = None) -> Response:
        return pages.render(
            "signin.html", status, error=error, admin_possible=self._config.admin_token is not None
        )

    def _session_cookie(self, response: Response, token: str) -> Response:
        response.set_cookie(
            self._config.cookie,
            token,
            max_age=int(signin.SESSION_LIFETIME.total_seconds()),
            path="/",
            secure=self._config.secure,
            httponly=True,
            samesite="lax",
        )
        return response

    # -- pages ---------------------------------------------------------------------------------------------

    def home(self, request: Request) -> Response:
        with self._config.sessions() as session:
            visitor = self._visitor(request, session)
            if visitor is None:
                return self._signin_page(200)
            if visitor.athlete_id is not None:
                return RedirectResponse(f"/athletes/{visitor.athlete_id}", 303)
            athletes = athlete_store.list_all(session)
            rows = [{"id": a.id, "name": a.name, "state": a.state} for a in athletes]
        return pages.render("athletes.html", athletes=rows, **_chrome(visitor))

    def signin_form(self, request: Request) -> Response:
        return self._signin_page(200)

    def signin_link(self, request: Request) -> Response:
        token = str(request.path_params["token"])
        with transaction(self._config.sessions) as session:
            opened = signin.open_link(session, token, self._config.clock())
        if opened is None:
            return pages.message(
                404,
                "Link not valid",
                "This sign-in link is not valid: it may have been replaced by a newer one.",
            )
        cookie, athlete_id = opened
        return self._session_cookie(RedirectResponse(f"/athletes/{athlete_id}", 303), cookie)

    def signin_admin(self, request: Request, form: Form) -> Response:
        expected = self._config.admin_token
        if expected is None:
            return _not_found()
        given = _first(form, "token")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return self._signin_page(403, "That is not the access token.")
        with transaction(self._config.sessions) as session:
            cookie = signin.open_admin(session, self._config.clock())
        return self._session_cookie(RedirectResponse("/", 303), cookie)

    def signout(self, request: Request, form: Form) -> Response:
        with transaction(self._config.sessions) as session:
            visitor = self._visitor(request, session)
            if visitor is not None:
                self._csrf(visitor, form)
                signin.end(session, request.cookies.get(self._config.cookie))
        response = RedirectResponse("/", 303)
        response.delete_cookie(self._config.cookie, path="/", secure=self._config.secure, httponly=True)
        return response

    def athlete(self, request: Request) -> Response:
        athlete_id = int(request.path_params["athlete_id"])
        with self._config.sessions() as session:
            visitor = self._require(request, session, athlete_id)
            return self._athlete_page(
                session, visitor, athlete_id, NOTICES.get(request.query_params.get("note", ""))
            )

    def _athlete_page(
        self,
        session: Session,
        visitor: signin.Visitor,
        athlete_id: int,
        notice: str | None,
        changes: list[views.ChangeView] | None = None,
        advice: str | None = None,
    ) -> Response:
        athlete = session.get(models.Athlete, athlete_id)
        if athlete is None or athlete.state == AthleteState.DEAUTHORIZED:
            return _not_found()
        page = views.athlete_page(session, athlete, self._config.ingest.default_zone, self._config.clock())
        return pages.render(
            "athlete.html",
            page=page,
            notice=notice,
            changes=changes,
            advice=advice,
            action_labels=ACTION_LABELS,
            **_chrome(visitor),
        )

    # -- the runner's actions (POST) -----------------------------------------------------------------------

    def answer(self, request: Request, form: Form) -> Response:
        athlete_id = int(request.path_params["athlete_id"])
        reminder_id = int(request.path_params["reminder_id"])
        action = str(request.path_params["action"])
        if action not in links.ALL_LABELS:
            return _not_found()
        if action not in answers.ACTIONS:
            return self._answer_question(request, form, athlete_id, reminder_id, action)
        with transaction(self._config.sessions) as session:
            visitor = self._require(request, session, athlete_id)
            self._csrf(visitor, form)
            row = answers.answer_reminder(
                session,
                reminder_id,
                action,
                self._config.clock(),
                athlete_id=athlete_id,
                snooze=_snooze(form),
            )
            response = row.response or ""
        return RedirectResponse(f"/athletes/{athlete_id}?note={response}#reminder-{reminder_id}", 303)

    def _answer_question(
        self, request: Request, form: Form, athlete_id: int, reminder_id: int, action: str
    ) -> Response:
        """A question's answer on the page: the page comes back with what the check-in changed on top."""
        now = self._config.clock()
        with transaction(self._config.sessions) as session:
            visitor = self._require(request, session, athlete_id)
            self._csrf(visitor, form)
            answered = checkins.answer_question(
                session, reminder_id, action, self._config.ingest, now, athlete_id=athlete_id
            )
            shown = views.change_views(session, answered.changes, self._config.ingest.default_zone, now)
            advice = checkins.PAIN_ADVICE if ANSWER_KINDS[action] == CheckInKind.PAIN else None
            notice = f"Recorded: {answered.answer}."
            return self._athlete_page(session, visitor, athlete_id, notice, shown, advice)

    def effort(self, request: Request, form: Form) -> Response:
        athlete_id = int(request.path_params["athlete_id"])
        activity_id = int(request.path_params["activity_id"])
        with transaction(self._config.sessions) as session:
            visitor = self._require(request, session, athlete_id)
            self._csrf(visitor, form)
            corrections.set_effort(
                session,
                activity_id,
                _first(form, "effort"),
                self._config.ingest,
                self._config.clock(),
                athlete_id=athlete_id,
            )
        return RedirectResponse(f"/athletes/{athlete_id}?note=effort#activity-{activity_id}", 303)

    def profile(self, request: Request, form: Form) -> Response:
        athlete_id = int(request.path_params["athlete_id"])
        with transaction(self._config.sessions) as session:
            visitor = self._require(request, session, athlete_id)
            self._csrf(visitor, form)
            fields = {k: v[0] for k, v in form.items() if v}
            change = change_from_form(fields, form.get("tool", []))
            habits = habit_change_from_form(fields)
            save_profile(session, athlete_id, change, self._config.ingest, self._config.clock(), habits)
        return RedirectResponse(f"/athletes/{athlete_id}?note=profile#profile", 303)

    def checkin(self, request: Request, form: Form) -> Response:
        """Record a check-in; the answer is the page itself, with what it changed in the plan on top."""
        athlete_id = int(request.path_params["athlete_id"])
        now = self._config.clock()
        kind = _first(form, "kind")
        with transaction(self._config.sessions) as session:
            visitor = self._require(request, session, athlete_id)
            self._csrf(visitor, form)
            changes = checkins.record(
                session, athlete_id, kind, self._config.ingest, now, area=_first(form, "area") or None
            )
            shown = views.change_views(session, changes, self._config.ingest.default_zone, now)
            advice = checkins.PAIN_ADVICE if kind.strip().lower() == CheckInKind.PAIN else None
            return self._athlete_page(session, visitor, athlete_id, NOTICES["checkin"], shown, advice)

    def checkin_clear(self, request: Request, form: Form) -> Response:
        athlete_id = int(request.path_params["athlete_id"])
        now = self._config.clock()
        with transaction(self._config.sessions) as session:
            visitor = self._require(request, session, athlete_id)
            self._csrf(visitor, form)
            changes = checkins.clear(session, athlete_id, _first(form, "kind"), self._config.ingest, now)
            shown = views.change_views(session, changes, self._config.ingest.default_zone, now)
            return self._athlete_page(session, visitor, athlete_id, NOTICES["cleared"], shown)

    # -- the calendar feed (a secret URL: calendars send no cookie) ----------------------------------------

    def calendar(self, request: Request) -> Response:
        token = str(request.path_params["token"])
        with self._config.sessions() as session:
            athlete = calendar_feed.athlete_of(session, token)
            if athlete is None:
                return _not_found()
            body = calendar_feed.build(
                session,
                athlete,
                self._config.base_url,
                self._config.ingest.default_zone,
                self._config.clock(),
            )
        return Response(
            body,
            media_type=calendar_feed.MEDIA_TYPE,
            headers={
                "Cache-Control": "no-cache",
                "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff",
            },
        )

    # -- signed action links (ntfy buttons, e-mail links) --------------------------------------------------

    def _signed(self, request: Request, session: Session) -> tuple[int, str]:
        reminder_id = int(request.path_params["reminder_id"])
        action = str(request.path_params["action"])
        if action not in links.ALL_LABELS:
            raise _Refused(_not_found())
        key = signing.secret(session, self._config.clock())
        problem = signing.verify(
            key,
            reminder_id,
            action,
            request.query_params.get("e", ""),
            request.query_params.get("s", ""),
            self._config.clock(),
        )
        if problem is not None:
            raise _Refused(pages.message(403, "Link not valid", problem[0].upper() + problem[1:] + "."))
        return reminder_id, action

    def action_confirm(self, request: Request) -> Response:
        with transaction(self._config.sessions) as session:
            reminder_id, action = self._signed(request, session)
            row = session.get(models.Reminder, reminder_id)
            if row is None:
                return _not_found()
            zone_name = session.scalar(
                select(models.Activity.timezone).where(models.Activity.id == row.activity_id)
            ) or session.scalar(select(models.Athlete.timezone).where(models.Athlete.id == row.athlete_id))
            now = self._config.clock()
            zone = views.zone_of(zone_name, self._config.ingest.default_zone)
            shown = {"title": row.title, "when": views.when(row.due_at, zone, now.astimezone(zone).date())}
        action_url = f"{request.url.path}?{request.url.query}"
        verb = VERBS.get(action, links.ALL_LABELS[action])
        return pages.render("confirm.html", verb=verb, reminder=shown, action_url=action_url)

    def action_do(self, request: Request, form: Form) -> Response:
        with transaction(self._config.sessions) as session:
            reminder_id, action = self._signed(request, session)
            if action not in answers.ACTIONS:  # a question's answer: a check-in, and what it changed
                now = self._config.clock()
                answered = checkins.answer_question(session, reminder_id, action, self._config.ingest, now)
                shown = views.change_views(session, answered.changes, self._config.ingest.default_zone, now)
                return pages.message(
                    200,
                    "Thanks",
                    f"Recorded: {answered.answer} ({answered.title}).",
                    kind="ok",
                    back="/",
                    changes=shown,
                )
            row = answers.answer_reminder(session, reminder_id, action, self._config.clock())
            title = row.title
        return pages.message(
            200, "Thanks", f"{NOTICES[answers.RESPONSES[action]]} ({title})", kind="ok", back="/"
        )

    def stylesheet(self, request: Request) -> Response:
        return pages.stylesheet()

    # -- wiring --------------------------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", _guard(self.home), methods=["GET"]),
            Route("/signin", _dispatch(self.signin_form, self.signin_admin), methods=["GET", "POST"]),
            Route("/signin/{token}", _guard(self.signin_link), methods=["GET"]),
            Route("/signout", _post(self.signout), methods=["POST"]),
            Route("/athletes/{athlete_id:int}", _guard(self.athlete), methods=["GET"]),
            Route(
                "/athletes/{athlete_id:int}/reminders/{reminder_id:int}/{action}",
                _post(self.answer),
                methods=["POST"],
            ),
            Route(
                "/athletes/{athlete_id:int}/activities/{activity_id:int}/effort",
                _post(self.effort),
                methods=["POST"],
            ),
            Route("/athletes/{athlete_id:int}/profile", _post(self.profile), methods=["POST"]),
            Route("/athletes/{athlete_id:int}/checkins", _post(self.checkin), methods=["POST"]),
            Route("/athletes/{athlete_id:int}/checkins/clear", _post(self.checkin_clear), methods=["POST"]),
            Route(
                f"{calendar_feed.PATH}/{{token}}{calendar_feed.SUFFIX}",
                _guard(self.calendar),
                methods=["GET"],
            ),
            Route(
                f"{signing.ACTION_PREFIX}/{{reminder_id:int}}/{{action}}",
                _dispatch(self.action_confirm, self.action_do),
                methods=["GET", "POST"],
            ),
            Route("/static/style.css", _guard(self.stylesheet), methods=["GET"]),
            *(
                Route(f"/static/{name}", _guard(pages.static_handler(name)), methods=["GET"])
                for name in pages.STATIC_FILES
            ),
        ]


def _not_found() -> Response:
    return pages.message(404, "Not found", "There is nothing here.", back="/")


def _chrome(visitor: signin.Visitor) -> dict[str, Any]:
    return {"signed_in": visitor.csrf_token is not None, "csrf": visitor.csrf_token or ""}


def _snooze(form: Form) -> timedelta:
    text = _first(form, "minutes").strip()
    if not text:
        return answers.DEFAULT_SNOOZE
    if not text.isdigit() or len(text) > 5:
        raise InputError("snooze minutes: a whole number")
    return timedelta(minutes=int(text))


def _outcome(work: Callable[[], Response]) -> Response:
    """The handler's page, or the page for why it refused; nothing half-done (each runs in a transaction)."""
    try:
        return work()
    except _Refused as refused:
        return refused.response
    except (answers.NotFound, corrections.ActivityNotFound):
        return _not_found()
    except answers.AnswerRefused as exc:
        return pages.message(409, "Not possible", f"{exc}.", back="/")
    except InputError as exc:
        return pages.message(400, "Not saved", f"{exc}.", back="/")
    except Exception:
        log.exception("page request failed")
        return pages.message(500, "Something went wrong", "The error is in the server's log.", back="/")


def _guard(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
    def endpoint(request: Request) -> Response:  # sync: Starlette runs it in its thread pool
        return _outcome(lambda: handler(request))

    return endpoint


def _post(handler: Callable[[Request, Form], Response]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            form = await _read_form(request)
        except _Refused as refused:
            return refused.response
        return await run_in_threadpool(_outcome, lambda: handler(request, form))

    return endpoint


def _dispatch(
    get: Callable[[Request], Response], post: Callable[[Request, Form], Response]
) -> Callable[[Request], Awaitable[Response]]:
    guarded_get, posted = _guard(get), _post(post)

    async def endpoint(request: Request) -> Response:
        if request.method == "POST":
            return await posted(request)
        return await run_in_threadpool(guarded_get, request)

    return endpoint
