"""The Teams app package: manifest valid against the official v1.17 schema, icons, zip."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from bot.teams.package import (
    APP_ID_PLACEHOLDER,
    DOMAIN_PLACEHOLDER,
    TeamsPackageError,
    assets,
    build_teams_package,
    manifest_template,
    render_manifest,
)
from tests.fakes.teams import APP_ID

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).with_name("MicrosoftTeams.v1.17.schema.json")).read_text())
DOMAIN = "gatepass.example.com"


def schema_errors(manifest: dict[str, Any]) -> list[str]:
    validator = Draft4Validator(SCHEMA)
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(manifest)]


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGBA rows of an 8-bit RGBA PNG with unfiltered rows (ours)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = {}, 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunks[kind] = chunks.get(kind, b"") + data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    width, height, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color_type) == (8, 6)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + width * 4
    rows = [raw[y * stride : (y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows)
    return width, height, [row[1:] for row in rows]


def test_template_has_placeholders_and_personal_commands() -> None:
    template = manifest_template()
    assert template["id"] == APP_ID_PLACEHOLDER
    assert template["validDomains"] == [DOMAIN_PLACEHOLDER]
    [bot] = template["bots"]
    assert bot["botId"] == APP_ID_PLACEHOLDER
    assert bot["scopes"] == ["personal", "team"]  # team: approval asks in a channel
    [commands] = bot["commandLists"]
    assert [c["title"] for c in commands["commands"]] == ["request", "list", "pending", "help"]


def test_rendered_manifest_is_valid_against_the_official_schema() -> None:
    manifest = render_manifest(app_id=APP_ID.upper(), domain="Gatepass.Example.com.")
    assert schema_errors(manifest) == []
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID
    assert manifest["validDomains"] == [DOMAIN]
    assert manifest["developer"]["websiteUrl"] == f"https://{DOMAIN}/"
    assert "{{" not in json.dumps(manifest)


def test_schema_catches_a_broken_manifest() -> None:
    manifest = render_manifest(app_id=APP_ID, domain=DOMAIN)
    manifest["bots"][0]["scopes"] = ["everywhere"]
    del manifest["accentColor"]
    assert len(schema_errors(manifest)) == 2


def test_package_zip_holds_manifest_and_icons_at_its_root(tmp_path: Path) -> None:
    path = build_teams_package(app_id=APP_ID, domain=DOMAIN, out=tmp_path / "out" / "app.zip")

    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color, outline = archive.read("color.png"), archive.read("outline.png")
    assert schema_errors(manifest) == []
    assert manifest["bots"][0]["botId"] == APP_ID
    assert png_pixels(color)[:2] == (192, 192)
    assert png_pixels(outline)[:2] == (32, 32)


def test_package_into_a_directory_is_reproducible(tmp_path: Path) -> None:
    first = build_teams_package(app_id=APP_ID, domain=DOMAIN, out=tmp_path)
    data = first.read_bytes()
    second = build_teams_package(app_id=APP_ID, domain=DOMAIN, out=tmp_path)
    assert first == second == tmp_path / "gatepass-teams.zip"
    assert second.read_bytes() == data


def test_outline_icon_is_white_on_transparent_and_color_icon_opaque() -> None:
    _, _, rows = png_pixels(assets().joinpath("outline.png").read_bytes())
    pixels = [row[i : i + 4] for row in rows for i in range(0, len(row), 4)]
    assert all(p[3] == 0 or p[:3] == b"\xff\xff\xff" for p in pixels)
    assert any(p[3] == 0 for p in pixels) and any(p[3] == 255 for p in pixels)
    _, _, rows = png_pixels(assets().joinpath("color.png").read_bytes())
    assert all(row[i + 3] == 255 for row in rows for i in range(0, len(row), 4))


@pytest.mark.parametrize("name", ["manifest.json", "color.png", "outline.png"])
def test_repository_copies_match_the_packaged_assets(name: str) -> None:
    assert (ROOT / "teams" / name).read_bytes() == assets().joinpath(name).read_bytes()


@pytest.mark.parametrize("app_id", ["", "not-a-guid", "{" + APP_ID + "}", APP_ID + "0"])
def test_app_id_must_be_a_guid(app_id: str, tmp_path: Path) -> None:
    with pytest.raises(TeamsPackageError, match="is not a GUID"):
        build_teams_package(app_id=app_id, domain=DOMAIN, out=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "domain",
    [
        "",
        "localhost",
        "https://gatepass.example.com",
        "gatepass.example.com:443",
        "gatepass.example.com/api",
        "-bad.example.com",
        "bad_host.example.com",
        "10.0.0.1",
        "a" * 64 + ".example.com",
    ],
)
def test_domain_must_be_a_host_name(domain: str, tmp_path: Path) -> None:
    with pytest.raises(TeamsPackageError, match="is not a host name"):
        build_teams_package(app_id=APP_ID, domain=domain, out=tmp_path)
