"""A directory's place on its filesystem, from a mount table (orchestrator/mounts.py): what
lets drctl see that a bind mount, or a second mount of one filesystem, makes two names one
directory, where names and realpath cannot. The table below is a real one's shape: a root
filesystem, /tmp and /srv on it, a tmpfs, a bind of a directory inside /srv, a path with a
space (escaped as the kernel writes it) and two mounts stacked on one point."""

from __future__ import annotations

import pytest

from orchestrator.mounts import Place, parse_mount_table, place, same_place

TABLE = "\n".join(
    [
        "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
        "23 22 0:21 / /proc rw,nosuid - proc proc rw",
        "24 22 0:30 / /run rw - tmpfs tmpfs rw",
        "25 22 254:16 / /srv rw - ext4 /dev/vdb rw",
        "26 22 254:16 /core-banking/docs /var/spool/dr rw - ext4 /dev/vdb rw",
        "27 22 254:16 /core\\040banking /mnt/with\\040space rw - ext4 /dev/vdb rw",
        "28 22 0:40 / /mnt/stack rw - tmpfs tmpfs rw",
        "29 22 254:16 /archive /mnt/stack rw - ext4 /dev/vdb rw",
        "",
        "a line that is not one",
    ]
)
MOUNTS = parse_mount_table(TABLE)


def test_the_table_is_read_in_order_with_escapes_decoded() -> None:
    assert len(MOUNTS) == 8
    assert (MOUNTS[4].point, MOUNTS[4].device, MOUNTS[4].root) == (
        "/var/spool/dr",
        "254:16",
        "/core-banking/docs",
    )
    assert (MOUNTS[5].point, MOUNTS[5].root) == ("/mnt/with space", "/core banking")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", Place("254:0", "/")),
        ("/srv", Place("254:16", "/")),
        ("/srv/core-banking/docs/a.txt", Place("254:16", "/core-banking/docs/a.txt")),
        ("/srv2/x", Place("254:0", "/srv2/x")),  # /srv2 is not inside /srv
        ("/var/spool/dr", Place("254:16", "/core-banking/docs")),
        ("/var/spool/dr/drill-1", Place("254:16", "/core-banking/docs/drill-1")),
        ("/var/spool", Place("254:0", "/var/spool")),
        ("//var/spool/dr/./x/../y", Place("254:16", "/core-banking/docs/y")),
        ("/mnt/with space/ledger", Place("254:16", "/core banking/ledger")),
        ("/mnt/stack/z", Place("254:16", "/archive/z")),  # the last mount made there shows
        ("/run", Place("0:30", "/")),
    ],
)
def test_a_path_is_placed_by_the_longest_mount_point_holding_it(path: str, expected: Place) -> None:
    assert place(path, MOUNTS) == expected


def test_no_table_places_nothing() -> None:
    assert place("/srv", ()) is None
    assert same_place("/srv", "/srv", ()) is None


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("/var/spool/dr", "/srv/core-banking/docs"),  # the bind itself
        ("/var/spool/dr/drill-1", "/srv/core-banking"),  # inside a live directory
        ("/srv/core-banking", "/var/spool/dr"),  # either way round
        ("/srv", "/mnt/stack"),  # /archive of the same filesystem
    ],
)
def test_names_that_one_mount_makes_one_directory_are_one_place(one: str, other: str) -> None:
    found = same_place(one, other, MOUNTS)
    assert found is not None
    assert found[0].device == found[1].device == "254:16"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("/var/spool/dr", "/srv/core-banking/statements"),  # siblings on one filesystem
        ("/var/spool", "/srv/core-banking/docs"),  # the mount point's parent is elsewhere
        ("/run/x", "/x"),  # one path on two filesystems
        ("/srv2", "/srv"),
    ],
)
def test_directories_apart_stay_apart(one: str, other: str) -> None:
    assert same_place(one, other, MOUNTS) is None
