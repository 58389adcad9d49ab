"""What uvicorn answers to a request it cannot parse (a raw non-ASCII byte in the path, a bad
Content-Length, a request line over its limit): the JSON envelope with HTTP 400, as every
other answer (contract §1), instead of its plain-text "Invalid HTTP request received.".
`uvicorn[standard]` brings httptools, which uvicorn then parses with."""

from __future__ import annotations

import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from esign.api import encode

_BODY = orjson.dumps(
    encode.failure(
        [
            "Error: The HTTP request could not be read: its request line, a header or the "
            "framing of its body is malformed."
        ],
        ["invalid_http"],
    )
)


class EnvelopeHttpToolsProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        body = _BODY
        content = [STATUS_LINE[400]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n",
            b"\r\n",
            body,
        ]
        self.transport.write(b"".join(content))
        self.transport.close()
