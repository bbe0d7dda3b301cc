"""Where webhooks may go: the URL rules, and the addresses a delivery may reach (no traffic is sent anywhere)."""

from __future__ import annotations

import asyncio
from ipaddress import ip_address, ip_network

import pytest

from adapters.integrations import destinations
from adapters.integrations.destinations import Destinations, IPAddress, Target
from adapters.integrations.webhooks import check_url
from adapters.settings import load_settings
from domain.errors import ValidationFailed

# Every URL of the table, and the way each must be refused by default.
REFUSED = {
    "https://169.254.169.254/latest/meta-data/": "link-local",
    "https://10.0.0.1/hook": "private",
    "https://192.168.0.1/hook": "private",
    "https://[::1]/hook": "loopback",
    "https://[fd00::1]/hook": "private",
    "https://0.0.0.0/hook": "unspecified",
    "http://localhost:5432/": "must be https",
    "https://localhost:5432/": "names this machine",
    "https://127.1/hook": "unusual notation",
    "https://2130706433/hook": "unusual notation",
    "https://0x7f000001/hook": "unusual notation",
    "https://0177.0.0.1/hook": "unusual notation",
    "https://receiver.example.com:99999/hook": "port",
    "https://receiver.example.com:0/hook": "port",
    "https://receiver.example .com/hook": "without spaces",
    "https://receiver.example.com/hook\r\nX-Injected: 1": "line breaks",
    "https://receiver.example.com/ho ok": "without spaces",
    "https://user:secret@receiver.example.com/hook": "user name or password",
    "https://@receiver.example.com/hook": "user name or password",
    "http://receiver.example.com/hook": "must be https",
    "http://127.0.0.1:9/hook": "must be https",
    "https://[::ffff:127.0.0.1]/hook": "loopback",
    "https://[::ffff:a9fe:a9fe]/hook": "link-local",
    "https://[2002:a00:1::]/hook": "private",
    "https://[64:ff9b::7f00:1]/hook": "loopback",
    "https://[fe80::1%25eth0]/hook": "zone",
    "https://100.64.0.1/hook": "not a public",
    "https://224.0.0.1/hook": "multicast",
    "https://receiver.example.123/hook": "unusual notation",
    "https://receiver_1.example.com/hook": "not a valid DNS name",
    "https://exämple.com/hook": "plain ASCII",
    "ftp://receiver.example.com/hook": "absolute https",
    "https:receiver.example.com/hook": "absolute https",
    "//receiver.example.com/hook": "absolute https",
    "": "absolute https",
}
ACCEPTED = ["https://receiver.example.com/hook", "https://receiver.example.com:8443/a/b?c=d",
            "https://93.184.215.14/hook", "https://[2606:4700::6810:84e5]/hook", "https://xn--bcher-kva.example/"]


@pytest.mark.parametrize("url", list(REFUSED))
def test_urls_that_could_reach_the_server_s_own_network_or_are_malformed_are_refused(url: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_url(url)
    assert REFUSED[url] in refused.value.message


@pytest.mark.parametrize("url", ACCEPTED)
def test_https_urls_of_public_hosts_are_accepted_as_given(url: str) -> None:
    assert check_url(url) == url


def test_loopback_and_plain_http_to_it_need_the_setting_and_nothing_else_opens_up() -> None:
    local = Destinations(allow_http_loopback=True)
    for url in ("http://127.0.0.1:9/hook", "http://localhost:5432/", "https://[::1]/hook", "http://[::1]:8080/"):
        assert local.check_url(url) == url
    for url in ("http://receiver.example.com/hook", "https://10.0.0.1/hook", "https://169.254.169.254/",
                "https://0.0.0.0/", "http://0.0.0.0:9/", "https://127.1/", "http://2130706433/"):
        with pytest.raises(ValidationFailed):
            local.check_url(url)


def test_an_allowed_network_opens_private_addresses_in_it_only_and_never_loopback() -> None:
    inside = Destinations(allowed_networks=(ip_network("10.20.0.0/16"), ip_network("fd00::/8"), ip_network("127.0.0.0/8")))
    assert inside.check_url("https://10.20.3.4/hook") == "https://10.20.3.4/hook"
    assert inside.check_url("https://[fd00::1]/hook") == "https://[fd00::1]/hook"
    for url in ("https://10.21.0.1/hook", "https://192.168.0.1/hook", "https://127.0.0.1/hook", "https://[::1]/"):
        with pytest.raises(ValidationFailed):
            inside.check_url(url)


def _resolving_to(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> list[str]:
    """The resolver (the edge) answers with ``addresses``; returns the hosts it was asked for."""
    asked: list[str] = []

    async def fake(host: str, port: int, timeout: float) -> list[IPAddress]:
        asked.append(host)
        return [ip_address(a) for a in addresses]

    monkeypatch.setattr(destinations, "addresses_of", fake)
    return asked


@pytest.mark.parametrize("address", ["169.254.169.254", "10.0.0.1", "192.168.0.1", "::1", "fd00::1", "0.0.0.0",
                                     "127.0.0.1", "::ffff:10.0.0.1"])
def test_a_delivery_to_a_name_that_resolves_to_a_refused_address_is_refused_before_connecting(
        monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    asked = _resolving_to(monkeypatch, "93.184.215.14", address)  # one bad address among good ones is enough
    with pytest.raises(ValidationFailed) as refused:
        asyncio.run(Destinations().resolve("https://receiver.example.com/hook", timeout=1))
    assert "receiver.example.com resolves to a refused address" in refused.value.message
    assert asked == ["receiver.example.com"]


def test_a_delivery_goes_to_the_address_that_was_checked_with_the_name_for_host_and_tls(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _resolving_to(monkeypatch, "93.184.215.14")
    target = asyncio.run(Destinations().resolve("https://receiver.example.com:8443/a?b=c", timeout=1))
    assert target == Target("https://93.184.215.14:8443/a?b=c", "receiver.example.com:8443", "receiver.example.com")
    _resolving_to(monkeypatch, "2606:4700::6810:84e5")
    target = asyncio.run(Destinations().resolve("https://receiver.example.com/hook", timeout=1))
    assert target.url == "https://[2606:4700::6810:84e5]:443/hook"


def test_plain_http_to_a_loopback_name_that_resolves_elsewhere_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _resolving_to(monkeypatch, "93.184.215.14")
    with pytest.raises(ValidationFailed) as refused:
        asyncio.run(Destinations(allow_http_loopback=True).resolve("http://localhost:9/hook", timeout=1))
    assert "plain http is refused" in refused.value.message


def test_the_allowed_networks_setting_is_read_and_checked() -> None:
    settings = load_settings({"NIMRS_WEBHOOKS_ALLOWED_NETWORKS": "10.20.0.0/16, fd12::/64"})
    assert settings.webhook_networks == (ip_network("10.20.0.0/16"), ip_network("fd12::/64"))
    assert load_settings({}).webhook_networks == () and not load_settings({}).webhooks_allow_http_loopback
    with pytest.raises(ValidationFailed) as refused:
        load_settings({"NIMRS_WEBHOOKS_ALLOWED_NETWORKS": "10.20.0.0/33"})
    assert refused.value.message.startswith("NIMRS_WEBHOOKS_ALLOWED_NETWORKS must be comma-separated networks")
