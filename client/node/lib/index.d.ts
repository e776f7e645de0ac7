// Types of gitlab-gateway-client, written by hand after
// proto/gitlab/gateway/v1/gateway.proto (fields in lowerCamelCase, as the
// client loads them). Request fields the proto gains later are accepted by
// RequestOptions' index signature until they are listed here.
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import { Readable } from 'node:stream';

export interface Param { key: string; value: string }
export interface Header { name: string; value: string }
export interface Duration { seconds: number; nanos: number }
export interface Timestamp { seconds: number; nanos: number }
export type Credentials =
  | { privateToken: string } | { oauthToken: string } | { jobToken: string };
export type Api = 'API_REST_V4' | 'API_GRAPHQL';

export interface Request {
  id?: string;
  method?: string;
  path?: string;
  query?: Param[];
  headers?: Header[];
  text?: string;
  content?: Uint8Array;
  timeout?: Duration;
  credentials?: Credentials;
  sudo?: string;
  api?: Api;
  [field: string]: unknown;
}

export interface Page {
  page: number; perPage: number; nextPage: number; prevPage: number;
  total?: number; totalPages?: number; nextLink: string;
}
export interface RateLimit {
  limit?: number; remaining?: number; observed?: number;
  reset?: Timestamp | null; name: string;
}
export interface AnyDetail { typeUrl: string; value: Uint8Array }
export interface RpcStatus { code: number; message: string; details: AnyDetail[] }

export interface Response {
  id: string;
  statusCode: number;
  headers: Header[];
  body?: 'text' | 'content';
  text?: string;
  content?: Uint8Array;
  page: Page | null;
  rateLimit: RateLimit | null;
  attempts: number;
  upstreamLatency: Duration | null;
  error: RpcStatus | null;
}

export type Pairs = Record<string, string | number | boolean | Array<string | number | boolean>>
  | Array<[string, string | number | boolean]>;

export interface RequestOptions {
  id?: string;
  method?: string;
  query?: Pairs;
  headers?: Pairs;
  json?: unknown;
  text?: string;
  content?: Uint8Array;
  timeoutMs?: number;
  credentials?: Credentials;
  sudo?: string;
  api?: Api;
  /** Any other gitlab.gateway.v1.Request field, by its camelCase name. */
  [field: string]: unknown;
}
export interface BatchItem extends RequestOptions { path: string }

export interface ClientOptions {
  /** TLS, verified by these CAs (PEM). Default $GITLAB_GATEWAY_CA_FILE; '' or null: none. */
  caFile?: string | null;
  /** Client certificate and key (PEM) for mTLS, both or neither. Default
   * $GITLAB_GATEWAY_CERT_FILE / $GITLAB_GATEWAY_KEY_FILE. */
  certFile?: string | null;
  keyFile?: string | null;
  /** true: TLS even without files (system CAs); false: plaintext, ignoring the environment. */
  tls?: boolean;
  /** The caller's bearer secret, sent as `authorization: Bearer <secret>`.
   * Default $GITLAB_GATEWAY_CALLER_TOKEN; '' or null: none. Trimmed; only
   * visible ASCII (0x21-0x7E), else the constructor throws a TypeError. */
  callerToken?: string | null;
  channelCredentials?: ChannelCredentials;
  channelOptions?: ChannelOptions;
  metadata?: Record<string, string>;
  privateToken?: string;
  oauthToken?: string;
  jobToken?: string;
  timeoutMs?: number;
  streamTimeoutMs?: number | null;
}

export interface PaginateOptions extends RequestOptions {
  maxPages?: number;
  maxItems?: number;
}

export interface UploadOptions extends RequestOptions {
  /** The Content-Type header, replacing one of the headers. */
  contentType?: string;
  /** The body's length, sent as Content-Length; known for Buffers and
   * fs.ReadStreams of a whole file, else the body is sent chunked. */
  size?: number;
  /** The largest piece sent per message (1 MiB). */
  chunkSize?: number;
}
export type UploadBody = Uint8Array | Readable | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** An open Download whose head arrived: a Readable of the body's Buffers. */
export class Download extends Readable {
  /** The answer without body: statusCode, headers, page, rateLimit. */
  readonly head: Response;
  readonly statusCode: number;
  readonly headers: Header[];
  /** The first value of a header (case-insensitive), or undefined. */
  header(name: string): string | undefined;
}
export const CHUNK_SIZE: number;

