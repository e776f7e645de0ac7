// project_summary summarises one GitLab project through gitlab-gateway with
// the Go client (client/go). Works against any GitLab the gateway fronts.
//
//	GITLAB_GATEWAY_TARGET=localhost:50051 GITLAB_PROJECT=group/sub/project \
//	    go run ./examples/go/project_summary
//
// GITLAB_PROJECT is a project id or its full path (sent %2F-encoded).
// A gateway with TLS and caller identity needs no code here: the client
// reads GITLAB_GATEWAY_CA_FILE (TLS), GITLAB_GATEWAY_CERT_FILE/_KEY_FILE
// (mTLS) and GITLAB_GATEWAY_CALLER_TOKEN (the caller's bearer) itself.
// Prints the project, its first open issues (Paginate), and its recent merge
// requests and branches fetched together (BatchExecute). Exits 1 with
// GitLab's message when the project is missing or the token is refused.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	gateway "gitlab-gateway/client/go"
	"gitlab-gateway/client/go/gatewayv1"
)

const maxIssues = 20

func main() { os.Exit(run()) }

func run() int {
	project := os.Getenv("GITLAB_PROJECT")
	if project == "" {
		fmt.Fprintln(os.Stderr, "set GITLAB_PROJECT (an id or group/project)")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := gateway.Dial("") // GITLAB_GATEWAY_TARGET, else localhost:50051
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()

	var info struct {
		ID                int    `json:"id"`
		PathWithNamespace string `json:"path_with_namespace"`
	}
	if err := c.GetJSON(ctx, gateway.ProjectPath(project), &info); err != nil {
		var e *gateway.Error
		switch {
		case errors.As(err, &e) && e.Kind == gateway.KindNotFound:
			fmt.Fprintf(os.Stderr, "%s: not found (%s)\n", project, e.ErrorMessage)
		case errors.As(err, &e) && e.Kind == gateway.KindAuthentication:
			fmt.Fprintf(os.Stderr, "the gateway's token was refused: %s\n", e.ErrorMessage)
		case errors.As(err, &e) && e.Kind == gateway.KindCallerAuthentication:
			fmt.Fprintf(os.Stderr, "the gateway does not know this caller: %s\n", e)
		default:
			fmt.Fprintln(os.Stderr, err)
		}
		return 1
	}
	fmt.Printf("project %d: %s\n", info.ID, info.PathWithNamespace)
	id := strconv.Itoa(info.ID)

	issues, _ := gateway.NewRequest("GET", gateway.ProjectPath(id, "issues"),
		gateway.Query("state", "opened", "per_page", "20"))
	count := 0
	err = c.PaginateItems(ctx, issues, maxIssues, func(item json.RawMessage) error {
		var issue struct {
			IID   int    `json:"iid"`
			Title string `json:"title"`
		}
		count++
		if err := json.Unmarshal(item, &issue); err != nil {
			return err
		}
		fmt.Printf("  issue #%d: %s\n", issue.IID, issue.Title)
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "issues:", err)
		return 1
	}
	fmt.Printf("%d open issue(s) shown (at most %d)\n", count, maxIssues)

	// Two lists on one stream; one failing (e.g. merge requests disabled)
	// does not fail the other.
	in := make(chan *gatewayv1.Request, 2)
	for _, name := range []string{"merge_requests", "repository/branches"} {
		r, _ := gateway.NewRequest("GET", gateway.ProjectPath(id, name),
			gateway.ID(name), gateway.Query("per_page", "5"))
		in <- r
	}
	close(in)
	err = c.Batch(ctx, in, func(r *gatewayv1.Response) error {
		if err := gateway.ResponseError(r); err != nil {
			fmt.Printf("%s: unavailable (%v)\n", r.GetId(), err)
			return nil
		}
		var items []json.RawMessage
		_ = json.Unmarshal([]byte(r.GetText()), &items)
		fmt.Printf("%s: %d shown\n", r.GetId(), len(items))
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "batch:", err)
		return 1
	}
	return 0
}
