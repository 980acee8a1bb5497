"""Outbound URLs the service is told to call (webhooks, a SMART client's jwks_url): public
addresses only, unless the deployment allows private ones (a lab network, or tests)."""

import ipaddress
import socket
from urllib.parse import urlsplit

from service.errors import InvalidInput


class UrlNotAllowed(InvalidInput):
    code = "url-not-allowed"


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise UrlNotAllowed(f"The host {host!r} does not resolve.") from exc
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def check_url(url: str, *, allow_private: bool) -> None:
    """http(s) only; a name resolving to a loopback, private, link-local or reserved address is
    refused, so that a subscription cannot make the service probe its own network (SSRF)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlNotAllowed("The URL must be http(s)://host/...")
    if parts.username or parts.password:
        raise UrlNotAllowed("Put no credentials in the URL; deliveries are signed instead.")
    if allow_private:
        return
    for address in _addresses(parts.hostname):
        if not address.is_global or address.is_multicast:
            raise UrlNotAllowed(
                f"{parts.hostname} is a private or loopback address; this deployment only "
                "calls public ones (BACKOFFICE_ALLOW_PRIVATE_WEBHOOK_ADDRESSES)."
            )
