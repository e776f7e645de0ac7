package gateway_test

// Against a live gateway + the demo GitLab (tests/client/demo_gitlab.h):
// tests/client/go/run_client_test.sh sets GITLAB_GATEWAY_TARGET. The path
// helpers need no gateway.

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	gateway "gitlab-gateway/client/go"
	"gitlab-gateway/client/go/gatewayv1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

func TestPaths(t *testing.T) {
	if got := gateway.ProjectPath("group/sub/demo", "issues"); got != "/projects/group%2Fsub%2Fdemo/issues" {
		t.Errorf("ProjectPath = %q", got)
	}
	if got := gateway.GroupPath("a/b", "members"); got != "/groups/a%2Fb/members" {
		t.Errorf("GroupPath = %q", got)
	}
}

func dial(t *testing.T, opts ...gateway.Option) *gateway.Client {
	t.Helper()
	target := os.Getenv("GITLAB_GATEWAY_TARGET")
	if target == "" {
		t.Fatal("GITLAB_GATEWAY_TARGET is not set: run tests/client/go/run_client_test.sh")
	}
	c, err := gateway.Dial(target, append([]gateway.Option{gateway.WithTimeout(20 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func asError(t *testing.T, err error) *gateway.Error {
	t.Helper()
	var e *gateway.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *gateway.Error", err, err)
	}
	return e
}

func TestExecute(t *testing.T) {
	c := dial(t)
	var project struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	if err := c.GetJSON(ctx(t), gateway.ProjectPath("group/demo"), &project); err != nil {
		t.Fatal(err)
	}
	if project.ID != 42 || project.Name != "demo" {
		t.Errorf("project = %+v", project)
	}
}

func TestRequestOptionsReachGitLab(t *testing.T) {
	c := dial(t, gateway.WithPrivateToken("mine"))
	resp, err := c.Do(ctx(t), "post", "/echo", gateway.Query("labels[]", "a", "labels[]", "b"),
		gateway.Header("X-Demo", "hi"), gateway.JSON(map[string]string{"k": "v"}),
		gateway.Set(func(r *gatewayv1.Request) { r.Sudo = "alice" }))
	if err != nil {
		t.Fatal(err)
	}
	var echo map[string]string
	if err := json.Unmarshal([]byte(resp.GetText()), &echo); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"method": "POST", "query": "labels%5B%5D=a&labels%5B%5D=b",
		"x_demo": "hi", "body": `{"k":"v"}`, "sudo": "alice", "private_token": "mine"}
	for k, v := range want {
		if echo[k] != v {
			t.Errorf("%s = %q, want %q", k, echo[k], v)
		}
	}
}

func TestTypedErrors(t *testing.T) {
	c := dial(t)
	_, err := c.Get(ctx(t), "/projects/7")
	e := asError(t, err)
	if e.Kind != gateway.KindNotFound || e.Code != codes.NotFound || e.ResponseCode != 404 ||
		e.Reason != "GITLAB_NOT_FOUND" || e.ErrorMessage != "404 Project Not Found" ||
		e.ResourceInfo.GetResourceType() != "projects" {
		t.Errorf("not found: %+v", e)
	}

	_, err = c.Get(ctx(t), "/user", gateway.Set(func(r *gatewayv1.Request) {
		r.Credentials = &gatewayv1.Credentials{Token: &gatewayv1.Credentials_PrivateToken{PrivateToken: "revoked"}}
	}))
	if e := asError(t, err); e.Kind != gateway.KindAuthentication || e.ResponseCode != 401 {
		t.Errorf("authentication: %+v", e)
	}

	_, err = c.Get(ctx(t), "/rate_limited", gateway.Set(func(r *gatewayv1.Request) {
		r.Credentials = &gatewayv1.Credentials{Token: &gatewayv1.Credentials_PrivateToken{PrivateToken: "limited-go"}}
	}))
	if e := asError(t, err); e.Kind != gateway.KindRateLimited || e.RetryAfter < 3000*time.Second {
		t.Errorf("rate limited: %+v", e)
	}

	_, err = c.Do(ctx(t), "POST", "/projects", gateway.JSON(map[string]string{"description": "x"}))
	if e := asError(t, err); e.Kind != gateway.KindBadRequest ||
		!reflect.DeepEqual(e.FieldViolations, map[string]string{"name": "can't be blank"}) {
		t.Errorf("bad request: %+v", e)
	}

	_, err = c.Get(ctx(t), "/projects/../admin")
	if e := asError(t, err); e.Kind != gateway.KindGateway || e.Reason != "INVALID_PATH" || e.IsHTTP() {
		t.Errorf("gateway refusal: %+v", e)
	}
}

func TestBatch(t *testing.T) {
	c := dial(t)
	in := make(chan *gatewayv1.Request)
	go func() {
		defer close(in)
		for _, r := range []*gatewayv1.Request{
			{Id: "project", Path: "/projects/42"}, {Id: "missing", Path: "/projects/7"},
		} {
			in <- r
		}
	}()
	got := map[string]*gatewayv1.Response{}
	err := c.Batch(ctx(t), in, func(r *gatewayv1.Response) error { got[r.GetId()] = r; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["project"].GetStatusCode() != 200 || gateway.ResponseError(got["project"]) != nil {
		t.Fatalf("batch: %v", got)
	}
	if e := asError(t, gateway.ResponseError(got["missing"])); e.Kind != gateway.KindNotFound {
		t.Errorf("batch item error: %+v", e)
	}
}

func TestPaginate(t *testing.T) {
	c := dial(t)
	req, _ := gateway.NewRequest("GET", "/projects/42/issues")
	var pages []int64
	err := c.Paginate(ctx(t), req, 0, 0, func(r *gatewayv1.Response) error {
		pages = append(pages, r.GetPage().GetPage())
		return nil
	})
	if err != nil || !reflect.DeepEqual(pages, []int64{1, 2, 3}) {
		t.Fatalf("pages %v, err %v", pages, err)
	}
	var iids []int
	err = c.PaginateItems(ctx(t), req, 0, func(item json.RawMessage) error {
		var issue struct{ IID int }
		err := json.Unmarshal(item, &issue)
		iids = append(iids, issue.IID)
		return err
	})
	if err != nil || !reflect.DeepEqual(iids, []int{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("items %v, err %v", iids, err)
	}
	missing, _ := gateway.NewRequest("GET", "/projects/7/issues")
	err = c.Paginate(ctx(t), missing, 0, 0, func(*gatewayv1.Response) error { return nil })
	if e := asError(t, err); e.Kind != gateway.KindNotFound {
		t.Errorf("paginate error: %+v", e)
	}
}

func TestBadCallerTokensFailAtDialAndNew(t *testing.T) {
	target := os.Getenv("GITLAB_GATEWAY_TARGET")
	conn, err := grpc.Dial(target, grpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const secret = "SECRET-d0d0"
	for name, tc := range map[string]struct {
		opts []gateway.Option
		env  string
		want string
	}{
		"tab":           {[]gateway.Option{gateway.WithCallerToken("a\t" + secret)}, "", "WithCallerToken or GITLAB_GATEWAY_CALLER_TOKEN"},
		"inner newline": {[]gateway.Option{gateway.WithCallerToken(secret + "\nx")}, "", "visible ASCII"},
		"non-ASCII":     {[]gateway.Option{gateway.WithCallerToken(secret + "\u00e9")}, "", "visible ASCII"},
		"environment":   {nil, secret + "\tx", "GITLAB_GATEWAY_CALLER_TOKEN"},
		"token twice":   {[]gateway.Option{gateway.WithCallerToken(secret), gateway.WithMetadata("authorization", "y")}, "", "not both"},
	} {
		t.Run(name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("GITLAB_GATEWAY_CALLER_TOKEN", tc.env)
			}
			if c, err := gateway.Dial(target, tc.opts...); err == nil {
				c.Close()
				t.Error("Dial succeeded")
			} else if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), secret) {
				t.Errorf("Dial error %q, want %q and not the token", err, tc.want)
			}
			if _, err := gateway.New(conn, tc.opts...); err == nil {
				t.Error("New succeeded")
			} else if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), secret) {
				t.Errorf("New error %q, want %q and not the token", err, tc.want)
			}
		})
	}
	// Surrounding whitespace (a file's newline) is trimmed, not refused.
	if _, err := gateway.New(conn, gateway.WithCallerToken(secret+"\n")); err != nil {
		t.Errorf("New with a trailing newline: %v", err)
	}
}
