package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"gitlab-gateway/client/go/gatewayv1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// DefaultTarget is used when Dial gets "" and GITLAB_GATEWAY_TARGET is unset.
const DefaultTarget = "localhost:50051"

// Client calls one gateway. Safe for concurrent use.
type Client struct {
	conn        *grpc.ClientConn // nil when built by New
	stub        gatewayv1.GatewayClient
	credentials *gatewayv1.Credentials
	metadata    metadata.MD
	timeout     time.Duration
}

type options struct {
	dial        []grpc.DialOption
	tls         credentials.TransportCredentials
	credentials *gatewayv1.Credentials
	metadata    metadata.MD
	timeout     time.Duration
	security    security // tls.go
}

// Option configures Dial and New.
type Option func(*options)

// WithPrivateToken, WithOAuthToken, WithJobToken: the GitLab credential of
// every request that sets none (else the gateway's own).
func WithPrivateToken(t string) Option {
	return func(o *options) {
		o.credentials = &gatewayv1.Credentials{Token: &gatewayv1.Credentials_PrivateToken{PrivateToken: t}}
	}
}
func WithOAuthToken(t string) Option {
	return func(o *options) {
		o.credentials = &gatewayv1.Credentials{Token: &gatewayv1.Credentials_OauthToken{OauthToken: t}}
	}
}
func WithJobToken(t string) Option {
	return func(o *options) {
		o.credentials = &gatewayv1.Credentials{Token: &gatewayv1.Credentials_JobToken{JobToken: t}}
	}
}

// WithTransportCredentials dials a TLS gateway with these credentials,
// instead of WithCAFile, WithClientCertificate and WithTLS (tls.go).
func WithTransportCredentials(c credentials.TransportCredentials) Option {
	return func(o *options) { o.tls = c }
}

// WithMetadata sends key/value pairs with every call. An "authorization"
// pair replaces the caller token (WithCallerToken).
func WithMetadata(kv ...string) Option {
	return func(o *options) { o.metadata = metadata.Join(o.metadata, metadata.Pairs(kv...)) }
}

// WithTimeout bounds each Execute when the context has no deadline (60 s).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithDialOptions adds grpc.DialOptions.
func WithDialOptions(d ...grpc.DialOption) Option {
	return func(o *options) { o.dial = append(o.dial, d...) }
}

