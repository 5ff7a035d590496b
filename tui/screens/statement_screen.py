"""One statement with its article: the claim highlighted, why it matched, who reported it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from sources.clean import strip_controls
from sources.records import Item, Statement
from tui.format import (
    age_text,
    datetime_text,
    plain,
    stance_content,
)
from tui.screens.dashboard_screen import DashboardScreen
from tui.widgets.status_line import StatusLine


@dataclass(frozen=True, slots=True)
class StatementDetail:
    """Everything the screen shows, read in one worker pass."""

    statement: Statement | None
    item: Item | None
    outlets: tuple[Item, ...]
    previous: Statement | None = None
    """The statement before it on the same (actor, topic), to say what changed."""


def claim_span(text: str, claim: str) -> tuple[int, int] | None:
    """Where `claim` sits in `text`, ignoring case and differences in whitespace."""
    claim = claim.strip().rstrip(".")
    if not claim:
        return None
    start = text.find(claim)
    if start >= 0:
        return start, start + len(claim)
    words = claim.split()
    pattern = r"\s+".join(re.escape(word) for word in words)
    found = re.search(pattern, text, re.IGNORECASE)
    return (found.start(), found.end()) if found else None


class StatementScreen(DashboardScreen[None]):
    """The full item text with the claim highlighted, and the trace behind the statement."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="statement.back"),
        Binding("o", "open_link", "Open in browser", id="statement.open"),
        Binding("c", "copy_link", "Copy link", id="statement.copy"),
    ]

    def __init__(self, statement_id: str) -> None:
        super().__init__()
        self.statement_id = statement_id
        self.detail: StatementDetail | None = None
        """What was read; None until the worker is back."""

    def compose(self) -> ComposeResult:
        yield StatusLine()
        with VerticalScroll(id="statement-body"):
            yield Static("Reading the statement…", id="st-heading", markup=False)
            yield Static(id="st-claim", classes="section", markup=False)
            yield Static(id="st-why", classes="section", markup=False)
            yield Static(id="st-article", classes="section", markup=False)
            yield Static(id="st-outlets", classes="section", markup=False)
            yield Static(id="st-link", classes="section", markup=False)
        yield Footer()

    def refresh_data(self) -> None:
        if self.detail is None:
            self._read(self.statement_id)

    @work(thread=True, exclusive=True, group="statement", exit_on_error=False)
    def _read(self, statement_id: str) -> None:
        store = self.dashboard.store
        if store is None:
            return
        statement = store.statement(statement_id)
        item = store.item(statement.item_id) if statement else None
        outlets = tuple(store.items_of(statement_id)) if statement else ()
        previous = None
        if statement is not None:
            history = store.history(statement.actor, statement.topic)
            ids = [s.id for s in history]
            if statement.id in ids and ids.index(statement.id) + 1 < len(history):
                previous = history[ids.index(statement.id) + 1]
        if not get_current_worker().is_cancelled:
            detail = StatementDetail(statement, item, outlets, previous)
            self.app.call_from_thread(self._show, detail)

    def _show(self, detail: StatementDetail) -> None:
        self.detail = detail
        self.refresh_bindings()
        statement = detail.statement
        heading = self.query_one("#st-heading", Static)
        if statement is None:
            heading.update(Content("This statement is no longer in the database."))
            return
        config = self.config
        actor = config.actor(statement.actor) if config else None
        topic = config.topic(statement.topic) if config else None
        now = self.dashboard.clock()
        head: list[Content | str] = [
            Content.styled(actor.name if actor else statement.actor, "bold"),
            " · ",
            Content.styled(topic.name if topic else statement.topic, "bold"),
            "  ",
            stance_content(statement.stance),
        ]
        if detail.previous is not None and detail.previous.stance != statement.stance:
            head += ["  ", Content.styled(f"↻ was {str(detail.previous.stance).upper()}", "")]
        heading.update(Content.assemble(*head))

        self.query_one("#st-claim", Static).update(
            Content.assemble(
                Content.styled(f"“{plain(statement.claim)}”", "bold"),
                "\n",
                Content.styled(plain(statement.speaker) or "unnamed speaker", "bold"),
                Content.styled(f" {plain(statement.cue)}" if statement.cue else "", "italic"),
                " · ",
                Content(plain(statement.source)),
                " · ",
                Content(datetime_text(statement.published)),
                Content.styled(f" ({age_text(statement.published, now)})", "dim"),
            )
        )
        self.query_one("#st-why", Static).update(self._why(statement))
        self.query_one("#st-article", Static).update(self._article(statement, detail.item))
        self.query_one("#st-outlets", Static).update(self._outlets(detail.outlets))
        link = statement.link or (detail.item.link if detail.item else "")
        self.query_one("#st-link", Static).update(
            Content.assemble(
                Content.styled("Link  ", "bold"),
                Content.styled(plain(link), "underline") if link else Content("(none)"),
            )
        )

    def _why(self, statement: Statement) -> Content:
        def row(label: str, value: str) -> Content:
            return Content.assemble(
                Content.styled(f"  {label:<13}", "dim"), Content(value or "-"), "\n"
            )

        speaker = plain(statement.speaker) or "(none named)"
        if statement.carried:
            speaker += "  (carried over from an earlier sentence)"
        return Content.assemble(
            Content.styled("Why it matched\n", "bold"),
            row("cue", plain(statement.cue)),
            row("named as", plain(statement.alias)),
            row("speaker", speaker),
            row("topic words", ", ".join(plain(w) for w in statement.topic_words)),
            row("condition", plain(statement.condition) if statement.condition else "-"),
        ).rstrip()

    def _article(self, statement: Statement, item: Item | None) -> Content:
        if item is None:
            return Content.styled("The article is no longer stored.", "dim")
        body = Content(strip_controls(item.summary).strip())
        span = claim_span(body.plain, plain(statement.claim))
        if span is not None:
            body = body.stylize("bold reverse", *span)
        return Content.assemble(
            Content.styled("Article", "bold"),
            Content.styled("  (the claim is highlighted)\n" if span else "\n", "dim"),
            Content.styled(plain(item.title) or "(untitled)", "bold underline"),
            "\n",
            body,
        )

    def _outlets(self, items: tuple[Item, ...]) -> Content:
        outlets = len({item.source for item in items})
        lines: list[Content | str] = [
            Content.styled(
                f"Reported by {outlets} outlet{'s' if outlets != 1 else ''}"
                f" ({len(items)} item{'s' if len(items) != 1 else ''})\n",
                "bold",
            )
        ]
        for item in items:
            lines += [
                "  ",
                Content.styled(plain(item.source) or "unknown outlet", "bold"),
                "  ",
                Content(datetime_text(item.published)),
                "  ",
                Content(plain(item.title)),
                "\n    ",
                Content.styled(plain(item.link) or "(no link)", "dim"),
                "\n",
            ]
        return Content.assemble(*lines)

    def _link(self) -> str:
        detail = self.detail
        if detail is None or detail.statement is None:
            return ""
        return detail.statement.link or (detail.item.link if detail.item else "")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open_link", "copy_link"):
            return True if self._link() else None
        return True

    def action_open_link(self) -> None:
        link = self._link()
        if link:
            self._open_in_browser(link)

    @work(thread=True, exclusive=True, group="browser", exit_on_error=False)
    def _open_in_browser(self, link: str) -> None:
        # Off the event loop: starting a browser can take a while. And only a
        # graphical one: with no display, `webbrowser` falls back to lynx or
        # w3m in this very terminal, on top of the dashboard.
        import webbrowser

        try:
            browser = webbrowser.get()
        except webbrowser.Error:
            browser = None
        console = isinstance(browser, webbrowser.GenericBrowser) and not isinstance(
            browser, webbrowser.BackgroundBrowser
        )
        if browser is None or console:
            self.app.notify(
                f"No graphical browser here; press c to copy the link instead. {link}",
                title="Open in browser",
                severity="warning",
                markup=False,
            )
            return
        opened = browser.open(link)
        self.app.notify(
            f"Opening {link}" if opened else f"The browser did not open {link}",
            markup=False,
            severity="information" if opened else "warning",
        )

    def action_copy_link(self) -> None:
        link = self._link()
        if link:
            # OSC 52: the terminal puts it on the clipboard (tmux needs set-clipboard on).
            self.app.copy_to_clipboard(link)
            self.notify(f"Copied {link}", markup=False)

    def action_back(self) -> None:
        self.dismiss()
