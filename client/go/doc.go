// Package gateway is the Go client of gitlab-gateway: GitLab's REST and
// GraphQL API through the gateway's Execute, BatchExecute and Paginate, with
// GitLab's errors as *Error values carrying the typed details.
//
//	c, err := gateway.Dial("localhost:50051", gateway.WithPrivateToken(tok))
//	resp, err := c.Get(ctx, gateway.ProjectPath("group/demo"))
//	var gle *gateway.Error
//	if errors.As(err, &gle) && gle.Kind == gateway.KindNotFound { ... }
//
// The messages and stub are package gatewayv1, generated from the
// repository's proto/ by `go generate` (generate.sh), so fields added to the
// API reach Go with the next generate. A *Client may be used from many
// goroutines at once.
package gateway

//go:generate bash generate.sh
