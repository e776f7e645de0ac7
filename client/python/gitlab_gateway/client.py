"""Client: the gateway's three RPCs with GitLab-shaped conveniences.

    from gitlab_gateway import Client, project_path, GitlabNotFoundError
    with Client("localhost:50051") as gw:
        project = gw.get_json(project_path("group/demo"))
        for issue in gw.paginate(project_path("group/demo", "issues")):
            print(issue["iid"])

A Client wraps one grpc.Channel and may be used from several threads at once
(as the channel may). Failed calls raise the exceptions of
gitlab_gateway.errors; keyword arguments a helper does not know are passed to
gateway.v1.Request as fields, so fields added to the API later work as
`gw.get(path, new_field=...)` without a client release.
"""
import json as jsonlib
import os

import grpc
from google.protobuf import duration_pb2

from gitlab_gateway.errors import error_from_rpc, error_from_status
from gitlab_gateway.transfers import (CHUNK_SIZE, body_size, open_download,
                                      upload_chunks)
from gitlab_gateway.v1 import gateway_pb2, gateway_pb2_grpc

DEFAULT_TARGET = "localhost:50051"


def _duration(seconds):
    d = duration_pb2.Duration()
    d.FromNanoseconds(int(seconds * 1e9))
    return d


def _pairs(mapping_or_pairs):
    if mapping_or_pairs is None:
        return []
    items = (mapping_or_pairs.items() if hasattr(mapping_or_pairs, "items")
             else mapping_or_pairs)
    out = []
    for key, value in items:
        if isinstance(value, (list, tuple)):
            out.extend((str(key), _text(v)) for v in value)
        else:
            out.append((str(key), _text(value)))
    return out


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def make_request(path="", method="", *, query=None, headers=None, json=None,
                 text=None, content=None, timeout=None, credentials=None,
                 **fields):
    """A gateway.v1.Request. query/headers: a dict (list values repeat the
    key) or (key, value) pairs; json: any JSON value, sent as the text body;
    timeout: seconds; credentials: a Credentials message or a dict such as
    {"private_token": "glpat-..."}; other keywords are Request fields."""
    request = gateway_pb2.Request(path=path, method=method.upper(), **fields)
    for key, value in _pairs(query):
        request.query.add(key=key, value=value)
    for name, value in _pairs(headers):
        request.headers.add(name=name, value=value)
    bodies = [b for b in (json, text, content) if b is not None]
    if len(bodies) > 1:
        raise ValueError("give at most one of json, text, content")
    if json is not None:
        request.text = jsonlib.dumps(json)
    elif text is not None:
        request.text = text
    elif content is not None:
        request.content = bytes(content)
    if timeout is not None:
        request.timeout.CopyFrom(_duration(timeout))
    if credentials is not None:
        if isinstance(credentials, dict):
            credentials = gateway_pb2.Credentials(**credentials)
        request.credentials.CopyFrom(credentials)
    return request


def json_body(response):
    """The response's body parsed as JSON (None when it is empty)."""
    return jsonlib.loads(response.text) if response.text else None


def raise_for_error(response):
    """Raise the exception of a failed BatchExecute item; else return it."""
    if response.HasField("error") and response.error.code != 0:
        raise error_from_status(response.error)
    return response


def _setting(value, env):
    """value, else $env when value is None; "" either way means unset."""
    if value is None:
        value = os.environ.get(env, "")
    return value or None


def _read(path):
    with open(path, "rb") as f:  # OSError names the path
        return f.read()


def _caller_token(caller_token):
    """The caller token (option, else $GITLAB_GATEWAY_CALLER_TOKEN),
    trimmed, or None. One with a character gRPC metadata cannot carry is
    refused naming the option and variable, never the value (grpc's own
    error would show it)."""
    token = (_setting(caller_token, "GITLAB_GATEWAY_CALLER_TOKEN")
             or "").strip()
    if any(not 0x21 <= ord(c) <= 0x7E for c in token):
        raise ValueError("the caller token (caller_token or "
                         "GITLAB_GATEWAY_CALLER_TOKEN) may hold only visible "
                         "ASCII characters (0x21-0x7E)")
    return token or None


