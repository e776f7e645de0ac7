// Errors of failed gateway calls, named after python-gitlab's (and the
// Python client's). Every failure is a google.rpc.Status with typed details
// (README: Errors); errorFromStatus picks the class:
//   GitlabError                  code, codeName, reason, domain, details,
//     GitlabHttpError            errorMessage, fieldViolations, retryAfter
//       GitlabAuthenticationError  GitLab answered non-2xx: responseCode,
//       GitlabPermissionError      responseBody, headers
//       GitlabNotFoundError (= GitlabGetError)
//       GitlabBadRequestError
//     GitlabRateLimitError       GitLab's 429 or the gateway's own limit
//     GatewayError               refused or failed inside the gateway
//       CallerAuthenticationError  the gateway does not know the caller
//                                  (CALLER_UNAUTHENTICATED: no or a wrong
//                                  bearer secret or client certificate)
//       CallerPermissionError      its policy refuses the caller this call
//                                  (CALLER_NOT_ALLOWED)
'use strict';
const grpc = require('@grpc/grpc-js');
const { types } = require('./protos');

const DETAIL_TYPES = {
  errorInfo: 'google.rpc.ErrorInfo',
  badRequest: 'google.rpc.BadRequest',
  resourceInfo: 'google.rpc.ResourceInfo',
  retryInfo: 'google.rpc.RetryInfo',
  gitlabError: 'gitlab.gateway.v1.GitLabError',
};

const CODE_NAMES = Object.fromEntries(
  Object.entries(grpc.status).map(([name, value]) => [value, name]));

// {kind: [decoded detail, ...]} for the known details of a Status object
// ({code, message, details: [{typeUrl|type_url, value}]}).
function decodeDetails(status) {
  const found = {};
  for (const any of status.details ?? []) {
    const typeUrl = any.typeUrl ?? any.type_url ?? '';
    const fullName = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
    for (const [kind, name] of Object.entries(DETAIL_TYPES)) {
      if (name !== fullName) continue;
      const type = types().lookupType(name);
      const message = type.toObject(type.decode(any.value),
        { longs: Number, enums: String, defaults: true });
      (found[kind] ??= []).push(message);
    }
  }
  return found;
}

class GitlabError extends Error {
  constructor(status) {
    const details = decodeDetails(status);
    const info = details.errorInfo?.[0];
    const gitlab = details.gitlabError?.[0];
    const errorMessage = gitlab?.message || status.message || '';
    const code = status.code ?? grpc.status.UNKNOWN;
    let text = `${CODE_NAMES[code] ?? code}`;
    if (info?.reason) text += ` ${info.reason}`;
    if (gitlab) text += ` (GitLab ${gitlab.statusCode})`;
    super(`${text}: ${errorMessage}`);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.codeName = CODE_NAMES[code] ?? 'UNKNOWN';
    this.details = details;
    this.errorInfo = info ?? null;
    this.reason = info?.reason ?? '';
    this.domain = info?.domain ?? '';
    this.gitlabError = gitlab ?? null;
    this.responseCode = gitlab ? gitlab.statusCode : null;
    this.errorMessage = errorMessage;
    this.responseBody = gitlab ? gitlab.body : null;
    this.headers = gitlab ? gitlab.headers.map((h) => [h.name, h.value]) : [];
    this.fieldViolations = {};
    for (const bad of details.badRequest ?? []) {
      for (const v of bad.fieldViolations) this.fieldViolations[v.field] = v.description;
    }
    const delay = details.retryInfo?.[0]?.retryDelay;
    this.retryAfter = delay ? Number(delay.seconds) + delay.nanos / 1e9 : null;
  }
}
class GitlabHttpError extends GitlabError {}
class GitlabAuthenticationError extends GitlabHttpError {}
class GitlabPermissionError extends GitlabHttpError {}
class GitlabNotFoundError extends GitlabHttpError {}
class GitlabBadRequestError extends GitlabHttpError {}
class GitlabRateLimitError extends GitlabError {}
class GatewayError extends GitlabError {}
class CallerAuthenticationError extends GatewayError {}
class CallerPermissionError extends GatewayError {}

const BY_REASON = {
  GITLAB_UNAUTHENTICATED: GitlabAuthenticationError,
  GITLAB_PERMISSION_DENIED: GitlabPermissionError,
  GITLAB_NOT_FOUND: GitlabNotFoundError,
  GITLAB_BAD_REQUEST: GitlabBadRequestError,
  GITLAB_UNPROCESSABLE: GitlabBadRequestError,
  GITLAB_RATE_LIMITED: GitlabRateLimitError,
  GATEWAY_RATE_LIMITED: GitlabRateLimitError,
  CALLER_RATE_LIMITED: GitlabRateLimitError,
  CALLER_UNAUTHENTICATED: CallerAuthenticationError,
  CALLER_NOT_ALLOWED: CallerPermissionError,
};

// The exception for a google.rpc.Status (e.g. a batch Response.error).
function errorFromStatus(status) {
  const probe = new GitlabError(status);
  const Class = BY_REASON[probe.reason] ??
    (probe.gitlabError ? GitlabHttpError : GatewayError);
  return new Class(status);
}

// The exception for an error a grpc-js call reported (ServiceError).
function errorFromGrpc(error) {
  const bin = error.metadata?.get?.('grpc-status-details-bin')?.[0];
  if (bin) {
    const type = types().lookupType('google.rpc.Status');
    const status = type.toObject(type.decode(bin), { defaults: true });
    return errorFromStatus(status);
  }
  return errorFromStatus({ code: error.code, message: error.details ?? error.message,
    details: [] });
}

module.exports = {
  GitlabError, GitlabHttpError, GitlabAuthenticationError, GitlabPermissionError,
  GitlabNotFoundError, GitlabGetError: GitlabNotFoundError, GitlabBadRequestError,
  GitlabRateLimitError, GatewayError, CallerAuthenticationError, CallerPermissionError,
  decodeDetails, errorFromStatus, errorFromGrpc,
};