export class Client {
  constructor(target?: string, options?: ClientOptions);
  readonly target: string;
  /** The grpc-js client for the Gateway service. */
  readonly stub: any;
  close(): void;
  execute(requestOrPath: string | Request, options?: RequestOptions): Promise<Response>;
  get(path: string, options?: RequestOptions): Promise<Response>;
  head(path: string, options?: RequestOptions): Promise<Response>;
  post(path: string, options?: RequestOptions): Promise<Response>;
  put(path: string, options?: RequestOptions): Promise<Response>;
  patch(path: string, options?: RequestOptions): Promise<Response>;
  delete(path: string, options?: RequestOptions): Promise<Response>;
  getJson<T = any>(path: string, options?: RequestOptions): Promise<T>;
  graphql<T = any>(query: string, variables?: Record<string, unknown>,
    options?: RequestOptions): Promise<T>;
  batch(requests: Iterable<BatchItem> | AsyncIterable<BatchItem>,
    options?: { raiseErrors?: boolean }): AsyncGenerator<Response>;
  paginate<T = any>(requestOrPath: string | Request,
    options?: PaginateOptions & { pages?: false }): AsyncGenerator<T>;
  paginate(requestOrPath: string | Request,
    options: PaginateOptions & { pages: true }): AsyncGenerator<Response>;
  download(requestOrPath: string | Request, options?: RequestOptions): Promise<Download>;
  downloadTo(requestOrPath: string | Request, destination: string | NodeJS.WritableStream,
    options?: RequestOptions): Promise<Response>;
  upload(requestOrPath: string | Request, body: UploadBody,
    options?: UploadOptions): Promise<Response>;
}

export function makeRequest(path?: string, options?: RequestOptions): Request;
export function jsonBody<T = any>(response: Response): T | null;
export function raiseForError(response: Response): Response;
export function encodeId(idOrPath: string | number): string;
export function projectPath(project: string | number, ...rest: Array<string | number>): string;
export function groupPath(group: string | number, ...rest: Array<string | number>): string;

export interface FieldViolations { [field: string]: string }
export class GitlabError extends Error {
  readonly status: RpcStatus;
  readonly code: number;
  readonly codeName: string;
  readonly reason: string;
  readonly domain: string;
  readonly details: Record<string, any[]>;
  readonly errorInfo: { reason: string; domain: string; metadata: Record<string, string> } | null;
  readonly gitlabError: { statusCode: number; message: string; headers: Header[]; body: string } | null;
  readonly responseCode: number | null;
  readonly errorMessage: string;
  readonly responseBody: string | null;
  readonly headers: Array<[string, string]>;
  readonly fieldViolations: FieldViolations;
  /** Seconds GitLab or the gateway asked to wait, or null. */
  readonly retryAfter: number | null;
}
export class GitlabHttpError extends GitlabError {}
export class GitlabAuthenticationError extends GitlabHttpError {}
export class GitlabPermissionError extends GitlabHttpError {}
export class GitlabNotFoundError extends GitlabHttpError {}
export { GitlabNotFoundError as GitlabGetError };
export class GitlabBadRequestError extends GitlabHttpError {}
export class GitlabRateLimitError extends GitlabError {}
export class GatewayError extends GitlabError {}
/** UNAUTHENTICATED, reason CALLER_UNAUTHENTICATED: no, or a wrong, bearer secret or client certificate. */
export class CallerAuthenticationError extends GatewayError {}
/** PERMISSION_DENIED, reason CALLER_NOT_ALLOWED: the gateway's policy refuses this caller this call. */
export class CallerPermissionError extends GatewayError {}
export function decodeDetails(status: RpcStatus): Record<string, any[]>;
export function errorFromStatus(status: RpcStatus): GitlabError;
export function errorFromGrpc(error: unknown): GitlabError;
