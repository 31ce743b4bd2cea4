"""The access code on disk: made once with 8 digits, stored only as a salted hash (0600), an
older plain code migrated with a warning, a folder or a read-only dir a clear error."""

from __future__ import annotations

import os
import stat

import pytest

from firmware.access import (
    AccessCode,
    AccessError,
    describe,
    ensure_access_code,
    hash_code,
    link,
    load_access_code,
    reset_access_code,
    verify,
)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_first_start_makes_an_8_digit_code_stored_hashed_and_owner_only(tmp_path):
    made = ensure_access_code(tmp_path, "")
    assert made.fresh is not None and len(made.fresh) == 8 and made.fresh.isdigit()
    stored = (tmp_path / "access_code").read_text()
    assert made.fresh not in stored and stored.startswith("scrypt$")
    assert mode(tmp_path / "access_code") == 0o600
    assert made.check(made.fresh) and not made.check("00000000") and not made.check("")
    again = ensure_access_code(tmp_path, "")
    assert again.fresh is None and again.check(made.fresh)      # never shown a second time
    assert "access-code --reset" in describe(again) and made.fresh not in describe(again)


def test_hash_is_salted_and_checked_in_full():
    one, two = hash_code("12345678"), hash_code("12345678")
    assert one != two and verify("12345678", one) and verify("12345678", two)
    assert not verify("12345679", one) and not verify("12345678", "scrypt$garbage")
    assert not verify("12345678", "plain-text")


def test_an_older_plain_code_keeps_working_is_hashed_in_place_and_warned(tmp_path):
    (tmp_path / "access_code").write_text("123456\n")
    access = ensure_access_code(tmp_path, "")
    assert access.check("123456") and access.fresh == "123456"
    assert "only 6 characters" in access.warning and "--reset" in access.warning
    assert "123456" not in (tmp_path / "access_code").read_text()


def test_reset_makes_a_new_code_the_running_web_picks_up(tmp_path):
    first = ensure_access_code(tmp_path, "")
    web_side = load_access_code(tmp_path, "")             # what another process checks against
    assert web_side.fresh is None and web_side.check(first.fresh)
    new = reset_access_code(tmp_path)
    os.utime(tmp_path / "access_code", (1, 1))             # mtime granularity: make the change visible
    assert new.fresh != first.fresh
    assert web_side.check(new.fresh) and not web_side.check(first.fresh)


def test_configured_code_is_used_and_never_written(tmp_path):
    access = ensure_access_code(tmp_path, "correct horse")
    assert access.check("correct horse") and not (tmp_path / "access_code").exists()
    assert "config file" in describe(access)


def test_access_code_a_folder_is_a_clear_error(tmp_path):
    (tmp_path / "access_code").mkdir()
    with pytest.raises(AccessError, match="is a folder, not the access code file"):
        ensure_access_code(tmp_path, "")


def test_read_only_data_dir_is_a_clear_error(tmp_path, monkeypatch):
    """CI runs as root, which writes through chmod; the read-only file system is faked instead."""
    import errno

    from firmware import files

    def read_only(path, flags, mode=0o777):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(files.os, "open", read_only)
    with pytest.raises(AccessError, match="cannot save the access code .*Read-only file system"):
        ensure_access_code(tmp_path, "")


def test_binary_access_file_is_a_clear_error(tmp_path):
    (tmp_path / "access_code").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(AccessError, match="not an access code file"):
        ensure_access_code(tmp_path, "")


def test_link_carries_the_code_in_the_fragment():
    assert link("192.168.1.5", 8080, "12345678") == "http://192.168.1.5:8080/#code=12345678"
    assert link("::1", 80) == "http://[::1]:80/"


def test_no_code_means_writes_off():
    assert not AccessCode("").enabled and not AccessCode("").check("anything")
