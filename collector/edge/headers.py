"""Security headers on every response: a strict Content-Security-Policy on HTML, HSTS over HTTPS,
``no-store`` on the API, and the usual nosniff, frame and referrer headers."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP_HTML = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
HSTS = "max-age=31536000"


class SecurityHeaders:
    """Add security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        path = str(scope.get("path", ""))
        api = path.startswith("/api/")
        # FastAPI's own /docs pages load their script from a CDN: they keep the other headers only.
        csp = path not in ("/docs", "/redoc", "/docs/oauth2-redirect")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                add = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                       (b"referrer-policy", b"no-referrer")]
                if csp and content_type.startswith(b"text/html"):
                    add.append((b"content-security-policy", CSP_HTML.encode()))
                if https:
                    add.append((b"strict-transport-security", HSTS.encode()))
                if api:
                    add.append((b"cache-control", b"no-store"))
                headers += [(k, v) for k, v in add if k not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
