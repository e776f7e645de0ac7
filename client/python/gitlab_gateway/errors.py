"""Exceptions for failed gateway calls, named after python-gitlab's.

Every failure the gateway reports is a google.rpc.Status with typed details
(README: Errors). `error_from_status` turns one into the matching exception:

    GitlabError                      base: grpc code, reason, every detail
      GitlabHttpError                GitLab answered non-2xx: response_code,
        GitlabAuthenticationError      error_message, response_body, headers
        GitlabPermissionError
        GitlabNotFoundError (alias GitlabGetError)
        GitlabBadRequestError         field_violations
      GitlabRateLimitError           GitLab's 429 or the gateway's own limit:
                                     retry_after (seconds, or None)
      GatewayError                   refused or failed inside the gateway
                                     (bad input, upstream timeout, overload)
        CallerAuthenticationError    the gateway does not know the caller
                                     (CALLER_UNAUTHENTICATED: no or a wrong
                                     bearer secret or client certificate)
        CallerPermissionError        its policy does not allow this caller
                                     this call (CALLER_NOT_ALLOWED)
"""
import grpc

from gitlab_gateway._rpc import error_details_pb2, status_pb2
from gitlab_gateway.v1 import gateway_pb2

_DETAIL_TYPES = {
    "error_info": error_details_pb2.ErrorInfo,
    "bad_request": error_details_pb2.BadRequest,
    "resource_info": error_details_pb2.ResourceInfo,
    "retry_info": error_details_pb2.RetryInfo,
    "gitlab_error": gateway_pb2.GitLabError,
}


class GitlabError(Exception):
    """A failed call. Attributes are None/empty when the status lacks them."""

    def __init__(self, status, code):
        self.status = status  # google.rpc.Status (gitlab_gateway._rpc)
        self.code = code  # grpc.StatusCode
        self.details = decode_details(status)
        info = (self.details.get("error_info") or [None])[0]
        self.error_info = info
        self.reason = info.reason if info else ""
        self.domain = info.domain if info else ""
        gitlab = (self.details.get("gitlab_error") or [None])[0]
        self.gitlab_error = gitlab
        self.response_code = gitlab.status_code if gitlab else None
        self.error_message = (gitlab.message if gitlab and gitlab.message
                              else status.message)
        self.response_body = gitlab.body if gitlab else None
        self.headers = [(h.name, h.value) for h in gitlab.headers] if gitlab else []
        self.field_violations = {
            v.field: v.description
            for bad in self.details.get("bad_request", [])
            for v in bad.field_violations}
        retry = (self.details.get("retry_info") or [None])[0]
        self.retry_after = (retry.retry_delay.seconds +
                            retry.retry_delay.nanos / 1e9
                            if retry and retry.HasField("retry_delay") else None)
        super().__init__(self._text())

    def _text(self):
        text = f"{self.code.name}"
        if self.reason:
            text += f" {self.reason}"
        if self.response_code is not None:
            text += f" (GitLab {self.response_code})"
        return f"{text}: {self.error_message}"


class GitlabHttpError(GitlabError):
    """GitLab answered with a non-2xx status (response_code)."""


class GitlabAuthenticationError(GitlabHttpError):
    """401: the token is missing, wrong, expired or revoked."""


class GitlabPermissionError(GitlabHttpError):
    """403: the token may not do this."""


class GitlabNotFoundError(GitlabHttpError):
    """404 (GitLab also says 404 for what the token may not see)."""


GitlabGetError = GitlabNotFoundError


class GitlabBadRequestError(GitlabHttpError):
    """400/422: field_violations maps each refused field to GitLab's words."""


class GitlabRateLimitError(GitlabError):
    """429 from GitLab, or the gateway's own per-credential limit;
    retry_after is the delay GitLab or the gateway asked for, in seconds."""


class GatewayError(GitlabError):
    """The gateway refused or failed the call itself (reason says why)."""


class CallerAuthenticationError(GatewayError):
    """UNAUTHENTICATED, reason CALLER_UNAUTHENTICATED: the gateway refused
    the caller's identity (no bearer secret, a wrong one, or no client
    certificate) before anything went to GitLab."""


class CallerPermissionError(GatewayError):
    """PERMISSION_DENIED, reason CALLER_NOT_ALLOWED: the gateway's policy
    does not let this caller make this call (error_info.metadata names the
    caller and the rule)."""


_BY_REASON = {
    "GITLAB_UNAUTHENTICATED": GitlabAuthenticationError,
    "GITLAB_PERMISSION_DENIED": GitlabPermissionError,
    "GITLAB_NOT_FOUND": GitlabNotFoundError,
    "GITLAB_BAD_REQUEST": GitlabBadRequestError,
    "GITLAB_UNPROCESSABLE": GitlabBadRequestError,
    "GITLAB_RATE_LIMITED": GitlabRateLimitError,
    "GATEWAY_RATE_LIMITED": GitlabRateLimitError,
    "CALLER_RATE_LIMITED": GitlabRateLimitError,
    "CALLER_UNAUTHENTICATED": CallerAuthenticationError,
    "CALLER_NOT_ALLOWED": CallerPermissionError,
}


def decode_details(status):
    """{kind: [message, ...]} for the known detail types of a Status."""
    found = {}
    for detail in status.details:
        for name, kind in _DETAIL_TYPES.items():
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                found.setdefault(name, []).append(message)
    return found


def error_from_status(status):
    """The exception for a google.rpc.Status (e.g. a batch Response.error)."""
    try:
        code = next(c for c in grpc.StatusCode if c.value[0] == status.code)
    except StopIteration:
        code = grpc.StatusCode.UNKNOWN
    probe = GitlabError(status, code)
    cls = _BY_REASON.get(probe.reason)
    if cls is None:
        cls = GitlabHttpError if probe.gitlab_error is not None else GatewayError
    return cls(status, code)


def error_from_rpc(error):
    """The exception for a grpc.RpcError raised by a stub call."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            return error_from_status(status_pb2.Status.FromString(value))
    status = status_pb2.Status(code=error.code().value[0],
                               message=error.details() or "")
    return error_from_status(status)
