"""The images of a request, read into memory (never to disk) under a size limit: the body
itself, or each file of a multipart form."""

from __future__ import annotations

from typing import NamedTuple

import anyio
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request


class RequestError(Exception):
    """A request the server cannot answer as asked; ``status`` is the HTTP status to send."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class ClientGone(Exception):
    """The client closed the connection before its request was whole: nobody to answer, and
    no fault of the server's (counted with status 499, as nginx does, not as a 500)."""


class Upload(NamedTuple):
    name: str | None  # the file name a form gave, None for a bare body
    data: bytes


async def read_uploads(
    request: Request, max_bytes: int, max_images: int, seconds: float
) -> list[Upload]:
    """The images sent: a multipart/form-data body's files (parts with a file name), or the
    whole body as one image whatever its content type. A body not whole within ``seconds``
    is cut off (408), so that slow senders cannot hold the server's connections; a form is
    parsed in a thread, so that a body of many parts never holds the event loop."""
    try:
        with anyio.fail_after(seconds):
            body = await _read_body(request, max_bytes)
    except TimeoutError:
        raise RequestError(
            408, f"the request body did not arrive within {seconds:g} s; send it at once"
        ) from None
    except ClientDisconnect:
        raise ClientGone from None
    if not body:
        raise RequestError(
            400,
            "empty body: send an image as the body, or images as files "
            "of a multipart/form-data form",
        )
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data":
        return [Upload(None, body)]
    boundary = options.get(b"boundary")
    if not boundary:
        raise RequestError(400, "multipart/form-data without a boundary in its Content-Type")
    parts = await anyio.to_thread.run_sync(_parse_form, body, boundary)
    uploads = [u for u in parts if u.name is not None]
    if not uploads:
        raise RequestError(
            400,
            "the form holds no file: send each image as a file field (curl -F image=@photo.jpg)",
        )
    if len(uploads) > max_images:
        raise RequestError(
            413,
            f"{len(uploads)} images in one request, more than the limit "
            f"of {max_images}; send them in several requests",
        )
    return uploads


async def _read_body(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestError(400, f"Content-Length {declared!r} is not a number of bytes")
        if int(declared) > max_bytes:
            raise RequestError(413, _too_large(int(declared), max_bytes))
    chunks, size = [], 0
    async for chunk in request.stream():  # chunked bodies are counted as they arrive
        size += len(chunk)
        if size > max_bytes:
            raise RequestError(413, _too_large(size, max_bytes, at_least=True))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int, at_least: bool = False) -> str:
    return (
        f"request body of {'more than ' if at_least else ''}{size:,} bytes, over the "
        f"limit of {limit:,} (deepres serve --max-bytes)"
    )


def _parse_form(body: bytes, boundary: bytes) -> list[Upload]:
    """Every part of the form: (file name, or None for a plain field; its bytes)."""
    form = _Form()
    try:
        parser = MultipartParser(boundary, form.callbacks())
        parser.write(body)
        parser.finalize()
    except MultipartParseError as err:
        raise RequestError(400, f"malformed multipart/form-data body: {err}") from None
    if not form.ended:
        raise RequestError(400, "truncated multipart/form-data body: it has no closing boundary")
    return form.parts


class _Form:
    """The parser's callbacks, gathering each part's headers and bytes."""

    def __init__(self):
        self.parts: list[Upload] = []
        self.ended = False
        self._field, self._value = b"", b""
        self._headers: dict[bytes, bytes] = {}
        self._data: list[bytes] = []

    def callbacks(self) -> dict:
        return {
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self._data.append(data[start:end])

    def _part_end(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        filename = options.get(b"filename")
        name = filename.decode("utf-8", "replace") if filename is not None else None
        self.parts.append(Upload(name, b"".join(self._data)))
        self._headers, self._data = {}, []

    def _end(self) -> None:
        self.ended = True
