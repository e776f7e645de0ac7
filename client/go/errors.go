package gateway

import (
	"fmt"
	"strings"
	"time"

	"github.com/golang/protobuf/ptypes" //nolint: Debian's genproto messages are APIv1
	"gitlab-gateway/client/go/gatewayv1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
)

// Kind classifies an Error like python-gitlab's exception classes.
type Kind int

const (
	KindGateway        Kind = iota // refused or failed inside the gateway
	KindHTTP                       // GitLab answered non-2xx (other statuses)
	KindAuthentication             // 401
	KindPermission                 // 403
	KindNotFound                   // 404
	KindBadRequest                 // 400, 422: FieldViolations
	KindRateLimited                // GitLab's 429 or the gateway's limits: RetryAfter
	// The gateway does not know the caller (UNAUTHENTICATED,
	// CALLER_UNAUTHENTICATED): no or a wrong bearer or client certificate.
	KindCallerAuthentication
	// The gateway's policy refuses this caller this call (PERMISSION_DENIED,
	// CALLER_NOT_ALLOWED; ErrorInfo names the caller and the rule).
	KindCallerPermission
)

var kindNames = []string{"gateway", "http", "authentication", "permission",
	"not found", "bad request", "rate limited", "caller authentication",
	"caller permission"}

func (k Kind) String() string { return kindNames[k] }

// Error is a failed call: the google.rpc.Status the gateway sent, decoded.
type Error struct {
	Kind   Kind
	Code   codes.Code
	Reason string // ErrorInfo.reason, e.g. GITLAB_NOT_FOUND, INVALID_PATH
	Domain string
	// GitLab's answer; ResponseCode is 0 when GitLab did not answer.
	ResponseCode int
	ErrorMessage string
	ResponseBody string
	// BadRequest violations by field; RetryAfter is 0 when none was given.
	FieldViolations map[string]string
	RetryAfter      time.Duration
	ErrorInfo       *errdetails.ErrorInfo
	ResourceInfo    *errdetails.ResourceInfo
	GitLabError     *gatewayv1.GitLabError
	Status          *spb.Status
}

func (e *Error) Error() string {
	text := e.Code.String()
	if e.Reason != "" {
		text += " " + e.Reason
	}
	if e.ResponseCode != 0 {
		text += fmt.Sprintf(" (GitLab %d)", e.ResponseCode)
	}
	return text + ": " + e.ErrorMessage
}

// IsHTTP reports whether GitLab answered (ResponseCode is set).
func (e *Error) IsHTTP() bool { return e.GitLabError != nil }

var kindByReason = map[string]Kind{
	"GITLAB_UNAUTHENTICATED":   KindAuthentication,
	"GITLAB_PERMISSION_DENIED": KindPermission,
	"GITLAB_NOT_FOUND":         KindNotFound,
	"GITLAB_BAD_REQUEST":       KindBadRequest,
	"GITLAB_UNPROCESSABLE":     KindBadRequest,
	"GITLAB_RATE_LIMITED":      KindRateLimited,
	"GATEWAY_RATE_LIMITED":     KindRateLimited,
	"CALLER_RATE_LIMITED":      KindRateLimited,
	"CALLER_UNAUTHENTICATED":   KindCallerAuthentication,
	"CALLER_NOT_ALLOWED":       KindCallerPermission,
}

// ErrorFromStatus decodes a google.rpc.Status (e.g. a batch Response.Error).
func ErrorFromStatus(s *spb.Status) *Error {
	e := &Error{Code: codes.Code(s.GetCode()), ErrorMessage: s.GetMessage(),
		FieldViolations: map[string]string{}, Status: s}
	for _, any := range s.GetDetails() {
		message := unpack(any)
		switch d := message.(type) {
		case *errdetails.ErrorInfo:
			e.ErrorInfo, e.Reason, e.Domain = d, d.GetReason(), d.GetDomain()
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				e.FieldViolations[v.GetField()] = v.GetDescription()
			}
		case *errdetails.ResourceInfo:
			e.ResourceInfo = d
		case *errdetails.RetryInfo:
			e.RetryAfter = d.GetRetryDelay().AsDuration()
		case *gatewayv1.GitLabError:
			e.GitLabError = d
			e.ResponseCode = int(d.GetStatusCode())
			e.ResponseBody = d.GetBody()
			if d.GetMessage() != "" {
				e.ErrorMessage = d.GetMessage()
			}
		}
	}
	kind, ok := kindByReason[e.Reason]
	switch {
	case ok:
		e.Kind = kind
	case e.GitLabError != nil:
		e.Kind = KindHTTP
	default:
		e.Kind = KindGateway
	}
	return e
}

// unpack decodes the detail types the gateway sends (nil for others).
// Debian's genproto has APIv1 messages, so this goes through ptypes rather
// than anypb.UnmarshalNew.
func unpack(a *anypb.Any) interface{} {
	name := a.GetTypeUrl()[strings.LastIndex(a.GetTypeUrl(), "/")+1:]
	var m interface {
		Reset()
		String() string
		ProtoMessage()
	}
	switch name {
	case "google.rpc.ErrorInfo":
		m = &errdetails.ErrorInfo{}
	case "google.rpc.BadRequest":
		m = &errdetails.BadRequest{}
	case "google.rpc.ResourceInfo":
		m = &errdetails.ResourceInfo{}
	case "google.rpc.RetryInfo":
		m = &errdetails.RetryInfo{}
	case "gitlab.gateway.v1.GitLabError":
		m = &gatewayv1.GitLabError{}
	default:
		return nil
	}
	if ptypes.UnmarshalAny(a, m) != nil {
		return nil
	}
	return m
}

// ErrorFromRPC turns an error a stub call returned into *Error (nil stays
// nil; context errors of the caller are returned as they are).
func ErrorFromRPC(err error) error {
	if err == nil {
		return nil
	}
	s, ok := status.FromError(err)
	if !ok {
		return err
	}
	return ErrorFromStatus(s.Proto())
}
