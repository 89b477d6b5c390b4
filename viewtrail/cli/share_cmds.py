"""`viewtrail share ...`: create, list and revoke share links, read-only links to a label's report served by
`viewtrail serve` at /report/<token> (docs/dashboard.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from viewtrail.cli._common import CsvOption, friendly_errors, out, print_rows, writable_warehouse

if TYPE_CHECKING:
    from viewtrail.api.store import Store
    from viewtrail.app.share_links import AfterShareWrite

share_app = typer.Typer(
    help="Create, list and revoke share links: read-only links to a label's report on `viewtrail serve`.",
    no_args_is_help=True,
)


def _remember() -> tuple[Store, AfterShareWrite]:
    """The server's store and the after_write that shows it a new or revoked link at once."""
    from viewtrail.api.settings import api_settings
    from viewtrail.api.store import Store
    from viewtrail.dashboard.sharing import remember

    store = Store(api_settings().store_path)
    return store, remember(store)


def share_create(
    label: Annotated[str, typer.Argument(help="The label whose report the link shows.")],
    days: Annotated[int, typer.Option("--days", help="How long the link works, 1 to 365 days.")] = 30,
    base_url: Annotated[
        str, typer.Option("--base-url", help="Where `viewtrail serve` is reached, to print the whole link.")
    ] = "http://127.0.0.1:8000",
) -> None:
    """Create a share link to a label's report and print it once (the last line of the output)."""
    from viewtrail.app.share_links import create_share_link
    from viewtrail.dashboard.sharing import SIGNING_KEY

    store, after_write = _remember()
    link, token = create_share_link(
        label, days, key=store.signing_key(SIGNING_KEY), open_warehouse=writable_warehouse, after_write=after_write
    )
    out.print(
        f"Created share link {link.link_id} to the report of {link.label!r}, valid until "
        f"{link.expires_at:%Y-%m-%d %H:%M} UTC; it is shown only now:",
        markup=False,
    )
    typer.echo(f"{base_url.rstrip('/')}/report/{token}")


def share_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    as_csv: CsvOption = False,
) -> None:
    """List share links (id, label, created, expires, revoked, state); never their tokens."""
    from functools import partial

    from viewtrail.app.share_links import list_share_links
    from viewtrail.clock import utc_now

    links = list_share_links(open_warehouse=partial(writable_warehouse, create=False))
    now = utc_now()
    columns = ("link_id", "label", "created_at", "expires_at", "revoked_at", "state")
    listed = [
        {
            "link_id": link.link_id,
            "label": link.label,
            "created_at": link.created_at.isoformat(),
            "expires_at": link.expires_at.isoformat(),
            "revoked_at": link.revoked_at.isoformat() if link.revoked_at else None,
            "state": link.state(now),
        }
        for link in links
    ]
    if print_rows(listed, as_json=as_json, as_csv=as_csv, columns=columns):
        return
    if not links:
        out.print("No share links yet; create one with `viewtrail share create LABEL`.", markup=False)
        return
    table = Table(title=f"{len(links)} share link(s)")
    for name in ("id", "label", "created (UTC)", "expires (UTC)", "state"):
        table.add_column(name)
    for link in links:
        table.add_row(
            link.link_id,
            link.label,
            f"{link.created_at:%Y-%m-%d %H:%M}",
            f"{link.expires_at:%Y-%m-%d %H:%M}",
            link.state(now),
        )
    out.print(table)


def share_revoke(link_id: Annotated[str, typer.Argument(help="The link's id, from `viewtrail share list`.")]) -> None:
    """Revoke a share link: it opens nothing from now on (the server answers 410)."""
    from functools import partial

    from viewtrail.app.share_links import revoke_share_link

    _, after_write = _remember()
    link = revoke_share_link(link_id, open_warehouse=partial(writable_warehouse, create=False), after_write=after_write)
    out.print(f"{link.link_id} ({link.label}) is revoked.", markup=False)


def register(app: typer.Typer) -> None:
    share_app.command(
        name="create",
        epilog=(
            "Examples:\n\n"
            "    viewtrail share create launch\n\n"
            "    viewtrail share create launch --days 7 --base-url https://stats.example.com"
        ),
    )(friendly_errors(share_create))
    share_app.command(name="list", epilog="Examples:\n\n    viewtrail share list\n\n    viewtrail share list --json")(
        friendly_errors(share_list)
    )
    share_app.command(name="revoke", epilog="Examples:\n\n    viewtrail share revoke sl_1a2b3c4d5e6f")(
        friendly_errors(share_revoke)
    )
    app.add_typer(share_app, name="share")
