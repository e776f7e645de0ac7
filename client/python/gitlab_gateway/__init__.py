"""gitlab-gateway client: GitLab's REST and GraphQL API through the gateway.

See client/python/README.md. The generated messages are gitlab_gateway.v1
(gateway_pb2, gateway_pb2_grpc), built from the proto at install time.
"""
from gitlab_gateway.client import (Client, json_body, make_request,
                                   raise_for_error)
from gitlab_gateway.errors import (CallerAuthenticationError,
                                   CallerPermissionError, GatewayError,
                                   GitlabAuthenticationError,
                                   GitlabBadRequestError, GitlabError,
                                   GitlabGetError, GitlabHttpError,
                                   GitlabNotFoundError, GitlabPermissionError,
                                   GitlabRateLimitError, decode_details,
                                   error_from_rpc, error_from_status)
from gitlab_gateway.transfers import Download
from gitlab_gateway.paths import encode_id, group_path, project_path
from gitlab_gateway.v1.gateway_pb2 import (API_GRAPHQL, API_REST_V4,
                                           Credentials, PaginateRequest,
                                           Request, Response)

__version__ = "0.1.0"

__all__ = [
    "Client", "json_body", "make_request", "raise_for_error",
    "CallerAuthenticationError", "CallerPermissionError",
    "GatewayError", "GitlabAuthenticationError", "GitlabBadRequestError",
    "GitlabError", "GitlabGetError", "GitlabHttpError", "GitlabNotFoundError",
    "GitlabPermissionError", "GitlabRateLimitError", "decode_details",
    "error_from_rpc", "error_from_status", "encode_id", "group_path",
    "project_path", "API_GRAPHQL", "API_REST_V4", "Credentials",
    "PaginateRequest", "Request", "Response",
    "Download",
]
