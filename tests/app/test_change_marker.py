"""The change marker: one process's touch is seen by another's mapping at once; a marker that
cannot be created answers "unknown" instead of failing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.storage.change_marker import SIZE, ChangeMarker
from tests.conftest import REPO_ROOT

TOUCH = (
    "import sys; from pathlib import Path; from app.storage.change_marker import ChangeMarker; "
    "ChangeMarker(Path(sys.argv[1])).touch()"
)


def test_the_token_is_stable_until_a_touch(tmp_path: Path) -> None:
    marker = ChangeMarker(tmp_path / "models" / ".changes")
    first = marker.token()
    assert first is not None and len(first) == SIZE
    assert marker.token() == first
    marker.touch()
    assert marker.token() != first
    assert (tmp_path / "models" / ".changes").stat().st_size == SIZE


def test_a_touch_in_another_process_is_seen_through_the_mapping(tmp_path: Path) -> None:
    path = tmp_path / ".changes"
    marker = ChangeMarker(path)
    seen = {marker.token()}
    for _ in range(3):
        subprocess.run(
            [sys.executable, "-c", TOUCH, str(path)], cwd=REPO_ROOT, check=True, timeout=60
        )
        token = marker.token()
        assert token not in seen
        seen.add(token)


def test_a_touch_before_any_reader_creates_the_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / ".changes"
    ChangeMarker(path).touch()
    assert path.stat().st_size == SIZE
    assert ChangeMarker(path).token() == path.read_bytes()


def test_a_marker_that_cannot_be_created_is_unknown_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    marker = ChangeMarker(blocker / ".changes")
    assert marker.token() is None
    marker.touch()  # nothing to announce to: no error either
    assert marker.token() is None


def test_close_unmaps_and_a_later_read_maps_again(tmp_path: Path) -> None:
    marker = ChangeMarker(tmp_path / ".changes")
    token = marker.token()
    marker.close()
    assert marker.token() == token