def _read_ca(path):
    pem = _read(path)
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise ValueError(f"CA file {path}: no PEM certificate "
                         "(-----BEGIN CERTIFICATE-----)")
    return pem


def _tls_credentials(tls, ca_file, cert_file, key_file):
    """grpc.ChannelCredentials for the TLS options, or None (plaintext)."""
    explicit = [n for n, v in (("ca_file", ca_file), ("cert_file", cert_file),
                               ("key_file", key_file)) if v]
    if tls is False:
        if explicit:
            raise ValueError(f"tls=False with {explicit[0]}")
        return None
    ca_file = _setting(ca_file, "GITLAB_GATEWAY_CA_FILE")
    cert_file = _setting(cert_file, "GITLAB_GATEWAY_CERT_FILE")
    key_file = _setting(key_file, "GITLAB_GATEWAY_KEY_FILE")
    if (cert_file is None) != (key_file is None):
        raise ValueError("cert_file and key_file go together "
                         "(GITLAB_GATEWAY_CERT_FILE, GITLAB_GATEWAY_KEY_FILE)")
    if not (tls or ca_file or cert_file):
        return None
    return grpc.ssl_channel_credentials(
        root_certificates=_read_ca(ca_file) if ca_file else None,
        private_key=_read(key_file) if key_file else None,
        certificate_chain=_read(cert_file) if cert_file else None)