func build(opts []Option) options {
	o := options{timeout: 60 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Dial connects to target ("" = $GITLAB_GATEWAY_TARGET or DefaultTarget),
// over TLS and with a caller token as the options or the environment say
// (tls.go); it fails when a TLS file cannot be read.
func Dial(target string, opts ...Option) (*Client, error) {
	if target == "" {
		target = os.Getenv("GITLAB_GATEWAY_TARGET")
	}
	if target == "" {
		target = DefaultTarget
	}
	o := build(opts)
	if err := o.check(); err != nil {
		return nil, err
	}
	transport := o.tls
	if transport != nil && o.security.explicit() {
		return nil, errors.New("gateway: WithTransportCredentials replaces WithCAFile, WithClientCertificate and WithTLS")
	}
	if transport == nil {
		var err error
		if transport, err = o.security.transport(); err != nil {
			return nil, err
		}
	}
	dial := append([]grpc.DialOption{grpc.WithInsecure()}, o.dial...)
	if transport != nil {
		dial = append([]grpc.DialOption{grpc.WithTransportCredentials(transport)}, o.dial...)
	}
	conn, err := grpc.Dial(target, dial...)
	if err != nil {
		return nil, err
	}
	c := newClient(conn, o)
	c.conn = conn
	return c, nil
}

// New wraps a connection the caller owns; the caller token (option or
// environment) applies to its calls too. It fails as Dial does on a caller
// token given twice or one metadata cannot carry.
func New(conn grpc.ClientConnInterface, opts ...Option) (*Client, error) {
	o := build(opts)
	if err := o.check(); err != nil {
		return nil, err
	}
	return newClient(conn, o), nil
}

func newClient(conn grpc.ClientConnInterface, o options) *Client {
	return &Client{stub: gatewayv1.NewGatewayClient(conn), credentials: o.credentials,
		metadata: o.security.withBearer(o.metadata), timeout: o.timeout}
}

// check refuses the options Dial and New both refuse (the TLS files are
// Dial's alone).
func (o options) check() error {
	if o.security.callerToken != nil && *o.security.callerToken != "" && len(o.metadata.Get("authorization")) > 0 {
		return errors.New("gateway: give WithCallerToken or an authorization WithMetadata pair, not both")
	}
	if len(o.metadata.Get("authorization")) == 0 {
		return o.security.checkCallerToken()
	}
	return nil
}

// Close closes the connection Dial made.
func (c *Client) Close() error {
	if c.conn == nil {
		return nil
	}
	return c.conn.Close()
}

// Stub is the generated client, for what the helpers do not cover.
func (c *Client) Stub() gatewayv1.GatewayClient { return c.stub }

func (c *Client) prepare(r *gatewayv1.Request) *gatewayv1.Request {
	if c.credentials != nil && r.GetCredentials() == nil {
		r = proto.Clone(r).(*gatewayv1.Request)
		r.Credentials = c.credentials
	}
	return r
}

// context adds the client's metadata (WithMetadata, the caller token) to
// what ctx already carries (metadata.NewOutgoingContext or
// AppendToOutgoingContext: an x-request-id, ...); a key ctx carries wins, so
// an authorization on ctx replaces the caller token for that call.
func (c *Client) context(ctx context.Context) context.Context {
	if c.metadata.Len() == 0 {
		return ctx
	}
	existing, _ := metadata.FromOutgoingContext(ctx)
	var kv []string
	for key, values := range c.metadata {
		if len(existing.Get(key)) > 0 {
			continue
		}
		for _, v := range values {
			kv = append(kv, key, v)
		}
	}
	if len(kv) == 0 {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, kv...)
}

// RequestOption shapes a Request built by NewRequest and the helpers; any
// field (also ones added to the proto later) can be set with Set.
type RequestOption func(*gatewayv1.Request) error

// Query appends query parameters as key, value pairs (repeats allowed).
func Query(kv ...string) RequestOption {
	return func(r *gatewayv1.Request) error {
		if len(kv)%2 != 0 {
			return errors.New("gateway.Query: odd number of arguments")
		}
		for i := 0; i < len(kv); i += 2 {
			r.Query = append(r.Query, &gatewayv1.Param{Key: kv[i], Value: kv[i+1]})
		}
		return nil
	}
}

// Header appends a header.
func Header(name, value string) RequestOption {
	return func(r *gatewayv1.Request) error {
		r.Headers = append(r.Headers, &gatewayv1.Header{Name: name, Value: value})
		return nil
	}
}

// JSON sends v encoded as JSON.
func JSON(v interface{}) RequestOption {
	return func(r *gatewayv1.Request) error {
		b, err := json.Marshal(v)
		r.Body = &gatewayv1.Request_Text{Text: string(b)}
		return err
	}
}

// Timeout bounds the call inside the gateway, retries included.
func Timeout(d time.Duration) RequestOption {
	return func(r *gatewayv1.Request) error { r.Timeout = durationpb.New(d); return nil }
}

// ID sets the id a batch Response echoes.
func ID(id string) RequestOption {
	return func(r *gatewayv1.Request) error { r.Id = id; return nil }
}

// Set edits the Request directly (credentials, sudo, api, newer fields).
func Set(f func(*gatewayv1.Request)) RequestOption {
	return func(r *gatewayv1.Request) error { f(r); return nil }
}

// NewRequest builds a Request for method and path.
func NewRequest(method, path string, opts ...RequestOption) (*gatewayv1.Request, error) {
	r := &gatewayv1.Request{Method: strings.ToUpper(method), Path: path}
	for _, opt := range opts {
		if err := opt(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Execute makes one call; a failure is an *Error.
func (c *Client) Execute(ctx context.Context, r *gatewayv1.Request) (*gatewayv1.Response, error) {
	if _, ok := ctx.Deadline(); !ok && c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	resp, err := c.stub.Execute(c.context(ctx), c.prepare(r))
	return resp, ErrorFromRPC(err)
}

// Do builds a Request and executes it.
func (c *Client) Do(ctx context.Context, method, path string, opts ...RequestOption) (*gatewayv1.Response, error) {
	r, err := NewRequest(method, path, opts...)
	if err != nil {
		return nil, err
	}
	return c.Execute(ctx, r)
}

// Get is Do with GET.
func (c *Client) Get(ctx context.Context, path string, opts ...RequestOption) (*gatewayv1.Response, error) {
	return c.Do(ctx, "GET", path, opts...)
}

// GetJSON GETs path and decodes the JSON body into out.
func (c *Client) GetJSON(ctx context.Context, path string, out interface{}, opts ...RequestOption) error {
	resp, err := c.Get(ctx, path, opts...)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(resp.GetText()), out)
}

// ResponseError is the *Error of a failed BatchExecute item, else nil.
func ResponseError(r *gatewayv1.Response) error {
	if r.GetError() == nil || r.GetError().GetCode() == 0 {
		return nil
	}
	return ErrorFromStatus(r.GetError())
}

// Batch sends the requests read from in on one stream while it calls each
// for every Response, in completion order (match them by Id; a failed item
// has Error set: ResponseError). The stream ends when in is closed and every
// answer arrived, when each returns an error (returned), or when ctx ends.
func (c *Client) Batch(ctx context.Context, in <-chan *gatewayv1.Request,
	each func(*gatewayv1.Response) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.stub.BatchExecute(c.context(ctx))
	if err != nil {
		return ErrorFromRPC(err)
	}
	go func() {
		for {
			select {
			case r, ok := <-in:
				if !ok {
					stream.CloseSend()
					return
				}
				if stream.Send(c.prepare(r)) != nil {
					return // Recv reports the stream's error
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return receiveAll(stream, each)
}

// Paginate calls page for every page of a GitLab list, in order.
// maxPages/maxItems: 0 = no limit.
func (c *Client) Paginate(ctx context.Context, r *gatewayv1.Request, maxPages int32,
	maxItems int64, page func(*gatewayv1.Response) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.stub.Paginate(c.context(ctx), &gatewayv1.PaginateRequest{
		Request: c.prepare(r), MaxPages: maxPages, MaxItems: maxItems})
	if err != nil {
		return ErrorFromRPC(err)
	}
	return receiveAll(stream, page)
}

// receiveAll hands every Response of a server stream to each until the
// stream ends (nil), fails (its typed *Error) or each returns an error.
func receiveAll(stream interface {
	Recv() (*gatewayv1.Response, error)
}, each func(*gatewayv1.Response) error) error {
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return ErrorFromRPC(err)
		}
		if err := each(resp); err != nil {
			return err
		}
	}
}

// PaginateItems calls item for every element of every page's JSON array.
func (c *Client) PaginateItems(ctx context.Context, r *gatewayv1.Request, maxItems int64,
	item func(json.RawMessage) error) error {
	return c.Paginate(ctx, r, 0, maxItems, func(resp *gatewayv1.Response) error {
		var items []json.RawMessage
		if err := json.Unmarshal([]byte(resp.GetText()), &items); err != nil {
			return err
		}
		for _, it := range items {
			if err := item(it); err != nil {
				return err
			}
		}
		return nil
	})
}
