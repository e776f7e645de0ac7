"""The streamed bodies of Download and Upload (README: Large bodies).

Client.download returns a Download (the answer's head, then the body's
chunks as you iterate); Client.upload sends the pieces upload_chunks makes
of bytes, a binary file or an iterable of bytes, never holding more than one
piece of a file. Used by gitlab_gateway.client; the classes here are public
for type checks and isinstance.
"""
import io
import os
import stat

import grpc

from gitlab_gateway.errors import error_from_rpc
from gitlab_gateway.v1 import gateway_pb2

CHUNK_SIZE = 1 << 20  # 1 MiB: the gateway's own chunk size


class Download:
    """An open Download stream whose head has arrived.

    response: the head (a gateway.v1.Response without body: status_code,
    headers, page, rate_limit, attempts). Iterating yields the body's chunks
    (bytes, at most 1 MiB each) in order, once; a transfer failing mid-body
    raises the GitlabError, never ends early. close() (or leaving a `with`
    block) cancels the rest of the transfer.

        with gw.download(path) as body:
            print(body.status_code, body.header("content-type"))
            for chunk in body:
                out.write(chunk)
    """

    def __init__(self, stream, response):
        self._stream = stream
        self.response = response

    @property
    def status_code(self):
        return self.response.status_code

    @property
    def headers(self):
        """The answer's headers as (name, value) pairs, in order."""
        return [(h.name, h.value) for h in self.response.headers]

    def header(self, name, default=None):
        """The first header called `name` (case-insensitive), else default."""
        name = name.lower()
        return next((h.value for h in self.response.headers
                     if h.name.lower() == name), default)

    def __iter__(self):
        try:
            for chunk in self._stream:
                if chunk.WhichOneof("chunk") == "data":
                    yield chunk.data
        except grpc.RpcError as error:
            raise error_from_rpc(error) from None

    def read(self):
        """The whole body as bytes (only for bodies that fit in memory)."""
        return b"".join(self)

    def close(self):
        self._stream.cancel()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_download(stream):
    """Reads the head of a Download stream: a Download, or raises the
    stream's GitlabError (e.g. GitlabNotFoundError for GitLab's 404)."""
    try:
        first = next(stream)
    except StopIteration:
        raise ValueError("Download stream ended without a head") from None
    except grpc.RpcError as error:
        raise error_from_rpc(error) from None
    if first.WhichOneof("chunk") != "head":
        stream.cancel()
        raise ValueError("Download stream did not start with a head")
    return Download(stream, first.head)


def body_size(body):
    """The bytes `body` will yield when that is known without reading it:
    bytes-like bodies, io.BytesIO, the rest of a regular file opened with
    open(..., "rb"); else None (sent chunked). A file object wrapping
    another (gzip, codecs) is None too: its descriptor's size is not its
    content's."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return memoryview(body).nbytes
    if isinstance(body, io.BytesIO):
        return max(body.getbuffer().nbytes - body.tell(), 0)
    if isinstance(body, (io.FileIO, io.BufferedReader, io.BufferedRandom)):
        try:
            info = os.fstat(body.fileno())
            position = body.tell()
        except (OSError, ValueError, io.UnsupportedOperation):
            return None
        if not stat.S_ISREG(info.st_mode):
            return None  # a pipe or socket: read until EOF, send chunked
        return max(info.st_size - position, 0)
    return None


def body_pieces(body, chunk_size=CHUNK_SIZE):
    """The pieces of `body` (bytes-like, binary file object with read(), or
    an iterable of bytes-like objects), read lazily."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        view = memoryview(body).cast("B")
        for start in range(0, len(view), chunk_size):
            yield bytes(view[start:start + chunk_size])
        return
    if hasattr(body, "read"):
        while True:
            piece = body.read(chunk_size)
            if not piece:
                return
            if isinstance(piece, str):
                raise TypeError("upload: the file is open in text mode; "
                                "open it with 'rb'")
            yield piece
        return
    if isinstance(body, str):
        raise TypeError("upload: body is a str; give bytes (e.g. "
                        "text.encode()) or a binary file")
    for piece in body:
        if isinstance(piece, str):
            raise TypeError("upload: the iterable yielded a str; yield bytes")
        if piece:
            yield bytes(piece)


def upload_chunks(request, body, size, chunk_size=CHUNK_SIZE):
    """The UploadChunk messages of one Upload: the request (and size when
    known, sent as Content-Length), then the body's pieces."""
    first = gateway_pb2.UploadChunk(request=request)
    if size is not None:
        first.size = size
    yield first
    for piece in body_pieces(body, chunk_size):
        yield gateway_pb2.UploadChunk(data=piece)