class Client:
    """target: "host:port" (default $GITLAB_GATEWAY_TARGET or
    localhost:50051).

    The gateway's TLS and caller identity (as gitlab-gateway-cli; README:
    "Caller identity and TLS"), each defaulting to its environment variable
    when None ("" turns it off):
      ca_file ($GITLAB_GATEWAY_CA_FILE): TLS, verified by these CAs (PEM);
      cert_file, key_file ($GITLAB_GATEWAY_CERT_FILE, _KEY_FILE): a client
        certificate and key (PEM) for mTLS;
      tls: True = TLS even without files (the system's CAs), False =
        plaintext whatever the environment says, None = TLS when a file is
        set;
      caller_token ($GITLAB_GATEWAY_CALLER_TOKEN): the caller's bearer
        secret, sent as `authorization: Bearer <secret>` with every call
        (in clear without TLS); never logged or shown.
    channel_credentials (grpc.ssl_channel_credentials(...)) or channel, when
    given, replace the TLS options. metadata: more (key, value) pairs sent
    with every call. private_token/oauth_token/job_token: the GitLab
    credential sent with every request that sets none (the gateway's own
    when all are None). timeout: the deadline of each Execute, in seconds;
    streams have stream_timeout."""

    def __init__(self, target=None, *, ca_file=None, cert_file=None,
                 key_file=None, tls=None, caller_token=None,
                 channel_credentials=None, metadata=(),
                 private_token=None, oauth_token=None, job_token=None,
                 timeout=60.0, stream_timeout=None, channel=None,
                 options=()):
        self.target = target or os.environ.get("GITLAB_GATEWAY_TARGET",
                                               DEFAULT_TARGET)
        # Every check before the channel exists: a refusal leaves nothing
        # open.
        self._metadata = tuple(metadata)
        has_authorization = any(k.lower() == "authorization"
                                for k, _ in self._metadata)
        if caller_token and has_authorization:
            raise ValueError("give caller_token or an authorization "
                             "metadata entry, not both")
        if not has_authorization:
            token = _caller_token(caller_token)
            if token:
                self._metadata += (("authorization", f"Bearer {token}"),)
        tokens = {"private_token": private_token, "oauth_token": oauth_token,
                  "job_token": job_token}
        given = {k: v for k, v in tokens.items() if v is not None}
        if len(given) > 1:
            raise ValueError("give at most one of private_token, "
                             "oauth_token, job_token")
        self._credentials = gateway_pb2.Credentials(**given) if given else None
        if channel is not None or channel_credentials is not None:
            if ca_file or cert_file or key_file or tls is not None:
                raise ValueError("give either channel/channel_credentials or "
                                 "ca_file/cert_file/key_file/tls")
        else:
            channel_credentials = _tls_credentials(tls, ca_file, cert_file,
                                                   key_file)
        if channel is not None:
            self._channel = channel
        elif channel_credentials is not None:
            self._channel = grpc.secure_channel(self.target,
                                                channel_credentials, options)
        else:
            self._channel = grpc.insecure_channel(self.target, options)
        self._stub = gateway_pb2_grpc.GatewayStub(self._channel)
        self.timeout = timeout
        self.stream_timeout = stream_timeout

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def stub(self):
        """The generated GatewayStub, for what the helpers do not cover."""
        return self._stub

    def _prepare(self, request):
        if isinstance(request, dict):
            request = make_request(**request)
        if (self._credentials is not None and
                not request.HasField("credentials")):
            request.credentials.CopyFrom(self._credentials)
        return request

    # --- Execute -------------------------------------------------------
    def execute(self, request_or_path, method="GET", **kwargs):
        """One call; returns the gateway.v1.Response, raises GitlabError."""
        if isinstance(request_or_path, str):
            request = make_request(request_or_path, method, **kwargs)
        else:
            request = request_or_path
        try:
            return self._stub.Execute(self._prepare(request),
                                      timeout=self.timeout,
                                      metadata=self._metadata)
        except grpc.RpcError as error:
            raise error_from_rpc(error) from None

    def get(self, path, **kwargs):
        return self.execute(path, "GET", **kwargs)

    def head(self, path, **kwargs):
        return self.execute(path, "HEAD", **kwargs)

    def post(self, path, **kwargs):
        return self.execute(path, "POST", **kwargs)

    def put(self, path, **kwargs):
        return self.execute(path, "PUT", **kwargs)

    def patch(self, path, **kwargs):
        return self.execute(path, "PATCH", **kwargs)

    def delete(self, path, **kwargs):
        return self.execute(path, "DELETE", **kwargs)

    def get_json(self, path, **kwargs):
        """GET and parse the JSON body."""
        return json_body(self.get(path, **kwargs))

    def graphql(self, query, variables=None, **kwargs):
        """POST to /api/graphql; returns the "data" member. GraphQL errors
        raise GatewayError (reason GRAPHQL_ERROR, field_violations)."""
        body = {"query": query}
        if variables is not None:
            body["variables"] = variables
        response = self.execute("", "POST", json=body,
                                api=gateway_pb2.API_GRAPHQL, **kwargs)
        return (json_body(response) or {}).get("data")

    # --- BatchExecute --------------------------------------------------
    def batch(self, requests, *, raise_errors=False):
        """Sends each request (a Request, or a dict of make_request keywords)
        on one stream, lazily; yields Responses in completion order, matched
        by Response.id. A failed item is a Response with `error` set
        (raise_for_error turns it into the exception), or raises at once
        with raise_errors=True. A failure of the whole stream raises."""
        # grpc reads `requests` on its own thread and turns an exception
        # there into a CANCELLED stream; keep it to raise it here instead.
        failure = []

        def feed():
            try:
                for r in requests:
                    yield self._prepare(r)
            except Exception as error:  # noqa: BLE001 (re-raised below)
                failure.append(error)
                raise

        stream = self._stub.BatchExecute(feed(), timeout=self.stream_timeout,
                                         metadata=self._metadata)
        try:
            for response in stream:
                yield raise_for_error(response) if raise_errors else response
        except grpc.RpcError as error:
            if failure:
                raise failure[0] from None
            raise error_from_rpc(error) from None
        finally:
            stream.cancel()

    # --- Paginate ------------------------------------------------------
    def paginate(self, request_or_path, *, pages=False, max_pages=0,
                 max_items=0, **kwargs):
        """Every page of a GitLab list, in order: yields the items (each JSON
        array element), or with pages=True each page's Response (with
        .page and .rate_limit). max_pages/max_items: 0 = no limit."""
        if isinstance(request_or_path, str):
            request = make_request(request_or_path, "GET", **kwargs)
        else:
            request = request_or_path
        stream = self._stub.Paginate(
            gateway_pb2.PaginateRequest(request=self._prepare(request),
                                        max_pages=max_pages,
                                        max_items=max_items),
            timeout=self.stream_timeout, metadata=self._metadata)
        try:
            for response in stream:
                if pages:
                    yield response
                else:
                    yield from json_body(response) or []
        except grpc.RpcError as error:
            raise error_from_rpc(error) from None
        finally:
            stream.cancel()

    # --- Download / Upload (README: Large bodies) ----------------------
    def download(self, request_or_path, method="GET", **kwargs):
        """Streams one answer's body, of any size: returns a Download once
        the answer's head arrived (status_code, headers, header(name),
        response); iterating it yields the body's chunks (bytes, at most
        1 MiB each). GitLab's non-2xx answers raise here, as execute's do
        (GitlabNotFoundError, ...); a transfer failing mid-body raises
        while iterating, never ends the iteration early. Keywords as
        execute's (e.g. headers={"Range": "bytes=1000-"} to resume).
        Bounded by stream_timeout; close() cancels.

            with gw.download(project_path(p, "jobs/7/artifacts")) as body:
                for chunk in body:
                    out.write(chunk)
        """
        if isinstance(request_or_path, str):
            request = make_request(request_or_path, method, **kwargs)
        else:
            request = request_or_path
        stream = self._stub.Download(self._prepare(request),
                                     timeout=self.stream_timeout,
                                     metadata=self._metadata)
        return open_download(stream)

    def download_to(self, request_or_path, file_or_filename, **kwargs):
        """download() into a binary file object (written from its current
        position) or a file name (created or truncated once the head
        arrived; removed again when the transfer fails, so a file that
        exists is complete). Returns the head Response."""
        with self.download(request_or_path, **kwargs) as body:
            if hasattr(file_or_filename, "write"):
                for chunk in body:
                    file_or_filename.write(chunk)
                return body.response
            try:
                with open(file_or_filename, "wb") as out:
                    for chunk in body:
                        out.write(chunk)
            except BaseException:
                try:
                    os.remove(file_or_filename)
                except OSError:
                    pass
                raise
            return body.response

    def upload(self, request_or_path, body, method="PUT", *,
               content_type=None, size=None, chunk_size=CHUNK_SIZE,
               **kwargs):
        """Streams a request body of any size to GitLab with PUT or POST
        (generic package registry, project import); returns the Response
        (as execute's), raises as execute does. Never retried.

        body: bytes-like; a binary file object, read chunk_size bytes at a
        time from its current position (never whole); or an iterable of
        bytes (e.g. a generator). size: the body's length, sent as
        Content-Length (a body of another length fails the upload); found
        by itself for bytes, io.BytesIO and regular files, else the body is
        sent chunked. content_type: the Content-Type header (replacing one
        in the headers or the request). request_or_path: a path, a Request
        or a dict of make_request keywords; other keywords as execute's.
        Bounded by stream_timeout.

            with open("tool.bin", "rb") as f:
                gw.upload(project_path(p, "packages/generic/tool/1.0/tool.bin"),
                          f, content_type="application/octet-stream")
        """
        if isinstance(request_or_path, str):
            request = make_request(request_or_path, method, **kwargs)
        elif isinstance(request_or_path, dict):
            request = make_request(**request_or_path)
        else:
            request = gateway_pb2.Request()
            request.CopyFrom(request_or_path)
        if not request.method:
            request.method = method.upper()
        if content_type is not None:
            # Replaces a Content-Type of the headers: GitLab gets one.
            kept = [gateway_pb2.Header(name=h.name, value=h.value)
                    for h in request.headers
                    if h.name.lower() != "content-type"]
            del request.headers[:]
            request.headers.extend(kept)
            request.headers.add(name="Content-Type", value=content_type)
        if not isinstance(chunk_size, int) or chunk_size <= 0:
            raise ValueError(f"chunk_size must be a positive int, not "
                             f"{chunk_size!r}")
        if size is None:
            size = body_size(body)
        # grpc reads the chunks on its own thread and turns an exception
        # there (a text-mode file, a failing generator) into a CANCELLED
        # call; keep it to raise it here instead.
        failure = []

        def feed():
            try:
                yield from upload_chunks(self._prepare(request), body, size,
                                         chunk_size)
            except Exception as error:  # noqa: BLE001 (re-raised below)
                failure.append(error)
                raise

        try:
            return self._stub.Upload(feed(), timeout=self.stream_timeout,
                                     metadata=self._metadata)
        except grpc.RpcError as error:
            if failure:
                raise failure[0] from None
            raise error_from_rpc(error) from None
