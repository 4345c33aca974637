"""The watched folder: activity files dropped in RECOVERY_IMPORT__DIR are imported within seconds.

A file is read only when complete: at once on inotify's close-write (or when it is renamed into the folder,
as sync tools do), otherwise once its size and modification time have stayed the same for `settle` seconds.
Network shares send no inotify events, so there the folder is scanned every `poll_interval` (chosen by the
file system, or by RECOVERY_IMPORT__POLL). A rescan every minute also catches any event inotify dropped.

A file that cannot be used is logged once, with its reason, and moved to `rejected/` beside it (the reason in
`NAME.reason.txt`); where it cannot be moved it stays, remembered by content so it is not reported again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from scheduler.clock import Clock
from scheduler.errors import InputError
from scheduler.files.formats import is_activity_file
from scheduler.files.importer import IMPORTED, REJECTED, import_file
from scheduler.files.scan import REJECTED_DIR
from scheduler.ingest import IngestConfig
from scheduler.settings import ImportSettings

log = logging.getLogger(__name__)

# File systems whose changes made elsewhere never reach inotify.
NETWORK_FILE_SYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "vboxsf", "davfs", "fuse.rclone", "afs"}
)
SAFETY_RESCAN = 60.0  # seconds, with inotify
REJECT_SETTLE = 30.0  # seconds an unusable file must stay unchanged before it is moved aside (no close event)

Signature = tuple[int, int]  # (size, mtime_ns)


class FolderImport:
    def __init__(
        self,
        settings: ImportSettings,
        sessions: sessionmaker[Session],
        ingest_config: IngestConfig,
        clock: Clock,
        on_planned: Callable[[], object],
    ) -> None:
        assert settings.dir is not None
        self.root = settings.dir
        self.settings = settings
        self.sessions = sessions
        self.ingest_config = ingest_config
        self.clock = clock
        self.on_planned = on_planned
        self.polling = settings.poll if settings.poll is not None else is_network_share(self.root)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._closed: set[Path] = set()  # files inotify saw closed after writing, or renamed in
        self._writing: set[Path] = set()  # written to since their last close: wait for the close-write
        self._pending: dict[Path, tuple[Signature, float]] = {}
        self._done: dict[Path, Signature] = {}
        self._suspects: dict[Path, tuple[Signature, float]] = {}  # unusable, but maybe not yet complete
        self._told: set[str] = set()  # one-off warnings already logged
        self._thread: threading.Thread | None = None
        self._observer: Any = None

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        if not self.polling:
            self._observer = self._start_inotify()
            self.polling = self._observer is None
        log.info(
            "watching %s for FIT/GPX/TCX files (%s)",
            self.root,
            f"polling every {self.settings.poll_interval:g} s" if self.polling else "inotify",
        )
        self._thread = threading.Thread(target=self._run, name="folder-import", daemon=True)
        self._thread.start()

    def stop(self, wait_seconds: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(wait_seconds)
        if self._thread is not None:
            self._thread.join(wait_seconds)

    def _start_inotify(self) -> Any:
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.is_directory:
                    watcher._wake.set()
                    return
                kind = event.event_type
                if kind in ("closed", "moved"):
                    target = Path(str(event.dest_path if kind == "moved" else event.src_path))
                    with watcher._lock:
                        watcher._writing.discard(target)
                        watcher._closed.add(target)
                elif kind in ("created", "modified"):
                    with watcher._lock:
                        watcher._writing.add(Path(str(event.src_path)))
                else:
                    return  # opened, closed without writing (our own reads): nothing new
                watcher._wake.set()

        try:
            observer = Observer()
            observer.schedule(Handler(), str(self.root), recursive=True)
            observer.start()
        except OSError as exc:  # e.g. the inotify watch limit
            log.warning(
                "inotify unavailable for %s (%s): polling every %g s",
                self.root,
                exc,
                self.settings.poll_interval,
            )
            return None
        return observer

    # -- the loop ----------------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.scan()
            except Exception:
                log.exception("scanning %s failed; trying again", self.root)
            self._wake.wait(self._next_wait())
            self._wake.clear()

    def _next_wait(self) -> float:
        if self._pending:
            return max(0.1, self.settings.settle / 2)
        return self.settings.poll_interval if self.polling else SAFETY_RESCAN

    def scan(self) -> int:
        """Import every complete, not yet handled file; returns how many were imported."""
        imported = 0
        seen: set[Path] = set()
        for athlete_id, path in self._candidates():
            seen.add(path)
            signature = _signature(path)
            if signature is None or self._done.get(path) == signature:
                continue
            with self._lock:
                closed = path in self._closed
                self._closed.discard(path)
                writing = path in self._writing
            # A writer holding the file open may pause for longer than `settle`: with inotify its close-write
            # is awaited (a lost event is made good after a minute without change).
            settle = SAFETY_RESCAN if writing and not closed else self.settings.settle
            earlier = self._pending.get(path)
            now = time.monotonic()
            settled = earlier is not None and earlier[0] == signature and now - earlier[1] >= settle
            if not (closed or settled):
                if earlier is None or earlier[0] != signature:
                    self._pending[path] = (signature, now)
                continue
            if self._handle(athlete_id, path, signature, closed):
                imported += 1
        for gone in set(self._pending) - seen:
            del self._pending[gone]
        return imported

    def _handle(self, athlete_id: int, path: Path, signature: Signature, closed: bool) -> bool:
        try:
            outcome = import_file(self.sessions, athlete_id, path, self.ingest_config, self.clock())
        except InputError as exc:  # no such athlete
            self._tell_once(f"athlete:{athlete_id}", "%s: %s; its files wait", path.parent, exc)
            self._pending.pop(path, None)
            self._done[path] = signature
            return False
        except OperationalError as exc:
            self._tell_once("database", "files wait for the database: %s", str(exc.orig).splitlines()[0])
            return False
        self._told.discard("database")
        self._pending.pop(path, None)
        with self._lock:
            self._writing.discard(path)
        if outcome.outcome == REJECTED:
            if not closed and self._may_still_grow(path, signature):
                return False
            log.warning("file %s rejected: %s", path, outcome.reason)
            self._move_aside(path, outcome.reason or "rejected")
            return False
        self._done[path] = signature
        self._suspects.pop(path, None)
        if outcome.outcome == IMPORTED and outcome.planned:
            self.on_planned()
        return outcome.outcome == IMPORTED

    def _may_still_grow(self, path: Path, signature: Signature) -> bool:
        """Without a close-write event an unusable file may be one a writer paused on (a slow copy to a
        share): it is rejected only once it has not changed for REJECT_SETTLE seconds."""
        since = self._suspects.get(path)
        now = time.monotonic()
        if since is None or since[0] != signature:
            self._suspects[path] = (signature, now)
            return True
        if now - since[1] < REJECT_SETTLE:
            self._pending[path] = (signature, since[1])
            return True
        del self._suspects[path]
        return False

    def _move_aside(self, path: Path, reason: str) -> None:
        folder = path.parent / REJECTED_DIR
        try:
            folder.mkdir(exist_ok=True)
            target = folder / path.name
            path.replace(target)
            (folder / f"{path.name}.reason.txt").write_text(reason + "\n", encoding="utf-8")
        except OSError as exc:
            log.warning("could not move %s to %s (%s); it stays and is not read again", path, folder, exc)
            sig = _signature(path)
            if sig is not None:
                self._done[path] = sig

    def _candidates(self) -> Iterator[tuple[int, Path]]:
        athlete = self.settings.athlete
        if athlete is not None:
            for path in _files(self.root):
                yield athlete, path
            return
        for entry in sorted(self.root.iterdir()):
            if entry.is_dir() and entry.name.isdigit():
                for path in _files(entry):
                    yield int(entry.name), path
            elif entry.is_file() and is_activity_file(entry):
                self._tell_once(
                    f"root:{entry.name}",
                    "%s: whose is it? Put files in a sub-folder named for the athlete's id, "
                    "or set RECOVERY_IMPORT__ATHLETE",
                    entry,
                )

    def _tell_once(self, key: str, message: str, *args: object) -> None:
        if key not in self._told:
            self._told.add(key)
            log.warning(message, *args)


def _files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if REJECTED_DIR in path.relative_to(folder).parts[:-1]:
            continue
        if is_activity_file(path) and path.is_file():
            yield path


def _signature(path: Path) -> Signature | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def is_network_share(folder: Path) -> bool:
    """Whether the folder lives on a file system inotify cannot see changes on (from /proc/mounts)."""
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    target = str(folder.resolve())
    best, best_type = "", ""
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, best_type = point, fields[2]
    return best_type in NETWORK_FILE_SYSTEMS
